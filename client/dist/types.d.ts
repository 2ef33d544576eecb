/**
 * A message's file. An upload (`id` set) has a short-lived signed `url`,
 * fresh in every history page, poll answer and Pusher event; a link has the
 * URL the sender gave. A pending upload's `url` is empty.
 */
export interface Attachment {
    id?: string;
    url: string;
    name?: string;
    size?: number;
    content_type?: string;
}
/** A stored message, as send, history, poll and `new-message` carry it. */
export interface Message {
    id: string;
    client_id: string | null;
    channel: string;
    sender_id: string;
    receiver_id: string | null;
    room_id: string | null;
    body: string;
    attachment: Attachment | null;
    created_at: string;
    read_at: string | null;
    /** 1 when created, +1 per edit, delete or reaction change; a higher version is newer. Missing from servers before the inbox: 1. */
    version?: number;
    edited_at?: string | null;
    /** Set on a tombstone: the message was deleted; body is empty and attachment null. */
    deleted_at?: string | null;
    /** Who reacted with what, each emoji in the order it was first used. */
    reactions?: ReactionCount[];
    /** Set by chatwire when the event outgrew Pusher's 10 KB: body and attachment are missing. */
    truncated?: boolean;
}
/** One emoji's reactions to a message: how many, and up to 10 of the users. */
export interface ReactionCount {
    emoji: string;
    count: number;
    users: string[];
}
/** `message-deleted` data. */
export interface MessageDeleted {
    id: string;
    channel: string;
    deleted_at: string;
    version: number;
}
/** `reaction-changed` data, and the answer of `POST /api/messages/react`. */
export interface ReactionChanged {
    message_id: string;
    channel: string;
    emoji: string;
    user_id: string;
    on: boolean;
    reactions: ReactionCount[];
    version?: number;
}
/** One entry of `GET /api/conversations`: a 1:1 chat or a room. */
export interface Conversation {
    /** `chat:<other user id>` or `room:<room id>`. */
    id: string;
    kind: 'chat' | 'room';
    channel: string;
    with?: {
        id: string;
        name: string;
    };
    room?: {
        id: string;
        name: string;
        visibility: string;
    };
    last_message: Message | null;
    unread_count: number;
    last_read_at: string | null;
    updated_at: string;
}
/** `conversation-read` data: one of the user's devices read a conversation. */
export interface ConversationRead {
    conversation_id: string;
    read_at: string;
    unread_count: number;
}
/**
 * A message as a chat shows it: `sent` once the server stored it, `pending`
 * while it waits in the offline queue (its `id` is then empty), `failed` when
 * the server refused it for good.
 */
export interface ChatMessage extends Message {
    status: 'sent' | 'pending' | 'failed';
}
/** Whom a chat is with: a user (1:1) or a room. */
export type ChatTarget = {
    with: string;
} | {
    roomId: string;
};
/** `typing-start` / `typing-stop` data. */
export interface TypingUser {
    user_id: string;
    name: string;
}
/** `message-read` data. */
export interface ReadReceipt {
    message_ids: string[];
    reader_id: string;
    read_at: string;
}
/** `user-status-change` data, and one entry of `GET /api/presence`. */
export interface UserStatus {
    user_id: string;
    online: boolean;
    last_active_at: string | null;
}
/** `message-notification` data. */
export interface MessageNotification {
    message_id: string;
    channel: string;
    sender: {
        id: string;
        name: string;
    };
    preview: string;
    truncated?: boolean;
}
/** Stored notification preferences (`GET`/`PUT /api/notifications/preferences`). */
export interface NotificationPreferences {
    enabled: boolean;
    muted_channels: string[];
}
/** One event of `GET /api/messages/poll`. */
export interface PollEvent {
    id: string;
    channel: string;
    event: string;
    data: unknown;
    created_at: string;
}
/** Where an event came from; both sources are handled alike. */
export type EventSource = 'pusher' | 'poll';
/** Any event of a chatwire channel, after de-duplication. */
export interface ChannelEvent {
    channel: string;
    event: string;
    data: unknown;
    source: EventSource;
    /**
     * The event's id in chatwire's log: poll's `id`, and `data.event_id` of the
     * same event from Pusher. Absent for events outside the log (typing, pusher-js's
     * own `pusher:` events). Each id reaches the listeners once.
     */
    id?: string;
}
/**
 * What the app sees of the connection:
 * - `connecting`: not connected yet since the client started;
 * - `connected`: Pusher is live;
 * - `disconnected`: the connection was lost and nothing delivers events right
 *   now (Pusher is reconnecting and polling has not started, or poll requests
 *   fail too); the client keeps trying;
 * - `polling`: Pusher is unreachable; events arrive through `GET /api/messages/poll`;
 * - `offline`: the browser has no network.
 */
export type ConnectionStatus = 'connected' | 'connecting' | 'disconnected' | 'polling' | 'offline';
/** Timers, injectable so tests control time. */
export interface Clock {
    now(): number;
    setTimeout(fn: () => void, ms: number): unknown;
    clearTimeout(handle: unknown): void;
}
export declare const systemClock: Clock;
/** The part of the Web Storage API the offline queue uses (`localStorage` fits). */
export interface StorageLike {
    getItem(key: string): string | null;
    setItem(key: string, value: string): void;
    removeItem(key: string): void;
}
/** Whether the browser has a network, and a way to hear when that changes. */
export interface NetworkLike {
    isOnline(): boolean;
    /** Calls listener on every change; returns the unsubscribe function. */
    subscribe(listener: () => void): () => void;
}
/** Called by pusher-js for every event of a channel, its own `pusher:` events included. */
export type ChannelEventCallback = (event: string, data: unknown) => void;
/** pusher-js's `state_change` data. */
export interface ConnectionStateChange {
    previous: string;
    current: string;
}
export interface PusherChannelLike {
    readonly name: string;
    bind_global(callback: ChannelEventCallback): unknown;
    unbind_global(callback?: ChannelEventCallback): unknown;
}
export interface PusherConnectionLike {
    readonly state: string;
    bind(event: 'state_change', callback: (change: ConnectionStateChange) => void): unknown;
    unbind(event?: 'state_change', callback?: (change: ConnectionStateChange) => void): unknown;
}
export interface PusherLike {
    readonly connection: PusherConnectionLike;
    subscribe(channelName: string): PusherChannelLike;
    unsubscribe(channelName: string): void;
    disconnect(): void;
}
/** What `channelAuthorization.customHandler` receives from pusher-js. */
export interface ChannelAuthorizationRequest {
    socketId: string;
    channelName: string;
}
export interface ChannelAuthorizationAnswer {
    auth: string;
    channel_data?: string;
}
/** The options the client gives the pusher-js constructor. */
export interface PusherClientOptions {
    cluster: string;
    wsHost?: string;
    wsPort?: number;
    wssPort?: number;
    forceTLS?: boolean;
    enabledTransports?: string[];
    httpHost?: string;
    httpPort?: number;
    httpsPort?: number;
    disableStats?: boolean;
    channelAuthorization: {
        endpoint: string;
        transport: 'ajax';
        customHandler: (request: ChannelAuthorizationRequest, callback: (error: Error | null, answer: ChannelAuthorizationAnswer | null) => void) => void;
    };
}
/** pusher-js's constructor, or a stand-in with its shape. */
export type PusherConstructor = new (key: string, options: PusherClientOptions) => PusherLike;
