// Test doubles for the unit tests: a clock the test moves by hand, an
// in-memory stand-in for pusher-js (which counts its handlers), a network
// switch, and a small in-memory chatwire behind a fake fetch.

import type {
  ChannelEventCallback,
  Clock,
  ConnectionStateChange,
  Message,
  NetworkLike,
  PusherClientOptions,
  PusherLike,
} from '@chatwire/client';

/** settle lets pending promise callbacks (fetch answers, awaits) run. */
export async function settle(rounds = 5): Promise<void> {
  for (let i = 0; i < rounds; i++) await new Promise((resolve) => setImmediate(resolve));
}

export class FakeClock implements Clock {
  private time = Date.parse('2026-01-02T03:04:05.000Z');
  private nextId = 1;
  private readonly timers = new Map<number, { at: number; fn: () => void }>();

  now = (): number => this.time;

  setTimeout = (fn: () => void, ms: number): unknown => {
    const id = this.nextId++;
    this.timers.set(id, { at: this.time + ms, fn });
    return id;
  };

  clearTimeout = (handle: unknown): void => {
    this.timers.delete(handle as number);
  };

  get pending(): number {
    return this.timers.size;
  }

  /** advance moves time forward, running due timers in order and letting promises settle after each. */
  async advance(ms: number): Promise<void> {
    const end = this.time + ms;
    for (;;) {
      await settle();
      let next: [number, { at: number; fn: () => void }] | undefined;
      for (const entry of this.timers) if (entry[1].at <= end && (!next || entry[1].at < next[1].at)) next = entry;
      if (!next) break;
      this.timers.delete(next[0]);
      this.time = next[1].at;
      next[1].fn();
    }
    this.time = end;
    await settle();
  }
}

export class FakeChannel {
  readonly globalCallbacks: ChannelEventCallback[] = [];
  constructor(readonly name: string) {}
  bind_global(callback: ChannelEventCallback): void {
    this.globalCallbacks.push(callback);
  }
  unbind_global(callback?: ChannelEventCallback): void {
    const i = callback ? this.globalCallbacks.indexOf(callback) : -1;
    if (i >= 0) this.globalCallbacks.splice(i, 1);
    else if (!callback) this.globalCallbacks.length = 0;
  }
  emit(event: string, data: unknown): void {
    for (const callback of [...this.globalCallbacks]) callback(event, data);
  }
}

type StateCallback = (change: ConnectionStateChange) => void;

export class FakeConnection {
  state = 'connecting';
  readonly callbacks: StateCallback[] = [];
  bind(_event: 'state_change', callback: StateCallback): void {
    this.callbacks.push(callback);
  }
  unbind(_event?: 'state_change', callback?: StateCallback): void {
    const i = callback ? this.callbacks.indexOf(callback) : -1;
    if (i >= 0) this.callbacks.splice(i, 1);
  }
  setState(current: string): void {
    const previous = this.state;
    this.state = current;
    for (const callback of [...this.callbacks]) callback({ previous, current });
  }
}

/** FakePusher stands in for pusher-js; `FakePusher.last` is the newest instance. */
export class FakePusher implements PusherLike {
  static last: FakePusher;
  readonly connection = new FakeConnection();
  readonly channels = new Map<string, FakeChannel>();
  /** Channels ever subscribed, unsubscribed ones included, to count leftovers. */
  readonly everSubscribed: FakeChannel[] = [];
  disconnected = false;

  constructor(
    readonly key: string,
    readonly options: PusherClientOptions,
  ) {
    FakePusher.last = this;
  }

  subscribe(name: string): FakeChannel {
    let channel = this.channels.get(name);
    if (!channel) {
      channel = new FakeChannel(name);
      this.channels.set(name, channel);
      this.everSubscribed.push(channel);
    }
    return channel;
  }

  unsubscribe(name: string): void {
    this.channels.delete(name);
  }

  disconnect(): void {
    this.disconnected = true;
    this.connection.setState('disconnected');
  }

  /** emit delivers an event as Pusher would, if the channel is subscribed. */
  emit(channel: string, event: string, data: unknown): void {
    this.channels.get(channel)?.emit(event, data);
  }

  /** handlerCount is every handler bound anywhere, on live and unsubscribed channels. */
  handlerCount(): number {
    return this.everSubscribed.reduce((n, c) => n + c.globalCallbacks.length, 0);
  }
}

export class FakeNetwork implements NetworkLike {
  online = true;
  private readonly listeners = new Set<() => void>();
  isOnline = (): boolean => this.online;
  subscribe = (listener: () => void): (() => void) => {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  };
  set(online: boolean): void {
    this.online = online;
    this.listeners.forEach((listener) => listener());
  }
}

export interface Recorded {
  method: string;
  path: string;
  query: URLSearchParams;
  body: unknown;
  authorization: string | null;
}

type Answer = { status: number; body?: unknown } | 'network-error';
type Route = (request: Recorded) => Answer | undefined;

/**
 * FakeServer is a small in-memory chatwire behind a fetch function: enough of
 * send (with client_id idempotency), history, poll, read, typing, presence and
 * preferences for the client's logic. `failNext` and `routes` override answers.
 */
export class FakeServer {
  readonly requests: Recorded[] = [];
  readonly messages: Message[] = [];
  /** Poll events the next poll answers; `more` says whether another page follows. */
  pollPages: { events: unknown[]; more: boolean }[] = [];
  cursor = 0;
  readonly overrides: Route[] = [];
  private seq = 0;

  constructor(
    readonly clock: FakeClock,
    readonly me = 'alice',
  ) {}

  fetch = async (input: string, init: RequestInit): Promise<Response> => {
    const url = new URL(input, 'http://chatwire.test');
    const headers = new Headers(init.headers);
    let body: unknown = undefined;
    if (typeof init.body === 'string') {
      body = headers.get('Content-Type') === 'application/json' ? JSON.parse(init.body) : Object.fromEntries(new URLSearchParams(init.body));
    }
    const request: Recorded = {
      method: init.method ?? 'GET',
      path: url.pathname,
      query: url.searchParams,
      body,
      authorization: headers.get('Authorization'),
    };
    this.requests.push(request);
    let answer: Answer | undefined;
    for (const route of this.overrides) if ((answer = route(request))) break;
    answer ??= this.answer(request);
    if (answer === 'network-error') throw new TypeError('fetch failed');
    return new Response(answer.body === undefined ? null : JSON.stringify(answer.body), {
      status: answer.status,
      headers: { 'Content-Type': 'application/json' },
    });
  };

  /** failNext makes the next n requests matching path answer this way. */
  failNext(path: string, answer: Answer, n = 1): void {
    let left = n;
    this.overrides.push((request) => {
      if (request.path !== path || left <= 0) return undefined;
      left--;
      return answer;
    });
  }

  calls(method: string, path: string): Recorded[] {
    return this.requests.filter((r) => r.method === method && r.path === path);
  }

  /** message makes a stored message, as another user's send would. */
  message(fields: Partial<Message> & { sender_id: string }): Message {
    const seq = ++this.seq;
    const message: Message = {
      id: `m${String(seq).padStart(4, '0')}`,
      client_id: null,
      channel: 'private-chat-alice-bob',
      receiver_id: fields.sender_id === 'alice' ? 'bob' : 'alice',
      room_id: null,
      body: `message ${seq}`,
      attachment: null,
      created_at: new Date(this.clock.now() + seq).toISOString(),
      read_at: null,
      ...fields,
    };
    this.messages.push(message);
    return message;
  }

  private answer(request: Recorded): Answer {
    const body = (request.body ?? {}) as Record<string, unknown>;
    switch (`${request.method} ${request.path}`) {
      case 'POST /api/messages/send': {
        const existing = this.messages.find((m) => m.client_id === body.client_id && m.sender_id === this.me);
        if (existing) return { status: 200, body: { message: existing, published: true } };
        const message = this.message({
          sender_id: this.me,
          client_id: body.client_id as string,
          body: body.body as string,
          ...(body.to ? { receiver_id: body.to as string } : { receiver_id: null, room_id: body.room_id as string, channel: `private-room-${body.room_id}` }),
        });
        return { status: 201, body: { message, published: true } };
      }
      case 'GET /api/messages/history':
        return { status: 200, body: { messages: [...this.messages].reverse(), next_before: null } };
      case 'GET /api/messages/poll': {
        if (!request.query.get('cursor')) return { status: 200, body: { events: [], cursor: `c${this.cursor}`, more: false } };
        const page = this.pollPages.shift() ?? { events: [], more: false };
        this.cursor += page.events.length;
        return { status: 200, body: { events: page.events, cursor: `c${this.cursor}`, more: page.more } };
      }
      case 'POST /api/messages/read':
        return { status: 200, body: { read: body.message_ids, read_at: new Date(this.clock.now()).toISOString() } };
      case 'POST /api/typing':
        return { status: 200, body: { sent: true } };
      case 'GET /api/presence':
        return {
          status: 200,
          body: { users: (request.query.get('user_ids') ?? '').split(',').map((id) => ({ user_id: id, online: false, last_active_at: null })) },
        };
      case 'GET /api/notifications/preferences':
        return { status: 200, body: { enabled: true, muted_channels: [] } };
      case 'PUT /api/notifications/preferences':
        return { status: 200, body };
      case 'POST /api/pusher/auth':
        return { status: 200, body: { auth: 'key:signature' } };
    }
    return { status: 404, body: { error: { code: 'not_found', message: 'no route' } } };
  }
}
