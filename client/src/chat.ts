// One open chat: its timeline (history + live events + messages still in the
// offline queue, each message once, in order), typing indicators and read
// receipts. A Chat is created by ChatwireClient.openChat and must be closed.

import { Api, ChatwireError } from './api.js';
import { chatChannel, roomChannel } from './channels.js';
import { uploadFile, type FileLike, type SendFileOptions, type Uploader } from './files.js';
import { Observable, type Unsubscribe } from './observable.js';
import { newClientId, type OutboxQueue, type QueuedMessage } from './queue.js';
import { RemoteTyping, TypingSender, type TypingTimings } from './typing.js';
import type {
  Attachment,
  ChannelEvent,
  ChatMessage,
  ChatTarget,
  Clock,
  Message,
  MessageDeleted,
  ReactionChanged,
  ReactionCount,
  ReadReceipt,
  TypingUser,
} from './types.js';
import { deleted, reacted, toggleReaction, versionOf } from './versions.js';

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

const historyPageSize = 50;

/** channelOf is the channel of a chat target, as the user `me` sees it. */
export function channelOf(me: string, target: ChatTarget): string {
  return 'with' in target ? chatChannel(me, target.with) : roomChannel(target.roomId);
}

/** compareMessages orders messages by created_at, then id (the API's order). */
export function compareMessages(a: Message, b: Message): number {
  if (a.created_at !== b.created_at) return a.created_at < b.created_at ? -1 : 1;
  if (a.id !== b.id) return a.id < b.id ? -1 : 1;
  return (a.client_id ?? '') < (b.client_id ?? '') ? -1 : 1;
}

export class Chat {
  readonly target: ChatTarget;
  readonly channel: string;
  readonly state: Observable<ChatState>;

  /** Sent messages by id, and pending or failed ones by `client:{client_id}`. */
  private readonly entries = new Map<string, ChatMessage>();
  /** client_ids of own messages the server has stored, so a queue entry never shows twice. */
  private readonly storedClientIds = new Set<string>();
  private readonly listeners = new Set<(event: ChannelEvent) => void>();
  private readonly typingSender: TypingSender;
  private readonly remoteTyping: RemoteTyping;
  private readonly unsubscribes: Unsubscribe[] = [];
  private typing: readonly TypingUser[] = [];
  /**
   * Changes to messages not loaded yet (an edit's tombstone or reactions that
   * overtook the message itself, say on a slow poll), applied when it arrives.
   */
  private readonly early = new Map<string, { deleted?: MessageDeleted; reactions?: ReactionChanged }>();
  /** What this user changed and the server has not answered yet, shown over the message. */
  private readonly optimistic = new Map<string, Partial<Message>>();
  /** created_at of the newest room message from others this user's read mark covers. */
  private roomSeenUpTo = '';
  private nextBefore: string | null = null;
  private historyLoaded = false;
  private loading = 0;
  private closedFlag = false;

  constructor(
    private readonly host: ChatHost,
    target: ChatTarget,
  ) {
    this.target = 'with' in target ? { with: target.with } : { roomId: target.roomId };
    this.channel = channelOf(host.userId, target);
    this.state = new Observable<ChatState>({ messages: [], typing: [], hasMore: false, loading: false });
    this.typingSender = new TypingSender(host.clock, host.typingTimings, (typing) => this.sendTyping(typing));
    this.remoteTyping = new RemoteTyping(host.clock, host.typingTimings.remoteExpiryMs, (users) => {
      this.typing = users;
      this.publish();
    });
    this.unsubscribes.push(host.listen(this.channel, (event) => this.handle(event)));
    this.unsubscribes.push(host.queue.items.subscribe(() => this.syncQueue()));
    this.syncQueue();
    void this.refresh();
  }

  get closed(): boolean {
    return this.closedFlag;
  }

  /**
   * send queues the message and sends it as soon as the network allows. It is
   * shown at once as `pending`; the promise resolves with the stored message
   * (which may take until the browser is back online) or rejects when the
   * server refuses it for good (a 4xx other than 429).
   */
  send(body: string, options: SendOptions = {}): Promise<Message> {
    this.typingSender.stop();
    const item: QueuedMessage = {
      client_id: options.clientId ?? newClientId(),
      channel: this.channel,
      ...('with' in this.target ? { to: this.target.with } : { room_id: this.target.roomId }),
      body,
      ...(options.attachment ? { attachment: options.attachment } : {}),
      created_at: new Date(this.host.clock.now()).toISOString(),
    };
    return this.host.enqueue(item);
  }

  /**
   * sendFile uploads the file straight to chatwire's storage (with progress)
   * and then sends it like send: queued, retried with one client_id, so it is
   * never stored twice. It rejects when the upload is refused (size, type,
   * storage off) or fails three times.
   */
  async sendFile(file: FileLike, options: SendFileOptions = {}): Promise<Message> {
    const clientId = options.clientId ?? newClientId();
    const attachment = await uploadFile(this.host.api, this.host.uploader, this.host.clock, file, options.onProgress);
    return this.send(options.body ?? '', { clientId, attachment });
  }

  /** keystroke is called on each input in the message box: it drives `typing:true`/`false`. */
  keystroke(): void {
    if (!this.closedFlag) this.typingSender.keystroke();
  }

  /** stopTyping sends `typing:false` now (for example when the input loses focus). */
  stopTyping(): void {
    this.typingSender.stop();
  }

  /**
   * markVisible tells the chat which messages are on screen; those received by
   * this user and still unread are marked read in the next batch.
   */
  markVisible(messageIds: readonly string[]): void {
    if ('roomId' in this.target) {
      this.markRoomSeen(messageIds);
      return;
    }
    const unread = messageIds.filter((id) => {
      const m = this.entries.get(id);
      return m !== undefined && m.status === 'sent' && m.receiver_id === this.host.userId && m.read_at === null;
    });
    if (unread.length) this.host.markRead(unread);
  }

  /** loadOlder fetches the page of history before the oldest loaded message. */
  async loadOlder(): Promise<void> {
    if (!this.historyLoaded) return this.refresh();
    if (this.nextBefore === null) return;
    await this.loadHistory(this.nextBefore);
  }

  /**
   * edit replaces the body of one of this user's messages. The timeline shows
   * the new body at once; it settles on the message the server answers (or
   * on a newer version that arrived meanwhile), and goes back if the server
   * refuses. Rejects with the server's ChatwireError.
   */
  edit(messageId: string, body: string): Promise<Message> {
    return this.change(messageId, { body: body.trim(), edited_at: new Date(this.host.clock.now()).toISOString() }, async () => {
      const answer = await this.host.api.post<{ message: Message }>('/api/messages/edit', { id: messageId, body });
      this.merge(answer.message);
      return answer.message;
    });
  }

  /** remove deletes one of this user's messages, leaving a tombstone; optimistic like edit. */
  remove(messageId: string): Promise<Message> {
    const now = new Date(this.host.clock.now()).toISOString();
    return this.change(messageId, { body: '', attachment: null, deleted_at: now }, async () => {
      const answer = await this.host.api.post<{ message: Message }>('/api/messages/delete', { id: messageId });
      this.merge(answer.message);
      return answer.message;
    });
  }

  /** react adds (on) or takes back this user's reaction with the emoji; optimistic like edit. */
  react(messageId: string, emoji: string, on: boolean): Promise<ReactionCount[]> {
    const current = this.entries.get(messageId);
    const base = this.optimistic.get(messageId)?.reactions ?? current?.reactions ?? [];
    return this.change(messageId, { reactions: toggleReaction(base, emoji, this.host.userId, on) }, async () => {
      const answer = await this.host.api.post<ReactionChanged>('/api/messages/react', { id: messageId, emoji, on });
      this.applyReactions(answer);
      return answer.reactions;
    });
  }

  /** discard removes a failed message from the timeline. */
  discard(clientId: string): void {
    if (this.entries.get(`client:${clientId}`)?.status === 'failed') {
      this.entries.delete(`client:${clientId}`);
      this.publish();
    }
  }

  /**
   * onEvent is called for every event of the chat's channel, after
   * de-duplication: for what the timeline does not model, such as `user-joined`.
   */
  onEvent(listener: (event: ChannelEvent) => void): Unsubscribe {
    this.listeners.add(listener);
    return () => {
      this.listeners.delete(listener);
    };
  }

  /** close unsubscribes the channel (if no other chat uses it) and unbinds everything it bound. */
  close(): void {
    if (this.closedFlag) return;
    this.typingSender.stop();
    this.closedFlag = true;
    this.remoteTyping.dispose();
    this.unsubscribes.splice(0).forEach((unsubscribe) => unsubscribe());
    this.listeners.clear();
    this.host.closed(this);
  }

  // ---- called by the client ----

  /** receive merges a message from any source: Pusher, poll, history or send. */
  receive(message: Message): void {
    if (this.closedFlag || message.channel !== this.channel) return;
    if (this.merge(message)) this.publish();
  }

  /** applyRead sets read_at on the messages a receipt names. */
  applyRead(receipt: ReadReceipt): void {
    let changed = false;
    for (const id of receipt.message_ids) {
      const m = this.entries.get(id);
      if (m && m.read_at === null) {
        this.entries.set(id, { ...m, read_at: receipt.read_at });
        changed = true;
      }
    }
    if (changed) this.publish();
  }

  /** applyDeleted turns a message into its tombstone, unless a newer version is known. */
  applyDeleted(d: MessageDeleted): void {
    const m = this.entries.get(d.id);
    if (!m) {
      this.early.set(d.id, { ...this.early.get(d.id), deleted: d });
      return;
    }
    const next = deleted(m, d);
    if (next !== m) {
      this.entries.set(d.id, next);
      this.publish();
    }
  }

  /** applyReactions sets a message's reactions, unless a newer version is known. */
  applyReactions(r: ReactionChanged): void {
    const m = this.entries.get(r.message_id);
    if (!m) {
      const seen = this.early.get(r.message_id);
      if (!seen?.reactions || versionOf(seen.reactions) < versionOf(r)) this.early.set(r.message_id, { ...seen, reactions: r });
      return;
    }
    const next = reacted(m, r);
    if (next !== m) {
      this.entries.set(r.message_id, next);
      this.publish();
    }
  }

  /** fail shows a queued message the server refused for good. */
  fail(item: QueuedMessage): void {
    if (item.channel !== this.channel) return;
    this.entries.set(`client:${item.client_id}`, { ...pendingMessage(item, this.host.userId), status: 'failed' });
    this.publish();
  }

  /** refresh merges the newest page of history (after opening and after every re-subscription). */
  async refresh(): Promise<void> {
    await this.loadHistory(undefined);
  }

  // ---- internals ----

  private handle(event: ChannelEvent): void {
    switch (event.event) {
      case 'new-message': {
        const message = event.data as Message;
        const known = this.entries.get(message.id);
        this.remoteTyping.stop(message.sender_id);
        this.receive(message);
        // Over Pusher's 10 KB limit the body is left out; history carries it whole.
        if (message.truncated && (!known || known.truncated)) void this.refresh();
        break;
      }
      case 'message-updated': {
        const message = event.data as Message;
        this.receive(message);
        if (message.truncated) void this.refresh();
        break;
      }
      case 'message-deleted':
        this.applyDeleted(event.data as MessageDeleted);
        break;
      case 'reaction-changed':
        this.applyReactions(event.data as ReactionChanged);
        break;
      case 'message-read':
        this.applyRead(event.data as ReadReceipt);
        break;
      case 'typing-start': {
        const user = event.data as TypingUser;
        if (user.user_id !== this.host.userId) this.remoteTyping.start(user);
        break;
      }
      case 'typing-stop':
        this.remoteTyping.stop((event.data as TypingUser).user_id);
        break;
      case 'pusher:subscription_succeeded':
        // Subscribed (again, after a reconnect): fetch what was sent meanwhile.
        if (this.historyLoaded) void this.refresh();
        break;
    }
    for (const listener of [...this.listeners]) listener(event);
  }

  private merge(message: Message): boolean {
    let changed = false;
    if (message.client_id && message.sender_id === this.host.userId) {
      // Our own message came back (send answer, Pusher, poll or history): its
      // queue entry must not show beside it.
      this.storedClientIds.add(message.client_id);
      changed = this.entries.delete(`client:${message.client_id}`);
    }
    const existing = this.entries.get(message.id);
    let next = existing ? mergeMessage(existing, message) : toChatMessage(message);
    const early = this.early.get(message.id);
    if (early) {
      this.early.delete(message.id);
      if (early.reactions) next = reacted(next, early.reactions);
      if (early.deleted) next = deleted(next, early.deleted);
    }
    if (next !== existing) {
      this.entries.set(message.id, next);
      changed = true;
    }
    return changed;
  }

  private syncQueue(): void {
    const queued = this.host.queue.items.get().filter((item) => item.channel === this.channel);
    const waiting = new Set(queued.map((item) => item.client_id));
    let changed = false;
    for (const [key, entry] of this.entries) {
      if (entry.status === 'pending' && !waiting.has(entry.client_id ?? '')) {
        this.entries.delete(key);
        changed = true;
      }
    }
    for (const item of queued) {
      const key = `client:${item.client_id}`;
      if (this.storedClientIds.has(item.client_id) || this.entries.has(key)) continue;
      this.entries.set(key, pendingMessage(item, this.host.userId));
      changed = true;
    }
    if (changed) this.publish();
  }

  private async loadHistory(before: string | undefined): Promise<void> {
    if (this.closedFlag) return;
    this.loading++;
    this.publish();
    try {
      const answer = await this.host.api.get<{ messages: Message[]; next_before: string | null }>(
        '/api/messages/history',
        {
          ...('with' in this.target ? { with: this.target.with } : { room_id: this.target.roomId }),
          before,
          limit: historyPageSize,
        },
      );
      if (this.closedFlag) return;
      for (const message of answer.messages) this.merge(message);
      // Only the first page and older pages move the paging point; a refresh
      // of the newest page must not forget how far back the user scrolled.
      if (before !== undefined || !this.historyLoaded) this.nextBefore = answer.next_before;
      this.historyLoaded = true;
    } catch (err) {
      this.host.report(err instanceof ChatwireError ? err : new ChatwireError(0, 'network', String(err)));
    } finally {
      this.loading--;
      this.publish();
    }
  }

  /** sendTyping posts one typing event; it resolves with the wait the server asked for when it refused a start. */
  private async sendTyping(typing: boolean): Promise<number | undefined> {
    // During an outage typing is dropped quietly: poll does not carry it, and
    // the server would answer 503 while it cannot reach Pusher.
    if (!this.host.live()) return undefined;
    try {
      const answer = await this.host.api.post<{ sent: boolean; retry_after_ms?: number }>('/api/typing', {
        ...('with' in this.target ? { to: this.target.with } : { room_id: this.target.roomId }),
        typing,
      });
      return answer?.sent === false ? answer.retry_after_ms : undefined;
    } catch (err) {
      // Typing is best effort: a lost indicator expires on the other side.
      if (err instanceof ChatwireError && !err.retryable) this.host.report(err);
      return undefined;
    }
  }

  /**
   * markRoomSeen moves the user's read mark of the room (every device's badge
   * clears) when a message from someone else newer than the last mark is on
   * screen: one request per newer message seen, none otherwise.
   */
  private markRoomSeen(messageIds: readonly string[]): void {
    let newest = '';
    for (const id of messageIds) {
      const m = this.entries.get(id);
      if (m && m.status === 'sent' && m.sender_id !== this.host.userId && m.created_at > newest) newest = m.created_at;
    }
    if (newest === '' || newest <= this.roomSeenUpTo || !('roomId' in this.target)) return;
    this.roomSeenUpTo = newest;
    this.host.api.post('/api/messages/read', { room_id: this.target.roomId }).catch((err: unknown) => {
      this.host.report(err instanceof ChatwireError ? err : new ChatwireError(0, 'network', String(err)));
    });
  }

  /**
   * change shows a change of this user at once and runs the request; the
   * optimistic copy goes when the request ends, whatever its outcome, and the
   * timeline then shows what the server said (a newer version always wins).
   */
  private async change<T>(messageId: string, overlay: Partial<Message>, request: () => Promise<T>): Promise<T> {
    if (this.closedFlag) throw new Error('chatwire: the chat is closed');
    if (!this.entries.has(messageId)) throw new Error(`chatwire: no message ${messageId} in this chat`);
    this.optimistic.set(messageId, { ...this.optimistic.get(messageId), ...overlay });
    this.publish();
    try {
      return await request();
    } catch (err) {
      const error = err instanceof ChatwireError ? err : new ChatwireError(0, 'network', String(err));
      this.host.report(error);
      throw error;
    } finally {
      this.optimistic.delete(messageId);
      this.publish();
    }
  }

  private publish(): void {
    if (this.closedFlag) return;
    const messages = [...this.entries.values()]
      .map((m) => {
        const overlay = this.optimistic.get(m.id);
        return overlay ? { ...m, ...overlay } : m;
      })
      .sort(compareMessages);
    this.state.set({
      messages,
      typing: this.typing,
      hasMore: !this.historyLoaded || this.nextBefore !== null,
      loading: this.loading > 0,
    });
  }
}

/**
 * mergeMessage combines two copies of the same message: the higher version
 * wins, a read_at once known stays, and a truncated copy (an event over
 * Pusher's size limit) never replaces a whole one. Returns `existing` itself
 * when nothing changes, so an event delivered twice re-renders nothing.
 */
export function mergeMessage(existing: ChatMessage, incoming: Message): ChatMessage {
  if (versionOf(incoming) < versionOf(existing)) {
    // An older copy (a slow poll's new-message after an edit): only its read_at can be news.
    if (existing.read_at !== null || incoming.read_at === null) return existing;
    return { ...existing, read_at: incoming.read_at };
  }
  const source: Message = incoming.truncated && !existing.truncated ? existing : incoming;
  const readAt = existing.read_at ?? incoming.read_at;
  if (readAt === existing.read_at && (source === existing || sameContent(existing, incoming))) return existing;
  return toChatMessage({ ...existing, ...source, truncated: source.truncated, read_at: readAt });
}

function sameContent(a: Message, b: Message): boolean {
  return (
    a.body === b.body &&
    !!a.truncated === !!b.truncated &&
    versionOf(a) === versionOf(b) &&
    (a.edited_at ?? null) === (b.edited_at ?? null) &&
    (a.deleted_at ?? null) === (b.deleted_at ?? null) &&
    JSON.stringify(a.reactions ?? []) === JSON.stringify(b.reactions ?? []) &&
    JSON.stringify(a.attachment) === JSON.stringify(b.attachment)
  );
}

function toChatMessage(message: Message): ChatMessage {
  const { truncated, ...rest } = message;
  return truncated ? { ...rest, truncated, status: 'sent' } : { ...rest, status: 'sent' };
}

function pendingMessage(item: QueuedMessage, me: string): ChatMessage {
  return {
    id: '',
    client_id: item.client_id,
    channel: item.channel,
    sender_id: me,
    receiver_id: item.to ?? null,
    room_id: item.room_id ?? null,
    body: item.body,
    attachment: item.attachment ?? null,
    created_at: item.created_at,
    read_at: null,
    version: 1,
    edited_at: null,
    deleted_at: null,
    reactions: [],
    status: 'pending',
  };
}
