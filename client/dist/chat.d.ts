import { Api, ChatwireError } from './api.js';
import { type FileLike, type SendFileOptions, type Uploader } from './files.js';
import { Observable, type Unsubscribe } from './observable.js';
import { type OutboxQueue, type QueuedMessage } from './queue.js';
import { type TypingTimings } from './typing.js';
import type { Attachment, ChannelEvent, ChatMessage, ChatTarget, Clock, Message, MessageDeleted, ReactionChanged, ReactionCount, ReadReceipt, TypingUser } from './types.js';
/** What a chat shows; a new object on every change. */
export interface ChatState {
    /** Ordered by created_at, then id; pending messages carry their local time. */
    messages: readonly ChatMessage[];
    /** Other users typing now. */
    typing: readonly TypingUser[];
    /** Whether older messages can be loaded with loadOlder. */
    hasMore: boolean;
    /** Whether a history request is running. */
    loading: boolean;
}
/** What a chat needs from the client that opened it. */
export interface ChatHost {
    readonly userId: string;
    readonly api: Api;
    readonly clock: Clock;
    readonly typingTimings: TypingTimings;
    readonly queue: OutboxQueue;
    /** listen subscribes to the channel (shared between chats) and routes its events. */
    listen(channel: string, listener: (event: ChannelEvent) => void): Unsubscribe;
    /** enqueue stores the message in the offline queue; resolves once the server has it. */
    enqueue(item: QueuedMessage): Promise<Message>;
    /** uploader PUTs files to the presigned URL (XMLHttpRequest by default). */
    readonly uploader: Uploader;
    markRead(ids: readonly string[]): void;
    /** Whether Pusher is live; typing is sent only then, since nothing else carries it. */
    live(): boolean;
    report(error: ChatwireError): void;
    closed(chat: Chat): void;
}
export interface SendOptions {
    attachment?: Attachment;
    /** Your own idempotency key; one is generated otherwise. */
    clientId?: string;
}
/** channelOf is the channel of a chat target, as the user `me` sees it. */
export declare function channelOf(me: string, target: ChatTarget): string;
/** compareMessages orders messages by created_at, then id (the API's order). */
export declare function compareMessages(a: Message, b: Message): number;
export declare class Chat {
    private readonly host;
    readonly target: ChatTarget;
    readonly channel: string;
    readonly state: Observable<ChatState>;
    /** Sent messages by id, and pending or failed ones by `client:{client_id}`. */
    private readonly entries;
    /** client_ids of own messages the server has stored, so a queue entry never shows twice. */
    private readonly storedClientIds;
    private readonly listeners;
    private readonly typingSender;
    private readonly remoteTyping;
    private readonly unsubscribes;
    private typing;
    /**
     * Changes to messages not loaded yet (an edit's tombstone or reactions that
     * overtook the message itself, say on a slow poll), applied when it arrives.
     */
    private readonly early;
    /** What this user changed and the server has not answered yet, shown over the message. */
    private readonly optimistic;
    /** created_at of the newest room message from others this user's read mark covers. */
    private roomSeenUpTo;
    private nextBefore;
    private historyLoaded;
    private loading;
    private closedFlag;
    constructor(host: ChatHost, target: ChatTarget);
    get closed(): boolean;
    /**
     * send queues the message and sends it as soon as the network allows. It is
     * shown at once as `pending`; the promise resolves with the stored message
     * (which may take until the browser is back online) or rejects when the
     * server refuses it for good (a 4xx other than 429).
     */
    send(body: string, options?: SendOptions): Promise<Message>;
    /**
     * sendFile uploads the file straight to chatwire's storage (with progress)
     * and then sends it like send: queued, retried with one client_id, so it is
     * never stored twice. It rejects when the upload is refused (size, type,
     * storage off) or fails three times.
     */
    sendFile(file: FileLike, options?: SendFileOptions): Promise<Message>;
    /** keystroke is called on each input in the message box: it drives `typing:true`/`false`. */
    keystroke(): void;
    /** stopTyping sends `typing:false` now (for example when the input loses focus). */
    stopTyping(): void;
    /**
     * markVisible tells the chat which messages are on screen; those received by
     * this user and still unread are marked read in the next batch.
     */
    markVisible(messageIds: readonly string[]): void;
    /** loadOlder fetches the page of history before the oldest loaded message. */
    loadOlder(): Promise<void>;
    /**
     * edit replaces the body of one of this user's messages. The timeline shows
     * the new body at once; it settles on the message the server answers (or
     * on a newer version that arrived meanwhile), and goes back if the server
     * refuses. Rejects with the server's ChatwireError.
     */
    edit(messageId: string, body: string): Promise<Message>;
    /** remove deletes one of this user's messages, leaving a tombstone; optimistic like edit. */
    remove(messageId: string): Promise<Message>;
    /** react adds (on) or takes back this user's reaction with the emoji; optimistic like edit. */
    react(messageId: string, emoji: string, on: boolean): Promise<ReactionCount[]>;
    /** discard removes a failed message from the timeline. */
    discard(clientId: string): void;
    /**
     * onEvent is called for every event of the chat's channel, after
     * de-duplication: for what the timeline does not model, such as `user-joined`.
     */
    onEvent(listener: (event: ChannelEvent) => void): Unsubscribe;
    /** close unsubscribes the channel (if no other chat uses it) and unbinds everything it bound. */
    close(): void;
    /** receive merges a message from any source: Pusher, poll, history or send. */
    receive(message: Message): void;
    /** applyRead sets read_at on the messages a receipt names. */
    applyRead(receipt: ReadReceipt): void;
    /** applyDeleted turns a message into its tombstone, unless a newer version is known. */
    applyDeleted(d: MessageDeleted): void;
    /** applyReactions sets a message's reactions, unless a newer version is known. */
    applyReactions(r: ReactionChanged): void;
    /** fail shows a queued message the server refused for good. */
    fail(item: QueuedMessage): void;
    /** refresh merges the newest page of history (after opening and after every re-subscription). */
    refresh(): Promise<void>;
    private handle;
    private merge;
    private syncQueue;
    private loadHistory;
    /** sendTyping posts one typing event; it resolves with the wait the server asked for when it refused a start. */
    private sendTyping;
    /**
     * markRoomSeen moves the user's read mark of the room (every device's badge
     * clears) when a message from someone else newer than the last mark is on
     * screen: one request per newer message seen, none otherwise.
     */
    private markRoomSeen;
    /**
     * change shows a change of this user at once and runs the request; the
     * optimistic copy goes when the request ends, whatever its outcome, and the
     * timeline then shows what the server said (a newer version always wins).
     */
    private change;
    private publish;
}
/**
 * mergeMessage combines two copies of the same message: the higher version
 * wins, a read_at once known stays, and a truncated copy (an event over
 * Pusher's size limit) never replaces a whole one. Returns `existing` itself
 * when nothing changes, so an event delivered twice re-renders nothing.
 */
export declare function mergeMessage(existing: ChatMessage, incoming: Message): ChatMessage;
