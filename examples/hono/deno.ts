/**
 * Deno entry point: `deno task example` or `npm run example:deno`.
 */
import { startExample } from "./bootstrap.ts";

const example = await startExample().catch((error) => {
  console.error(`Could not start: ${error instanceof Error ? error.message : error}`);
  Deno.exit(1);
});

const server = Deno.serve({
  port: example.port,
  hostname: example.hostname,
  onListen: ({ port }) => example.announce(`http://${example.hostname}:${port}`),
}, example.app.fetch);

const stop = async () => {
  await server.shutdown();
  await example.close();
  console.log("Stopped.");
  Deno.exit(0);
};
Deno.addSignalListener("SIGINT", stop);
Deno.addSignalListener("SIGTERM", stop);
