// Messages change after they are sent (edits, deletes, reactions), and the
// changes can arrive in any order: over Pusher before the poll that carries
// the message itself, twice, or after a newer change. Each change carries the
// message's version; whatever the order, the copy with the higher version
// wins. These functions are that rule, for the chat timeline and the
// conversation list alike.

import type { Message, MessageDeleted, ReactionChanged, ReactionCount } from './types.js';

/** versionOf is the message's version; 1 for a server that does not send one. */
export function versionOf(m: { version?: number | undefined }): number {
  return m.version ?? 1;
}

/**
 * newer returns whichever copy of the message is newer: incoming when its
 * version is higher, existing otherwise. A read_at known to either stays.
 */
export function newer<T extends Message>(existing: T, incoming: Message): T | Message {
  if (versionOf(incoming) <= versionOf(existing)) {
    if (existing.read_at === null && incoming.read_at !== null) return { ...existing, read_at: incoming.read_at };
    return existing;
  }
  return { ...incoming, read_at: existing.read_at ?? incoming.read_at };
}

/** deleted applies a `message-deleted` event, unless the message is already newer. */
export function deleted<T extends Message>(m: T, d: MessageDeleted): T {
  if (d.version <= versionOf(m)) return m;
  return { ...m, body: '', attachment: null, deleted_at: d.deleted_at, version: d.version };
}

/** reacted applies a `reaction-changed` event, unless the message is already newer. */
export function reacted<T extends Message>(m: T, r: ReactionChanged): T {
  // Without a version (an old server), apply it: reactions are the whole summary.
  if (r.version !== undefined && r.version <= versionOf(m)) return m;
  return { ...m, reactions: r.reactions, ...(r.version !== undefined ? { version: r.version } : {}) };
}

/** toggleReaction is the summary after user adds (on) or takes back an emoji: the optimistic guess. */
export function toggleReaction(reactions: readonly ReactionCount[], emoji: string, user: string, on: boolean): ReactionCount[] {
  const out = reactions.map((r) => ({ ...r, users: [...r.users] }));
  const i = out.findIndex((r) => r.emoji === emoji);
  const has = i >= 0 && out[i].users.includes(user);
  if (on && !has) {
    if (i < 0) out.push({ emoji, count: 1, users: [user] });
    else out[i] = { emoji, count: out[i].count + 1, users: out[i].users.length < 10 ? [...out[i].users, user] : out[i].users };
  } else if (!on && i >= 0 && (has || out[i].count > 0)) {
    if (!has) return out; // not ours to take back (or not among the 10 named): leave it to the server
    const count = out[i].count - 1;
    if (count === 0) out.splice(i, 1);
    else out[i] = { emoji, count, users: out[i].users.filter((u) => u !== user) };
  }
  return out;
}
