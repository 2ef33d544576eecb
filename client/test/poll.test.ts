// The polling fallback and the connection status.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { ConnectionStatus } from '@chatwire/client';
import { settle } from './fakes.js';
import { setup } from './setup.js';

const channel = 'private-chat-alice-bob';

function pollCursors(server: { calls(m: string, p: string): { query: URLSearchParams }[] }): (string | null)[] {
  return server.calls('GET', '/api/messages/poll').map((r) => r.query.get('cursor'));
}

test('the cursor is taken while connected; polling starts from it when Pusher is unavailable, every 5 s', async () => {
  const { client, clock, server, pusher } = await setup();
  assert.equal(client.connection.get(), 'connected');
  assert.deepEqual(pollCursors(server), [null], 'one cursor request, while connected');

  const chat = client.openChat({ with: 'bob' });
  await settle();
  const missed = server.message({ sender_id: 'bob', body: 'sent while Pusher was down' });
  server.pollPages.push({ events: [{ id: '1_1', channel, event: 'new-message', data: missed, created_at: missed.created_at }], more: false });

  pusher.connection.setState('unavailable');
  await settle();
  assert.equal(client.connection.get(), 'polling');
  assert.deepEqual(pollCursors(server), [null, 'c0']);
  assert.deepEqual(chat.state.get().messages.map((m) => m.body), ['sent while Pusher was down']);

  await clock.advance(4999);
  assert.equal(pollCursors(server).length, 2);
  await clock.advance(1);
  assert.deepEqual(pollCursors(server), [null, 'c0', 'c1'], 'the next poll continues from the returned cursor');
  chat.close();
});

test('more:true polls again at once', async () => {
  const { clock, server, pusher } = await setup();
  const event = (n: number) => ({ id: `e${n}`, channel: 'private-user-alice', event: 'user-status-change', data: { user_id: 'bob', online: n % 2 === 0, last_active_at: `2026-01-02T03:04:0${n}.000Z` }, created_at: '' });
  server.pollPages.push({ events: [event(1), event(2)], more: true }, { events: [event(3)], more: false });
  pusher.connection.setState('failed');
  await settle();
  assert.deepEqual(pollCursors(server), [null, 'c0', 'c2']);
  await clock.advance(5000);
  assert.deepEqual(pollCursors(server), [null, 'c0', 'c2', 'c3']);
});

test('a disconnection polls only after the grace period, and polling stops when Pusher is back', async () => {
  const { client, clock, server, pusher } = await setup();
  const statuses: ConnectionStatus[] = [];
  client.connection.subscribe(() => statuses.push(client.connection.get()));

  pusher.connection.setState('connecting');
  await clock.advance(2999);
  assert.equal(client.connection.get(), 'disconnected');
  assert.equal(pollCursors(server).length, 1);
  await clock.advance(1);
  assert.equal(client.connection.get(), 'polling');
  assert.equal(pollCursors(server).length, 2);

  pusher.connection.setState('connected');
  await settle();
  assert.equal(client.connection.get(), 'connected');
  await clock.advance(1000); // the catch-up poll, once the channels are re-subscribed
  assert.equal(pollCursors(server).length, 3);
  await clock.advance(60_000);
  assert.equal(pollCursors(server).length, 3, 'no polling while connected');
  assert.deepEqual(statuses, ['disconnected', 'polling', 'connected']);
});

test('a short drop is caught up by one poll after reconnecting, from the cursor taken before', async () => {
  const { clock, server, pusher } = await setup();
  pusher.connection.setState('connecting');
  await clock.advance(500);
  pusher.connection.setState('connected');
  await clock.advance(999);
  assert.deepEqual(pollCursors(server), [null]);
  await clock.advance(1);
  assert.deepEqual(pollCursors(server), [null, 'c0']);
});

test('offline: no polling, status offline; back online the fallback resumes', async () => {
  const { client, clock, server, pusher, network } = await setup();
  network.set(false);
  pusher.connection.setState('unavailable');
  await clock.advance(20_000);
  assert.equal(client.connection.get(), 'offline');
  assert.equal(pollCursors(server).length, 1);
  network.set(true);
  await settle();
  assert.equal(client.connection.get(), 'polling');
  assert.equal(pollCursors(server).length, 2);
});

test('an event delivered by both Pusher and poll is handled once', async () => {
  const { client, server, pusher } = await setup();
  const chat = client.openChat({ with: 'bob' });
  await settle();
  const m = server.message({ sender_id: 'bob' });
  pusher.emit(channel, 'new-message', m);
  server.pollPages.push({ events: [{ id: '5_5', channel, event: 'new-message', data: m, created_at: m.created_at }], more: false });
  pusher.connection.setState('unavailable');
  await settle();
  assert.equal(chat.state.get().messages.length, 1);
  chat.close();
});

test('without Pusher settings the client polls from the start', async () => {
  const { client, clock, server } = await setup({ pusher: null });
  assert.equal(client.connection.get(), 'polling');
  assert.deepEqual(pollCursors(server), [null]);
  await clock.advance(5000);
  assert.deepEqual(pollCursors(server), [null, 'c0']);
  client.disconnect();
  await clock.advance(60_000);
  assert.equal(pollCursors(server).length, 2, 'disconnect stops polling');
  assert.equal(clock.pending, 0, 'and leaves no timer');
});

test('a cursor the server refuses is replaced by a fresh one', async () => {
  const { client, clock, server, pusher, errors } = await setup();
  server.failNext('/api/messages/poll', { status: 400, body: { error: { code: 'bad_request', message: 'bad cursor', fields: { cursor: 'not a cursor this server issued' } } } });
  pusher.connection.setState('unavailable');
  await settle();
  assert.equal(errors[0]?.code, 'bad_request');
  await clock.advance(5000);
  assert.deepEqual(pollCursors(server), [null, 'c0', null]);
  client.disconnect();
});
