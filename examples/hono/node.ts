/**
 * Node entry point: `npm run example:node` (tsx runs the TypeScript).
 */
import { serve } from "@hono/node-server";
import process from "node:process";
import { startExample } from "./bootstrap.ts";

const example = await startExample().catch((error) => {
  console.error(`Could not start: ${error instanceof Error ? error.message : error}`);
  process.exit(1);
});

const server = serve({ fetch: example.app.fetch, port: example.port, hostname: example.hostname }, (info) => {
  example.announce(`http://${example.hostname}:${info.port}`);
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
