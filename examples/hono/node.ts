/**
 * Node entry point: `npm run example:node` (tsx runs the TypeScript).
 */
import { serve } from "@hono/node-server";
import type { IncomingMessage, Server, ServerResponse } from "node:http";
import process from "node:process";
import { MAX_BODY_BYTES } from "./app.ts";
import { startExample } from "./bootstrap.ts";

const example = await startExample().catch((error) => {
  console.error(`Could not start: ${error instanceof Error ? error.message : error}`);
  process.exit(1);
});

const server = serve({ fetch: example.app.fetch, port: example.port, hostname: example.hostname }, (info) => {
  example.announce(`http://${example.hostname}:${info.port}`);
});

// "Expect: 100-continue": Node answers "100 Continue" by itself, the client sends its body, and a 413 for a body
// declared too large then closes the socket with the body still arriving, which the client may see as a connection
// reset instead of the 413. Refuse such a request before inviting the body; let every other one go on as usual.
(server as Server).on("checkContinue", (req: IncomingMessage, res: ServerResponse) => {
  if (Number(req.headers["content-length"] ?? 0) > MAX_BODY_BYTES) {
    const message = `The body is larger than ${MAX_BODY_BYTES} bytes`;
    res.writeHead(413, { "content-type": "application/json", connection: "close" });
    res.end(JSON.stringify({ error: { code: "payload_too_large", message } }));
    return;
  }
  res.writeContinue();
  server.emit("request", req, res);
});

const stop = () => {
  server.close();
  example.close().then(() => {
    console.log("Stopped.");
    process.exit(0);
  });
};
process.once("SIGINT", stop);
process.once("SIGTERM", stop);
