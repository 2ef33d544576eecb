// The signed-in demo: @chatwire/client does the realtime work (subscriptions,
// dedupe, typing, receipts, presence, notifications, polling, the offline
// queue); this file only draws what it reports and passes on what the user does.
import { createClient } from '@chatwire/client';
import { getJSON, postJSON } from './http.js';
import { contactItem, conversationItem, messageItem, presenceText, roomItem, typingText } from './view.js';

const $ = (id) => document.getElementById(id);

export function startChat(config, session, { signOut }) {
  const me = session.user;
  const names = Object.fromEntries(config.users.map((u) => [u.id, u.name]));
  const contacts = config.users.filter((u) => u.id !== me.id);
  let open = null; // { key, target, chat, stop }
  let editing = null; // the message whose body the composer edits
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

  // ---- sidebar: the conversation list (GET /api/conversations, kept live
  // by events: unread badges clear on every tab when any of them reads),
  // then the people and the room to start from. ----
  const conversations = client.conversations();
  conversations.state.subscribe(drawSidebar);
  const keyOf = (c) => (c.kind === 'chat' ? `user:${c.with.id}` : `room:${c.room.id}`);
  const targetOf = (c) => (c.kind === 'chat' ? { with: c.with.id } : { roomId: c.room.id });

  function drawSidebar() {
    const statuses = client.presence.statuses.get();
    const list = conversations.state.get().conversations;
    $('conversations').replaceChildren(
      ...list.map((c) =>
        conversationItem(c, {
          title: c.kind === 'chat' ? c.with.name || names[c.with.id] || c.with.id : `# ${c.room.name}`,
          current: open?.key === keyOf(c),
          onOpen: () => openChat(targetOf(c)),
        }),
      ),
    );
    const unreadWith = (id) => conversations.get(`chat:${id}`)?.unread_count ?? 0;
    $('contacts').replaceChildren(
      ...contacts.map((user) =>
        contactItem(user, {
          online: statuses[user.id]?.online === true,
          unread: unreadWith(user.id),
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
    stopEditing();

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
    list.replaceChildren(
      ...messages.map((m) => messageItem(m, { me: me.id, names, inRoom, onEdit: startEditing, onDelete: remove, onReact: react })),
    );
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

  // ---- edit, delete, react: shown at once, settled on the server's version ----
  function startEditing(message) {
    editing = message;
    input.value = message.body;
    input.placeholder = 'Edit message';
    $('composer-submit').textContent = 'Save';
    $('composer-cancel').hidden = false;
    input.focus();
  }

  function stopEditing() {
    editing = null;
    input.value = '';
    input.placeholder = 'Write a message';
    $('composer-submit').textContent = 'Send';
    $('composer-cancel').hidden = true;
  }

  function remove(message) {
    open?.chat.remove(message.id).catch((err) => console.warn('demo: delete:', err.message));
  }

  function react(message, emoji, on) {
    open?.chat.react(message.id, emoji, on).catch((err) => console.warn('demo: react:', err.message));
  }

  const input = $('composer-input');
  input.addEventListener('input', () => {
    if (!editing) open?.chat.keystroke();
  });
  input.addEventListener('blur', () => open?.chat.stopTyping());
  input.addEventListener('keydown', (event) => {
    if (event.key === 'Escape' && editing) stopEditing();
  });
  $('composer-cancel').addEventListener('click', stopEditing);
  $('composer').addEventListener('submit', (event) => {
    event.preventDefault();
    const body = input.value.trim();
    if (!open || body === '') return;
    if (editing) {
      const id = editing.id;
      stopEditing();
      open.chat.edit(id, body).catch((err) => console.warn('demo: edit:', err.message));
      return;
    }
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
