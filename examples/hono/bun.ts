/**
 * Bun entry point: `npm run example:bun`.
 */
import process from "node:process";
import { startExample } from "./bootstrap.ts";

declare const Bun: {
  serve(options: { fetch: (req: Request) => Response | Promise<Response>; port: number; hostname: string }): {
    port: number;
    stop(closeActiveConnections?: boolean): Promise<void>;
  };
};

const example = await startExample().catch((error) => {
  console.error(`Could not start: ${error instanceof Error ? error.message : error}`);
  process.exit(1);
});

const server = Bun.serve({ fetch: example.app.fetch, port: example.port, hostname: example.hostname });
example.announce(`http://${example.hostname}:${server.port}`);

const stop = async () => {
  await server.stop();
  await example.close();
  console.log("Stopped.");
  process.exit(0);
};
process.once("SIGINT", stop);
process.once("SIGTERM", stop);
