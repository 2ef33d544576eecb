import type { Message, MessageDeleted, ReactionChanged, ReactionCount } from './types.js';
/** versionOf is the message's version; 1 for a server that does not send one. */
export declare function versionOf(m: {
    version?: number | undefined;
}): number;
/**
 * newer returns whichever copy of the message is newer: incoming when its
 * version is higher, existing otherwise. A read_at known to either stays.
 */
export declare function newer<T extends Message>(existing: T, incoming: Message): T | Message;
/** deleted applies a `message-deleted` event, unless the message is already newer. */
export declare function deleted<T extends Message>(m: T, d: MessageDeleted): T;
/** reacted applies a `reaction-changed` event, unless the message is already newer. */
export declare function reacted<T extends Message>(m: T, r: ReactionChanged): T;
/** toggleReaction is the summary after user adds (on) or takes back an emoji: the optimistic guess. */
export declare function toggleReaction(reactions: readonly ReactionCount[], emoji: string, user: string, on: boolean): ReactionCount[];
