// The relay with the real pusher-js: Pusher's HTTP API fails for a while
// (503, then 429 as when a quota runs out) while the browser stays connected,
// and a legacy writer's rows come with no webhook at all.
//
// Run by TestPusherJSThroughTheRelay (lib/relay/pusherjs_test.go), which
// starts chatwire's API and a relay on a fresh database, with a local
// Pusher-protocol server whose HTTP API they reach through a fault switch,
// and passes:
//   APP_URL                               chatwire's base URL
//   CONTROL_URL                           the Go test's fault switch: POST /faults {mode: pass|503|429},
//                                         GET /faults {calls}, POST /legacy-message {From,To,Body}
//   PUSHER_HOST, PUSHER_PORT, PUSHER_KEY  the local Pusher server (clients connect to it directly)
//   TOKEN_ALICE, TOKEN_BOB                JWTs of two users
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { env as sharedEnv, localPusher, within } from './support.mjs';

const env = (name) => sharedEnv(name, 'go test -run TestPusherJSThroughTheRelay ./lib/relay');
const appURL = env('APP_URL');
const controlURL = env('CONTROL_URL');
const tokens = { alice: env('TOKEN_ALICE'), bob: env('TOKEN_BOB') };

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

async function eventually(ms, what, check) {
  const deadline = Date.now() + ms;
  for (;;) {
    const value = await check();
    if (value) return value;
    if (Date.now() > deadline) throw new Error(`timed out after ${ms} ms waiting for ${what}`);
    await sleep(25);
  }
}

function signIn(user) {
  return localPusher({
    endpoint: `${appURL}/api/pusher/auth`,
    transport: 'ajax',
    headers: { Authorization: `Bearer ${tokens[user]}` },
  });
}

async function subscribed(client, name) {
  const channel = client.subscribe(name);
  await within(5000, `subscription to ${name}`, (resolve, reject) => {
    channel.bind('pusher:subscription_succeeded', resolve);
    channel.bind('pusher:subscription_error', (error) => reject(new Error(`${name}: ${JSON.stringify(error)}`)));
  });
  return channel;
}

async function send(user, to, body) {
  const res = await fetch(`${appURL}/api/messages/send`, {
    method: 'POST',
    headers: { Authorization: `Bearer ${tokens[user]}`, 'Content-Type': 'application/json' },
    body: JSON.stringify({ to, body }),
  });
  return { status: res.status, body: await res.json() };
}

async function control(method, path, body) {
  const res = await fetch(`${controlURL}${path}`, { method, body: body === undefined ? undefined : JSON.stringify(body) });
  if (!res.ok) throw new Error(`control ${path}: ${res.status} ${await res.text()}`);
  return res.json();
}

for (const mode of ['503', '429']) {
  test(`Pusher's API answering ${mode}: every message appears once after recovery, the client never disconnected`, async () => {
    const bob = signIn('bob');
    const states = [];
    bob.connection.bind('state_change', ({ current }) => states.push(current));
    const channel = await subscribed(bob, 'private-chat-alice-bob');
    const received = [];
    channel.bind('new-message', (data) => received.push(data.id));

    const before = (await control('GET', '/faults')).calls;
    await control('POST', '/faults', { mode });
    const ids = [];
    for (let i = 0; i < 3; i++) {
      const sent = await send('alice', 'bob', `${mode} outage, sent ${i}`);
      assert.equal(sent.status, 201, JSON.stringify(sent.body));
      assert.equal(sent.body.published, false);
      ids.push(sent.body.message.id);
      const legacy = await control('POST', '/legacy-message', { From: 'alice', To: 'bob', Body: `${mode} outage, legacy ${i}` });
      ids.push(legacy.id);
    }
    // The relay tries again and again, backing off to its ceiling.
    await eventually(60000, 'the relay to retry', async () => (await control('GET', '/faults')).calls - before >= 15);
    assert.deepEqual(received, [], 'delivered during the outage');

    await control('POST', '/faults', { mode: 'pass' });
    const recovered = Date.now();
    await eventually(30000, 'every message on pusher-js', () => ids.every((id) => received.includes(id)));
    console.log(`${mode}: ${ids.length} messages on pusher-js ${Date.now() - recovered} ms after recovery`);
    await sleep(500);
    assert.deepEqual(received, ids, 'each message once, in the order written');
    assert.equal(bob.connection.state, 'connected');
    assert.deepEqual(states.filter((s) => s !== 'connected'), [], `connection states: ${states}`);
  });
}

test('a legacy writer\'s rows, with no webhook and no cron, appear once through the relay', async () => {
  const bob = signIn('bob');
  const channel = await subscribed(bob, 'private-chat-alice-bob');
  const received = [];
  channel.bind('new-message', (data) => received.push(data.id));
  const ids = [];
  const written = Date.now();
  for (let i = 0; i < 3; i++) {
    ids.push((await control('POST', '/legacy-message', { From: 'alice', To: 'bob', Body: `legacy ${i}` })).id);
  }
  await eventually(30000, 'the legacy rows on pusher-js', () => ids.every((id) => received.includes(id)));
  console.log(`legacy rows on pusher-js ${Date.now() - written} ms after the first commit`);
  await sleep(500);
  assert.deepEqual(received, ids);
});
