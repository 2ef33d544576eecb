import { type ReactNode } from 'react';
import type { Chat, ChatState } from './chat.js';
import { type ChatwireClient, type ClientOptions } from './client.js';
import type { Conversations, ConversationsState } from './conversations.js';
import type { PresenceSnapshot } from './presence.js';
import type { QueuedMessage } from './queue.js';
import type { ChannelEvent, ChatTarget, ConnectionStatus, Message, ReactionCount, TypingUser } from './types.js';
import type { SendOptions } from './chat.js';
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
export declare function ChatwireProvider({ options, children }: ChatwireProviderProps): import("react").FunctionComponentElement<import("react").ProviderProps<ChatwireClient | null>>;
/** useChatwire is the provider's client, or null while signed out or before mount. */
export declare function useChatwire(): ChatwireClient | null;
/** useConnectionStatus is `connected`, `connecting`, `polling` or `offline`. */
export declare function useConnectionStatus(): ConnectionStatus;
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
export declare function useChat(target: ChatTarget | null): UseChatResult;
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
export declare function useConversations(): UseConversationsResult;
export interface UseTypingResult {
    /** Other users typing in the chat now. */
    typing: readonly TypingUser[];
    /** Call on every change of the message input. */
    keystroke(): void;
    /** Call when the input loses focus. */
    stop(): void;
}
/** useTyping drives the chat's typing indicator both ways. */
export declare function useTyping(chat: Chat | null): UseTypingResult;
/**
 * usePresence returns the known statuses and loads those of userIds not known
 * yet (GET /api/presence); later changes arrive as `user-status-change`.
 */
export declare function usePresence(userIds: readonly string[]): PresenceSnapshot;
/** useOutbox lists messages written but not yet accepted by the server (offline, retrying). */
export declare function useOutbox(): readonly QueuedMessage[];
/** useChatwireEvent calls listener for every chatwire event the client receives. */
export declare function useChatwireEvent(listener: (event: ChannelEvent) => void): void;
