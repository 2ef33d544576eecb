// Edits, deletes and reactions in the timeline (the higher version wins,
// whatever the arrival order; optimistic changes settle on the server's
// answer), and the conversation list kept live by events.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { Conversation, Message } from '@chatwire/client';
import { settle, type FakeServer } from './fakes.js';
import { setup } from './setup.js';

const channel = 'private-chat-alice-bob';

function bodies(messages: readonly Message[]): string[] {
  return messages.map((m) => m.body);
}

test('an edit that overtakes its message (slow poll) is not undone by the older copy', async () => {
  const { client, server, pusher } = await setup();
  const chat = client.openChat({ with: 'bob' });
  await settle();
  const original = server.message({ sender_id: 'bob', body: 'tpyo' });
  server.messages.length = 0; // not in history yet: it arrives only by poll, late
  const edited: Message = { ...original, body: 'typo', version: 2, edited_at: original.created_at, deleted_at: null, reactions: [] };
  pusher.emit(channel, 'message-updated', edited);
  pusher.emit(channel, 'reaction-changed', { message_id: original.id, channel, emoji: '👍', user_id: 'alice', on: true, reactions: [{ emoji: '👍', count: 1, users: ['alice'] }], version: 3 });
  // The poll's copy of new-message (version 1, as first sent) comes last.
  pusher.emit(channel, 'new-message', { ...original, version: 1 });
  const [m] = chat.state.get().messages;
  assert.equal(m.body, 'typo');
  assert.equal(m.version, 3);
  assert.deepEqual(m.reactions, [{ emoji: '👍', count: 1, users: ['alice'] }]);
  chat.close();
});

test('a tombstone wins over an older edit; a reaction to a message not loaded yet waits for it', async () => {
  const { client, server, pusher } = await setup();
  const chat = client.openChat({ with: 'bob' });
  await settle();
  const m = server.message({ sender_id: 'bob', body: 'secret' });
  pusher.emit(channel, 'message-deleted', { id: m.id, channel, deleted_at: m.created_at, version: 3 });
  pusher.emit(channel, 'new-message', m);
  pusher.emit(channel, 'message-updated', { ...m, body: 'edited before the delete', version: 2 });
  const [shown] = chat.state.get().messages;
  assert.equal(shown.body, '');
  assert.equal(shown.deleted_at, m.created_at);
  assert.equal(shown.version, 3);
  chat.close();
});

/** answerChanges makes the fake server answer edit, delete and react like chatwire. */
function answerChanges(server: FakeServer, options: { refuse?: boolean } = {}): void {
  server.overrides.push((request) => {
    const body = (request.body ?? {}) as { id?: string; body?: string; emoji?: string; on?: boolean };
    const i = server.messages.findIndex((m) => m.id === body.id);
    if (!['/api/messages/edit', '/api/messages/delete', '/api/messages/react'].includes(request.path)) return undefined;
    if (options.refuse) return { status: 403, body: { error: { code: 'forbidden', message: 'only the sender may edit a message' } } };
    const m = server.messages[i];
    const version = (m.version ?? 1) + 1;
    switch (request.path) {
      case '/api/messages/edit':
        server.messages[i] = { ...m, body: body.body ?? '', version, edited_at: new Date(server.clock.now()).toISOString() };
        return { status: 200, body: { message: server.messages[i], published: true } };
      case '/api/messages/delete':
        server.messages[i] = { ...m, body: '', attachment: null, version, deleted_at: new Date(server.clock.now()).toISOString() };
        return { status: 200, body: { message: server.messages[i], published: true } };
      default: {
        const reactions = body.on ? [{ emoji: body.emoji!, count: 2, users: ['carol', 'alice'] }] : [];
        server.messages[i] = { ...m, reactions, version };
        return { status: 200, body: { message_id: m.id, channel: m.channel, emoji: body.emoji, user_id: 'alice', on: body.on, reactions, version } };
      }
    }
  });
}

test('edit, remove and react show at once and settle on the server version', async () => {
  const { client, server } = await setup();
  answerChanges(server);
  const chat = client.openChat({ with: 'bob' });
  await settle();
  const sent = await chat.send('helo');
  const seen: string[][] = [];
  const stop = chat.state.subscribe(() => seen.push(bodies(chat.state.get().messages)));

  const editing = chat.edit(sent.id, 'hello');
  assert.deepEqual(bodies(chat.state.get().messages), ['hello'], 'shown before the server answers');
  const edited = await editing;
  assert.equal(edited.version, 2);
  let [m] = chat.state.get().messages;
  assert.equal(m.body, 'hello');
  assert.equal(m.version, 2);

  const reacting = chat.react(sent.id, '🎉', true);
  assert.deepEqual(chat.state.get().messages[0].reactions, [{ emoji: '🎉', count: 1, users: ['alice'] }], 'the optimistic guess');
  await reacting;
  // The server knew of carol's reaction too: its answer wins.
  assert.deepEqual(chat.state.get().messages[0].reactions, [{ emoji: '🎉', count: 2, users: ['carol', 'alice'] }]);

  await chat.remove(sent.id);
  [m] = chat.state.get().messages;
  assert.equal(m.body, '');
  assert.ok(m.deleted_at);
  assert.equal(m.version, 4);
  assert.ok(seen.length > 0);
  stop();
  chat.close();
});

test('a refused edit goes back to what the server has, and says why', async () => {
  const { client, server, pusher, errors } = await setup();
  answerChanges(server, { refuse: true });
  const chat = client.openChat({ with: 'bob' });
  await settle();
  const m = server.message({ sender_id: 'bob', body: 'not yours' });
  pusher.emit(channel, 'new-message', m);
  const editing = chat.edit(m.id, 'mine now');
  assert.equal(chat.state.get().messages[0].body, 'mine now');
  await assert.rejects(editing, (err: { status?: number }) => err.status === 403);
  assert.equal(chat.state.get().messages[0].body, 'not yours');
  assert.equal(errors.at(-1)?.code, 'forbidden');
  chat.close();
});

function conversation(fields: Partial<Conversation> & { id: string; channel: string }): Conversation {
  return {
    kind: 'chat',
    last_message: null,
    unread_count: 0,
    last_read_at: null,
    updated_at: '2026-01-02T03:00:00.000Z',
    ...fields,
  };
}

test('the conversation list follows messages, reads on other devices, and counts a redelivery once', async () => {
  const { client, server, pusher, clock } = await setup();
  let list: Conversation[] = [
    conversation({ id: 'chat:bob', channel, with: { id: 'bob', name: 'Bob' }, unread_count: 1, updated_at: '2026-01-02T03:00:02.000Z' }),
    conversation({ id: 'room:r1', kind: 'room', channel: 'private-room-r1', room: { id: 'r1', name: 'Ops', visibility: 'public' }, updated_at: '2026-01-02T03:00:01.000Z' }),
  ];
  server.overrides.push((request) =>
    request.path === '/api/conversations' ? { status: 200, body: { conversations: list, next_before: null } } : undefined,
  );
  const conversations = client.conversations();
  await settle();
  const ids = () => conversations.state.get().conversations.map((c) => `${c.id}=${c.unread_count}`);
  assert.deepEqual(ids(), ['chat:bob=1', 'room:r1=0']);
  assert.equal(conversations.state.get().unread, 1);
  // The list hears the rooms' channels too, not only open chats'.
  assert.ok(pusher.channels.has('private-room-r1'));

  const inRoom = server.message({ sender_id: 'carol', channel: 'private-room-r1', receiver_id: null, room_id: 'r1', body: 'news', created_at: '2026-01-02T03:00:05.000Z' });
  pusher.emit('private-room-r1', 'new-message', inRoom);
  pusher.emit('private-room-r1', 'new-message', inRoom); // redelivered by the outbox
  assert.deepEqual(ids(), ['room:r1=1', 'chat:bob=1']);
  assert.equal(conversations.state.get().conversations[0].last_message?.body, 'news');

  // Another tab read the room.
  pusher.emit('private-user-alice', 'conversation-read', { conversation_id: 'room:r1', read_at: '2026-01-02T03:00:06.000Z', unread_count: 0 });
  assert.deepEqual(ids(), ['room:r1=0', 'chat:bob=1']);

  // Writing into a conversation marks it read.
  pusher.emit(channel, 'new-message', server.message({ sender_id: 'alice', body: 'hi', created_at: '2026-01-02T03:00:07.000Z' }));
  assert.deepEqual(ids(), ['chat:bob=0', 'room:r1=0']);

  // The last message is deleted: the list shows the tombstone.
  pusher.emit('private-room-r1', 'message-deleted', { id: inRoom.id, channel: 'private-room-r1', deleted_at: '2026-01-02T03:00:08.000Z', version: 2 });
  assert.equal(conversations.get('room:r1')?.last_message?.deleted_at, '2026-01-02T03:00:08.000Z');

  // A message from someone the list does not know: it fetches its first page.
  list = [conversation({ id: 'chat:dave', channel: 'private-chat-alice-dave', with: { id: 'dave', name: 'Dave' }, unread_count: 1, updated_at: '2026-01-02T03:00:09.000Z' }), ...list];
  const before = server.calls('GET', '/api/conversations').length;
  pusher.emit('private-user-alice', 'message-notification', { message_id: 'x', channel: 'private-chat-alice-dave', sender: { id: 'dave', name: 'Dave' }, preview: 'hey' });
  await clock.advance(1000);
  assert.equal(server.calls('GET', '/api/conversations').length, before + 1);
  assert.equal(conversations.state.get().conversations[0].id, 'chat:dave');

  conversations.close();
  assert.ok(!pusher.channels.has('private-room-r1'), 'closing the list unsubscribes what it subscribed');
});

test('a room moves its read mark once per newer message seen from someone else', async () => {
  const { client, server, pusher } = await setup();
  const room = 'private-room-r1';
  const chat = client.openChat({ roomId: 'r1' });
  await settle();
  const reads = () => server.calls('POST', '/api/messages/read').map((r) => JSON.stringify(r.body));
  const fromBob = server.message({ sender_id: 'bob', channel: room, receiver_id: null, room_id: 'r1', body: 'news' });
  pusher.emit(room, 'new-message', fromBob);
  chat.markVisible([fromBob.id]);
  chat.markVisible([fromBob.id]); // seen again: no second request
  await settle();
  assert.deepEqual(reads(), ['{"room_id":"r1"}']);
  const mine = await chat.send('me too');
  chat.markVisible([fromBob.id, mine.id]); // own messages never need a read
  await settle();
  assert.equal(reads().length, 1);
  const later = server.message({ sender_id: 'carol', channel: room, receiver_id: null, room_id: 'r1', body: 'later' });
  pusher.emit(room, 'new-message', later);
  chat.markVisible([fromBob.id, mine.id, later.id]);
  await settle();
  assert.equal(reads().length, 2);
  chat.close();
});
