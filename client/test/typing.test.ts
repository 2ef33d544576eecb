// Typing indicators with a hand-moved clock.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { settle } from './fakes.js';
import { setup } from './setup.js';

const channel = 'private-chat-alice-bob';

function typingCalls(server: { calls(m: string, p: string): { body: unknown }[] }): boolean[] {
  return server.calls('POST', '/api/typing').map((r) => (r.body as { typing: boolean }).typing);
}

test('at most one typing:true per second, and typing:false after 3 s without a keystroke', async () => {
  const { client, clock, server } = await setup();
  const chat = client.openChat({ with: 'bob' });
  for (let i = 0; i < 10; i++) {
    chat.keystroke();
    await clock.advance(150); // 10 keystrokes over 1.5 s, the last at 1350 ms
  }
  assert.deepEqual(typingCalls(server), [true, true]);
  await clock.advance(2849); // 4349 ms: 2999 ms after the last keystroke
  assert.deepEqual(typingCalls(server), [true, true]);
  await clock.advance(1);
  assert.deepEqual(typingCalls(server), [true, true, false]);
  await clock.advance(10_000);
  assert.deepEqual(typingCalls(server), [true, true, false], 'nothing more while idle');
  assert.deepEqual(server.calls('POST', '/api/typing')[0]!.body, { to: 'bob', typing: true });
  chat.close();
});

test('sending stops typing at once; the next keystroke starts again without waiting', async () => {
  const { client, clock, server } = await setup();
  const chat = client.openChat({ roomId: 'r1' });
  chat.keystroke();
  await clock.advance(100);
  await chat.send('done');
  chat.keystroke();
  await settle();
  assert.deepEqual(typingCalls(server), [true, false, true]);
  assert.deepEqual(server.calls('POST', '/api/typing')[1]!.body, { room_id: 'r1', typing: false });
  chat.close(); // closing while typing says so too
  await settle();
  assert.deepEqual(typingCalls(server), [true, false, true, false]);
});

test('a start the server refuses is sent again after retry_after_ms while the user still types', async () => {
  const { client, clock, server } = await setup();
  let refuse = 1;
  server.overrides.push((request) =>
    request.path === '/api/typing' && (request.body as { typing: boolean }).typing && refuse-- > 0
      ? { status: 200, body: { sent: false, retry_after_ms: 700 } }
      : undefined,
  );
  const chat = client.openChat({ with: 'bob' });
  chat.keystroke();
  await settle();
  assert.deepEqual(typingCalls(server), [true]);
  await clock.advance(699);
  assert.deepEqual(typingCalls(server), [true], 'not before the wait');
  await clock.advance(1);
  await settle();
  assert.deepEqual(typingCalls(server), [true, true], 'sent again once the wait is over');

  // Refused again, but the user stopped typing meanwhile: no retry.
  refuse = 1;
  await clock.advance(1000);
  chat.keystroke();
  await settle();
  chat.stopTyping();
  await clock.advance(5000);
  await settle();
  assert.deepEqual(typingCalls(server), [true, true, true, false]);
  chat.close();
});

test('remote indicators: shown on start, gone on stop, on their message, or 5 s after the last start', async () => {
  const { client, clock, server, pusher } = await setup();
  const chat = client.openChat({ with: 'bob' });
  const typing = () => chat.state.get().typing.map((u) => u.name);

  pusher.emit(channel, 'typing-start', { user_id: 'bob', name: 'Bob' });
  pusher.emit(channel, 'typing-start', { user_id: 'alice', name: 'Alice' }); // our own echo
  assert.deepEqual(typing(), ['Bob']);
  pusher.emit(channel, 'typing-stop', { user_id: 'bob', name: 'Bob' });
  assert.deepEqual(typing(), []);

  pusher.emit(channel, 'typing-start', { user_id: 'bob', name: 'Bob' });
  await clock.advance(4000);
  pusher.emit(channel, 'typing-start', { user_id: 'bob', name: 'Bob' }); // still typing: expiry restarts
  await clock.advance(4000);
  assert.deepEqual(typing(), ['Bob']);
  await clock.advance(1000); // the stop never came
  assert.deepEqual(typing(), []);

  pusher.emit(channel, 'typing-start', { user_id: 'bob', name: 'Bob' });
  pusher.emit(channel, 'new-message', server.message({ sender_id: 'bob' }));
  assert.deepEqual(typing(), []);

  pusher.emit(channel, 'typing-start', { user_id: 'bob', name: 'Bob' });
  chat.close();
  assert.equal(clock.pending, 0, 'a closed chat leaves no timer behind');
});
