import { Api, ChatwireError } from './api.js';
import { Observable, type Unsubscribe } from './observable.js';
import type { ChannelEvent, Clock, Conversation } from './types.js';
/** What the list shows; a new object on every change. */
export interface ConversationsState {
    /** Most recent activity first. */
    conversations: readonly Conversation[];
    /** Whether older conversations can be loaded with loadMore. */
    hasMore: boolean;
    /** Whether a request is running. */
    loading: boolean;
    /** The sum of unread_count over the loaded conversations. */
    unread: number;
}
/** What the list needs from the client that opened it. */
export interface ConversationsHost {
    readonly userId: string;
    readonly api: Api;
    readonly clock: Clock;
    listen(channel: string, listener: (event: ChannelEvent) => void): Unsubscribe;
    onEvent(listener: (event: ChannelEvent) => void): Unsubscribe;
    report(error: ChatwireError): void;
}
/** The list subscribes to the channels of this many of its newest conversations (Pusher caps channels per connection). */
export declare const maxLiveChannels = 50;
export declare class Conversations {
    private readonly host;
    readonly state: Observable<ConversationsState>;
    private readonly byId;
    private readonly counted;
    private readonly live;
    private readonly unsubscribes;
    private nextBefore;
    private loaded;
    private loading;
    private refreshTimer;
    private closedFlag;
    constructor(host: ConversationsHost);
    get closed(): boolean;
    /** refresh fetches the first page again and merges it (after a reconnect, or at will). */
    refresh(): Promise<void>;
    /** loadMore fetches the page after the oldest loaded conversation. */
    loadMore(): Promise<void>;
    /** get returns a loaded conversation by id (`chat:<user>` or `room:<room>`). */
    get(id: string): Conversation | undefined;
    /** close stops listening and unsubscribes the channels it subscribed. */
    close(): void;
    private load;
    private handle;
    private onMessage;
    private updateLast;
    private byChannel;
    private remember;
    private scheduleRefresh;
    /** follow subscribes to the channels of the newest conversations, so their events reach the list. */
    private follow;
    private publish;
}
