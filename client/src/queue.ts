// The offline queue. Every message is sent through it: it is stored first
// (with the client_id chatwire uses as its idempotency key), then sent in
// order, one at a time, and removed only once the server answered. A page
// reload, a lost network or a 5xx therefore never loses or reorders a message,
// and a retry of a message the server already stored returns that message.

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

const minRetryMs = 1000;
const maxRetryMs = 30_000;

export class OutboxQueue {
  /** The messages not yet sent, oldest first. */
  readonly items: Observable<readonly QueuedMessage[]>;
  private flushing: Promise<void> | null = null;
  private retryTimer: unknown = undefined;
  private retryMs = minRetryMs;
  private disposed = false;

  constructor(
    private readonly storage: StorageLike,
    private readonly key: string,
    private readonly send: (item: QueuedMessage) => Promise<Message>,
    private readonly isOnline: () => boolean,
    private readonly clock: Clock,
    private readonly callbacks: OutboxCallbacks,
  ) {
    this.items = new Observable<readonly QueuedMessage[]>(this.read());
  }

  /**
   * add stores the message; call flush to send it. Its created_at is moved a
   * millisecond past the previous entry's if needed, so queue order (the order
   * of sending) is also the order a chat shows pending messages in.
   */
  add(item: QueuedMessage): void {
    // Read-modify-write on each change: another tab may share the storage.
    const items = this.read();
    const last = items[items.length - 1];
    if (last && last.created_at >= item.created_at) {
      item = { ...item, created_at: new Date(Date.parse(last.created_at) + 1).toISOString() };
    }
    this.write([...items, item]);
  }

  /**
   * flush sends the queued messages in order and resolves when the queue is
   * empty or a message must wait (offline, network error, 5xx, 429); a retry
   * is then scheduled with a growing delay. Concurrent calls share one run.
   */
  flush(): Promise<void> {
    if (!this.flushing) {
      this.flushing = this.run().finally(() => {
        this.flushing = null;
      });
    }
    return this.flushing;
  }

  dispose(): void {
    this.disposed = true;
    this.clock.clearTimeout(this.retryTimer);
  }

  private async run(): Promise<void> {
    this.clock.clearTimeout(this.retryTimer);
    this.retryTimer = undefined;
    for (;;) {
      if (this.disposed || !this.isOnline()) return;
      const item = this.read()[0];
      if (!item) {
        this.retryMs = minRetryMs;
        return;
      }
      let message: Message;
      try {
        message = await this.send(item);
      } catch (err) {
        const error = err instanceof ChatwireError ? err : new ChatwireError(0, 'network', String(err));
        error.clientId = item.client_id;
        if (error.retryable) {
          this.scheduleRetry();
          return;
        }
        // Tell the chats before the entry leaves the queue, so the message
        // turns `failed` instead of vanishing for a moment.
        this.callbacks.dropped(item, error);
        this.remove(item.client_id);
        continue;
      }
      this.retryMs = minRetryMs;
      this.callbacks.sent(item, message);
      this.remove(item.client_id);
    }
  }

  private scheduleRetry(): void {
    if (this.disposed) return;
    const delay = this.retryMs;
    this.retryMs = Math.min(this.retryMs * 2, maxRetryMs);
    this.retryTimer = this.clock.setTimeout(() => void this.flush(), delay);
  }

  private remove(clientId: string): void {
    this.write(this.read().filter((item) => item.client_id !== clientId));
  }

  private read(): QueuedMessage[] {
    let raw: string | null = null;
    try {
      raw = this.storage.getItem(this.key);
    } catch {
      return [...(this.items?.get() ?? [])];
    }
    if (!raw) return [];
    try {
      const parsed: unknown = JSON.parse(raw);
      return Array.isArray(parsed) ? (parsed as QueuedMessage[]) : [];
    } catch {
      return [];
    }
  }

  private write(items: QueuedMessage[]): void {
    try {
      if (items.length) this.storage.setItem(this.key, JSON.stringify(items));
      else this.storage.removeItem(this.key);
    } catch {
      // A full or forbidden storage keeps the queue in memory for this page.
    }
    this.items.set(items);
  }
}

/** memoryStorage is the storage used where there is no localStorage (server rendering, tests). */
export function memoryStorage(): StorageLike {
  const values = new Map<string, string>();
  return {
    getItem: (key) => values.get(key) ?? null,
    setItem: (key, value) => void values.set(key, value),
    removeItem: (key) => void values.delete(key),
  };
}

/** newClientId makes a client_id chatwire accepts: 1–64 of [A-Za-z0-9_-]. */
export function newClientId(): string {
  const uuid = globalThis.crypto?.randomUUID?.();
  if (uuid) return 'c-' + uuid;
  return 'c-' + Date.now().toString(36) + '-' + Math.random().toString(36).slice(2, 12);
}
