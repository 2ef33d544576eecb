'use client';

// Everything realtime, in client components, as client/README.md shows it:
// one ChatwireProvider for the signed-in user, useChat for the open
// conversation, usePresence, useTyping, useConnectionStatus, and
// useChatwireEvent for the unread counters of the other conversations.
import {
  ChatwireProvider,
  useChat,
  useChatwireEvent,
  useConnectionStatus,
  usePresence,
  useTyping,
} from '@chatwire/client/react';
import type { ChannelEvent, ClientOptions, Message } from '@chatwire/client';
import { useCallback, useEffect, useMemo, useState } from 'react';
import type { ChatConfig } from '@/lib/config';
import type { User } from '@/lib/users';

interface Session {
  user: User;
  token: string;
}

// One user per tab, kept across reloads.
const sessionKey = 'chatwire-example:session';

declare global {
  interface Window {
    /** Every event useChatwireEvent reported, for the browser test. */
    chatwireEvents?: { event: string; id?: string; source: string; body?: string }[];
  }
}

export function ChatApp({ config, users }: { config: ChatConfig; users: readonly User[] }) {
  const [session, setSession] = useState<Session | null>(null);
  const [restored, setRestored] = useState(false);

  useEffect(() => {
    const saved = sessionStorage.getItem(sessionKey);
    if (saved) setSession(JSON.parse(saved) as Session);
    setRestored(true);
  }, []);

  const signIn = async (user: User) => {
    const res = await fetch('/api/session', { method: 'POST', body: JSON.stringify({ user: user.id }) });
    if (!res.ok) throw new Error(`sign-in: HTTP ${res.status}`);
    const next = (await res.json()) as Session;
    sessionStorage.setItem(sessionKey, JSON.stringify(next));
    setSession(next);
  };

  const options = useMemo<ClientOptions | null>(
    () =>
      session && {
        userId: session.user.id,
        getToken: () => session.token,
        apiUrl: config.apiUrl,
        pusher: config.pusher,
        notifications: { api: null }, // this example shows unread counts instead
        onError: (error) => console.warn('chatwire:', error.code, error.message),
      },
    [session, config],
  );

  if (!restored) return null;
  if (!session) {
    return (
      <main className="sign-in">
        <h1>chatwire · Next.js</h1>
        <p>Sign in as one user here and as another in a second window.</p>
        <div className="users">
          {users.map((user) => (
            <button key={user.id} data-user={user.id} onClick={() => void signIn(user)}>
              {user.name}
            </button>
          ))}
        </div>
      </main>
    );
  }
  return (
    <ChatwireProvider options={options}>
      <Messenger
        me={session.user}
        contacts={users.filter((u) => u.id !== session.user.id)}
        onSignOut={() => {
          sessionStorage.removeItem(sessionKey);
          setSession(null);
        }}
      />
    </ChatwireProvider>
  );
}

function Messenger({ me, contacts, onSignOut }: { me: User; contacts: User[]; onSignOut: () => void }) {
  const [openWith, setOpenWith] = useState<string | null>(null);
  const [unread, setUnread] = useState<Record<string, number>>({});
  const status = useConnectionStatus();
  const presence = usePresence(useMemo(() => contacts.map((c) => c.id), [contacts]));

  // Unread counts of the conversations not open, from every event the
  // client receives: each event arrives here exactly once.
  useChatwireEvent(
    useCallback(
      (e: ChannelEvent) => {
        const message = e.data as Message;
        (window.chatwireEvents ??= []).push({
          event: e.event,
          id: e.id,
          source: e.source,
          ...(e.event === 'new-message' ? { body: message.body } : {}),
        });
        if (e.event !== 'new-message') return;
        if (message.sender_id === me.id || message.sender_id === openWith || message.room_id) return;
        setUnread((counts) => ({ ...counts, [message.sender_id]: (counts[message.sender_id] ?? 0) + 1 }));
      },
      [me.id, openWith],
    ),
  );

  const open = (id: string) => {
    setOpenWith(id);
    setUnread((counts) => ({ ...counts, [id]: 0 }));
  };

  return (
    <div className="messenger">
      <header className="topbar">
        <strong>chatwire · Next.js</strong>
        <span className="status" data-status={status} data-testid="status">
          {status}
        </span>
        <span className="spacer" />
        <span>
          signed in as <strong>{me.name}</strong>
        </span>
        <button onClick={onSignOut}>sign out</button>
      </header>
      <nav className="contacts">
        {contacts.map((c) => (
          <button
            key={c.id}
            data-contact={c.id}
            aria-current={openWith === c.id}
            onClick={() => open(c.id)}
          >
            <span className="dot" data-online={presence[c.id]?.online === true} />
            {c.name}
            {(unread[c.id] ?? 0) > 0 && <span className="unread">{unread[c.id]}</span>}
          </button>
        ))}
      </nav>
      {openWith ? (
        <Conversation key={openWith} me={me} other={contacts.find((c) => c.id === openWith)!} />
      ) : (
        <p className="placeholder">Choose someone to talk to.</p>
      )}
    </div>
  );
}

function Conversation({ me, other }: { me: User; other: User }) {
  const { chat, messages, send, markVisible } = useChat({ with: other.id });
  const { typing, keystroke, stop } = useTyping(chat);
  const presence = usePresence(useMemo(() => [other.id], [other.id]));
  const [draft, setDraft] = useState('');

  // What is rendered in a visible tab counts as read.
  useEffect(() => {
    const mark = () => {
      if (document.visibilityState === 'visible') markVisible(messages.map((m) => m.id).filter(Boolean));
    };
    mark();
    document.addEventListener('visibilitychange', mark);
    return () => document.removeEventListener('visibilitychange', mark);
  }, [messages, markVisible]);

  const status = presence[other.id];
  return (
    <section className="conversation" data-with={other.id}>
      <header>
        <strong>{other.name}</strong>{' '}
        <small data-testid="presence">
          {status?.online ? 'online' : status?.last_active_at ? `last seen ${time(status.last_active_at)}` : 'offline'}
        </small>
      </header>
      <ol className="messages">
        {messages.map((m) => (
          <li
            key={m.id || m.client_id!}
            className={m.sender_id === me.id ? 'mine' : ''}
            data-state={m.status !== 'sent' ? m.status : m.read_at ? 'read' : 'sent'}
          >
            <span className="body">{m.body}</span>
            <small className="meta">
              {time(m.created_at)}
              {m.sender_id === me.id && (m.status === 'pending' ? ' ⏱' : m.status === 'failed' ? ' ✗' : m.read_at ? ' ✓✓' : ' ✓')}
            </small>
          </li>
        ))}
      </ol>
      <p className="typing" data-testid="typing">
        {typing.length > 0 ? `${typing.map((u) => u.name).join(', ')} is typing…` : ''}
      </p>
      <form
        onSubmit={(e) => {
          e.preventDefault();
          const body = draft.trim();
          if (!body) return;
          setDraft('');
          send(body).catch(() => {}); // shown as pending at once; a refusal reaches onError
        }}
      >
        <input
          aria-label="message"
          placeholder={`Message ${other.name}`}
          value={draft}
          maxLength={4000}
          onChange={(e) => {
            setDraft(e.target.value);
            keystroke();
          }}
          onBlur={stop}
        />
        <button type="submit">Send</button>
      </form>
    </section>
  );
}

function time(iso: string): string {
  return new Date(iso).toLocaleTimeString([], { hour: '2-digit', minute: '2-digit' });
}
