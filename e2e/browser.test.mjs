// The demo chat of `chatwire dev` in a real browser: Debian's Chromium driven
// by playwright-core, one browser context per user, against a real dev
// (API, built-in Pusher server with webhooks, Postgres).
//
// Run by TestBrowserDemo (cmd/chatwire/browser_test.go), which starts dev on
// random ports and passes:
//   APP_URL   dev's base URL, serving the demo at /
//   CHROMIUM  the browser executable, /usr/bin/chromium
//
// The tests run in order and share the two users' pages: each leaves them
// signed in, alice in her chat with bob unless it says otherwise. They wait
// for conditions, never for fixed times, except where a comment says why.
// Screenshots land in e2e/artifacts/ (git-ignored).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdir } from 'node:fs/promises';
import { launchChromium, setPusherRunning as setPusherDevRunning } from './support.mjs';

const env = (name) => {
  const value = process.env[name];
  if (!value) throw new Error(`${name} is not set; run this through go test -run TestBrowserDemo ./cmd/chatwire`);
  return value;
};
const appURL = env('APP_URL');
const artifacts = new URL('./artifacts/', import.meta.url);


// dev's Pusher server sends member_removed ~3 s after a user's last
// connection ends; the webhook and the status event follow.
const offlineWithinMs = 15_000;
// Poll runs every 5 s. How long delivery takes is measured by chatbench, not
// asserted here: these windows only bound a test that proves delivery, and no
// run, however busy the machine, comes near them.
const pollDeliveryMs = 30_000;

let browser;
const users = {}; // id → { context, page }

before(async () => {
  await mkdir(artifacts, { recursive: true });
  browser = await launchChromium('go test -run TestBrowserDemo ./cmd/chatwire');
  for (const id of ['alice', 'bob']) users[id] = await signIn(id);
});

after(async () => {
  // The outage test may have stopped dev's Pusher server; leave dev whole.
  await setPusherRunning(true).catch(() => {});
  await browser?.close();
});

// signIn opens the demo in a fresh context (its own storage, like a private
// window) with notifications granted, and picks the user.
async function signIn(id) {
  const context = await browser.newContext({ viewport: { width: 1000, height: 640 } });
  await context.grantPermissions(['notifications'], { origin: appURL });
  // Remember every notification the page shows, so a test can read and click it.
  await context.addInitScript(() => {
    const Real = window.Notification;
    window.shownNotifications = [];
    window.Notification = class extends Real {
      constructor(title, options) {
        super(title, options);
        window.shownNotifications.push(this);
      }
    };
  });
  const page = await context.newPage();
  page.on('pageerror', (err) => console.error(`[${id}] page error: ${err.message}`));
  await page.goto(appURL + '/');
  const pick = page.locator(`#login-users button[data-user="${id}"]`);
  await pick.waitFor();
  if (id === 'alice') await screenshot(page, 'login');
  await pick.click();
  await page.locator('#status[data-status="connected"]').waitFor();
  return { context, page };
}

function setPusherRunning(running) {
  return setPusherDevRunning(appURL, running);
}

async function openChat(page, contact) {
  await page.locator(`#contacts li[data-contact="${contact}"]`).click();
  await page.locator(`#chat-header[data-chat="user:${contact}"]`).waitFor();
}

async function openRoom(page) {
  await page.locator('#rooms li').first().click();
  await page.locator('#chat-header[data-chat^="room:"]').waitFor();
}

// type types like a person, a key at a time: the client announces typing
// at most once a second, and the server refuses a start within a second of
// the user's previous typing event (such as the stop a send makes).
async function type(page, text) {
  await page.locator('#composer-input').pressSequentially(text, { delay: 150 });
}

async function send(page, text) {
  await page.locator('#composer-input').fill(text);
  await page.locator('#composer-input').press('Enter');
}

// message is the list item of the message with exactly this body.
function message(page, body) {
  const exactly = new RegExp(`^${body.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}$`);
  return page.locator('#messages li.message').filter({ has: page.locator('.body', { hasText: exactly }) });
}

// bodies lists the message bodies the page shows, in order.
function bodies(page) {
  return page.locator('#messages li.message .body').allTextContents();
}

// watchFor starts watching the page for a message with this body; the
// function it returns resolves with Date.now() in the page when the message
// was first shown, or fails after timeoutMs.
async function watchFor(page, body, timeoutMs = 10_000) {
  await page.evaluate(({ body, timeoutMs }) => {
    window.seen ??= {};
    window.seen[body] = new Promise((resolve) => {
      setTimeout(() => resolve(null), timeoutMs);
      const check = () => {
        for (const el of document.querySelectorAll('#messages li.message .body')) {
          if (el.textContent === body) {
            observer.disconnect();
            resolve(Date.now());
            return;
          }
        }
      };
      const observer = new MutationObserver(check);
      observer.observe(document.body, { subtree: true, childList: true, characterData: true });
      check();
    });
  }, { body, timeoutMs });
  return async () => {
    const at = await page.evaluate((body) => window.seen[body], body);
    assert.ok(at, `no message "${body}" within ${timeoutMs} ms`);
    return at;
  };
}

function screenshot(page, name) {
  return page.screenshot({ path: new URL(`${name}.png`, artifacts).pathname });
}

test('a message appears on the other side through Pusher', async (t) => {
  const { alice, bob } = users;
  await openChat(alice.page, 'bob');
  await openChat(bob.page, 'alice');
  // A first exchange warms up what a running app has warm (database pool,
  // code paths of the race-instrumented server); then one is timed.
  await send(alice.page, 'warming up');
  await message(bob.page, 'warming up').waitFor();
  const seen = await watchFor(bob.page, 'hello bob');
  const sentAt = Date.now();
  await send(alice.page, 'hello bob');
  const seenAt = await seen();
  t.diagnostic(`shown to bob ${seenAt - sentAt} ms after alice pressed Enter`);
  assert.ok(seenAt !== null, 'bob never saw the message');
  // Live delivery, not the poll fallback: both stayed connected to Pusher.
  for (const { page } of [alice, bob]) {
    assert.equal(await page.locator('#status').getAttribute('data-status'), 'connected');
  }
  await message(alice.page, 'hello bob').waitFor();
  await screenshot(alice.page, 'alice-chat');
  await screenshot(bob.page, 'bob-chat');
});

// A 2×2 PNG (red, green, blue, white), small enough to write here.
const png = Buffer.from(
  'iVBORw0KGgoAAAANSUhEUgAAAAIAAAACCAIAAAD91JpzAAAAEklEQVR4nGP4z8DAAMIM/4EAAB/uBfsL2WiLAAAAAElFTkSuQmCC',
  'base64',
);

test('an image sent with the attach button shows as a picture on the other side, with a download link', async () => {
  const { alice, bob } = users;
  await openChat(alice.page, 'bob');
  await openChat(bob.page, 'alice');
  await alice.page.locator('#composer-input').fill('a picture');
  await alice.page.locator('#attach-input').setInputFiles({ name: 'dots.png', mimeType: 'image/png', buffer: png });
  // The progress bar shows while the bytes go, and goes once the message is sent.
  await alice.page.locator('#upload').waitFor({ state: 'hidden' });
  assert.equal(await alice.page.locator('#upload-error').isHidden(), true);

  const item = message(bob.page, 'a picture');
  const preview = item.locator('img.preview');
  await preview.waitFor();
  await bob.page.waitForFunction((img) => img.complete && img.naturalWidth === 2, await preview.elementHandle());
  const link = item.locator('.attachment a');
  assert.match(await link.textContent(), /dots\.png/);
  // The link is a signed URL of the storage: it works without any header.
  const res = await fetch(await link.getAttribute('href'));
  assert.equal(res.status, 200);
  assert.deepEqual(Buffer.from(await res.arrayBuffer()), png);
  await message(alice.page, 'a picture').locator('img.preview').waitFor();
  await screenshot(bob.page, 'bob-image');
});

test('typing shows on the other side and hides again', async () => {
  const { alice, bob } = users;
  const indicator = bob.page.locator('#typing');
  await type(alice.page, 'I am writ');
  await indicator.filter({ hasText: 'Alice is typing' }).waitFor();
  await screenshot(bob.page, 'bob-sees-typing');
  // Sending ends typing at once (without it, after the client's idle time).
  await send(alice.page, 'I am writing');
  await indicator.waitFor({ state: 'hidden' });
  await message(bob.page, 'I am writing').waitFor();
});

test('the check mark turns to read once the receiver has seen the message', async () => {
  const { alice, bob } = users;
  await openRoom(bob.page); // bob looks elsewhere
  await send(alice.page, 'did you read this?');
  const check = (state) => message(alice.page, 'did you read this?').locator(`.check[data-state="${state}"]`);
  await check('sent').waitFor();
  // Delivered but not seen: bob's contact shows it unread, and alice no read mark.
  await bob.page.locator('#contacts li[data-contact="alice"] .unread').waitFor();
  assert.equal(await check('sent').count(), 1, 'alice sees a read mark before bob opened the chat');

  await openChat(bob.page, 'alice');
  await message(bob.page, 'did you read this?').waitFor();
  await check('read').waitFor();
  await screenshot(alice.page, 'alice-read-receipt');
});

// fitsViewport reports what sticks out of the page horizontally: the page
// itself, and Send or the top bar's buttons, which must stay on screen.
async function overflow(page) {
  return page.evaluate(() => {
    const width = document.documentElement.clientWidth;
    const out = [];
    if (document.documentElement.scrollWidth > width) out.push(`page ${document.documentElement.scrollWidth} > ${width}`);
    for (const el of document.querySelectorAll('#composer button, .topbar button:not([hidden])')) {
      const r = el.getBoundingClientRect();
      if (r.right > width || r.left < 0) out.push(`${el.textContent} at ${r.left}..${r.right}`);
    }
    return out;
  });
}

test('a long unbroken word wraps, the layout fits from 360 px up, and the page has an icon', async () => {
  const { alice, bob } = users;
  const url = 'https://example.com/search?q=' + 'x'.repeat(400);
  await send(alice.page, url);
  await message(bob.page, url).waitFor();
  assert.deepEqual(await overflow(alice.page), [], 'alice at 1000 px');
  assert.deepEqual(await overflow(bob.page), [], 'bob at 1000 px');
  for (const width of [360, 390, 640]) {
    await bob.page.setViewportSize({ width, height: 700 });
    assert.deepEqual(await overflow(bob.page), [], `bob at ${width} px`);
    assert.ok(await bob.page.locator('#composer button[type="submit"]').isVisible(), `Send visible at ${width} px`);
  }
  await screenshot(bob.page, 'bob-360px-long-word');
  await bob.page.setViewportSize({ width: 1000, height: 640 });

  const icon = await alice.page.locator('link[rel="icon"]').getAttribute('href');
  const res = await fetch(new URL(icon, appURL));
  assert.equal(res.status, 200, `icon ${icon}`);
  assert.match(res.headers.get('content-type') ?? '', /^image\/svg\+xml/);
});

test('a room message reaches the other member, with its sender\'s name', async () => {
  const { alice, bob } = users;
  await openRoom(alice.page);
  await openRoom(bob.page);
  await send(alice.page, 'hello, room');
  await message(bob.page, 'hello, room').locator('.sender', { hasText: 'Alice' }).waitFor();
  await screenshot(bob.page, 'bob-room');
  await openChat(alice.page, 'bob');
});

test('a message to a user whose chat is not open raises a notification; its click opens the chat', async () => {
  const { alice, bob } = users;
  await openRoom(bob.page);
  await bob.page.evaluate(() => { window.shownNotifications.length = 0; });
  await send(alice.page, 'ping from alice');
  await bob.page.waitForFunction(() => window.shownNotifications.length > 0);
  const shown = await bob.page.evaluate(() => window.shownNotifications.map((n) => ({ title: n.title, body: n.body })));
  assert.deepEqual(shown, [{ title: 'Alice', body: 'ping from alice' }]);

  // The browser delivers a click as a click event on the notification.
  await bob.page.evaluate(() => window.shownNotifications[0].dispatchEvent(new Event('click')));
  await bob.page.locator('#chat-header[data-chat="user:alice"]').waitFor();
  await message(bob.page, 'ping from alice').waitFor();
  // Bob has now seen it.
  await message(alice.page, 'ping from alice').locator('.check[data-state="read"]').waitFor();
});

test('the unread badge clears on a second tab when the first one reads', async () => {
  const { alice, bob } = users;
  // bob's second device: a context of its own, signed in as bob too.
  const second = await signIn('bob');
  await openRoom(bob.page); // bob's first tab looks elsewhere
  await send(alice.page, 'are you there?');
  const badge = (page) => page.locator('#conversations li[data-conversation="chat:alice"] .unread');
  await badge(bob.page).waitFor();
  await badge(second.page).waitFor();
  await screenshot(second.page, 'bob-second-tab-unread');

  // The first tab reads: the second tab's badge goes, with no reload.
  await openChat(bob.page, 'alice');
  await message(bob.page, 'are you there?').waitFor();
  await badge(second.page).waitFor({ state: 'detached' });
  await badge(bob.page).waitFor({ state: 'detached' });
  await screenshot(second.page, 'bob-second-tab-read');
  await second.context.close();
});

test('edits, deletes and reactions show on the other side', async () => {
  const { alice, bob } = users;
  await openChat(alice.page, 'bob');
  await openChat(bob.page, 'alice');
  await send(alice.page, 'tpyo here');
  await message(bob.page, 'tpyo here').waitFor();

  await message(alice.page, 'tpyo here').locator('[data-action="edit"]').click();
  await send(alice.page, 'typo here');
  await message(bob.page, 'typo here').locator('.edited').waitFor();
  assert.equal(await message(bob.page, 'tpyo here').count(), 0);

  await message(bob.page, 'typo here').locator('[data-action="react"][data-emoji="👍"]').click();
  await message(alice.page, 'typo here').locator('[data-reaction="👍"]', { hasText: '👍 1' }).waitFor();
  await screenshot(alice.page, 'alice-sees-reaction');

  await message(alice.page, 'typo here').locator('[data-action="delete"]').click();
  const tombstone = bob.page.locator('#messages li.message[data-deleted="true"]', { hasText: 'message deleted' });
  await tombstone.waitFor();
  assert.equal(await message(bob.page, 'typo here').count(), 0);
  // The conversation list shows the tombstone as the last line.
  await bob.page.locator('#conversations li[data-conversation="chat:alice"] .preview', { hasText: 'message deleted' }).waitFor();
  await screenshot(bob.page, 'bob-sees-tombstone');
});

test('closing a user\'s browser turns their dot offline for the other', async () => {
  const { alice } = users;
  const bobDot = (online) => alice.page.locator(`#contacts li[data-contact="bob"] .dot[data-online="${online}"]`);
  await bobDot(true).waitFor();
  await screenshot(alice.page, 'alice-bob-online');

  await users.bob.context.close();
  await bobDot(false).waitFor({ timeout: offlineWithinMs });
  await screenshot(alice.page, 'alice-bob-offline');

  users.bob = await signIn('bob');
  await bobDot(true).waitFor({ timeout: offlineWithinMs });
  await openChat(users.bob.page, 'alice');
});

test('messages written offline are sent once each, in order, when the network returns', async () => {
  const { alice, bob } = users;
  await alice.context.setOffline(true);
  await alice.page.locator('#status[data-status="offline"]').waitFor();
  await send(alice.page, 'queued one');
  await send(alice.page, 'queued two');
  await message(alice.page, 'queued two').locator('.check[data-state="pending"]').waitFor();
  await screenshot(alice.page, 'alice-offline-queue');

  await alice.context.setOffline(false);
  await message(bob.page, 'queued two').waitFor();
  // A later message proves nothing else was on its way before it.
  await send(alice.page, 'back online');
  await message(bob.page, 'back online').waitFor();
  await message(alice.page, 'back online').locator('.check[data-state="sent"], .check[data-state="read"]').waitFor();
  for (const page of [bob.page, alice.page]) {
    const tail = (await bodies(page)).slice(-3);
    assert.deepEqual(tail, ['queued one', 'queued two', 'back online']);
    assert.equal(await message(page, 'queued one').count(), 1);
    assert.equal(await message(page, 'queued two').count(), 1);
  }
});

test('with the Pusher server stopped, a message still arrives by polling', async (t) => {
  const { alice, bob } = users;
  await setPusherRunning(false);
  for (const { page } of [alice, bob]) {
    await page.locator('#status[data-status="polling"]').waitFor({ timeout: 30_000 });
  }
  await screenshot(alice.page, 'alice-polling');
  const seen = await watchFor(alice.page, 'sent during the outage', pollDeliveryMs);
  const sentAt = Date.now();
  await send(bob.page, 'sent during the outage');
  const seenAt = await seen();
  t.diagnostic(`shown to alice ${seenAt - sentAt} ms after bob sent it`);
  assert.ok(seenAt !== null, `alice never saw the message within ${pollDeliveryMs} ms`);

  await setPusherRunning(true);
  await alice.page.locator('#status[data-status="connected"]').waitFor({ timeout: 60_000 });
});
