// The conversation list (GET /api/conversations), kept live by events: a new
// message moves its conversation to the top and counts as unread unless the
// user sent it; conversation-read (any of the user's devices read it) sets the
// count the server says; edits, deletes and reactions update the last
// message, the higher version winning. A conversation the list does not know
// yet (a first message, a room just joined) makes it fetch its first page.
import { ChatwireError } from './api.js';
import { userChannel } from './channels.js';
import { Observable } from './observable.js';
import { deleted, newer, reacted } from './versions.js';
const pageSize = 30;
/** The list subscribes to the channels of this many of its newest conversations (Pusher caps channels per connection). */
export const maxLiveChannels = 50;
/** Unknown conversations are fetched at most this often. */
const refreshDelayMs = 300;
/** How many counted message ids the list remembers, to count a redelivered message once. */
const countedMemory = 2000;
export class Conversations {
    constructor(host) {
        this.host = host;
        this.byId = new Map();
        this.counted = new Set();
        this.live = new Map();
        this.unsubscribes = [];
        this.nextBefore = null;
        this.loaded = false;
        this.loading = 0;
        this.refreshTimer = null;
        this.closedFlag = false;
        this.state = new Observable({ conversations: [], hasMore: false, loading: false, unread: 0 });
        this.unsubscribes.push(host.onEvent((event) => this.handle(event)));
        // The user channel: conversation-read, and a resubscription after a reconnect.
        this.unsubscribes.push(host.listen(userChannel(host.userId), (event) => {
            if (event.event === 'pusher:subscription_succeeded' && this.loaded)
                this.scheduleRefresh();
        }));
        void this.refresh();
    }
    get closed() {
        return this.closedFlag;
    }
    /** refresh fetches the first page again and merges it (after a reconnect, or at will). */
    async refresh() {
        await this.load(undefined);
    }
    /** loadMore fetches the page after the oldest loaded conversation. */
    async loadMore() {
        if (!this.loaded)
            return this.refresh();
        if (this.nextBefore === null)
            return;
        await this.load(this.nextBefore);
    }
    /** get returns a loaded conversation by id (`chat:<user>` or `room:<room>`). */
    get(id) {
        return this.byId.get(id);
    }
    /** close stops listening and unsubscribes the channels it subscribed. */
    close() {
        if (this.closedFlag)
            return;
        this.closedFlag = true;
        if (this.refreshTimer !== null)
            this.host.clock.clearTimeout(this.refreshTimer);
        this.unsubscribes.splice(0).forEach((unsubscribe) => unsubscribe());
        [...this.live.values()].forEach((unsubscribe) => unsubscribe());
        this.live.clear();
    }
    // ---- internals ----
    async load(before) {
        if (this.closedFlag)
            return;
        this.loading++;
        this.publish();
        try {
            const answer = await this.host.api.get('/api/conversations', {
                limit: pageSize,
                before,
            });
            if (this.closedFlag)
                return;
            for (const c of answer.conversations) {
                const known = this.byId.get(c.id);
                // The server's row is the truth for counts; keep a newer last message we already have.
                const last = known?.last_message && c.last_message && known.last_message.id === c.last_message.id ? newer(known.last_message, c.last_message) : c.last_message;
                this.byId.set(c.id, { ...c, last_message: last });
                if (c.last_message)
                    this.remember(c.last_message.id);
            }
            if (before !== undefined || !this.loaded)
                this.nextBefore = answer.next_before;
            this.loaded = true;
        }
        catch (err) {
            this.host.report(err instanceof ChatwireError ? err : new ChatwireError(0, 'network', String(err)));
        }
        finally {
            this.loading--;
            this.publish();
        }
    }
    handle(event) {
        if (this.closedFlag)
            return;
        switch (event.event) {
            case 'new-message':
                this.onMessage(event.data);
                break;
            case 'message-updated':
                this.updateLast(event.channel, event.data.id, (m) => newer(m, event.data));
                break;
            case 'message-deleted': {
                const d = event.data;
                this.updateLast(event.channel, d.id, (m) => deleted(m, d));
                break;
            }
            case 'reaction-changed': {
                const r = event.data;
                this.updateLast(event.channel, r.message_id, (m) => reacted(m, r));
                break;
            }
            case 'conversation-read': {
                const read = event.data;
                const c = this.byId.get(read.conversation_id);
                if (!c)
                    return;
                this.byId.set(c.id, { ...c, unread_count: read.unread_count, last_read_at: read.read_at });
                this.publish();
                break;
            }
            case 'user-joined':
            case 'user-left':
                if (event.data.user_id === this.host.userId)
                    this.scheduleRefresh();
                break;
            case 'message-notification':
                // A message in a chat whose channel the list does not hear.
                if (!this.byChannel(event.data.channel ?? ''))
                    this.scheduleRefresh();
                break;
        }
    }
    onMessage(message) {
        const c = this.byChannel(message.channel);
        if (!c) {
            this.scheduleRefresh();
            return;
        }
        if (this.counted.has(message.id))
            return; // a redelivery: counted once
        this.remember(message.id);
        const mine = message.sender_id === this.host.userId;
        const isLast = !c.last_message || message.created_at >= c.last_message.created_at;
        this.byId.set(c.id, {
            ...c,
            last_message: isLast ? message : c.last_message,
            updated_at: isLast && message.created_at > c.updated_at ? message.created_at : c.updated_at,
            // Sending marks the conversation read for the sender (the server does the same).
            unread_count: mine ? 0 : c.unread_count + 1,
        });
        this.publish();
    }
    updateLast(channel, messageId, apply) {
        const c = this.byChannel(channel);
        if (!c?.last_message || c.last_message.id !== messageId)
            return;
        const next = apply(c.last_message);
        if (next === c.last_message)
            return;
        this.byId.set(c.id, { ...c, last_message: next });
        this.publish();
    }
    byChannel(channel) {
        for (const c of this.byId.values())
            if (c.channel === channel)
                return c;
        return undefined;
    }
    remember(id) {
        this.counted.add(id);
        if (this.counted.size > countedMemory)
            this.counted.delete(this.counted.values().next().value);
    }
    scheduleRefresh() {
        if (this.refreshTimer !== null || this.closedFlag)
            return;
        this.refreshTimer = this.host.clock.setTimeout(() => {
            this.refreshTimer = null;
            void this.refresh();
        }, refreshDelayMs);
    }
    /** follow subscribes to the channels of the newest conversations, so their events reach the list. */
    follow(list) {
        const wanted = new Set(list.slice(0, maxLiveChannels).map((c) => c.channel));
        for (const [channel, unsubscribe] of this.live) {
            if (!wanted.has(channel)) {
                unsubscribe();
                this.live.delete(channel);
            }
        }
        for (const channel of wanted) {
            if (!this.live.has(channel))
                this.live.set(channel, this.host.listen(channel, () => { }));
        }
    }
    publish() {
        if (this.closedFlag)
            return;
        const conversations = [...this.byId.values()].sort((a, b) => a.updated_at !== b.updated_at ? (a.updated_at < b.updated_at ? 1 : -1) : a.id < b.id ? 1 : -1);
        this.follow(conversations);
        this.state.set({
            conversations,
            hasMore: !this.loaded || this.nextBefore !== null,
            loading: this.loading > 0,
            unread: conversations.reduce((n, c) => n + c.unread_count, 0),
        });
    }
}
