// The chatwire client: one per signed-in user. It sets up pusher-js with
// chatwire's channel authorization, shares channel subscriptions between
// chats, routes every event (from Pusher or from poll, alike, each event of
// the log once) to whoever listens, and decides when to fall back to polling.
import PusherJs from 'pusher-js';
import { Api, ChatwireError } from './api.js';
import { presenceChannel, userChannel } from './channels.js';
import { Chat } from './chat.js';
import { xhrUploader } from './files.js';
import { ConnectionMonitor } from './connection.js';
import { Conversations } from './conversations.js';
import { Notifier } from './notifications.js';
import { Poller } from './poll.js';
import { PresenceStore } from './presence.js';
import { memoryStorage, OutboxQueue } from './queue.js';
import { ReadReceipts } from './receipts.js';
import { SeenEvents } from './seen.js';
import { defaultTypingTimings } from './typing.js';
import { systemClock, } from './types.js';
export const defaultTimings = {
    ...defaultTypingTimings,
    pollIntervalMs: 5000,
    disconnectGraceMs: 3000,
    readDebounceMs: 500,
    catchUpDelayMs: 1000,
    cursorAdvanceMs: 30000,
};
/** createClient starts a client for the signed-in user. */
export function createClient(options) {
    return new Client(options);
}
// pusher-js is CommonJS; depending on the bundler its default import is the
// constructor itself or a namespace holding it.
const bundledPusher = (PusherJs.default ?? PusherJs);
class Client {
    constructor(options) {
        this.subscriptions = new Map();
        this.chats = new Set();
        this.lists = new Set();
        this.eventListeners = new Set();
        this.sends = new Map();
        this.cleanups = [];
        this.stopped = false;
        this.userId = options.userId;
        this.timings = { ...defaultTimings, ...options.timings };
        this.typingTimings = this.timings;
        this.clock = options.clock ?? systemClock;
        this.network = options.network ?? browserNetwork();
        this.onError = options.onError ?? (() => { });
        this.uploader = options.upload ?? xhrUploader;
        const apiUrl = (options.apiUrl ?? '').replace(/\/+$/, '');
        const fetchFn = options.fetch ?? ((input, init) => globalThis.fetch(input, init));
        this.api = new Api(apiUrl, options.getToken, fetchFn);
        this.seen = new SeenEvents(options.sessionStorage ?? browserSessionStorage(), `chatwire:seen:${this.userId}`);
        this.presence = new PresenceStore(this.api);
        this.notifications = new Notifier(this.api, options.notifications ?? {}, (channel) => this.isOpen(channel));
        this.receipts = new ReadReceipts(this.api, this.clock, this.timings.readDebounceMs, (ids, readAt) => this.chats.forEach((chat) => chat.applyRead({ message_ids: ids, reader_id: this.userId, read_at: readAt })), (error) => this.report(error));
        this.queue = new OutboxQueue(options.storage ?? browserStorage(), `chatwire:outbox:${this.userId}`, (item) => this.sendQueued(item), () => this.network.isOnline(), this.clock, { sent: (item, message) => this.settleSent(item, message), dropped: (item, error) => this.settleDropped(item, error) });
        this.poller = new Poller(this.api, this.clock, { intervalMs: this.timings.pollIntervalMs, limit: 100 }, (event) => this.deliver(event.channel, event.event, event.data, 'poll', event.id), (error) => this.report(error));
        this.pusher = options.pusher ? this.startPusher(options.pusher, options.Pusher ?? bundledPusher, apiUrl) : null;
        this.monitor = new ConnectionMonitor(this.pusher, this.network, this.poller, this.clock, this.timings, () => {
            void this.queue.flush();
        });
        // The user's own channels, for as long as the client lives: presence
        // occupancy makes the user online; the private one carries notifications
        // and contacts' status changes.
        this.cleanups.push(this.listen(userChannel(this.userId), (event) => this.handleUserEvent(event)));
        this.cleanups.push(this.listen(presenceChannel(this.userId), () => { }));
        void this.queue.flush();
    }
    get connection() {
        return this.monitor.status;
    }
    get outbox() {
        return this.queue.items;
    }
    openChat(target) {
        if (this.stopped)
            throw new Error('chatwire: openChat after disconnect');
        const chat = new Chat(this, target);
        this.chats.add(chat);
        return chat;
    }
    conversations() {
        if (this.stopped)
            throw new Error('chatwire: conversations after disconnect');
        const list = new Conversations(this);
        this.lists.add(list);
        return list;
    }
    onEvent(listener) {
        this.eventListeners.add(listener);
        return () => {
            this.eventListeners.delete(listener);
        };
    }
    flushOutbox() {
        return this.queue.flush();
    }
    disconnect() {
        if (this.stopped)
            return;
        // The monitor goes first, so Pusher's disconnect is no outage to report.
        this.monitor.dispose();
        // Then pusher-js, before unsubscribing: while connected it only cancels a
        // subscription whose authorization is still pending and keeps its
        // channel; disconnected, unsubscribing removes every channel.
        this.pusher?.disconnect();
        [...this.chats].forEach((chat) => chat.close());
        [...this.lists].forEach((list) => list.close());
        this.lists.clear();
        this.stopped = true;
        this.cleanups.splice(0).forEach((cleanup) => cleanup());
        this.poller.dispose();
        this.queue.dispose();
        this.receipts.dispose();
        this.eventListeners.clear();
    }
    // ---- ChatHost ----
    listen(channel, listener) {
        let sub = this.subscriptions.get(channel);
        if (!sub) {
            const handler = (event, data) => this.deliver(channel, event, data, 'pusher');
            const pusherChannel = this.pusher?.subscribe(channel) ?? null;
            pusherChannel?.bind_global(handler);
            sub = { pusherChannel, handler, listeners: new Set() };
            this.subscriptions.set(channel, sub);
        }
        const current = sub;
        current.listeners.add(listener);
        let done = false;
        return () => {
            if (done)
                return;
            done = true;
            current.listeners.delete(listener);
            if (current.listeners.size > 0)
                return;
            // Last listener gone: unbind before unsubscribing, because pusher-js
            // keeps (and reuses) a channel object whose subscription is still pending.
            current.pusherChannel?.unbind_global(current.handler);
            this.pusher?.unsubscribe(channel);
            this.subscriptions.delete(channel);
        };
    }
    enqueue(item) {
        const settled = new Promise((resolve, reject) => this.sends.set(item.client_id, { resolve, reject }));
        this.queue.add(item);
        void this.queue.flush();
        return settled;
    }
    markRead(ids) {
        this.receipts.mark(ids);
    }
    live() {
        return this.monitor.status.get() === 'connected';
    }
    report(error) {
        try {
            this.onError(error);
        }
        catch {
            // The app's error callback must not break event delivery.
        }
    }
    closed(chat) {
        this.chats.delete(chat);
    }
    // ---- internals ----
    startPusher(settings, PusherClass, apiUrl) {
        return new PusherClass(settings.key, {
            cluster: settings.cluster ?? 'mt1',
            ...(settings.wsHost !== undefined ? ownServerOptions(settings) : {}),
            ...(settings.wsPort !== undefined ? { wsPort: settings.wsPort } : {}),
            ...(settings.wssPort !== undefined ? { wssPort: settings.wssPort } : {}),
            ...(settings.forceTLS !== undefined ? { forceTLS: settings.forceTLS } : {}),
            ...(settings.enabledTransports ? { enabledTransports: settings.enabledTransports } : {}),
            channelAuthorization: {
                endpoint: `${apiUrl}/api/pusher/auth`,
                transport: 'ajax',
                // Our own handler, so the bearer token comes from the async getter on
                // every subscription (tokens expire; pusher-js's static headers would not).
                customHandler: ({ socketId, channelName }, callback) => {
                    this.api
                        .postForm('/api/pusher/auth', {
                        socket_id: socketId,
                        channel_name: channelName,
                    })
                        .then((answer) => callback(null, answer), (err) => {
                        const error = err instanceof ChatwireError ? err : new ChatwireError(0, 'network', String(err));
                        this.report(error);
                        callback(error, null);
                    });
                },
            },
        });
    }
    deliver(channel, event, data, source, pollId) {
        if (this.stopped)
            return;
        // Pusher's copy of an event of the log names it in data.event_id.
        const id = source === 'poll' ? pollId : eventIdOf(data);
        if (id !== undefined && !this.seen.firstTime(id))
            return;
        if (id !== undefined && source === 'pusher')
            this.monitor.liveEvent();
        const channelEvent = id !== undefined ? { channel, event, data, source, id } : { channel, event, data, source };
        const sub = this.subscriptions.get(channel);
        for (const listener of sub ? [...sub.listeners] : [])
            this.safely(() => listener(channelEvent));
        if (event.startsWith('pusher:') || event.startsWith('pusher_internal:'))
            return;
        this.refreshPresenceOf(event, data);
        for (const listener of [...this.eventListeners])
            this.safely(() => listener(channelEvent));
    }
    // A message or join from a user whose status is shown as offline may mean
    // the server lets this user see that status only now (first contact).
    refreshPresenceOf(event, data) {
        const fields = (data ?? {});
        const from = event === 'new-message' ? fields.sender_id : event === 'user-joined' ? fields.user_id : event === 'message-notification' ? fields.sender?.id : undefined;
        if (typeof from !== 'string' || from === this.userId)
            return;
        this.presence.refreshShown(from).catch((err) => {
            this.report(err instanceof ChatwireError ? err : new ChatwireError(0, 'network', String(err)));
        });
    }
    handleUserEvent(event) {
        if (event.event === 'user-status-change')
            this.presence.apply(event.data);
        else if (event.event === 'message-notification')
            this.notifications.handle(event.data);
    }
    safely(fn) {
        try {
            fn();
        }
        catch (err) {
            this.report(new ChatwireError(0, 'listener', `an event listener threw: ${String(err)}`));
        }
    }
    isOpen(channel) {
        for (const chat of this.chats)
            if (chat.channel === channel)
                return true;
        return false;
    }
    async sendQueued(item) {
        const answer = await this.api.post('/api/messages/send', {
            ...(item.to !== undefined ? { to: item.to } : { room_id: item.room_id }),
            body: item.body,
            client_id: item.client_id,
            // An upload is sent by its id alone; a link with its description.
            ...(item.attachment ? { attachment: item.attachment.id ? { id: item.attachment.id } : item.attachment } : {}),
        });
        return answer.message;
    }
    settleSent(item, message) {
        this.chats.forEach((chat) => chat.receive(message));
        this.sends.get(item.client_id)?.resolve(message);
        this.sends.delete(item.client_id);
    }
    settleDropped(item, error) {
        this.chats.forEach((chat) => chat.fail(item));
        this.sends.get(item.client_id)?.reject(error);
        this.sends.delete(item.client_id);
        this.report(error);
    }
}
/**
 * ownServerOptions keeps pusher-js on a Pusher-protocol server of the app's
 * own: its WebSocket transport only, which speaks TLS when `forceTLS` is
 * left on (pusher-js's sockjs and xhr fallbacks go to
 * sockjs-{cluster}.pusher.com, and its plain-text "wss" fallback to port
 * 443), its HTTP host pointed at the same server in case the app enables
 * those transports, and no stats to Pusher.
 */
function ownServerOptions(settings) {
    return {
        wsHost: settings.wsHost,
        httpHost: settings.wsHost,
        ...(settings.wsPort !== undefined ? { httpPort: settings.wsPort } : {}),
        ...(settings.wssPort !== undefined ? { httpsPort: settings.wssPort } : {}),
        enabledTransports: ['ws'],
        disableStats: true,
    };
}
function eventIdOf(data) {
    const id = data?.event_id;
    return typeof id === 'string' ? id : undefined;
}
function browserStorage() {
    return webStorage('localStorage');
}
function browserSessionStorage() {
    return webStorage('sessionStorage');
}
function webStorage(name) {
    try {
        const storage = globalThis[name];
        if (storage)
            return storage;
    }
    catch {
        // Reading web storage throws where storage is blocked (privacy settings).
    }
    return memoryStorage();
}
function browserNetwork() {
    const target = globalThis;
    return {
        isOnline: () => globalThis.navigator?.onLine ?? true,
        subscribe(listener) {
            if (typeof target.addEventListener !== 'function' || typeof target.removeEventListener !== 'function')
                return () => { };
            target.addEventListener('online', listener);
            target.addEventListener('offline', listener);
            return () => {
                target.removeEventListener?.('online', listener);
                target.removeEventListener?.('offline', listener);
            };
        },
    };
}
