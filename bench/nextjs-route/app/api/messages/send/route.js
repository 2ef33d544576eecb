// The route a Next.js developer writes instead of chatwire: verify the JWT,
// INSERT the message, pusher.trigger it. No event log, no outbox, no rate
// limit, no notification, no idempotency beyond a unique key. chatbench
// measures chatwire against it (bench/nextjs-route/README.md).
//
// Environment: DATABASE_URL, AUTH_JWT_SECRET, PUSHER_APP_ID, PUSHER_KEY,
// PUSHER_SECRET, PUSHER_HOST (host:port of a Pusher-protocol server over plain
// HTTP on loopback), PG_POOL_MAX (default 10).
import jwt from "jsonwebtoken";
import pg from "pg";
import Pusher from "pusher";

const pool = new pg.Pool({
  connectionString: process.env.DATABASE_URL,
  max: Number(process.env.PG_POOL_MAX || 10),
});

const [host, port] = (process.env.PUSHER_HOST || "").split(":");
const pusher = new Pusher({
  appId: process.env.PUSHER_APP_ID,
  key: process.env.PUSHER_KEY,
  secret: process.env.PUSHER_SECRET,
  host,
  port,
  useTLS: false,
});

// The channel both users of a chat subscribe to, as chatwire names it (the
// ids chatbench uses are plain, so they need no encoding).
function chatChannel(a, b) {
  return a < b ? `private-chat-${a}-${b}` : `private-chat-${b}-${a}`;
}

export async function POST(request) {
  let userId;
  try {
    const token = (request.headers.get("authorization") || "").replace(/^Bearer /, "");
    userId = jwt.verify(token, process.env.AUTH_JWT_SECRET, { algorithms: ["HS256"] }).sub;
  } catch {
    return Response.json({ error: "unauthorized" }, { status: 401 });
  }
  const { to, body, client_id } = await request.json();
  if (typeof to !== "string" || typeof body !== "string" || !to || !body.trim() || to === userId) {
    return Response.json({ error: "to and body are required" }, { status: 400 });
  }
  const { rows } = await pool.query(
    `INSERT INTO next_messages (client_id, sender_id, receiver_id, body)
     VALUES ($1, $2, $3, $4)
     RETURNING id, client_id, sender_id, receiver_id, body, created_at`,
    [client_id ?? null, userId, to, body.trim()],
  );
  const message = rows[0];
  await pusher.trigger(chatChannel(userId, to), "new-message", message);
  return Response.json({ message, published: true }, { status: 201 });
}
