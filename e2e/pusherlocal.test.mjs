// Conformance of lib/pusherlocal with the real pusher-js client.
//
// Run by TestPusherJSConformance (lib/pusherlocal/pusherjs_test.go), which
// starts the server, an auth endpoint and a control endpoint, and passes
// them in the environment:
//   PUSHER_HOST, PUSHER_PORT, PUSHER_KEY  the local Pusher server
//   AUTH_URL     channel authorization (refuses private-forbidden with 403)
//   CONTROL_URL  POST /trigger {channel,event,data} and POST /drop
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { env as sharedEnv, localPusher, within } from './support.mjs';

const env = (name) => sharedEnv(name, 'go test -run TestPusherJSConformance ./lib/pusherlocal');
const authURL = env('AUTH_URL');
const controlURL = env('CONTROL_URL');

// newClient connects a pusher-js client the way the chatwire front end does,
// pointed at the local server. params go to the auth endpoint (user_id).
function newClient(params = {}) {
  return localPusher({ endpoint: authURL, transport: 'ajax', params });
}

const connected = (client) =>
  within(5000, 'connected', (resolve) => {
    if (client.connection.state === 'connected') resolve();
    else client.connection.bind('connected', () => resolve());
  });

function subscribed(client, name) {
  const channel = client.subscribe(name);
  return within(5000, `subscription to ${name}`, (resolve, reject) => {
    channel.bind('pusher:subscription_succeeded', () => resolve(channel));
    channel.bind('pusher:subscription_error', (err) => reject(new Error(`subscription_error on ${name}: ${JSON.stringify(err)}`)));
  });
}

const nextEvent = (channel, event, ms = 5000) =>
  within(ms, `${event} on ${channel.name}`, (resolve) => channel.bind(event, (data) => resolve(data)));

async function control(path, body = {}) {
  const res = await fetch(controlURL + path, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify(body),
  });
  assert.equal(res.status, 200, `${path}: ${await res.text()}`);
}

test('connects and is given a socket id', async () => {
  const client = newClient();
  await connected(client);
  assert.match(client.connection.socket_id, /^\d+\.\d+$/);
});

test('a public channel receives an event triggered through the HTTP API', async (t) => {
  const client = newClient();
  const channel = await subscribed(client, 'news');
  const received = nextEvent(channel, 'headline', 30_000);
  const started = performance.now();
  await control('/trigger', { channel: 'news', event: 'headline', data: { title: 'hello' } });
  const data = await received;
  assert.deepEqual(data, { title: 'hello' });
  t.diagnostic(`received ${Math.round(performance.now() - started)} ms after the trigger`);
});

test('a private channel is authorized through the auth endpoint', async () => {
  const client = newClient();
  const channel = await subscribed(client, 'private-chat-alice-bob');
  const received = nextEvent(channel, 'new-message');
  await control('/trigger', { channel: 'private-chat-alice-bob', event: 'new-message', data: { id: 1 } });
  assert.deepEqual(await received, { id: 1 });
});

test('a refused authorization surfaces as a subscription error', async () => {
  const client = newClient();
  const channel = client.subscribe('private-forbidden');
  const err = await within(5000, 'subscription_error', (resolve) => channel.bind('pusher:subscription_error', resolve));
  assert.equal(err.type, 'AuthError');
  assert.equal(err.status, 403);
});

test('presence members are added and removed for the others', async () => {
  const alice = newClient({ user_id: 'alice' });
  const aliceChannel = await subscribed(alice, 'presence-room-1');
  assert.equal(aliceChannel.members.count, 1);

  const added = nextEvent(aliceChannel, 'pusher:member_added');
  const bob = newClient({ user_id: 'bob' });
  const bobChannel = await subscribed(bob, 'presence-room-1');
  assert.equal((await added).id, 'bob');
  assert.equal(bobChannel.members.count, 2);
  assert.ok(bobChannel.members.get('alice'), 'bob sees alice as a member');

  const removed = nextEvent(aliceChannel, 'pusher:member_removed');
  bob.disconnect();
  assert.equal((await removed).id, 'bob');
  assert.equal(aliceChannel.members.count, 1);
});

test('client events reach the other subscribers, not the sender', async () => {
  const sender = newClient();
  const receiver = newClient();
  const sendChannel = await subscribed(sender, 'private-typing');
  const receiveChannel = await subscribed(receiver, 'private-typing');

  let echoed = false;
  sendChannel.bind('client-typing', () => { echoed = true; });
  const received = nextEvent(receiveChannel, 'client-typing');
  assert.ok(sendChannel.trigger('client-typing', { typing: true }));
  assert.deepEqual(await received, { typing: true });
  await new Promise((r) => setTimeout(r, 100));
  assert.equal(echoed, false, 'the sender got its own client event');
});

test('pusher-js reconnects and resubscribes after the server drops it', async () => {
  const client = newClient();
  const channel = await subscribed(client, 'private-resilient');
  const firstSocket = client.connection.socket_id;

  const lost = within(5000, 'the connection to drop', (resolve) =>
    client.connection.bind('state_change', ({ current }) => { if (current !== 'connected') resolve(); }));
  await control('/drop');
  await lost;
  const resubscribed = nextEvent(channel, 'pusher:subscription_succeeded', 10000);
  await connected(client);
  await resubscribed;
  assert.notEqual(client.connection.socket_id, firstSocket);

  const received = nextEvent(channel, 'after-drop');
  await control('/trigger', { channel: 'private-resilient', event: 'after-drop', data: { ok: true } });
  assert.deepEqual(await received, { ok: true });
});
