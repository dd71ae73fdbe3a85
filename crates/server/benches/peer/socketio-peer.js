// The Socket.io peer of the fan-out bench (crates/server/benches/peer_fanout.rs): a server
// shaped like the seed's stack. A route stores the ticket, then emits the seed's
// `emitGroupNotification('admins', …)` to the admins' room. Like the seed, it checks no
// audience per event; unlike it, it keeps tickets in memory (no MongoDB, so no disk write and
// no fsync): a peer that does less work than ours, which is what makes the ratio fair to it.
//
// Usage: node socketio-peer.js PORT (0 picks one); prints "listening on http://127.0.0.1:N".

const http = require("node:http");
const { Server } = require("socket.io");

const tickets = [];
let counter = 0;

function emitGroupNotification(io, group, notification) {
  io.to(group).emit("notification", notification);
}

const server = http.createServer((req, res) => {
  if (req.method !== "POST" || req.url !== "/api/client/requests/intervention") {
    res.writeHead(404).end();
    return;
  }
  let body = "";
  req.on("data", (chunk) => (body += chunk));
  req.on("end", () => {
    let input;
    try {
      input = JSON.parse(body);
    } catch {
      res.writeHead(400, { "content-type": "application/json" });
      res.end(JSON.stringify({ error: "JSON invalide" }));
      return;
    }
    counter += 1;
    const now = new Date();
    const ticket = {
      _id: `${now.getTime().toString(16)}${counter.toString(16).padStart(8, "0")}`,
      ticketNumber: `INT-${now.getFullYear()}${String(now.getMonth() + 1).padStart(2, "0")}-${String(counter).padStart(4, "0")}`,
      type: input.type,
      title: input.title,
      description: input.description,
      site: input.site,
      status: "open",
      priority: input.type === "urgent" ? "urgent" : "medium",
      createdAt: now.toISOString(),
    };
    tickets.push(ticket);
    emitGroupNotification(io, "admins", {
      type: "warning",
      title: "🚨 Intervention Urgente",
      message: `Client - ${ticket.title}`,
      data: { ticketId: ticket._id },
    });
    res.writeHead(201, { "content-type": "application/json" });
    res.end(JSON.stringify({ ticket }));
  });
});

const io = new Server(server, { transports: ["websocket"] });
io.on("connection", (socket) => {
  socket.join("admins");
  // Tells the harness the socket is in the room: no event can be missed after this.
  socket.emit("ready");
});

server.listen(Number(process.argv[2] || 0), "127.0.0.1", () => {
  console.log(`listening on http://127.0.0.1:${server.address().port}`);
});
