// The signed-in demo: @chatwire/client does the realtime work (subscriptions,
// dedupe, typing, receipts, presence, notifications, polling, the offline
// queue); this file only draws what it reports and passes on what the user does.
import { createClient } from '@chatwire/client';
import { getJSON, postJSON } from './http.js';
import { contactItem, messageItem, presenceText, roomItem, typingText } from './view.js';

const $ = (id) => document.getElementById(id);

export function startChat(config, session, { signOut }) {
  const me = session.user;
  const names = Object.fromEntries(config.users.map((u) => [u.id, u.name]));
  const contacts = config.users.filter((u) => u.id !== me.id);
  const unread = {}; // chat key → messages received while it was not open
  let open = null; // { key, target, chat, stop }
  let token = session.token;

  const client = createClient({
    userId: me.id,
    getToken: () => token,
    pusher: {
      key: config.pusher.key,
      wsHost: config.pusher.host,
      wsPort: config.pusher.port,
      forceTLS: false, // dev's Pusher server speaks plain WebSocket on loopback
      enabledTransports: ['ws'],
    },
    notifications: {
      // A click on a browser notification opens the chat it is about.
      onNavigate: (target) => openChat(target),
      // Every notification not about the open chat: count it as unread.
      onNotification: (n) => {
        const key = `user:${n.sender.id}`;
        unread[key] = (unread[key] ?? 0) + 1;
        drawSidebar();
      },
    },
    onError: (err) => {
      console.warn('chatwire:', err.message);
      // dev's tokens last a day; a tab left open longer signs in again.
      if (err.status === 401) renewToken();
    },
  });

  async function renewToken() {
    try {
      token = (await postJSON('/demo/token', { user: me.id })).token;
    } catch (err) {
      console.warn('demo: token:', err.message);
    }
  }

  // ---- top bar ----
  $('me').textContent = me.name;
  const status = $('status');
  const drawStatus = () => {
    const value = client.connection.get();
    status.dataset.status = value;
    status.textContent = value;
  };
  client.connection.subscribe(drawStatus);
  drawStatus();

  $('switch-user').addEventListener('click', () => {
    client.disconnect();
    signOut();
  });

  // dev's outage switch: stop its Pusher server to watch the client poll.
  let pusherRunning = config.pusher.running;
  const toggle = $('pusher-toggle');
  const drawToggle = () => {
    toggle.textContent = pusherRunning ? 'stop Pusher' : 'start Pusher';
  };
  // Another tab may have flipped the switch: re-read it whenever the
  // connection changes, which is what a flip causes.
  client.connection.subscribe(() => {
    getJSON('/demo/config.json').then((c) => {
      pusherRunning = c.pusher.running;
      drawToggle();
    }, () => {});
  });
  toggle.addEventListener('click', async () => {
    try {
      pusherRunning = (await postJSON('/demo/pusher', { running: !pusherRunning })).running;
    } catch (err) {
      console.warn('demo: Pusher switch:', err.message);
    }
    drawToggle();
  });
  drawToggle();

  const permission = $('notify-permission');
  permission.hidden = client.notifications.permission !== 'default';
  permission.addEventListener('click', async () => {
    await client.notifications.requestPermission();
    permission.hidden = client.notifications.permission !== 'default';
  });

  // ---- sidebar ----
  function drawSidebar() {
    const statuses = client.presence.statuses.get();
    $('contacts').replaceChildren(
      ...contacts.map((user) =>
        contactItem(user, {
          online: statuses[user.id]?.online === true,
          unread: unread[`user:${user.id}`] ?? 0,
          current: open?.key === `user:${user.id}`,
          onOpen: () => openChat({ with: user.id }),
        }),
      ),
    );
    $('rooms').replaceChildren(
      roomItem(config.room, {
        current: open?.key === `room:${config.room.id}`,
        onOpen: () => openChat({ roomId: config.room.id }),
      }),
    );
    if (open && 'with' in open.target) $('chat-subtitle').textContent = presenceText(statuses[open.target.with]);
  }
  client.presence.statuses.subscribe(drawSidebar);
  client.presence.load(contacts.map((u) => u.id)).catch((err) => console.warn('demo: presence:', err.message));
  drawSidebar();

  // ---- the open chat ----
  function openChat(target) {
    const key = 'with' in target ? `user:${target.with}` : `room:${target.roomId}`;
    if (open?.key === key) return;
    if (open) {
      open.stop();
      open.chat.close();
    }
    const chat = client.openChat(target);
    open = { key, target, chat, stop: chat.state.subscribe(drawChat) };
    unread[key] = 0;

    $('placeholder').hidden = true;
    for (const id of ['chat-header', 'messages', 'composer']) $(id).hidden = false;
    $('chat-header').dataset.chat = key;
    $('chat-title').textContent = 'with' in target ? names[target.with] ?? target.with : `# ${config.room.name}`;
    $('chat-subtitle').textContent = 'with' in target ? '' : 'a room of every demo user';
    drawSidebar();
    drawChat();
    $('composer-input').focus();
  }

  function drawChat() {
    if (!open) return;
    const { messages, typing } = open.chat.state.get();
    const list = $('messages');
    const atBottom = list.scrollHeight - list.scrollTop - list.clientHeight < 40;
    const inRoom = 'roomId' in open.target;
    list.replaceChildren(...messages.map((m) => messageItem(m, { me: me.id, names, inRoom })));
    if (atBottom) list.scrollTop = list.scrollHeight;
    const text = typingText(typing);
    $('typing').textContent = text;
    $('typing').hidden = text === '';
    markSeen();
  }

  // What is on screen in a visible tab counts as read; the client sends
  // receipts only for messages this user received and has not read.
  function markSeen() {
    if (!open || document.visibilityState !== 'visible') return;
    open.chat.markVisible(open.chat.state.get().messages.map((m) => m.id).filter(Boolean));
  }
  document.addEventListener('visibilitychange', markSeen);

  const input = $('composer-input');
  input.addEventListener('input', () => open?.chat.keystroke());
  input.addEventListener('blur', () => open?.chat.stopTyping());
  $('composer').addEventListener('submit', (event) => {
    event.preventDefault();
    const body = input.value.trim();
    if (!open || body === '') return;
    input.value = '';
    // Shown at once as pending; the client's queue sends it when it can.
    open.chat.send(body).catch((err) => console.warn('demo: send:', err.message));
  });

  // Files: the client uploads straight to storage (a progress bar while the
  // bytes go), then sends the message with the text typed so far.
  const fileInput = $('attach-input');
  $('attach').addEventListener('click', () => fileInput.click());
  fileInput.addEventListener('change', () => {
    const file = fileInput.files?.[0];
    fileInput.value = '';
    if (!open || !file) return;
    const body = input.value.trim();
    input.value = '';
    $('upload').hidden = false;
    $('upload-error').hidden = true;
    $('upload-name').textContent = file.name;
    const bar = $('upload-progress');
    bar.value = 0;
    open.chat
      .sendFile(file, { body, onProgress: ({ loaded, total }) => (bar.value = total ? loaded / total : 0) })
      .then(() => ($('upload').hidden = true))
      .catch((err) => {
        $('upload-error').textContent = uploadProblem(err);
        $('upload-error').hidden = false;
      });
  });
}

// uploadProblem says why a file was not sent, in the server's words.
function uploadProblem(err) {
  const field = err.fields && Object.values(err.fields)[0];
  return `not sent: ${field ?? err.message}`;
}
