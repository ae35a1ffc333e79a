// Hocuspocus as its documentation starts it: the Server with its defaults (documents in
// memory, broadcasts merged per event-loop turn, flushDelay 0), no extensions. Clients speak
// Hocuspocus' own protocol (document name before every message, an auth message first).
//
//   HOST=127.0.0.1 PORT=1234 node bench/node/hocuspocus.mjs
import { Server } from "@hocuspocus/server";

const server = new Server({
  address: process.env.HOST || "127.0.0.1",
  port: Number(process.env.PORT || 1234),
  quiet: true,
});

await server.listen();
