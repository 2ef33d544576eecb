// Each event once, across Pusher, poll, reconnects and reloads; the poll
// cursor following live delivery; the connection statuses of an outage;
// presence fetched again on first contact; pusher-js kept on the app's own server.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { memoryStorage, type ChannelEvent, type ConnectionStatus } from '@chatwire/client';
import { FakePusher, settle } from './fakes.js';
import { setup } from './setup.js';

const channel = 'private-chat-alice-bob';

function pollCursors(server: { calls(m: string, p: string): { query: URLSearchParams }[] }): (string | null)[] {
  return server.calls('GET', '/api/messages/poll').map((r) => r.query.get('cursor'));
}

function pollEvent(id: string, ch: string, event: string, data: unknown) {
  return { id, channel: ch, event, data, created_at: '2026-01-02T03:04:05.000Z' };
}

test('every event of the log reaches onEvent and chat listeners once, whether Pusher, poll or both deliver it', async () => {
  const sessionStorage = memoryStorage();
  const { client, server, pusher } = await setup({ sessionStorage });
  const heard: string[] = [];
  client.onEvent((e: ChannelEvent) => heard.push(`${e.event}:${e.id}`));
  const chat = client.openChat({ with: 'bob' });
  const chatHeard: string[] = [];
  chat.onEvent((e) => chatHeard.push(e.event));
  await settle();

  const m = server.message({ sender_id: 'bob' });
  const read = { message_ids: [m.id], reader_id: 'bob', read_at: '2026-01-02T03:04:06.000Z' };
  const status = { user_id: 'bob', online: true, last_active_at: '2026-01-02T03:04:06.000Z' };
  pusher.emit(channel, 'new-message', { event_id: '9_1', ...m });
  pusher.emit(channel, 'new-message', { event_id: '9_1', ...m }); // a redelivery
  pusher.emit(channel, 'message-read', { event_id: '9_2', ...read });
  pusher.emit('private-user-alice', 'user-status-change', { event_id: '9_3', ...status });
  pusher.emit(channel, 'typing-start', { user_id: 'bob', name: 'Bob' });
  pusher.emit(channel, 'typing-start', { user_id: 'bob', name: 'Bob' }); // typing has no id: each is news
  server.pollPages.push({
    events: [
      pollEvent('9_1', channel, 'new-message', m),
      pollEvent('9_2', channel, 'message-read', read),
      pollEvent('9_3', 'private-user-alice', 'user-status-change', status),
      pollEvent('9_4', channel, 'new-message', server.message({ sender_id: 'bob', body: 'only polled' })),
    ],
    more: false,
  });
  pusher.connection.setState('unavailable');
  await settle();

  assert.deepEqual(heard, [
    'new-message:9_1',
    'message-read:9_2',
    'user-status-change:9_3',
    'typing-start:undefined',
    'typing-start:undefined',
    'new-message:9_4',
  ]);
  assert.deepEqual(chatHeard, ['new-message', 'message-read', 'typing-start', 'typing-start', 'new-message']);
  assert.deepEqual(chat.state.get().messages.map((x) => x.body), [m.body, 'only polled']);
  client.disconnect();

  // A reload: a new client in the same tab hears nothing it already heard.
  const reloaded = await setup({ sessionStorage });
  const heardAfterReload: string[] = [];
  reloaded.client.onEvent((e) => heardAfterReload.push(`${e.event}:${e.id}`));
  reloaded.pusher.emit('private-user-alice', 'user-status-change', { event_id: '9_3', ...status });
  reloaded.pusher.emit('private-user-alice', 'message-notification', { event_id: '9_5', message_id: 'm9', channel, sender: { id: 'bob', name: 'Bob' }, preview: 'x' });
  assert.deepEqual(heardAfterReload, ['message-notification:9_5']);
  reloaded.client.disconnect();
});

test('while live, the poll cursor follows delivered events: an outage replays only the last stretch', async () => {
  const { client, clock, server, pusher } = await setup();
  const chat = client.openChat({ with: 'bob' });
  assert.deepEqual(pollCursors(server), [null]);
  await clock.advance(120_000);
  assert.deepEqual(pollCursors(server), [null], 'no poll while live and quiet');

  const m = server.message({ sender_id: 'bob' });
  pusher.emit(channel, 'new-message', { event_id: '3_1', ...m });
  await clock.advance(10_000);
  pusher.emit(channel, 'new-message', { event_id: '3_2', ...server.message({ sender_id: 'bob' }) });
  server.pollPages.push({ events: [pollEvent('3_1', channel, 'new-message', m)], more: false });
  await clock.advance(19_999);
  assert.deepEqual(pollCursors(server), [null]);
  await clock.advance(1);
  assert.deepEqual(pollCursors(server), [null, 'c0'], 'one poll 30 s after the first live event moves the cursor');
  await clock.advance(60_000);
  assert.deepEqual(pollCursors(server), [null, 'c0'], 'and none while nothing more arrives');

  pusher.connection.setState('unavailable');
  await settle();
  assert.deepEqual(pollCursors(server), [null, 'c0', 'c1'], 'the fallback starts from the moved cursor');
  chat.close();
  client.disconnect();
});

test('an outage goes connecting → connected → disconnected → polling, and disconnected again while polls fail', async () => {
  const { client, clock, server, pusher } = await setup({ connected: false });
  const statuses: ConnectionStatus[] = [client.connection.get()];
  client.connection.subscribe(() => statuses.push(client.connection.get()));
  pusher.connection.setState('connected');
  await settle();
  pusher.connection.setState('connecting');
  await clock.advance(3000);
  server.failNext('/api/messages/poll', 'network-error');
  await clock.advance(5000);
  assert.equal(client.connection.get(), 'disconnected', 'a failing poll is no delivery');
  await clock.advance(5000);
  assert.equal(client.connection.get(), 'polling');
  pusher.connection.setState('connected');
  await settle();
  assert.deepEqual(statuses, ['connecting', 'connected', 'disconnected', 'polling', 'disconnected', 'polling', 'connected']);
  client.disconnect();
});

test('typing during an outage is dropped quietly, and sent again once Pusher is back', async () => {
  const { client, clock, server, pusher, errors } = await setup();
  const chat = client.openChat({ with: 'bob' });
  pusher.connection.setState('unavailable');
  await settle();
  chat.keystroke();
  await clock.advance(3000);
  assert.equal(server.calls('POST', '/api/typing').length, 0);
  assert.deepEqual(errors, []);
  pusher.connection.setState('connected');
  await settle();
  chat.keystroke();
  await settle();
  assert.deepEqual(server.calls('POST', '/api/typing').map((r) => (r.body as { typing: boolean }).typing), [true]);
  chat.close();
  client.disconnect();
});

test('first contact: a message from a user shown offline fetches their status again; one shown online does not', async () => {
  const { client, server, pusher } = await setup();
  await client.presence.load(['bob', 'carol']);
  assert.equal(server.calls('GET', '/api/presence').length, 1);
  let bobVisible = false;
  server.overrides.push((request) =>
    request.path === '/api/presence' && bobVisible
      ? { status: 200, body: { users: [{ user_id: 'bob', online: true, last_active_at: '2026-01-02T03:04:07.000Z' }] } }
      : undefined,
  );
  const chat = client.openChat({ with: 'bob' });
  await settle();
  bobVisible = true; // bob wrote to alice: the server lets her see him now
  pusher.emit(channel, 'new-message', { event_id: '4_1', ...server.message({ sender_id: 'bob' }) });
  await settle();
  assert.deepEqual(server.calls('GET', '/api/presence').map((r) => r.query.get('user_ids')), ['bob,carol', 'bob']);
  assert.equal(client.presence.get('bob')?.online, true);

  pusher.emit(channel, 'new-message', { event_id: '4_2', ...server.message({ sender_id: 'bob' }) });
  pusher.emit('private-room-r1', 'user-joined', { event_id: '4_3', user_id: 'dave', name: 'Dave', joined_at: '' });
  await settle();
  assert.equal(server.calls('GET', '/api/presence').length, 2, 'bob is online, dave is not shown: nothing fetched');
  chat.close();
  client.disconnect();
});

test('with a wsHost pusher-js stays on that host (WebSockets only, no stats); with a cluster it keeps its defaults', async () => {
  const own = await setup({ pusher: { key: 'k', wsHost: '127.0.0.1', wsPort: 6001, forceTLS: false } });
  const options = FakePusher.last.options;
  assert.deepEqual(options.enabledTransports, ['ws']);
  assert.equal(options.httpHost, '127.0.0.1');
  assert.equal(options.httpPort, 6001);
  assert.equal(options.disableStats, true);
  own.client.disconnect();

  const hosted = await setup({ pusher: { key: 'k', cluster: 'eu' } });
  const defaults = FakePusher.last.options;
  assert.equal(defaults.cluster, 'eu');
  for (const name of ['enabledTransports', 'httpHost', 'wsHost', 'disableStats'] as const) {
    assert.equal(defaults[name], undefined, `${name} left to pusher-js`);
  }
  hosted.client.disconnect();
});
