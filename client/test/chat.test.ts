// A chat's timeline: every message once, in order, whichever way it came.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { compareMessages, type Message } from '@chatwire/client';
import { settle } from './fakes.js';
import { setup } from './setup.js';

const channel = 'private-chat-alice-bob';

test('a message from Pusher, poll, history and the send answer shows once', async () => {
  const { client, server, pusher, network } = await setup();
  const chat = client.openChat({ with: 'bob' });
  await settle();

  const fromBob = server.message({ sender_id: 'bob', body: 'hi alice' });
  pusher.emit(channel, 'new-message', fromBob);
  pusher.emit(channel, 'new-message', fromBob); // a redelivery by the outbox
  await chat.refresh(); // history has it too
  // And poll, after Pusher went away.
  server.pollPages.push({ events: [{ id: 'e1', channel, event: 'new-message', data: fromBob, created_at: fromBob.created_at }], more: false });
  pusher.connection.setState('unavailable');
  await settle();

  const sent = await chat.send('hi bob');
  pusher.emit(channel, 'new-message', sent); // our own message, echoed by Pusher
  await chat.refresh();
  network.set(true);

  const bodies = chat.state.get().messages.map((m) => m.body);
  assert.deepEqual(bodies, ['hi alice', 'hi bob']);
  assert.ok(chat.state.get().messages.every((m) => m.status === 'sent'));
  chat.close();
});

test('a copy that adds nothing does not publish a new state', async () => {
  const { client, server, pusher } = await setup();
  const chat = client.openChat({ with: 'bob' });
  await settle();
  const m = server.message({ sender_id: 'bob' });
  pusher.emit(channel, 'new-message', m);
  const before = chat.state.get();
  let changes = 0;
  const stop = chat.state.subscribe(() => changes++);
  pusher.emit(channel, 'new-message', { ...m });
  assert.equal(changes, 0);
  assert.equal(chat.state.get(), before);
  stop();
  chat.close();
});

test('messages are ordered by created_at, then id, whatever the arrival order', async () => {
  const { client, pusher } = await setup();
  const chat = client.openChat({ with: 'bob' });
  await settle();
  const at = (s: string) => `2026-01-02T03:04:${s}.000Z`;
  const make = (id: string, created_at: string): Message => ({
    id, created_at, client_id: null, channel, sender_id: 'bob', receiver_id: 'alice', room_id: null, body: id, attachment: null, read_at: null,
  });
  for (const m of [make('b', at('07')), make('c', at('05')), make('a', at('07')), make('d', at('06'))]) {
    pusher.emit(channel, 'new-message', m);
  }
  assert.deepEqual(chat.state.get().messages.map((m) => m.id), ['c', 'd', 'a', 'b']);
  assert.equal(compareMessages(make('a', at('01')), make('b', at('01'))), -1);
  chat.close();
});

test('a truncated event never replaces the whole message, and makes the chat re-read history', async () => {
  const { client, server, pusher } = await setup();
  const chat = client.openChat({ with: 'bob' });
  await settle();
  const whole = server.message({ sender_id: 'bob', body: 'a long message' });
  const truncated = { ...whole, body: '', attachment: null, truncated: true };

  pusher.emit(channel, 'new-message', whole);
  pusher.emit(channel, 'new-message', truncated);
  assert.equal(chat.state.get().messages[0]?.body, 'a long message');

  // Arriving truncated first: history fills the body in.
  const second = server.message({ sender_id: 'bob', body: 'another long one' });
  const historyCalls = server.calls('GET', '/api/messages/history').length;
  pusher.emit(channel, 'new-message', { ...second, body: '', truncated: true });
  await settle();
  assert.equal(server.calls('GET', '/api/messages/history').length, historyCalls + 1);
  const shown = chat.state.get().messages.find((m) => m.id === second.id);
  assert.equal(shown?.body, 'another long one');
  assert.equal(shown?.truncated, undefined);
  chat.close();
});

test('closing a chat unbinds its handler and unsubscribes; a shared channel stays until the last chat closes', async () => {
  const { client, pusher } = await setup();
  const own = pusher.handlerCount(); // the user's private and presence channels
  assert.equal(own, 2);
  assert.ok(pusher.channels.has('private-user-alice') && pusher.channels.has('presence-user-alice'));

  const first = client.openChat({ with: 'bob' });
  const second = client.openChat({ with: 'bob' });
  const room = client.openChat({ roomId: 'r1' });
  assert.equal(pusher.handlerCount(), own + 2, 'one handler per channel, however many chats');
  first.close();
  first.close(); // twice is harmless
  assert.ok(pusher.channels.has(channel));
  second.close();
  room.close();
  assert.equal(pusher.handlerCount(), own);
  assert.ok(!pusher.channels.has(channel) && !pusher.channels.has('private-room-r1'));
  assert.equal(pusher.connection.callbacks.length, 1, 'only the client watches the connection');

  client.disconnect();
  assert.equal(pusher.handlerCount(), 0);
  assert.equal(pusher.channels.size, 0);
  assert.equal(pusher.connection.callbacks.length, 0);
  assert.ok(pusher.disconnected);
});

test('events of a closed chat are ignored, and onEvent hears room events', async () => {
  const { client, server, pusher } = await setup();
  const room = client.openChat({ roomId: 'r1' });
  const heard: string[] = [];
  room.onEvent((e) => heard.push(`${e.source}:${e.event}`));
  const global: string[] = [];
  const stop = client.onEvent((e) => global.push(e.event));
  pusher.emit('private-room-r1', 'user-joined', { user_id: 'carol', name: 'Carol', joined_at: '2026-01-02T03:04:05.000Z' });
  assert.deepEqual(heard, ['pusher:user-joined']);
  room.close();
  pusher.channels.get('private-room-r1')?.emit('new-message', server.message({ sender_id: 'bob', channel: 'private-room-r1' }));
  assert.equal(room.state.get().messages.length, 0);
  assert.deepEqual(global, ['user-joined']);
  stop();
});

test('history pages backwards with loadOlder; a refresh keeps the paging point', async () => {
  const { client, server } = await setup();
  server.overrides.push((request) => {
    if (request.path !== '/api/messages/history') return undefined;
    const before = request.query.get('before');
    if (!before) return { status: 200, body: { messages: [server.messages[3], server.messages[2]], next_before: server.messages[2]!.id } };
    return { status: 200, body: { messages: [server.messages[1], server.messages[0]], next_before: null } };
  });
  for (let i = 0; i < 4; i++) server.message({ sender_id: 'bob' });
  const chat = client.openChat({ with: 'bob' });
  await settle();
  assert.equal(chat.state.get().messages.length, 2);
  assert.equal(chat.state.get().hasMore, true);
  await chat.refresh();
  await chat.loadOlder();
  const history = server.calls('GET', '/api/messages/history');
  assert.equal(history[history.length - 1]!.query.get('before'), server.messages[2]!.id);
  assert.equal(history[0]!.query.get('with'), 'bob');
  assert.equal(chat.state.get().messages.length, 4);
  assert.equal(chat.state.get().hasMore, false);
  chat.close();
});

test('requests carry the token from the getter, fetched anew each time', async () => {
  let n = 0;
  const { client, server } = await setup({ getToken: async () => `token-${++n}` });
  const chat = client.openChat({ with: 'bob' });
  await settle();
  await chat.send('one');
  const auths = server.requests.map((r) => r.authorization);
  assert.ok(auths.every((a) => a?.startsWith('Bearer token-')));
  assert.ok(new Set(auths).size > 1, 'the getter is called per request');
  chat.close();
});

test("pusher-js authorizes channels through POST /api/pusher/auth with the user's token", async () => {
  const { server, pusher } = await setup();
  const answer = await new Promise((resolve, reject) =>
    pusher.options.channelAuthorization.customHandler({ socketId: '123.456', channelName: 'private-chat-alice-bob' }, (error, auth) =>
      error ? reject(error) : resolve(auth),
    ),
  );
  assert.deepEqual(answer, { auth: 'key:signature' });
  const [call] = server.calls('POST', '/api/pusher/auth');
  assert.deepEqual(call!.body, { socket_id: '123.456', channel_name: 'private-chat-alice-bob' });
  assert.equal(call!.authorization, 'Bearer token-alice');
  assert.equal(pusher.options.wsHost, 'localhost');
  assert.equal(pusher.options.forceTLS, false);
});
