// The chatwire client: one per signed-in user. It sets up pusher-js with
// chatwire's channel authorization, shares channel subscriptions between
// chats, routes every event (from Pusher or from poll, alike, each event of
// the log once) to whoever listens, and decides when to fall back to polling.

import PusherJs from 'pusher-js';
import { Api, ChatwireError, type FetchLike, type TokenGetter } from './api.js';
import { presenceChannel, userChannel } from './channels.js';
import { Chat, type ChatHost } from './chat.js';
import { xhrUploader, type Uploader } from './files.js';
import { ConnectionMonitor, type ConnectionTimings } from './connection.js';
import { Conversations } from './conversations.js';
import { Notifier, type NotificationOptions } from './notifications.js';
import type { Unsubscribe } from './observable.js';
import { Poller } from './poll.js';
import { PresenceStore, type PresenceSnapshot } from './presence.js';
import { memoryStorage, OutboxQueue, type QueuedMessage } from './queue.js';
import { ReadReceipts } from './receipts.js';
import { SeenEvents } from './seen.js';
import { defaultTypingTimings, type TypingTimings } from './typing.js';
import {
  systemClock,
  type ChannelEvent,
  type ChannelEventCallback,
  type ChatTarget,
  type Clock,
  type ConnectionStatus,
  type EventSource,
  type Message,
  type MessageNotification,
  type NetworkLike,
  type NotificationPreferences,
  type PusherChannelLike,
  type PusherClientOptions,
  type PusherConstructor,
  type PusherLike,
  type StorageLike,
  type UserStatus,
} from './types.js';

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

export const defaultTimings: ClientTimings = {
  ...defaultTypingTimings,
  pollIntervalMs: 5000,
  disconnectGraceMs: 3000,
  readDebounceMs: 500,
  catchUpDelayMs: 1000,
  cursorAdvanceMs: 30_000,
};

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
export function createClient(options: ClientOptions): ChatwireClient {
  return new Client(options);
}

interface Subscription {
  readonly pusherChannel: PusherChannelLike | null;
  readonly handler: ChannelEventCallback;
  readonly listeners: Set<(event: ChannelEvent) => void>;
}

// pusher-js is CommonJS; depending on the bundler its default import is the
// constructor itself or a namespace holding it.
const bundledPusher = ((PusherJs as unknown as { default?: unknown }).default ?? PusherJs) as unknown as PusherConstructor;

class Client implements ChatwireClient, ChatHost {
  readonly userId: string;
  readonly api: Api;
  readonly clock: Clock;
  readonly typingTimings: TypingTimings;
  readonly queue: OutboxQueue;
  readonly presence: PresenceStore;
  readonly notifications: Notifier;
  readonly uploader: Uploader;

  private readonly timings: ClientTimings;
  private readonly pusher: PusherLike | null;
  private readonly network: NetworkLike;
  private readonly poller: Poller;
  private readonly receipts: ReadReceipts;
  private readonly subscriptions = new Map<string, Subscription>();
  private readonly chats = new Set<Chat>();
  private readonly lists = new Set<Conversations>();
  private readonly eventListeners = new Set<(event: ChannelEvent) => void>();
  private readonly sends = new Map<string, { resolve: (m: Message) => void; reject: (e: ChatwireError) => void }>();
  private readonly cleanups: Unsubscribe[] = [];
  private readonly onError: (error: ChatwireError) => void;
  private readonly monitor: ConnectionMonitor;
  private readonly seen: SeenEvents;
  private stopped = false;

  constructor(options: ClientOptions) {
    this.userId = options.userId;
    this.timings = { ...defaultTimings, ...options.timings };
    this.typingTimings = this.timings;
    this.clock = options.clock ?? systemClock;
    this.network = options.network ?? browserNetwork();
    this.onError = options.onError ?? (() => {});
    this.uploader = options.upload ?? xhrUploader;
    const apiUrl = (options.apiUrl ?? '').replace(/\/+$/, '');
    const fetchFn = options.fetch ?? ((input: string, init: RequestInit) => globalThis.fetch(input, init));
    this.api = new Api(apiUrl, options.getToken, fetchFn);

    this.seen = new SeenEvents(options.sessionStorage ?? browserSessionStorage(), `chatwire:seen:${this.userId}`);
    this.presence = new PresenceStore(this.api);
    this.notifications = new Notifier(this.api, options.notifications ?? {}, (channel) => this.isOpen(channel));
    this.receipts = new ReadReceipts(
      this.api,
      this.clock,
      this.timings.readDebounceMs,
      (ids, readAt) => this.chats.forEach((chat) => chat.applyRead({ message_ids: ids, reader_id: this.userId, read_at: readAt })),
      (error) => this.report(error),
    );
    this.queue = new OutboxQueue(
      options.storage ?? browserStorage(),
      `chatwire:outbox:${this.userId}`,
      (item) => this.sendQueued(item),
      () => this.network.isOnline(),
      this.clock,
      { sent: (item, message) => this.settleSent(item, message), dropped: (item, error) => this.settleDropped(item, error) },
    );
    this.poller = new Poller(
      this.api,
      this.clock,
      { intervalMs: this.timings.pollIntervalMs, limit: 100 },
      (event) => this.deliver(event.channel, event.event, event.data, 'poll', event.id),
      (error) => this.report(error),
    );

    this.pusher = options.pusher ? this.startPusher(options.pusher, options.Pusher ?? bundledPusher, apiUrl) : null;
    this.monitor = new ConnectionMonitor(this.pusher, this.network, this.poller, this.clock, this.timings, () => {
      void this.queue.flush();
    });

    // The user's own channels, for as long as the client lives: presence
    // occupancy makes the user online; the private one carries notifications
    // and contacts' status changes.
    this.cleanups.push(this.listen(userChannel(this.userId), (event) => this.handleUserEvent(event)));
    this.cleanups.push(this.listen(presenceChannel(this.userId), () => {}));

    void this.queue.flush();
  }

  get connection(): Watchable<ConnectionStatus> {
    return this.monitor.status;
  }

  get outbox(): Watchable<readonly QueuedMessage[]> {
    return this.queue.items;
  }

  openChat(target: ChatTarget): Chat {
    if (this.stopped) throw new Error('chatwire: openChat after disconnect');
    const chat = new Chat(this, target);
    this.chats.add(chat);
    return chat;
  }

  conversations(): Conversations {
    if (this.stopped) throw new Error('chatwire: conversations after disconnect');
    const list = new Conversations(this);
    this.lists.add(list);
    return list;
  }

  onEvent(listener: (event: ChannelEvent) => void): Unsubscribe {
    this.eventListeners.add(listener);
    return () => {
      this.eventListeners.delete(listener);
    };
  }

  flushOutbox(): Promise<void> {
    return this.queue.flush();
  }

  disconnect(): void {
    if (this.stopped) return;
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

  listen(channel: string, listener: (event: ChannelEvent) => void): Unsubscribe {
    let sub = this.subscriptions.get(channel);
    if (!sub) {
      const handler: ChannelEventCallback = (event, data) => this.deliver(channel, event, data, 'pusher');
      const pusherChannel = this.pusher?.subscribe(channel) ?? null;
      pusherChannel?.bind_global(handler);
      sub = { pusherChannel, handler, listeners: new Set() };
      this.subscriptions.set(channel, sub);
    }
    const current = sub;
    current.listeners.add(listener);
    let done = false;
    return () => {
      if (done) return;
      done = true;
      current.listeners.delete(listener);
      if (current.listeners.size > 0) return;
      // Last listener gone: unbind before unsubscribing, because pusher-js
      // keeps (and reuses) a channel object whose subscription is still pending.
      current.pusherChannel?.unbind_global(current.handler);
      this.pusher?.unsubscribe(channel);
      this.subscriptions.delete(channel);
    };
  }

  enqueue(item: QueuedMessage): Promise<Message> {
    const settled = new Promise<Message>((resolve, reject) => this.sends.set(item.client_id, { resolve, reject }));
    this.queue.add(item);
    void this.queue.flush();
    return settled;
  }

  markRead(ids: readonly string[]): void {
    this.receipts.mark(ids);
  }

  live(): boolean {
    return this.monitor.status.get() === 'connected';
  }

  report(error: ChatwireError): void {
    try {
      this.onError(error);
    } catch {
      // The app's error callback must not break event delivery.
    }
  }

  closed(chat: Chat): void {
    this.chats.delete(chat);
  }

  // ---- internals ----

  private startPusher(settings: PusherSettings, PusherClass: PusherConstructor, apiUrl: string): PusherLike {
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
            .postForm<{ auth: string; channel_data?: string }>('/api/pusher/auth', {
              socket_id: socketId,
              channel_name: channelName,
            })
            .then(
              (answer) => callback(null, answer),
              (err: unknown) => {
                const error = err instanceof ChatwireError ? err : new ChatwireError(0, 'network', String(err));
                this.report(error);
                callback(error, null);
              },
            );
        },
      },
    });
  }

  private deliver(channel: string, event: string, data: unknown, source: EventSource, pollId?: string): void {
    if (this.stopped) return;
    // Pusher's copy of an event of the log names it in data.event_id.
    const id = source === 'poll' ? pollId : eventIdOf(data);
    if (id !== undefined && !this.seen.firstTime(id)) return;
    if (id !== undefined && source === 'pusher') this.monitor.liveEvent();
    const channelEvent: ChannelEvent = id !== undefined ? { channel, event, data, source, id } : { channel, event, data, source };
    const sub = this.subscriptions.get(channel);
    for (const listener of sub ? [...sub.listeners] : []) this.safely(() => listener(channelEvent));
    if (event.startsWith('pusher:') || event.startsWith('pusher_internal:')) return;
    this.refreshPresenceOf(event, data);
    for (const listener of [...this.eventListeners]) this.safely(() => listener(channelEvent));
  }

  // A message or join from a user whose status is shown as offline may mean
  // the server lets this user see that status only now (first contact).
  private refreshPresenceOf(event: string, data: unknown): void {
    const fields = (data ?? {}) as { sender_id?: unknown; user_id?: unknown; sender?: { id?: unknown } };
    const from =
      event === 'new-message' ? fields.sender_id : event === 'user-joined' ? fields.user_id : event === 'message-notification' ? fields.sender?.id : undefined;
    if (typeof from !== 'string' || from === this.userId) return;
    this.presence.refreshShown(from).catch((err: unknown) => {
      this.report(err instanceof ChatwireError ? err : new ChatwireError(0, 'network', String(err)));
    });
  }

  private handleUserEvent(event: ChannelEvent): void {
    if (event.event === 'user-status-change') this.presence.apply(event.data as UserStatus);
    else if (event.event === 'message-notification') this.notifications.handle(event.data as MessageNotification);
  }

  private safely(fn: () => void): void {
    try {
      fn();
    } catch (err) {
      this.report(new ChatwireError(0, 'listener', `an event listener threw: ${String(err)}`));
    }
  }

  private isOpen(channel: string): boolean {
    for (const chat of this.chats) if (chat.channel === channel) return true;
    return false;
  }

  private async sendQueued(item: QueuedMessage): Promise<Message> {
    const answer = await this.api.post<{ message: Message }>('/api/messages/send', {
      ...(item.to !== undefined ? { to: item.to } : { room_id: item.room_id }),
      body: item.body,
      client_id: item.client_id,
      // An upload is sent by its id alone; a link with its description.
      ...(item.attachment ? { attachment: item.attachment.id ? { id: item.attachment.id } : item.attachment } : {}),
    });
    return answer.message;
  }

  private settleSent(item: QueuedMessage, message: Message): void {
    this.chats.forEach((chat) => chat.receive(message));
    this.sends.get(item.client_id)?.resolve(message);
    this.sends.delete(item.client_id);
  }

  private settleDropped(item: QueuedMessage, error: ChatwireError): void {
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
function ownServerOptions(settings: PusherSettings): Partial<PusherClientOptions> {
  return {
    wsHost: settings.wsHost,
    httpHost: settings.wsHost,
    ...(settings.wsPort !== undefined ? { httpPort: settings.wsPort } : {}),
    ...(settings.wssPort !== undefined ? { httpsPort: settings.wssPort } : {}),
    enabledTransports: ['ws'],
    disableStats: true,
  };
}

function eventIdOf(data: unknown): string | undefined {
  const id = (data as { event_id?: unknown } | null)?.event_id;
  return typeof id === 'string' ? id : undefined;
}

function browserStorage(): StorageLike {
  return webStorage('localStorage');
}

function browserSessionStorage(): StorageLike {
  return webStorage('sessionStorage');
}

function webStorage(name: 'localStorage' | 'sessionStorage'): StorageLike {
  try {
    const storage = (globalThis as Record<string, unknown>)[name] as StorageLike | undefined;
    if (storage) return storage;
  } catch {
    // Reading web storage throws where storage is blocked (privacy settings).
  }
  return memoryStorage();
}

function browserNetwork(): NetworkLike {
  const target = globalThis as { addEventListener?: Window['addEventListener']; removeEventListener?: Window['removeEventListener'] };
  return {
    isOnline: () => (globalThis as { navigator?: { onLine?: boolean } }).navigator?.onLine ?? true,
    subscribe(listener) {
      if (typeof target.addEventListener !== 'function' || typeof target.removeEventListener !== 'function') return () => {};
      target.addEventListener('online', listener);
      target.addEventListener('offline', listener);
      return () => {
        target.removeEventListener?.('online', listener);
        target.removeEventListener?.('offline', listener);
      };
    },
  };
}
