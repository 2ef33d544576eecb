// Helpers shared by the Node tests: the environment the Go test passes, a
// timeout that says what did not happen, and pusher-js clients pointed at the
// local Pusher-protocol server (disconnected after each test).
import { afterEach } from 'node:test';
import Pusher from 'pusher-js';

// env reads a variable the orchestrating Go test sets; hint names that test.
export function env(name, hint) {
  const value = process.env[name];
  if (!value) throw new Error(`${name} is not set; run this through ${hint}`);
  return value;
}

// within rejects after ms with a message saying what did not happen.
export function within(ms, what, executor) {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`timed out after ${ms} ms waiting for ${what}`)), ms);
    executor(
      (value) => { clearTimeout(timer); resolve(value); },
      (err) => { clearTimeout(timer); reject(err); },
    );
  });
}

const clients = [];
afterEach(() => {
  while (clients.length) clients.pop().disconnect();
});

// localPusher connects pusher-js the way the chatwire frontend does, to the
// server at PUSHER_HOST:PUSHER_PORT with key PUSHER_KEY, authorizing channels
// as channelAuthorization says. It is disconnected after the test.
export function localPusher(channelAuthorization) {
  const hint = 'go test (see the comment at the top of the test file)';
  const client = new Pusher(env('PUSHER_KEY', hint), {
    wsHost: env('PUSHER_HOST', hint),
    wsPort: Number(env('PUSHER_PORT', hint)),
    forceTLS: false,
    enabledTransports: ['ws'],
    disableStats: true,
    cluster: 'local',
    channelAuthorization,
  });
  clients.push(client);
  return client;
}

// The flags Chromium needs on a machine without a display or outside network.
export const chromiumArgs = [
  '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking',
  '--disable-component-update', '--disable-sync',
];

// launchChromium starts the browser at CHROMIUM (Debian's /usr/bin/chromium)
// with playwright-core, as every browser test does.
export async function launchChromium(hint) {
  const { chromium } = await import('playwright-core');
  return chromium.launch({ executablePath: env('CHROMIUM', hint), args: chromiumArgs });
}

// setPusherRunning stops (false) or restarts (true) the Pusher server of the
// `chatwire dev` at devURL, through its dev-only /demo/pusher: an outage.
export async function setPusherRunning(devURL, running) {
  const res = await fetch(`${devURL}/demo/pusher`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify({ running }),
  });
  if (res.status !== 200) throw new Error(`POST /demo/pusher: HTTP ${res.status}: ${await res.text()}`);
}
