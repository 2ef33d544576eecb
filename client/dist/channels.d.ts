/**
 * enc writes an id into a channel name: every UTF-8 byte outside [A-Za-z0-9_]
 * becomes '=' and two upper-case hex digits, so `auth0|64f1` → `auth0=7C64f1`.
 */
export declare function enc(id: string): string;
/**
 * chatChannel is the channel of the 1:1 chat between a and b. Both users get
 * the same name because the encoded ids are ordered; they are ASCII, so
 * JavaScript's string order is the byte order Go uses.
 */
export declare function chatChannel(a: string, b: string): string;
/** roomChannel is the channel of a room. */
export declare function roomChannel(roomId: string): string;
/** userChannel is a user's own channel: notifications and contacts' status changes. */
export declare function userChannel(userId: string): string;
/** presenceChannel is the channel whose occupancy is the user's online status. */
export declare function presenceChannel(userId: string): string;
