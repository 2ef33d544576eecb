import { ChatwireError, type FetchLike, type TokenGetter } from './api.js';
import { Chat } from './chat.js';
import { type Uploader } from './files.js';
import { type ConnectionTimings } from './connection.js';
import { Conversations } from './conversations.js';
import { type NotificationOptions } from './notifications.js';
import type { Unsubscribe } from './observable.js';
import { type PresenceSnapshot } from './presence.js';
import { type QueuedMessage } from './queue.js';
import { type TypingTimings } from './typing.js';
import { type ChannelEvent, type ChatTarget, type Clock, type ConnectionStatus, type NetworkLike, type NotificationPreferences, type PusherConstructor, type StorageLike, type UserStatus } from './types.js';
/** How to reach Pusher: a Pusher Channels app (key and cluster) or a local Pusher-protocol server. */
export interface PusherSettings {
    key: string;
    /** Pusher's cluster, such as `eu`; any value when wsHost is set. */
    cluster?: string;
    /**
     * A Pusher-protocol server of your own, such as `chatwire dev`'s `127.0.0.1`.
     * With it, pusher-js uses WebSockets to this host only: no fallback to
     * Pusher's own sockjs/xhr hosts, unless `enabledTransports` asks for them.
     */
    wsHost?: string;
    wsPort?: number;
    wssPort?: number;
    /** `false` for a local server without TLS. Default true. */
    forceTLS?: boolean;
    enabledTransports?: string[];
}
/** Timings, in milliseconds; the defaults follow chatwire's contract. */
export interface ClientTimings extends TypingTimings, ConnectionTimings {
    /** Poll interval while Pusher is unavailable. */
    pollIntervalMs: number;
    /** Quiet period before visible messages are marked read. */
    readDebounceMs: number;
}
export declare const defaultTimings: ClientTimings;
export interface ClientOptions {
    /** The signed-in user's id (the JWT's `sub`). */
    userId: string;
    /** Returns the user's current JWT; called for every request, so it may refresh it. */
    getToken: TokenGetter;
    /** chatwire's base URL, such as `https://chat.example.com`; default: the page's origin. */
    apiUrl?: string;
    /** Pusher settings; `null` when chatwire runs with REALTIME_DISABLED: events then come by polling only. */
    pusher: PusherSettings | null;
    /** The pusher-js constructor; default the `pusher-js` package. */
    Pusher?: PusherConstructor;
    fetch?: FetchLike;
    /** Where the offline queue lives; default `localStorage` when present, else memory. */
    storage?: StorageLike;
    /**
     * Where the ids of events already delivered are kept, so a reload does not
     * deliver them again; default `sessionStorage` (per tab) when present, else memory.
     */
    sessionStorage?: StorageLike;
    /** Online/offline; default `navigator.onLine` and the window's online/offline events. */
    network?: NetworkLike;
    clock?: Clock;
    notifications?: NotificationOptions;
    /** Called for failures the app did not ask for directly (a dropped message, a failed poll). */
    onError?: (error: ChatwireError) => void;
    timings?: Partial<ClientTimings>;
    /** How Chat.sendFile PUTs files to storage; default XMLHttpRequest (with progress). */
    upload?: Uploader;
}
/** A value the app can read and watch (React: useSyncExternalStore). */
export interface Watchable<T> {
    get(): T;
    subscribe(listener: () => void): Unsubscribe;
}
export interface PresenceApi {
    /** Known statuses by user id; updated by `user-status-change`. */
    readonly statuses: Watchable<PresenceSnapshot>;
    get(userId: string): UserStatus | undefined;
    /** load fetches the statuses of users not known yet, for a first paint. */
    load(userIds: readonly string[]): Promise<void>;
}
export interface NotificationsApi {
    readonly permission: NotificationPermission;
    requestPermission(): Promise<NotificationPermission>;
    getPreferences(): Promise<NotificationPreferences>;
    setPreferences(preferences: NotificationPreferences): Promise<NotificationPreferences>;
}
export interface ChatwireClient {
    readonly userId: string;
    readonly connection: Watchable<ConnectionStatus>;
    readonly presence: PresenceApi;
    readonly notifications: NotificationsApi;
    /** Messages waiting to be sent, oldest first, across all chats. */
    readonly outbox: Watchable<readonly QueuedMessage[]>;
    /** openChat subscribes to the chat's channel and loads its newest history. Close it when done. */
    openChat(target: ChatTarget): Chat;
    /**
     * conversations opens the user's conversation list (GET /api/conversations),
     * kept live by events: last messages, unread counts cleared on every device.
     * Close it when done.
     */
    conversations(): Conversations;
    /**
     * onEvent hears every chatwire event of the channels the client receives,
     * Pusher and poll alike; each event of the log once (by its id), across
     * Pusher, poll, reconnects and reloads.
     */
    onEvent(listener: (event: ChannelEvent) => void): Unsubscribe;
    /** flushOutbox tries to send queued messages now. */
    flushOutbox(): Promise<void>;
    /** disconnect closes every chat, unsubscribes everything and stops all timers (sign-out). */
    disconnect(): void;
}
/** createClient starts a client for the signed-in user. */
export declare function createClient(options: ClientOptions): ChatwireClient;
