// Channel names, exactly as chatwire computes them (docs/API.md, "Channels").
// The Go side (lib/chat/channels.go) and these functions are checked against
// the same vectors: lib/chat/testdata/channels.json.
const utf8 = new TextEncoder();
const hexDigits = '0123456789ABCDEF';
function isPlainByte(c) {
    return ((c >= 0x61 && c <= 0x7a) || // a-z
        (c >= 0x41 && c <= 0x5a) || // A-Z
        (c >= 0x30 && c <= 0x39) || // 0-9
        c === 0x5f // _
    );
}
/**
 * enc writes an id into a channel name: every UTF-8 byte outside [A-Za-z0-9_]
 * becomes '=' and two upper-case hex digits, so `auth0|64f1` → `auth0=7C64f1`.
 */
export function enc(id) {
    let out = '';
    for (const c of utf8.encode(id)) {
        out += isPlainByte(c) ? String.fromCharCode(c) : '=' + hexDigits[c >> 4] + hexDigits[c & 0x0f];
    }
    return out;
}
/**
 * chatChannel is the channel of the 1:1 chat between a and b. Both users get
 * the same name because the encoded ids are ordered; they are ASCII, so
 * JavaScript's string order is the byte order Go uses.
 */
export function chatChannel(a, b) {
    let [x, y] = [enc(a), enc(b)];
    if (y < x)
        [x, y] = [y, x];
    return `private-chat-${x}-${y}`;
}
/** roomChannel is the channel of a room. */
export function roomChannel(roomId) {
    return `private-room-${enc(roomId)}`;
}
/** userChannel is a user's own channel: notifications and contacts' status changes. */
export function userChannel(userId) {
    return `private-user-${enc(userId)}`;
}
/** presenceChannel is the channel whose occupancy is the user's online status. */
export function presenceChannel(userId) {
    return `presence-user-${enc(userId)}`;
}
