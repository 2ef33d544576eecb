// The React entry renders on the server (Next.js renders client components
// there too) without creating a client or opening a socket.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createElement } from 'react';
import { renderToString } from 'react-dom/server';
import {
  ChatwireProvider,
  useChat,
  useChatwire,
  useConnectionStatus,
  useOutbox,
  usePresence,
  useTyping,
} from '@chatwire/client/react';
import { FakeClock, FakePusher, FakeServer } from './fakes.js';

function ChatView() {
  const client = useChatwire();
  const { chat, messages, hasMore } = useChat({ with: 'bob' });
  const { typing } = useTyping(chat);
  const presence = usePresence(['bob']);
  const status = useConnectionStatus();
  const outbox = useOutbox();
  return createElement(
    'p',
    null,
    [client === null, messages.length, hasMore, typing.length, presence.bob === undefined, status, outbox.length].join('|'),
  );
}

test('server rendering uses empty defaults and creates no client', () => {
  const before = FakePusher.last;
  const server = new FakeServer(new FakeClock());
  const html = renderToString(
    createElement(
      ChatwireProvider,
      {
        options: {
          userId: 'alice',
          getToken: () => 'token',
          pusher: { key: 'key', cluster: 'eu' },
          Pusher: FakePusher,
          fetch: server.fetch,
        },
      },
      createElement(ChatView),
    ),
  );
  assert.equal(html, '<p>true|0|false|0|true|connecting|0</p>');
  assert.equal(FakePusher.last, before, 'a pusher-js instance was created during render');
  assert.equal(server.requests.length, 0);
});

test('signed out (options null) renders the same', () => {
  const html = renderToString(createElement(ChatwireProvider, { options: null }, createElement(ChatView)));
  assert.equal(html, '<p>true|0|false|0|true|connecting|0</p>');
});
