// DOM for the demo: plain elements, text set with textContent (message
// bodies are user input), data attributes the browser tests select by.

export function el(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [name, value] of Object.entries(attrs)) {
    if (value === undefined || value === null || value === false) continue;
    if (name === 'class') node.className = value;
    else if (name.startsWith('data-')) node.dataset[camel(name.slice(5))] = String(value);
    else node.setAttribute(name, value === true ? '' : String(value));
  }
  node.append(...children.filter((c) => c !== null && c !== undefined));
  return node;
}

function camel(name) {
  return name.replace(/-([a-z])/g, (_, c) => c.toUpperCase());
}

/** contactItem is a person to chat with: online dot, name, and the chat's unread count. */
export function contactItem(user, { online, unread, current, onOpen }) {
  const li = el(
    'li',
    { 'data-contact': user.id, 'aria-current': current ? 'true' : 'false' },
    el('span', { class: 'dot', 'data-online': online ? 'true' : 'false', title: online ? 'online' : 'offline' }),
    el('span', { class: 'name' }, user.name),
    unread > 0 ? el('span', { class: 'unread', title: 'unread' }, String(unread)) : null,
  );
  li.addEventListener('click', onOpen);
  return li;
}

/**
 * conversationItem is one entry of the conversation list: the other user or
 * the room, the last line, and the unread badge the server keeps (cleared on
 * every tab when any of them reads).
 */
export function conversationItem(conversation, { title, current, onOpen }) {
  const last = conversation.last_message;
  const preview = !last ? '' : last.deleted_at ? 'message deleted' : last.body || last.attachment?.name || '';
  const li = el(
    'li',
    { 'data-conversation': conversation.id, 'aria-current': current ? 'true' : 'false' },
    el('span', { class: 'name' }, title),
    conversation.unread_count > 0 ? el('span', { class: 'unread', title: 'unread' }, String(conversation.unread_count)) : null,
    el('span', { class: 'preview' }, preview),
  );
  li.addEventListener('click', onOpen);
  return li;
}

export function roomItem(room, { current, onOpen }) {
  const li = el('li', { 'data-room': room.id, 'aria-current': current ? 'true' : 'false' }, el('span', {}, '# ' + room.name));
  li.addEventListener('click', onOpen);
  return li;
}

/**
 * messageItem is one message of the timeline. Your own messages carry a
 * check: a clock while queued offline, ✓ once stored, ✓✓ once the receiver
 * has read it (1:1 chats only; rooms have no read receipts).
 */
export function messageItem(message, { me, names, inRoom, onEdit, onDelete, onReact }) {
  const mine = message.sender_id === me;
  const isDeleted = Boolean(message.deleted_at);
  const stored = message.status === 'sent' && message.id;
  const li = el(
    'li',
    {
      class: mine ? 'message mine' : 'message',
      'data-id': message.id || undefined,
      'data-client-id': message.client_id,
      'data-version': message.version,
      'data-deleted': isDeleted ? 'true' : undefined,
    },
    inRoom && !mine ? el('span', { class: 'sender' }, names[message.sender_id] ?? message.sender_id) : null,
    el('span', { class: 'body' }, message.body),
    message.attachment ? attachmentView(message.attachment) : null,
    isDeleted ? el('span', { class: 'deleted' }, 'message deleted') : null,
    message.edited_at && !isDeleted ? el('span', { class: 'edited' }, 'edited') : null,
    el('span', { class: 'meta' }, clock(message.created_at)),
    mine ? check(message, inRoom) : null,
    stored && !isDeleted ? actions(message, mine, { me, onEdit, onDelete, onReact }) : null,
    reactions(message, { me, onReact, canAdd: stored && !isDeleted }),
  );
  return li;
}

// The quick reactions a message offers; any one emoji is allowed by the API.
const quickReactions = ['👍', '❤️', '😂'];

function actions(message, mine, { me, onEdit, onDelete, onReact }) {
  const buttons = [];
  if (mine) {
    buttons.push(button('edit', { 'data-action': 'edit', title: 'edit' }, () => onEdit(message)));
    buttons.push(button('delete', { 'data-action': 'delete', title: 'delete' }, () => onDelete(message)));
  }
  for (const emoji of quickReactions) {
    const on = !(message.reactions ?? []).some((r) => r.emoji === emoji && r.users.includes(me));
    if (on) buttons.push(button(emoji, { 'data-action': 'react', 'data-emoji': emoji, title: 'react ' + emoji }, () => onReact(message, emoji, true)));
  }
  return el('span', { class: 'actions' }, ...buttons);
}

function reactions(message, { me, onReact, canAdd }) {
  const list = message.reactions ?? [];
  if (list.length === 0) return null;
  return el(
    'span',
    { class: 'reactions' },
    ...list.map((r) => {
      const mineToo = r.users.includes(me);
      return button(`${r.emoji} ${r.count}`, { 'data-reaction': r.emoji, 'aria-pressed': mineToo ? 'true' : 'false', disabled: !canAdd && !mineToo }, () =>
        onReact(message, r.emoji, !mineToo),
      );
    }),
  );
}

function button(text, attrs, onClick) {
  const b = el('button', { type: 'button', ...attrs }, text);
  b.addEventListener('click', (event) => {
    event.stopPropagation();
    onClick();
  });
  return b;
}

/**
 * attachmentView shows a file: a preview for pictures and a download link.
 * A file still being sent has no URL yet.
 */
export function attachmentView(a) {
  const label = `${a.name ?? 'file'}${a.size ? ` (${size(a.size)})` : ''}`;
  if (!a.url) return el('span', { class: 'attachment', 'data-attachment': 'pending' }, `sending ${label}…`);
  const isImage = (a.content_type ?? '').startsWith('image/');
  return el(
    'span',
    { class: 'attachment', 'data-attachment': a.id ?? 'link' },
    isImage ? el('img', { class: 'preview', src: a.url, alt: a.name ?? 'picture', loading: 'lazy' }) : null,
    el('a', { href: a.url, download: a.name ?? '', target: '_blank', rel: 'noopener' }, `⬇ ${label}`),
  );
}

function size(bytes) {
  if (bytes < 1024) return `${bytes} B`;
  if (bytes < 1024 * 1024) return `${Math.round(bytes / 1024)} KB`;
  return `${(bytes / 1024 / 1024).toFixed(1)} MB`;
}

function check(message, inRoom) {
  const state = message.status !== 'sent' ? message.status : !inRoom && message.read_at ? 'read' : 'sent';
  const symbol = { pending: '◷', failed: '!', sent: '✓', read: '✓✓' }[state];
  const title = { pending: 'waiting for the network', failed: 'not sent', sent: 'sent', read: 'read' }[state];
  return el('span', { class: 'check', 'data-state': state, title }, symbol);
}

export function clock(iso) {
  return new Date(iso).toLocaleTimeString([], { hour: '2-digit', minute: '2-digit' });
}

/** typingText is "Alice is typing…", or empty when nobody types. */
export function typingText(users) {
  if (users.length === 0) return '';
  const names = users.map((u) => u.name || u.user_id);
  return names.length === 1 ? `${names[0]} is typing…` : `${names.join(', ')} are typing…`;
}

/** presenceText is the chat header's subtitle for a user. */
export function presenceText(status) {
  if (!status) return '';
  if (status.online) return 'online';
  return status.last_active_at ? `last seen ${clock(status.last_active_at)}` : 'offline';
}
