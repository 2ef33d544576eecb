// chatwire under faults, with the real pusher-js: a Pusher outage, a legacy
// writer whose database webhook arrives twice, and a client that goes away.
//
// Run by TestPusherJSFaults (lib/httpapi/faults_test.go), which starts
// chatwire on a fresh database with a local Pusher-protocol server that posts
// its webhooks to chatwire, and passes:
//   APP_URL                               chatwire's base URL
//   CONTROL_URL                           the Go test's fault switch: POST /pusher/stop,
//                                         /pusher/start, /legacy-message {From,To,Body}
//   PUSHER_HOST, PUSHER_PORT, PUSHER_KEY  the local Pusher server (same address after a restart)
//   CRON_SECRET, DB_WEBHOOK_SECRET        the secrets of the cron and the database webhook
//   TOKEN_ALICE, TOKEN_BOB                JWTs of two users
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { env as sharedEnv, localPusher, within } from './support.mjs';

const env = (name) => sharedEnv(name, 'go test -run TestPusherJSFaults ./lib/httpapi');
const appURL = env('APP_URL');
const controlURL = env('CONTROL_URL');
const tokens = { alice: env('TOKEN_ALICE'), bob: env('TOKEN_BOB') };

function signIn(user) {
  return localPusher({
    endpoint: `${appURL}/api/pusher/auth`,
    transport: 'ajax',
    headers: { Authorization: `Bearer ${tokens[user]}` },
  });
}

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

async function eventually(ms, what, check) {
  const deadline = Date.now() + ms;
  for (;;) {
    const value = await check();
    if (value) return value;
    if (Date.now() > deadline) throw new Error(`timed out after ${ms} ms waiting for ${what}`);
    await sleep(50);
  }
}

async function subscribed(client, name) {
  const channel = client.subscribe(name);
  await within(5000, `subscription to ${name}`, (resolve, reject) => {
    channel.bind('pusher:subscription_succeeded', resolve);
    channel.bind('pusher:subscription_error', (error) => reject(new Error(`${name}: ${JSON.stringify(error)}`)));
  });
  return channel;
}

async function call(method, path, { user, secret, body } = {}) {
  const headers = {};
  if (user) headers.Authorization = `Bearer ${tokens[user]}`;
  if (secret) headers.Authorization = `Bearer ${secret}`;
  if (body !== undefined) headers['Content-Type'] = 'application/json';
  const res = await fetch(`${appURL}${path}`, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
  return { status: res.status, body: await res.json() };
}

async function control(path, body = {}) {
  const res = await fetch(`${controlURL}${path}`, { method: 'POST', body: JSON.stringify(body) });
  if (!res.ok) throw new Error(`control ${path}: ${res.status} ${await res.text()}`);
  return res.json();
}

const cron = () => call('GET', '/api/cron/outbox', { secret: env('CRON_SECRET') });

test('a message sent while Pusher is down reaches pusher-js exactly once when it is back', async () => {
  const bob = signIn('bob');
  const channel = await subscribed(bob, 'private-chat-alice-bob');
  const received = [];
  channel.bind('new-message', (data) => received.push(data));
  const { body: { cursor } } = await call('GET', '/api/messages/poll', { user: 'bob' });

  await control('/pusher/stop');
  const sent = await call('POST', '/api/messages/send', { user: 'alice', body: { to: 'bob', body: 'sent during the outage' } });
  assert.equal(sent.status, 201, JSON.stringify(sent.body));
  assert.equal(sent.body.published, false);
  const id = sent.body.message.id;

  // The fallback: poll delivers it while Pusher is away (possibly after a
  // moment, while older transactions in the cluster end).
  await eventually(10000, 'the message in poll', async () => {
    const res = await call('GET', `/api/messages/poll?cursor=${encodeURIComponent(cursor)}`, { user: 'bob' });
    return res.body.events.some((e) => e.event === 'new-message' && e.data.id === id);
  });

  const resubscribed = within(20000, 'pusher-js to reconnect and resubscribe', (resolve) => {
    channel.bind('pusher:subscription_succeeded', resolve);
  });
  await control('/pusher/start');
  await resubscribed;

  const sweep = await eventually(5000, 'the cron to republish', async () => {
    const res = await cron();
    assert.equal(res.status, 200, JSON.stringify(res.body));
    return res.body.republished > 0 && res.body;
  });
  assert.equal(sweep.republished, 2, JSON.stringify(sweep)); // new-message and message-notification
  await eventually(5000, 'new-message on pusher-js', () => received.some((m) => m.id === id));

  const again = await cron();
  assert.equal(again.body.republished, 0, JSON.stringify(again.body));
  await sleep(500);
  assert.equal(received.filter((m) => m.id === id).length, 1, 'delivered more than once');
});

test('a row written with plain SQL reaches pusher-js once though its webhook arrives twice', async () => {
  const bob = signIn('bob');
  const channel = await subscribed(bob, 'private-chat-alice-bob');
  const received = [];
  channel.bind('new-message', (data) => received.push(data));

  const record = await control('/legacy-message', { From: 'alice', To: 'bob', Body: 'from the old client' });
  const hook = { type: 'INSERT', table: 'messages', schema: 'public', record, old_record: null };
  const relay = () => call('POST', '/api/webhooks/database', { secret: env('DB_WEBHOOK_SECRET'), body: hook });
  const [first, second] = await Promise.all([relay(), relay()]);
  assert.equal(first.status, 200, JSON.stringify(first.body));
  assert.equal(second.status, 200, JSON.stringify(second.body));
  assert.equal(first.body.published + second.body.published, 2);
  const late = await relay();
  assert.equal(late.body.published, 0);

  await eventually(5000, 'new-message on pusher-js', () => received.some((m) => m.id === record.id));
  await sleep(500);
  assert.equal(received.filter((m) => m.id === record.id).length, 1, 'delivered more than once');
  assert.equal(received.find((m) => m.id === record.id).body, 'from the old client');
});

test('when a client goes away its contacts see it offline', async () => {
  const hi = await call('POST', '/api/messages/send', { user: 'bob', body: { to: 'alice', body: 'are you there?' } });
  assert.equal(hi.status, 201);
  const bob = signIn('bob');
  const own = await subscribed(bob, 'private-user-bob');
  const statuses = [];
  own.bind('user-status-change', (data) => statuses.push(data));

  const alice = signIn('alice');
  await subscribed(alice, 'presence-user-alice');
  await eventually(5000, 'alice online', () => statuses.some((s) => s.user_id === 'alice' && s.online));

  alice.disconnect();
  const offline = await eventually(5000, 'alice offline', () => statuses.find((s) => s.user_id === 'alice' && !s.online));
  assert.ok(offline.last_active_at, JSON.stringify(offline));

  const presence = await call('GET', '/api/presence?user_ids=alice,nobody', { user: 'bob' });
  assert.equal(presence.status, 200);
  assert.deepEqual(presence.body.users, [
    { user_id: 'alice', online: false, last_active_at: offline.last_active_at },
    { user_id: 'nobody', online: false, last_active_at: null },
  ]);
});
