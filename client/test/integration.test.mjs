// @chatwire/client with the real pusher-js against a real chatwire: channel
// authorization with bearer tokens, live delivery, typing, read receipts,
// notifications, the polling fallback, the offline queue, and that closing a
// chat leaves no listener behind on pusher-js's objects.
//
// Run by TestClientPackage (lib/httpapi/client_test.go), which starts chatwire
// on a fresh database with a local Pusher-protocol server and passes:
//   APP_URL                               chatwire's base URL
//   PUSHER_HOST, PUSHER_PORT, PUSHER_KEY  the local Pusher server
//   TOKEN_ALICE, TOKEN_BOB                JWTs of alice ("Alice") and bob ("Bob")
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import Pusher from 'pusher-js';
import { createClient, memoryStorage, chatChannel, userChannel } from '@chatwire/client';

const names = ['APP_URL', 'PUSHER_HOST', 'PUSHER_PORT', 'PUSHER_KEY', 'TOKEN_ALICE', 'TOKEN_BOB'];
const missing = names.filter((name) => !process.env[name]);
const skip = missing.length
  ? `needs ${missing.join(', ')}: run it through go test -run TestClientPackage ./lib/httpapi`
  : false;
const env = process.env;
const tokens = { alice: env.TOKEN_ALICE, bob: env.TOKEN_BOB };

// A pusher-js subclass that remembers its instances, so tests can look at
// the channel and connection objects the client bound handlers on.
const instances = [];
class RecordingPusher extends Pusher {
  constructor(key, options) {
    super(key, options);
    instances.push(this);
  }
}

const clients = [];
after(() => clients.forEach((client) => client.disconnect()));

function signIn(user, overrides = {}) {
  const client = createClient({
    userId: user,
    getToken: async () => tokens[user],
    apiUrl: env.APP_URL,
    pusher: {
      key: env.PUSHER_KEY,
      wsHost: env.PUSHER_HOST,
      wsPort: Number(env.PUSHER_PORT),
      forceTLS: false,
      enabledTransports: ['ws'],
    },
    Pusher: RecordingPusher,
    storage: memoryStorage(),
    notifications: { api: null },
    onError: (error) => {
      if (!overrides.quiet) console.error(`[${user}] ${error.status} ${error.code}: ${error.message}`);
    },
    ...overrides,
  });
  clients.push(client);
  return { client, pusher: overrides.pusher === null ? null : instances[instances.length - 1] };
}

// until resolves once check() returns a truthy value, re-checking on every
// change of the watchable (and every 50 ms).
function until(what, check, ms = 5000) {
  return new Promise((resolve, reject) => {
    const started = Date.now();
    const tick = () => {
      const value = check();
      if (value) return resolve(value);
      if (Date.now() - started > ms) return reject(new Error(`timed out after ${ms} ms waiting for ${what}`));
      setTimeout(tick, 50);
    };
    tick();
  });
}

const connected = (client) => until('connected', () => client.connection.get() === 'connected');

// callbackCount counts the handlers bound on a pusher-js Dispatcher (a
// channel or the connection), global ones included.
function callbackCount(dispatcher) {
  const perEvent = Object.values(dispatcher.callbacks._callbacks ?? {}).reduce((n, list) => n + list.length, 0);
  return perEvent + dispatcher.global_callbacks.length;
}

let counter = 0;
const unique = (text) => `${text} #${++counter}-${Date.now()}`;

test('a message sent by alice reaches bob once, and alice sees it once as sent', { skip }, async () => {
  const alice = signIn('alice').client;
  const bob = signIn('bob').client;
  await Promise.all([connected(alice), connected(bob)]);
  const aliceChat = alice.openChat({ with: 'bob' });
  const bobChat = bob.openChat({ with: 'alice' });
  await until('both subscribed', () => !aliceChat.state.get().loading && !bobChat.state.get().loading);
  await new Promise((r) => setTimeout(r, 300));

  const body = unique('hello bob');
  const stored = await aliceChat.send(body);
  assert.equal(stored.body, body);
  await until('bob receives it', () => bobChat.state.get().messages.some((m) => m.id === stored.id));
  // Let the Pusher echo reach alice too, then count.
  await new Promise((r) => setTimeout(r, 300));
  for (const [who, chat] of [['alice', aliceChat], ['bob', bobChat]]) {
    const copies = chat.state.get().messages.filter((m) => m.body === body);
    assert.equal(copies.length, 1, `${who} has ${copies.length} copies`);
    assert.equal(copies[0].status, 'sent');
  }
  aliceChat.close();
  bobChat.close();
});

test('typing and read receipts travel both ways', { skip }, async () => {
  const alice = signIn('alice').client;
  const bob = signIn('bob').client;
  await Promise.all([connected(alice), connected(bob)]);
  const aliceChat = alice.openChat({ with: 'bob' });
  const bobChat = bob.openChat({ with: 'alice' });
  await until('history loaded', () => !aliceChat.state.get().loading && !bobChat.state.get().loading);
  await new Promise((r) => setTimeout(r, 300));

  aliceChat.keystroke();
  await until('bob sees alice typing', () => bobChat.state.get().typing.some((u) => u.user_id === 'alice' && u.name === 'Alice'));
  aliceChat.stopTyping();
  await until('the indicator goes away', () => bobChat.state.get().typing.length === 0);

  const stored = await aliceChat.send(unique('read me'));
  await until('bob receives it', () => bobChat.state.get().messages.some((m) => m.id === stored.id));
  bobChat.markVisible([stored.id]);
  await until('alice sees the check mark', () =>
    aliceChat.state.get().messages.find((m) => m.id === stored.id)?.read_at,
  );
  aliceChat.close();
  bobChat.close();
});

test('closing a chat unsubscribes it and unbinds every handler; disconnect unbinds the rest', { skip }, async () => {
  const { client, pusher } = signIn('alice');
  await connected(client);
  const channelName = chatChannel('alice', 'bob');
  const connectionBefore = callbackCount(pusher.connection);

  const first = client.openChat({ with: 'bob' });
  const second = client.openChat({ with: 'bob' });
  const channel = pusher.channel(channelName);
  await until('subscribed', () => channel.subscribed);
  assert.equal(callbackCount(channel), 1, 'two chats on one channel share one handler');

  first.close();
  assert.equal(pusher.channel(channelName), channel, 'still subscribed for the second chat');
  second.close();
  assert.equal(callbackCount(channel), 0, 'handlers left on the closed channel');
  assert.equal(pusher.channel(channelName), undefined, 'the channel is still subscribed');
  assert.equal(callbackCount(pusher.connection), connectionBefore, 'chats bound handlers on the connection');

  client.disconnect();
  assert.equal(pusher.allChannels().length, 0, 'disconnect left channels subscribed');
  assert.ok(callbackCount(pusher.connection) < connectionBefore, "disconnect left the client's state handler");
});

test('disconnect while channels are still being authorized leaves no channel behind', { skip }, async () => {
  const { client, pusher } = signIn('alice');
  client.openChat({ with: 'bob' });
  // pusher-js starts authorizing every channel on `connected` (its own
  // handler, bound first); disconnecting in the same turn catches them all
  // pending, whatever the machine's speed.
  const pending = await new Promise((resolve) => {
    pusher.connection.bind('connected', () => {
      const names = pusher.allChannels().filter((channel) => channel.subscriptionPending).map((channel) => channel.name);
      client.disconnect();
      resolve(names);
    });
  });
  assert.equal(pending.length, 3, `channels pending at disconnect: ${pending.join(', ')}`);
  assert.deepEqual(pusher.allChannels().map((channel) => channel.name), [], 'disconnect left channels behind');
});

test('a message for a chat bob does not have open becomes a notification; a click opens the chat', { skip }, async () => {
  const shown = [];
  class FakeNotification {
    static permission = 'granted';
    static requestPermission = async () => 'granted';
    constructor(title, options) {
      this.title = title;
      this.options = options;
      this.onclick = null;
      shown.push(this);
    }
    close() {}
  }
  const navigations = [];
  const alice = signIn('alice').client;
  const { client: bob, pusher: bobPusher } = signIn('bob', {
    notifications: { api: FakeNotification, onNavigate: (chat) => navigations.push(chat) },
  });
  await Promise.all([connected(alice), connected(bob)]);
  // Notifications come on bob's private-user channel only, live: not before it is subscribed.
  await until("bob's private-user channel subscribed", () => bobPusher.channel(userChannel('bob'))?.subscribed);

  const aliceChat = alice.openChat({ with: 'bob' });
  const body = unique('ping');
  await aliceChat.send(body);
  const notification = await until('a notification', () => shown.find((n) => n.options.body === body));
  assert.equal(notification.title, 'Alice');
  notification.onclick();
  assert.deepEqual(navigations, [{ with: 'alice' }]);

  // With the chat open, no notification.
  const bobChat = bob.openChat({ with: 'alice' });
  await new Promise((r) => setTimeout(r, 300));
  const quiet = unique('no notification');
  const sent = await aliceChat.send(quiet);
  await until('bob receives it', () => bobChat.state.get().messages.some((m) => m.id === sent.id));
  await new Promise((r) => setTimeout(r, 300));
  assert.equal(shown.filter((n) => n.options.body === quiet).length, 0);
  aliceChat.close();
  bobChat.close();
});

test('without Pusher the client polls: a message arrives, once, and status is polling', { skip }, async () => {
  const alice = signIn('alice').client;
  // The first poll takes the cursor: polling hands out what comes after it,
  // so alice sends only once its answer is in.
  let firstPollAnswered;
  const firstPoll = new Promise((resolve) => (firstPollAnswered = resolve));
  const fetch = async (input, init) => {
    const response = await globalThis.fetch(input, init);
    if (new URL(input).pathname === '/api/messages/poll') firstPollAnswered();
    return response;
  };
  const bob = signIn('bob', { pusher: null, fetch, timings: { pollIntervalMs: 200 } }).client;
  assert.equal(bob.connection.get(), 'polling');
  const bobChat = bob.openChat({ with: 'alice' });
  await until('history loaded', () => !bobChat.state.get().loading);
  await firstPoll;

  const aliceChat = alice.openChat({ with: 'bob' });
  const body = unique('by poll');
  const stored = await aliceChat.send(body);
  // Poll hands out an event once every transaction older than it has ended,
  // in the whole PostgreSQL cluster: other sessions' (other databases')
  // transactions hold it back, for seconds on a loaded machine.
  await until('bob polls it', () => bobChat.state.get().messages.some((m) => m.id === stored.id), 30_000);
  await new Promise((r) => setTimeout(r, 500));
  assert.equal(bobChat.state.get().messages.filter((m) => m.body === body).length, 1);
  aliceChat.close();
  bobChat.close();
});

test('messages written offline are sent in order, once, when the network returns', { skip }, async () => {
  let online = false;
  const listeners = new Set();
  const network = {
    isOnline: () => online,
    subscribe: (listener) => (listeners.add(listener), () => listeners.delete(listener)),
  };
  const storage = memoryStorage();
  const alice = signIn('alice', { network, storage }).client;
  const aliceChat = alice.openChat({ with: 'bob' });
  const bodies = [unique('offline 1'), unique('offline 2'), unique('offline 3')];
  const sends = bodies.map((body) => aliceChat.send(body));
  assert.equal(alice.connection.get(), 'offline');
  assert.deepEqual(
    aliceChat.state.get().messages.filter((m) => m.status === 'pending').map((m) => m.body),
    bodies,
  );
  assert.equal(JSON.parse(storage.getItem('chatwire:outbox:alice')).length, 3, 'the queue is stored');

  online = true;
  listeners.forEach((listener) => listener());
  const stored = await Promise.all(sends);
  assert.deepEqual(stored.map((m) => m.body), bodies);
  assert.ok(stored[0].created_at <= stored[1].created_at && stored[1].created_at <= stored[2].created_at);
  assert.equal(storage.getItem('chatwire:outbox:alice'), null, 'the queue is empty');

  const bob = signIn('bob').client;
  const bobChat = bob.openChat({ with: 'alice' });
  await until('bob has them', () => bodies.every((b) => bobChat.state.get().messages.some((m) => m.body === b)));
  for (const body of bodies) {
    assert.equal(bobChat.state.get().messages.filter((m) => m.body === body).length, 1, `${body} stored twice`);
  }
  aliceChat.close();
  bobChat.close();
});
