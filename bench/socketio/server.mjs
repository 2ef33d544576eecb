// The peer chatbench measures chatwire against: an idiomatic Socket.IO + pg
// chat server, the custom server.js design chatwire's users are leaving. It
// does the same job as POST /api/messages/send plus Pusher: authenticate
// (JWT in the handshake), save the message to Postgres (its own table), emit
// new-message to the receiver's room, and acknowledge the sender.
//
// Environment: DATABASE_URL, AUTH_JWT_SECRET, PORT (0 picks a free port),
// PG_POOL_MAX (default 10, pg's own default). It listens on 127.0.0.1 only
// and prints one line, {"listening":PORT}, once it accepts connections.
import http from "node:http";
import jwt from "jsonwebtoken";
import pg from "pg";
import { Server } from "socket.io";

const secret = process.env.AUTH_JWT_SECRET;
if (!process.env.DATABASE_URL || !secret) {
  console.error("server.mjs: DATABASE_URL and AUTH_JWT_SECRET are required");
  process.exit(2);
}

const pool = new pg.Pool({
  connectionString: process.env.DATABASE_URL,
  max: Number(process.env.PG_POOL_MAX || 10),
});

await pool.query(`CREATE TABLE IF NOT EXISTS sio_messages (
  id         uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  client_id  text,
  sender_id  text NOT NULL,
  receiver_id text NOT NULL,
  body       text NOT NULL,
  created_at timestamptz NOT NULL DEFAULT now(),
  UNIQUE (sender_id, client_id)
)`);

const httpServer = http.createServer();
const io = new Server(httpServer, { serveClient: false });

// The token travels in the handshake's auth payload: io({ auth: { token } }).
io.use((socket, next) => {
  try {
    const claims = jwt.verify(String(socket.handshake.auth?.token ?? ""), secret, {
      algorithms: ["HS256"],
    });
    socket.data.userId = claims.sub;
    next();
  } catch (err) {
    next(new Error("unauthorized: " + err.message));
  }
});

io.on("connection", (socket) => {
  socket.join("user:" + socket.data.userId);

  socket.on("send", async (msg, ack) => {
    if (typeof ack !== "function") return;
    const to = typeof msg?.to === "string" ? msg.to : "";
    const body = typeof msg?.body === "string" ? msg.body.trim() : "";
    if (!to || !body || to === socket.data.userId) {
      ack({ error: "to and body are required" });
      return;
    }
    try {
      const { rows } = await pool.query(
        `INSERT INTO sio_messages (client_id, sender_id, receiver_id, body)
         VALUES ($1, $2, $3, $4)
         RETURNING id, client_id, sender_id, receiver_id, body, created_at`,
        [msg.client_id ?? null, socket.data.userId, to, body],
      );
      const message = rows[0];
      io.to("user:" + to).emit("new-message", message);
      ack({ message });
    } catch (err) {
      ack({ error: err.message });
    }
  });
});

httpServer.listen(Number(process.env.PORT || 0), "127.0.0.1", () => {
  console.log(JSON.stringify({ listening: httpServer.address().port }));
});

for (const signal of ["SIGINT", "SIGTERM"]) {
  process.on(signal, () => {
    io.close();
    pool.end().finally(() => process.exit(0));
  });
}
