// The polling fallback: GET /api/messages/poll from a stored cursor. The
// cursor is taken while Pusher is still connected and moved forward by a poll
// now and then while live (see ConnectionMonitor), so when Pusher goes away
// polling starts close to where live delivery may have stopped. Events are
// handed to the same dispatcher as Pusher's, which de-duplicates them by id.
import { ChatwireError } from './api.js';
export class Poller {
    constructor(api, clock, options, deliver, onError) {
        this.api = api;
        this.clock = clock;
        this.options = options;
        this.deliver = deliver;
        this.onError = onError;
        this.cursor = null;
        this.running = false;
        this.timer = undefined;
        this.inFlight = null;
        this.disposed = false;
        this.failed = false;
        /** Called when `failing` changes. */
        this.onFailingChange = () => { };
    }
    get polling() {
        return this.running;
    }
    /** Whether the last poll request failed (no answer, or an error). */
    get failing() {
        return this.failed;
    }
    /** The stored cursor, for tests and diagnostics. */
    get currentCursor() {
        return this.cursor;
    }
    /**
     * takeCursor asks for the current cursor once, while live delivery works:
     * everything after it will be polled if live delivery stops.
     */
    async takeCursor() {
        if (this.cursor !== null)
            return;
        try {
            const answer = await this.api.get('/api/messages/poll');
            this.cursor ?? (this.cursor = answer.cursor);
            this.setFailed(false);
        }
        catch (err) {
            this.report(err);
        }
    }
    /** start polls now and every interval until stop. */
    start() {
        if (this.running || this.disposed)
            return;
        this.running = true;
        void this.tick();
    }
    stop() {
        this.running = false;
        this.clock.clearTimeout(this.timer);
        this.timer = undefined;
    }
    /**
     * catchUp polls until the server has nothing more, once: after a reconnect
     * it fetches what was committed while neither Pusher nor polling delivered.
     */
    catchUp() {
        return this.pollUntilDone();
    }
    dispose() {
        this.disposed = true;
        this.stop();
    }
    async tick() {
        await this.pollUntilDone();
        if (this.running && !this.disposed) {
            this.clock.clearTimeout(this.timer);
            this.timer = this.clock.setTimeout(() => void this.tick(), this.options.intervalMs);
        }
    }
    // One request at a time: two overlapping polls from the same cursor would
    // hand out the same events twice and race to store the cursor.
    pollUntilDone() {
        if (!this.inFlight) {
            this.inFlight = this.pollPages().finally(() => {
                this.inFlight = null;
            });
        }
        return this.inFlight;
    }
    async pollPages() {
        try {
            if (this.cursor === null) {
                // No cursor yet (Pusher never connected): start from now; the chats'
                // history covers what came before.
                await this.takeCursor();
                return;
            }
            for (let cursor = this.cursor;; cursor = this.cursor) {
                if (this.disposed)
                    return;
                const answer = await this.api.get('/api/messages/poll', {
                    cursor,
                    limit: this.options.limit,
                });
                this.setFailed(false);
                for (const event of answer.events)
                    this.deliver(event);
                this.cursor = answer.cursor;
                if (!answer.more)
                    return;
            }
        }
        catch (err) {
            // A cursor the server no longer understands would fail forever: start over from now.
            if (err instanceof ChatwireError && err.fields?.cursor)
                this.cursor = null;
            this.report(err);
        }
    }
    setFailed(failed) {
        if (this.failed === failed)
            return;
        this.failed = failed;
        this.onFailingChange();
    }
    report(err) {
        this.setFailed(true);
        this.onError(err instanceof ChatwireError ? err : new ChatwireError(0, 'network', String(err)));
    }
}
