import { ChatwireError } from './api.js';
import { Observable } from './observable.js';
import type { Attachment, Clock, Message, StorageLike } from './types.js';
/** A message waiting to be sent. */
export interface QueuedMessage {
    client_id: string;
    channel: string;
    /** Exactly one of `to` and `room_id` is set. */
    to?: string;
    room_id?: string;
    body: string;
    attachment?: Attachment;
    /** When it was written, for ordering among the chat's messages. */
    created_at: string;
}
export interface OutboxCallbacks {
    sent(item: QueuedMessage, message: Message): void;
    dropped(item: QueuedMessage, error: ChatwireError): void;
}
export declare class OutboxQueue {
    private readonly storage;
    private readonly key;
    private readonly send;
    private readonly isOnline;
    private readonly clock;
    private readonly callbacks;
    /** The messages not yet sent, oldest first. */
    readonly items: Observable<readonly QueuedMessage[]>;
    private flushing;
    private retryTimer;
    private retryMs;
    private disposed;
    constructor(storage: StorageLike, key: string, send: (item: QueuedMessage) => Promise<Message>, isOnline: () => boolean, clock: Clock, callbacks: OutboxCallbacks);
    /**
     * add stores the message; call flush to send it. Its created_at is moved a
     * millisecond past the previous entry's if needed, so queue order (the order
     * of sending) is also the order a chat shows pending messages in.
     */
    add(item: QueuedMessage): void;
    /**
     * flush sends the queued messages in order and resolves when the queue is
     * empty or a message must wait (offline, network error, 5xx, 429); a retry
     * is then scheduled with a growing delay. Concurrent calls share one run.
     */
    flush(): Promise<void>;
    dispose(): void;
    private run;
    private scheduleRetry;
    private remove;
    private read;
    private write;
}
/** memoryStorage is the storage used where there is no localStorage (server rendering, tests). */
export declare function memoryStorage(): StorageLike;
/** newClientId makes a client_id chatwire accepts: 1–64 of [A-Za-z0-9_-]. */
export declare function newClientId(): string;
