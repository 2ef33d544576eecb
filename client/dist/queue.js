// The offline queue. Every message is sent through it: it is stored first
// (with the client_id chatwire uses as its idempotency key), then sent in
// order, one at a time, and removed only once the server answered. A page
// reload, a lost network or a 5xx therefore never loses or reorders a message,
// and a retry of a message the server already stored returns that message.
import { ChatwireError } from './api.js';
import { Observable } from './observable.js';
const minRetryMs = 1000;
const maxRetryMs = 30000;
export class OutboxQueue {
    constructor(storage, key, send, isOnline, clock, callbacks) {
        this.storage = storage;
        this.key = key;
        this.send = send;
        this.isOnline = isOnline;
        this.clock = clock;
        this.callbacks = callbacks;
        this.flushing = null;
        this.retryTimer = undefined;
        this.retryMs = minRetryMs;
        this.disposed = false;
        this.items = new Observable(this.read());
    }
    /**
     * add stores the message; call flush to send it. Its created_at is moved a
     * millisecond past the previous entry's if needed, so queue order (the order
     * of sending) is also the order a chat shows pending messages in.
     */
    add(item) {
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
    flush() {
        if (!this.flushing) {
            this.flushing = this.run().finally(() => {
                this.flushing = null;
            });
        }
        return this.flushing;
    }
    dispose() {
        this.disposed = true;
        this.clock.clearTimeout(this.retryTimer);
    }
    async run() {
        this.clock.clearTimeout(this.retryTimer);
        this.retryTimer = undefined;
        for (;;) {
            if (this.disposed || !this.isOnline())
                return;
            const item = this.read()[0];
            if (!item) {
                this.retryMs = minRetryMs;
                return;
            }
            let message;
            try {
                message = await this.send(item);
            }
            catch (err) {
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
    scheduleRetry() {
        if (this.disposed)
            return;
        const delay = this.retryMs;
        this.retryMs = Math.min(this.retryMs * 2, maxRetryMs);
        this.retryTimer = this.clock.setTimeout(() => void this.flush(), delay);
    }
    remove(clientId) {
        this.write(this.read().filter((item) => item.client_id !== clientId));
    }
    read() {
        let raw = null;
        try {
            raw = this.storage.getItem(this.key);
        }
        catch {
            return [...(this.items?.get() ?? [])];
        }
        if (!raw)
            return [];
        try {
            const parsed = JSON.parse(raw);
            return Array.isArray(parsed) ? parsed : [];
        }
        catch {
            return [];
        }
    }
    write(items) {
        try {
            if (items.length)
                this.storage.setItem(this.key, JSON.stringify(items));
            else
                this.storage.removeItem(this.key);
        }
        catch {
            // A full or forbidden storage keeps the queue in memory for this page.
        }
        this.items.set(items);
    }
}
/** memoryStorage is the storage used where there is no localStorage (server rendering, tests). */
export function memoryStorage() {
    const values = new Map();
    return {
        getItem: (key) => values.get(key) ?? null,
        setItem: (key, value) => void values.set(key, value),
        removeItem: (key) => void values.delete(key),
    };
}
/** newClientId makes a client_id chatwire accepts: 1–64 of [A-Za-z0-9_-]. */
export function newClientId() {
    const uuid = globalThis.crypto?.randomUUID?.();
    if (uuid)
        return 'c-' + uuid;
    return 'c-' + Date.now().toString(36) + '-' + Math.random().toString(36).slice(2, 12);
}
