// Read receipts: the app says which messages are on screen; they are marked
// read in batches of at most 500 ids (the server's limit), after a short
// quiet period so scrolling through a long chat makes one request, not fifty.
import { ChatwireError } from './api.js';
const maxIdsPerRequest = 500;
const retryAfterMs = 5000;
export class ReadReceipts {
    constructor(api, clock, debounceMs, onRead, onError) {
        this.api = api;
        this.clock = clock;
        this.debounceMs = debounceMs;
        this.onRead = onRead;
        this.onError = onError;
        this.waiting = new Set();
        /** Ids asked for already, so a message on screen is marked once. */
        this.asked = new Set();
        this.timer = undefined;
    }
    mark(ids) {
        let added = false;
        for (const id of ids) {
            if (this.asked.has(id) || this.waiting.has(id))
                continue;
            this.waiting.add(id);
            added = true;
        }
        if (added)
            this.schedule(this.debounceMs);
    }
    /** flush sends what is waiting now, instead of after the quiet period. */
    async flush() {
        this.clock.clearTimeout(this.timer);
        this.timer = undefined;
        while (this.waiting.size) {
            const batch = [...this.waiting].slice(0, maxIdsPerRequest);
            batch.forEach((id) => {
                this.waiting.delete(id);
                this.asked.add(id);
            });
            try {
                const answer = await this.api.post('/api/messages/read', {
                    message_ids: batch,
                });
                if (answer.read.length)
                    this.onRead(answer.read, answer.read_at);
            }
            catch (err) {
                const error = err instanceof ChatwireError ? err : new ChatwireError(0, 'network', String(err));
                if (error.retryable) {
                    batch.forEach((id) => {
                        this.asked.delete(id);
                        this.waiting.add(id);
                    });
                    this.schedule(retryAfterMs);
                    return;
                }
                // Another 4xx would be refused again. Chats pass only messages this user
                // received, so a 403 here points at a bug: report it, do not retry.
                this.onError(error);
            }
        }
    }
    dispose() {
        this.clock.clearTimeout(this.timer);
    }
    schedule(ms) {
        this.clock.clearTimeout(this.timer);
        this.timer = this.clock.setTimeout(() => void this.flush(), ms);
    }
}
