#!/usr/bin/env node
/** `npx irisql`, `bunx irisql`, `deno run -A npm:irisql`: see src/cli/main.ts. */
import process from "node:process";
import { main } from "../src/cli/main.ts";

const code = await main(process.argv.slice(2), {
  out: (line) => console.log(line),
  err: (line) => console.error(line),
  env: (name) => process.env[name],
});
process.exitCode = code;
