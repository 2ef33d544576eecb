// Read receipts: only received messages, debounced, in batches of 500.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { setup } from './setup.js';

const channel = 'private-chat-alice-bob';

test('visible messages received by the user are marked read in one debounced request', async () => {
  const { client, clock, server, pusher } = await setup();
  const chat = client.openChat({ with: 'bob' });
  const fromBob = [server.message({ sender_id: 'bob' }), server.message({ sender_id: 'bob' })];
  const alreadyRead = server.message({ sender_id: 'bob', read_at: '2026-01-01T00:00:00.000Z' });
  await chat.refresh();
  const mine = await chat.send('my own');

  chat.markVisible([fromBob[0]!.id]);
  await clock.advance(200);
  chat.markVisible([fromBob[0]!.id, fromBob[1]!.id, alreadyRead.id, mine.id, 'unknown-id']);
  assert.equal(server.calls('POST', '/api/messages/read').length, 0, 'debounced');
  await clock.advance(500);
  const calls = server.calls('POST', '/api/messages/read');
  assert.equal(calls.length, 1);
  assert.deepEqual(calls[0]!.body, { message_ids: [fromBob[0]!.id, fromBob[1]!.id] });
  assert.ok(chat.state.get().messages.filter((m) => m.sender_id === 'bob').every((m) => m.read_at !== null));

  chat.markVisible([fromBob[0]!.id]);
  await clock.advance(1000);
  assert.equal(server.calls('POST', '/api/messages/read').length, 1, 'each message is marked once');

  // Bob reads alice's message: the check mark comes with message-read.
  pusher.emit(channel, 'message-read', { message_ids: [mine.id], reader_id: 'bob', read_at: '2026-01-02T03:05:00.000Z' });
  assert.equal(chat.state.get().messages.find((m) => m.id === mine.id)?.read_at, '2026-01-02T03:05:00.000Z');
  chat.close();
});

test('more than 500 visible messages go in requests of at most 500', async () => {
  const { client, clock, server } = await setup();
  for (let i = 0; i < 1201; i++) server.message({ sender_id: 'bob' });
  const chat = client.openChat({ with: 'bob' });
  await clock.advance(0);
  chat.markVisible(server.messages.map((m) => m.id));
  await clock.advance(500);
  const sizes = server.calls('POST', '/api/messages/read').map((r) => (r.body as { message_ids: string[] }).message_ids.length);
  assert.deepEqual(sizes, [500, 500, 201]);
  chat.close();
});

test('a failed read request is retried when retryable, reported when refused', async () => {
  const { client, clock, server, errors } = await setup();
  const m = server.message({ sender_id: 'bob' });
  const chat = client.openChat({ with: 'bob' });
  await clock.advance(0);
  server.failNext('/api/messages/read', 'network-error');
  chat.markVisible([m.id]);
  await clock.advance(500);
  assert.equal(chat.state.get().messages[0]?.read_at, null);
  await clock.advance(5000);
  assert.notEqual(chat.state.get().messages[0]?.read_at, null, 'retried');

  const other = server.message({ sender_id: 'bob' });
  await chat.refresh();
  server.failNext('/api/messages/read', { status: 403, body: { error: { code: 'forbidden', message: 'not received' } } });
  chat.markVisible([other.id]);
  await clock.advance(10_000);
  assert.equal(server.calls('POST', '/api/messages/read').length, 3);
  assert.equal(errors.at(-1)?.code, 'forbidden');
  chat.close();
});
