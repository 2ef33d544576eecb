// Notifications and presence, from the user's own channels.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { ChatTarget, MessageNotification, NotificationApi } from '@chatwire/client';
import { settle } from './fakes.js';
import { setup } from './setup.js';

function fakeNotifications(permission: NotificationPermission = 'granted') {
  const shown: { title: string; body: string; tag: string; onclick: ((event: Event) => unknown) | null; closed: boolean }[] = [];
  class FakeNotification {
    static permission = permission;
    static requestPermission = async (): Promise<NotificationPermission> => (FakeNotification.permission = 'granted');
    onclick: ((event: Event) => unknown) | null = null;
    closed = false;
    constructor(
      readonly title: string,
      readonly options: { body: string; tag: string },
    ) {
      shown.push(this as unknown as (typeof shown)[number]);
    }
    get body() {
      return this.options.body;
    }
    get tag() {
      return this.options.tag;
    }
    close() {
      this.closed = true;
    }
  }
  return { api: FakeNotification as unknown as NotificationApi, shown };
}

const notification = (id: string, channel = 'private-chat-alice-bob'): MessageNotification => ({
  message_id: id,
  channel,
  sender: { id: 'bob', name: 'Bob' },
  preview: `preview of ${id}`,
});

test('a notification shows sender and preview once, never for an open chat; a click navigates', async () => {
  const { api, shown } = fakeNotifications();
  const navigations: ChatTarget[] = [];
  const toasts: string[] = [];
  const { client, pusher } = await setup({
    notifications: { api, onNavigate: (chat) => navigations.push(chat), onNotification: (n) => toasts.push(n.message_id) },
  });
  pusher.emit('private-user-alice', 'message-notification', notification('m1'));
  pusher.emit('private-user-alice', 'message-notification', notification('m1')); // Pusher and poll both
  assert.equal(shown.length, 1);
  assert.deepEqual([shown[0]!.title, shown[0]!.body, shown[0]!.tag], ['Bob', 'preview of m1', 'm1']);
  shown[0]!.onclick?.(new Event('click'));
  assert.deepEqual(navigations, [{ with: 'bob' }]);
  assert.ok(shown[0]!.closed);

  const chat = client.openChat({ with: 'bob' });
  pusher.emit('private-user-alice', 'message-notification', notification('m2'));
  assert.equal(shown.length, 1, 'the chat is open');
  chat.close();
  pusher.emit('private-user-alice', 'message-notification', notification('m3'));
  assert.equal(shown.length, 2);
  assert.deepEqual(toasts, ['m1', 'm3']);
});

test('without permission nothing is shown until it is granted', async () => {
  const { api, shown } = fakeNotifications('default');
  const { client, pusher } = await setup({ notifications: { api } });
  assert.equal(client.notifications.permission, 'default');
  pusher.emit('private-user-alice', 'message-notification', notification('m1'));
  assert.equal(shown.length, 0);
  assert.equal(await client.notifications.requestPermission(), 'granted');
  pusher.emit('private-user-alice', 'message-notification', notification('m2'));
  assert.equal(shown.length, 1);
});

test('notification preferences are read and written on the server', async () => {
  const { client, server } = await setup();
  assert.deepEqual(await client.notifications.getPreferences(), { enabled: true, muted_channels: [] });
  const prefs = { enabled: false, muted_channels: ['private-chat-alice-bob'] };
  assert.deepEqual(await client.notifications.setPreferences(prefs), prefs);
  assert.deepEqual(server.calls('PUT', '/api/notifications/preferences')[0]!.body, prefs);
});

test("presence: the user's own presence channel is subscribed; statuses come from load and events, never going back in time", async () => {
  const { client, server, pusher } = await setup();
  assert.ok(pusher.channels.has('presence-user-alice'));
  await client.presence.load(['bob', 'carol', 'bob']);
  assert.equal(server.calls('GET', '/api/presence')[0]!.query.get('user_ids'), 'bob,carol');
  assert.deepEqual(client.presence.get('bob'), { user_id: 'bob', online: false, last_active_at: null });

  const change = (online: boolean, at: string) => ({ user_id: 'bob', online, last_active_at: at });
  pusher.emit('private-user-alice', 'user-status-change', change(true, '2026-01-02T03:04:10.000Z'));
  assert.equal(client.presence.get('bob')?.online, true);
  pusher.emit('private-user-alice', 'user-status-change', change(false, '2026-01-02T03:04:09.000Z')); // late replay
  assert.equal(client.presence.get('bob')?.online, true);
  pusher.emit('private-user-alice', 'user-status-change', change(false, '2026-01-02T03:04:11.000Z'));
  assert.equal(client.presence.get('bob')?.online, false);

  await client.presence.load(['bob']);
  assert.equal(server.calls('GET', '/api/presence').length, 1, 'known users are not fetched again');
  const many = Array.from({ length: 250 }, (_, i) => `user${i}`);
  await client.presence.load(many);
  await settle();
  const sizes = server.calls('GET', '/api/presence').slice(1).map((r) => r.query.get('user_ids')!.split(',').length);
  assert.deepEqual(sizes, [100, 100, 50]);
});
