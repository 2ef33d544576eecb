// The offline queue: stored, ordered, sent exactly once, retried or dropped.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { memoryStorage, type ChatwireError, type Message } from '@chatwire/client';
import { FakeClock, FakeNetwork, FakeServer, settle } from './fakes.js';
import { setup } from './setup.js';

const key = 'chatwire:outbox:alice';

test('messages written offline are stored, shown pending in order, and sent in order once online', async () => {
  const network = new FakeNetwork();
  network.online = false;
  const { client, server, storage } = await setup({ network });
  assert.equal(client.connection.get(), 'offline');
  const chat = client.openChat({ with: 'bob' });
  const sends = ['one', 'two', 'three'].map((body) => chat.send(body));
  await settle();

  assert.equal(server.calls('POST', '/api/messages/send').length, 0);
  const pending = chat.state.get().messages;
  assert.deepEqual(pending.map((m) => [m.body, m.status]), [['one', 'pending'], ['two', 'pending'], ['three', 'pending']]);
  const stored = JSON.parse(storage.getItem(key) ?? '[]') as { client_id: string; body: string; to: string }[];
  assert.deepEqual(stored.map((item) => item.body), ['one', 'two', 'three']);
  assert.ok(stored.every((item) => /^[A-Za-z0-9_-]{1,64}$/.test(item.client_id) && item.to === 'bob'));
  assert.equal(new Set(stored.map((item) => item.client_id)).size, 3, 'one client_id per message');

  network.set(true);
  const sent = await Promise.all(sends);
  assert.deepEqual(server.calls('POST', '/api/messages/send').map((r) => (r.body as { body: string }).body), ['one', 'two', 'three']);
  assert.deepEqual(sent.map((m) => m.client_id), stored.map((item) => item.client_id));
  assert.deepEqual(chat.state.get().messages.map((m) => [m.body, m.status]), [['one', 'sent'], ['two', 'sent'], ['three', 'sent']]);
  assert.equal(storage.getItem(key), null);
  chat.close();
});

test('the queue survives a reload: a new client sends what the old one could not', async () => {
  const storage = memoryStorage();
  const clock = new FakeClock();
  const server = new FakeServer(clock);
  const network = new FakeNetwork();
  network.online = false;
  const first = await setup({ storage, clock, server, network });
  const chat = first.client.openChat({ roomId: 'r1' });
  void chat.send('written before the reload').catch(() => {});
  first.client.disconnect();

  network.online = true;
  const second = await setup({ storage, clock, server, network });
  await settle();
  const calls = server.calls('POST', '/api/messages/send');
  assert.equal(calls.length, 1);
  assert.deepEqual((calls[0]!.body as { room_id: string; body: string }).room_id, 'r1');
  assert.equal(storage.getItem(key), null);
  second.client.disconnect();
});

test('a network error, a 5xx or a 429 keeps the message and retries with a growing delay; the retry is idempotent', async () => {
  const { client, clock, server } = await setup();
  const chat = client.openChat({ with: 'bob' });
  server.failNext('/api/messages/send', 'network-error');
  server.failNext('/api/messages/send', { status: 503, body: { error: { code: 'unavailable', message: 'db down' } } });
  server.failNext('/api/messages/send', { status: 429, body: { error: { code: 'rate_limited', message: 'slow down' } } });
  let result: Message | undefined;
  void chat.send('persistent').then((m) => (result = m));
  const second = chat.send('after it');
  await settle();
  assert.equal(server.calls('POST', '/api/messages/send').length, 1);
  await clock.advance(1000);
  assert.equal(server.calls('POST', '/api/messages/send').length, 2);
  await clock.advance(1999);
  assert.equal(server.calls('POST', '/api/messages/send').length, 2, 'the delay doubles');
  await clock.advance(1);
  assert.equal(server.calls('POST', '/api/messages/send').length, 3);
  await clock.advance(4000);
  await second;
  assert.equal(result?.body, 'persistent');
  const bodies = server.calls('POST', '/api/messages/send').map((r) => (r.body as { body: string }).body);
  assert.deepEqual(bodies, ['persistent', 'persistent', 'persistent', 'persistent', 'after it'], 'in order, the second waits for the first');
  const ids = new Set(server.calls('POST', '/api/messages/send').slice(0, 4).map((r) => (r.body as { client_id: string }).client_id));
  assert.equal(ids.size, 1, 'every retry carries the same client_id');
  chat.close();
});

test('an answer lost after the server stored the message: the retry returns the same message, shown once', async () => {
  const { client, clock, server } = await setup();
  const chat = client.openChat({ with: 'bob' });
  // The server stores the message, but the answer never arrives.
  server.overrides.push((request) => {
    if (request.path !== '/api/messages/send' || server.messages.length > 0) return undefined;
    server.message({ sender_id: 'alice', client_id: (request.body as { client_id: string }).client_id, body: 'once' });
    return 'network-error';
  });
  const sent = chat.send('once');
  await clock.advance(1000);
  const message = await sent;
  assert.equal(server.messages.length, 1);
  assert.equal(message.id, server.messages[0]!.id);
  assert.deepEqual(chat.state.get().messages.map((m) => [m.body, m.status]), [['once', 'sent']]);
  chat.close();
});

test('a 4xx drops the message: it shows failed, the promise rejects, onError hears it, the next one is sent', async () => {
  const { client, server, errors } = await setup();
  const chat = client.openChat({ with: 'bob' });
  server.failNext('/api/messages/send', {
    status: 400,
    body: { error: { code: 'validation_failed', message: 'body too long', fields: { body: 'max 4000' } } },
  });
  const failed = chat.send('x'.repeat(5000)).then(
    () => assert.fail('a refused message resolved'),
    (error: ChatwireError) => error,
  );
  const next = chat.send('short');
  const error = await failed;
  assert.equal(error.status, 400);
  assert.deepEqual(error.fields, { body: 'max 4000' });
  assert.equal((await next).body, 'short');
  assert.equal(errors[0]?.clientId, error.clientId);
  const shown = chat.state.get().messages;
  assert.deepEqual(shown.map((m) => m.status), ['failed', 'sent']);
  chat.discard(shown[0]!.client_id!);
  assert.deepEqual(chat.state.get().messages.map((m) => m.body), ['short']);
  assert.equal(client.outbox.get().length, 0);
  chat.close();
});
