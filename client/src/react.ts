'use client';

// React bindings for Next.js App Router client components ('use client').
// The client is created in an effect, never during rendering, so server
// rendering never opens a socket; each hook reads a Watchable through
// useSyncExternalStore, so components re-render only when their data changes.

import {
  createContext,
  createElement,
  useCallback,
  useContext,
  useEffect,
  useMemo,
  useRef,
  useState,
  useSyncExternalStore,
  type ReactNode,
} from 'react';
import type { Chat, ChatState } from './chat.js';
import { createClient, type ChatwireClient, type ClientOptions, type Watchable } from './client.js';
import type { Conversations, ConversationsState } from './conversations.js';
import type { PresenceSnapshot } from './presence.js';
import type { QueuedMessage } from './queue.js';
import type { ChannelEvent, ChatTarget, ConnectionStatus, Message, ReactionCount, TypingUser } from './types.js';
import type { SendOptions } from './chat.js';

const ClientContext = createContext<ChatwireClient | null>(null);

export interface ChatwireProviderProps {
  /** Options of the signed-in user's client; `null` while signed out (no client, no socket). */
  options: ClientOptions | null;
  children?: ReactNode;
}

/**
 * ChatwireProvider owns one client per signed-in user: it is created after
 * mount, and disconnected on sign-out, on a change of user and on unmount.
 * Options other than userId, apiUrl and the Pusher key are read when the
 * client is created; getToken and the callbacks are always the latest ones.
 */
export function ChatwireProvider({ options, children }: ChatwireProviderProps) {
  const [client, setClient] = useState<ChatwireClient | null>(null);
  const latest = useRef(options);
  latest.current = options;
  const userId = options?.userId ?? null;
  const apiUrl = options?.apiUrl;
  const pusherKey = options?.pusher?.key ?? null;

  useEffect(() => {
    const initial = latest.current;
    if (!initial || userId === null) return;
    const created = createClient({
      ...initial,
      getToken: () => (latest.current ?? initial).getToken(),
      onError: (error) => (latest.current ?? initial).onError?.(error),
      notifications: {
        ...initial.notifications,
        onNavigate: (chat) => (latest.current ?? initial).notifications?.onNavigate?.(chat),
        onNotification: (n) => (latest.current ?? initial).notifications?.onNotification?.(n),
      },
    });
    setClient(created);
    return () => {
      created.disconnect();
      setClient(null);
    };
  }, [userId, apiUrl, pusherKey]);

  return createElement(ClientContext.Provider, { value: client }, children);
}

/** useChatwire is the provider's client, or null while signed out or before mount. */
export function useChatwire(): ChatwireClient | null {
  return useContext(ClientContext);
}

function useWatchable<T>(watchable: Watchable<T> | null | undefined, fallback: T): T {
  const subscribe = useCallback(
    (listener: () => void) => (watchable ? watchable.subscribe(listener) : () => {}),
    [watchable],
  );
  const get = () => (watchable ? watchable.get() : fallback);
  return useSyncExternalStore(subscribe, get, () => fallback);
}

/** useConnectionStatus is `connected`, `connecting`, `polling` or `offline`. */
export function useConnectionStatus(): ConnectionStatus {
  return useWatchable(useChatwire()?.connection, 'connecting');
}

const emptyChatState: ChatState = { messages: [], typing: [], hasMore: false, loading: false };

export interface UseChatResult extends ChatState {
  /** The open chat, null until the client exists. */
  chat: Chat | null;
  send(body: string, options?: SendOptions): Promise<Message>;
  loadOlder(): Promise<void>;
  /** Call with the ids of messages on screen; unread ones received by the user are marked read. */
  markVisible(messageIds: readonly string[]): void;
  /** Edit one of the user's messages (shown at once, settled on the server's version). */
  edit(messageId: string, body: string): Promise<Message>;
  /** Delete one of the user's messages, leaving a tombstone. */
  remove(messageId: string): Promise<Message>;
  /** Add (on) or take back the user's reaction. */
  react(messageId: string, emoji: string, on: boolean): Promise<ReactionCount[]>;
}

/**
 * useChat opens the chat while the component is mounted (target null: none)
 * and closes it, with all its listeners, on unmount or when the target changes.
 */
export function useChat(target: ChatTarget | null): UseChatResult {
  const client = useChatwire();
  const key = target === null ? null : 'with' in target ? `with:${target.with}` : `room:${target.roomId}`;
  const [chat, setChat] = useState<Chat | null>(null);
  useEffect(() => {
    if (!client || key === null || target === null) return;
    const opened = client.openChat(target);
    setChat(opened);
    return () => {
      opened.close();
      setChat(null);
    };
    // The key names the target (the object may be new on every render).
  }, [client, key]);
  const state = useWatchable(chat?.state, emptyChatState);
  return useMemo(
    () => ({
      ...state,
      chat,
      send: (body: string, options?: SendOptions) =>
        chat ? chat.send(body, options) : Promise.reject(new Error('chatwire: the chat is not open yet')),
      loadOlder: () => (chat ? chat.loadOlder() : Promise.resolve()),
      markVisible: (ids: readonly string[]) => chat?.markVisible(ids),
      edit: (id: string, body: string) => (chat ? chat.edit(id, body) : notOpen()),
      remove: (id: string) => (chat ? chat.remove(id) : notOpen()),
      react: (id: string, emoji: string, on: boolean) => (chat ? chat.react(id, emoji, on) : notOpen()),
    }),
    [state, chat],
  );
}

function notOpen(): Promise<never> {
  return Promise.reject(new Error('chatwire: the chat is not open yet'));
}

const emptyConversations: ConversationsState = { conversations: [], hasMore: false, loading: false, unread: 0 };

export interface UseConversationsResult extends ConversationsState {
  /** The open list, null until the client exists. */
  list: Conversations | null;
  loadMore(): Promise<void>;
  refresh(): Promise<void>;
}

/**
 * useConversations opens the user's conversation list while the component is
 * mounted, kept live by events (new messages, unread counts cleared on every
 * device, edits, deletes and reactions of last messages), and closes it on
 * unmount.
 */
export function useConversations(): UseConversationsResult {
  const client = useChatwire();
  const [list, setList] = useState<Conversations | null>(null);
  useEffect(() => {
    if (!client) return;
    const opened = client.conversations();
    setList(opened);
    return () => {
      opened.close();
      setList(null);
    };
  }, [client]);
  const state = useWatchable(list?.state, emptyConversations);
  return useMemo(
    () => ({
      ...state,
      list,
      loadMore: () => (list ? list.loadMore() : Promise.resolve()),
      refresh: () => (list ? list.refresh() : Promise.resolve()),
    }),
    [state, list],
  );
}

export interface UseTypingResult {
  /** Other users typing in the chat now. */
  typing: readonly TypingUser[];
  /** Call on every change of the message input. */
  keystroke(): void;
  /** Call when the input loses focus. */
  stop(): void;
}

/** useTyping drives the chat's typing indicator both ways. */
export function useTyping(chat: Chat | null): UseTypingResult {
  const state = useWatchable(chat?.state, emptyChatState);
  return useMemo(
    () => ({
      typing: state.typing,
      keystroke: () => chat?.keystroke(),
      stop: () => chat?.stopTyping(),
    }),
    [state.typing, chat],
  );
}

/**
 * usePresence returns the known statuses and loads those of userIds not known
 * yet (GET /api/presence); later changes arrive as `user-status-change`.
 */
export function usePresence(userIds: readonly string[]): PresenceSnapshot {
  const client = useChatwire();
  const ids = userIds.join(',');
  useEffect(() => {
    if (!client || ids === '') return;
    client.presence.load(ids.split(',')).catch(() => {
      // First paint without statuses; events will fill them in.
    });
  }, [client, ids]);
  return useWatchable(client?.presence.statuses, emptyPresence);
}

const emptyPresence: PresenceSnapshot = {};
const emptyOutbox: readonly QueuedMessage[] = [];

/** useOutbox lists messages written but not yet accepted by the server (offline, retrying). */
export function useOutbox(): readonly QueuedMessage[] {
  return useWatchable(useChatwire()?.outbox, emptyOutbox);
}

/** useChatwireEvent calls listener for every chatwire event the client receives. */
export function useChatwireEvent(listener: (event: ChannelEvent) => void): void {
  const client = useChatwire();
  const latest = useRef(listener);
  latest.current = listener;
  useEffect(() => (client ? client.onEvent((event) => latest.current(event)) : undefined), [client]);
}
