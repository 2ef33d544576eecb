// chatwire end to end with the real pusher-js: users sign in through
// /api/pusher/auth with their JWT, subscribe, and receive what others send
// through /api/messages/send.
//
// Run by TestPusherJSEndToEnd (lib/httpapi/pusherjs_test.go), which starts
// chatwire on a fresh database and a local Pusher-protocol server and passes:
//   APP_URL                               chatwire's base URL
//   PUSHER_HOST, PUSHER_PORT, PUSHER_KEY  the local Pusher server
//   TOKEN_ALICE, TOKEN_BOB, TOKEN_CAROL   JWTs of three users
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { env as sharedEnv, localPusher, within } from './support.mjs';

const env = (name) => sharedEnv(name, 'go test -run TestPusherJSEndToEnd ./lib/httpapi');
const appURL = env('APP_URL');
const tokens = { alice: env('TOKEN_ALICE'), bob: env('TOKEN_BOB'), carol: env('TOKEN_CAROL') };

// signIn connects pusher-js as the chatwire frontend does: channel
// authorization through /api/pusher/auth with the user's bearer token.
function signIn(user) {
  return localPusher({
    endpoint: `${appURL}/api/pusher/auth`,
    transport: 'ajax',
    headers: { Authorization: `Bearer ${tokens[user]}` },
  });
}

// subscription resolves with the channel once subscribed, or with the
// subscription error pusher-js reports.
function subscription(client, name) {
  const channel = client.subscribe(name);
  return within(5000, `subscription to ${name}`, (resolve) => {
    channel.bind('pusher:subscription_succeeded', () => resolve({ channel }));
    channel.bind('pusher:subscription_error', (error) => resolve({ channel, error }));
  });
}

async function send(user, body) {
  const res = await fetch(`${appURL}/api/messages/send`, {
    method: 'POST',
    headers: { Authorization: `Bearer ${tokens[user]}`, 'Content-Type': 'application/json' },
    body: JSON.stringify(body),
  });
  return { status: res.status, body: await res.json() };
}

// Latency is measured by chatbench (BENCHMARKS.md), not asserted here: a busy
// machine must not fail a test that proves delivery.
test('a message sent through the API reaches the other user through Pusher', async (t) => {
  const bob = signIn('bob');
  const { channel, error } = await subscription(bob, 'private-chat-alice-bob');
  assert.equal(error, undefined, `bob could not subscribe: ${JSON.stringify(error)}`);

  const received = within(30_000, 'new-message', (resolve) => {
    channel.bind('new-message', (data) => resolve({ data, at: performance.now() }));
  });
  const sentAt = performance.now();
  const res = await send('alice', { to: 'bob', body: 'hello from alice', client_id: 'e2e-1' });
  assert.equal(res.status, 201, JSON.stringify(res.body));
  assert.equal(res.body.published, true);

  const { data, at } = await received;
  assert.equal(data.id, res.body.message.id);
  assert.equal(data.body, 'hello from alice');
  assert.equal(data.sender_id, 'alice');
  t.diagnostic(`delivered ${Math.round(at - sentAt)} ms after the send`);
});

test('a third user is refused the chat channel', async () => {
  const carol = signIn('carol');
  const { error } = await subscription(carol, 'private-chat-alice-bob');
  assert.ok(error, 'carol subscribed to a chat between alice and bob');
  assert.equal(error.status, 403);
});

test('presence: the user may join only their own presence channel', async () => {
  const bob = signIn('bob');
  const own = await subscription(bob, 'presence-user-bob');
  assert.equal(own.error, undefined, JSON.stringify(own.error));
  assert.equal(own.channel.members.me.id, 'bob');
  assert.equal(own.channel.members.me.info.name, 'Bob');
  const other = await subscription(bob, 'presence-user-alice');
  assert.equal(other.error?.status, 403);
});
