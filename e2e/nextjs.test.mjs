// examples/nextjs, built with `next build` and run with `next start`, in a
// real browser against a real `chatwire dev`: two users, alice and bob, each
// in their own browser context (Debian's Chromium, playwright-core).
//
// Run by TestNextjsExample (cmd/chatwire/nextjs_test.go), which passes:
//   APP_URL      the example's origin (next start)
//   API_URL      chatwire dev's base URL
//   PUSHER_HOST  host:port of dev's Pusher-protocol server
//   CHROMIUM     /usr/bin/chromium
//
// The tests run in order and share the two pages. They wait for conditions,
// never for fixed times. Screenshots land in e2e/artifacts/ (git-ignored).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdir } from 'node:fs/promises';
import { env, launchChromium, setPusherRunning as setPusherDevRunning } from './support.mjs';

const hint = 'go test -run TestNextjsExample ./cmd/chatwire with CHATWIRE_NEXTJS_EXAMPLE=1';
const appURL = env('APP_URL', hint);
const apiURL = env('API_URL', hint);
const pusherHost = env('PUSHER_HOST', hint);
const artifacts = new URL('./artifacts/', import.meta.url);

// dev's Pusher server sends member_removed ~3 s after a user's last
// connection ends; the webhook and the status event follow.
const presenceWithinMs = 15_000;
// Poll runs every 5 s, and starts 3 s after Pusher is lost.
const pollingWithinMs = 30_000;
// Poll runs every 5 s; this window only bounds the test (see browser.test.mjs).
const pollDeliveryMs = 30_000;

let browser;
const users = {}; // id → { context, page, requests: URL[] }
const hostsSeen = new Set();

before(async () => {
  await mkdir(artifacts, { recursive: true });
  browser = await launchChromium(hint);
});

after(async () => {
  await setPusherRunning(true).catch(() => {});
  await browser?.close();
});

// signIn opens the example in a fresh context (like a private window), picks
// the user and waits until the client is connected. Every request the page
// makes, WebSockets included, is recorded.
async function signIn(id) {
  const context = await browser.newContext({ viewport: { width: 1000, height: 640 } });
  const requests = [];
  context.on('request', (request) => {
    const url = new URL(request.url());
    requests.push(url);
    hostsSeen.add(url.host);
  });
  const page = await context.newPage();
  page.on('websocket', (ws) => hostsSeen.add(new URL(ws.url()).host));
  page.on('pageerror', (err) => console.error(`[${id}] page error: ${err.message}`));
  await page.goto(appURL + '/');
  await page.locator(`button[data-user="${id}"]`).click();
  await status(page, 'connected').waitFor();
  return { context, page, requests };
}

function status(page, value) {
  return page.locator(`[data-testid="status"][data-status="${value}"]`);
}

async function openChat(page, contact) {
  await page.locator(`button[data-contact="${contact}"]`).click();
  await page.locator(`section.conversation[data-with="${contact}"]`).waitFor();
}

function input(page) {
  return page.getByLabel('message');
}

async function send(page, text) {
  await input(page).fill(text);
  await input(page).press('Enter');
}

function message(page, body) {
  const exactly = new RegExp(`^${body.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}$`);
  return page.locator('.messages li').filter({ has: page.locator('.body', { hasText: exactly }) });
}

function presence(page, text) {
  return page.locator('[data-testid="presence"]', { hasText: text });
}

function setPusherRunning(running) {
  return setPusherDevRunning(apiURL, running);
}

// events is what useChatwireEvent reported on the page, in order.
function events(page) {
  return page.evaluate(() => window.chatwireEvents ?? []);
}

function screenshot(page, name) {
  return page.screenshot({ path: new URL(`nextjs-${name}.png`, artifacts).pathname });
}

test('presence on first contact: a user who comes online and then writes shows online without a reload', async () => {
  users.alice = await signIn('alice');
  await openChat(users.alice.page, 'bob');
  await presence(users.alice.page, 'offline').waitFor();

  users.bob = await signIn('bob'); // online now, but a stranger to alice
  await openChat(users.bob.page, 'alice');
  await send(users.bob.page, 'hi alice, first time');
  await message(users.alice.page, 'hi alice, first time').waitFor();
  await presence(users.alice.page, 'online').waitFor({ timeout: presenceWithinMs });
  await users.alice.page.locator('button[data-contact="bob"] .dot[data-online="true"]').waitFor();
  await screenshot(users.alice.page, 'first-contact');
});

test('messages both ways, typing and read marks', async () => {
  const { alice, bob } = users;
  await input(alice.page).pressSequentially('I am typ', { delay: 150 });
  await bob.page.locator('[data-testid="typing"]', { hasText: 'Alice is typing' }).waitFor();
  await send(alice.page, 'hello bob');
  await message(bob.page, 'hello bob').waitFor();
  await bob.page.locator('[data-testid="typing"]', { hasText: 'typing' }).waitFor({ state: 'detached' });
  // Bob's conversation is open in a visible tab: he has read it.
  await message(alice.page, 'hello bob').and(alice.page.locator('li[data-state="read"]')).waitFor();
  await send(bob.page, 'hello alice');
  await message(alice.page, 'hello alice').waitFor();
  await message(bob.page, 'hello alice').and(bob.page.locator('li[data-state="read"]')).waitFor();
  await screenshot(bob.page, 'read-marks');
});

// recordStatuses keeps every value the status badge shows from now on, in
// window.statusHistory, so a test sees states that last only seconds.
function recordStatuses(page) {
  return page.evaluate(() => {
    const badge = document.querySelector('[data-testid="status"]');
    window.statusHistory = [badge.dataset.status];
    new MutationObserver(() => {
      if (window.statusHistory.at(-1) !== badge.dataset.status) window.statusHistory.push(badge.dataset.status);
    }).observe(badge, { attributes: true });
  });
}

test('a Pusher outage: disconnected, then polling; messages still go both ways and typing is not sent', async (t) => {
  const { alice, bob } = users;
  await recordStatuses(alice.page);
  await setPusherRunning(false);
  // Pusher is gone and polling waits out its grace period (disconnected:
  // nothing delivers), then polls.
  await status(alice.page, 'polling').waitFor({ timeout: pollingWithinMs });
  await status(bob.page, 'polling').waitFor({ timeout: pollingWithinMs });
  assert.deepEqual(await alice.page.evaluate(() => window.statusHistory), ['connected', 'disconnected', 'polling']);
  await screenshot(alice.page, 'polling');

  const typingBefore = alice.requests.filter((u) => u.pathname === '/api/typing').length;
  await input(alice.page).pressSequentially('typing while polling', { delay: 100 });
  await input(alice.page).press('Enter');
  await message(bob.page, 'typing while polling').waitFor({ timeout: pollDeliveryMs + 2000 });
  assert.equal(alice.requests.filter((u) => u.pathname === '/api/typing').length, typingBefore, 'no /api/typing request while polling');

  const sentAt = Date.now();
  await send(bob.page, 'sent while polling');
  await message(alice.page, 'sent while polling').waitFor({ timeout: pollDeliveryMs + 2000 });
  t.diagnostic(`shown to alice ${Date.now() - sentAt} ms after bob sent it, by polling`);
  await message(bob.page, 'typing while polling').and(bob.page.locator('li')).waitFor();
});

test('recovery and reload: connected again, live delivery, the conversation whole after a reload', async () => {
  const { alice, bob } = users;
  await setPusherRunning(true);
  await status(alice.page, 'connected').waitFor({ timeout: 60_000 });
  await status(bob.page, 'connected').waitFor({ timeout: 60_000 });
  await send(bob.page, 'back live');
  await message(alice.page, 'back live').waitFor();

  const before = await events(alice.page);
  await alice.page.reload();
  await status(alice.page, 'connected').waitFor();
  await openChat(alice.page, 'bob');
  await message(alice.page, 'back live').waitFor();
  await presence(alice.page, 'online').waitFor();
  const bodies = await alice.page.locator('.messages li .body').allTextContents();
  assert.deepEqual(bodies, ['hi alice, first time', 'hello bob', 'hello alice', 'typing while polling', 'sent while polling', 'back live']);
  await send(bob.page, 'after the reload');
  await message(alice.page, 'after the reload').waitFor();
  assert.ok(before.length > 0, 'events were reported before the reload');
  const afterReload = await events(alice.page);
  assert.deepEqual(afterReload.filter((e) => e.event === 'new-message').map((e) => e.body), ['after the reload'], 'a reload reports no old event again');
  users.alice.eventsBeforeReload = before;
});

test('event hooks report each event exactly once', async () => {
  const { alice, bob } = users;
  for (const [who, reported] of [['alice', alice.eventsBeforeReload], ['bob', await events(bob.page)]]) {
    const ids = reported.filter((e) => e.id).map((e) => e.id);
    assert.equal(new Set(ids).size, ids.length, `${who}: an event id reported twice: ${JSON.stringify(reported)}`);
    const messages = reported.filter((e) => e.event === 'new-message').map((e) => e.body);
    assert.equal(new Set(messages).size, messages.length, `${who}: a message reported twice: ${messages}`);
  }
  // Every message of the conversation before alice's reload, each once, whether
  // Pusher or poll (or both) delivered it.
  assert.deepEqual(
    alice.eventsBeforeReload.filter((e) => e.event === 'new-message').map((e) => e.body),
    ['hi alice, first time', 'hello bob', 'hello alice', 'typing while polling', 'sent while polling', 'back live'],
  );
  assert.ok(alice.eventsBeforeReload.some((e) => e.source === 'poll'), 'some events came by poll');
});

test('closing a browser turns the dot offline for the other, live', async () => {
  const { alice } = users;
  await users.bob.context.close();
  await presence(alice.page, /last seen|offline/).waitFor({ timeout: presenceWithinMs });
  await alice.page.locator('button[data-contact="bob"] .dot[data-online="false"]').waitFor();
});

test('no request to any host but the app, the API and the Pusher server', () => {
  const allowed = new Set([new URL(appURL).host, new URL(apiURL).host, pusherHost]);
  const others = [...hostsSeen].filter((host) => !allowed.has(host));
  assert.deepEqual(others, [], `requests to ${others.join(', ')}`);
  assert.ok(hostsSeen.has(pusherHost), 'the Pusher server was reached over WebSocket');
});
