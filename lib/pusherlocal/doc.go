// Package pusherlocal is a Pusher Channels protocol server for local
// development, end-to-end tests and benchmarks.
//
// It speaks the subset of Pusher Channels that chatwire depends on, well
// enough that the unmodified pusher-js client and
// github.com/pusher/pusher-http-go/v5 talk to it as if it were Pusher:
//
//   - WebSocket protocol 7 on /app/{key}: connection_established, ping/pong and
//     server-side idle detection, public, private- and presence- channels with
//     HMAC-SHA256 channel authorization, presence members tracked per user id,
//     client-* events on private and presence channels (10 per second per
//     connection, never echoed to the sender).
//   - The HTTP API under /apps/{app_id}/: events, batch_events, channels,
//     channels/{name} and channels/{name}/users, each request signature-checked
//     exactly as Pusher does (auth_key, auth_timestamp within 600 s,
//     auth_version 1.0, body_md5, auth_signature).
//   - Webhooks (channel_occupied, channel_vacated, member_added,
//     member_removed) signed with X-Pusher-Key and X-Pusher-Signature, sent by
//     one background worker with retries; member_removed is delayed
//     (Config.MemberRemovedDelay) and cancelled when the same user rejoins, so a
//     reloading browser tab does not flap its user offline.
//
// How errors reach clients, following Pusher's codes: an unknown app key
// (4001) or a missing, malformed or unsupported protocol version (4008, 4006,
// 4007) gets a pusher:error and a close with that code; an idle client that
// does not answer the server's pusher:ping is closed with 4201; a client too
// slow to read its queue is closed with 4100. A refused subscription (bad
// signature, invalid channel name, missing presence channel_data, encrypted
// channel) gets a pusher:subscription_error on that channel with
// {"type","error","status"}, which pusher-js emits on the channel. Frame-level
// mistakes (malformed JSON, unknown events, client events on public or
// unsubscribed channels, frames over Pusher's 10 KB) get a pusher:error and
// the connection stays open; rate-limited client events get code 4301.
// Connections over Config.MaxConnections get a pusher:error and a close with
// 4004 (Pusher's "over connection quota"); a subscription over
// Config.MaxChannelsPerConnection gets a pusher:subscription_error of type
// LimitReached with status 4004, and the connection stays open.
// Frames over 64 KB are cut by the WebSocket layer with close code 1009.
//
// Deliberately not supported, each refused with a clear error rather than
// half-implemented: private-encrypted- channels (subscribing answers a
// pusher:subscription_error; end-to-end encryption needs a master key this
// server has no use for), user authentication (pusher:signin) and
// server-to-user events, cache- channels, and the client_event webhook.
// It keeps all state in memory for one app; it is not meant for production.
package pusherlocal
