/**
 * The type-level test of find()/nearest() narrowing: `deno check` must accept
 * tests/types/inputs.ts (every exact-type expectation holds, every
 * `@ts-expect-error` there is a real error).
 */
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { fileURLToPath } from "node:url";

const root = fileURLToPath(new URL("../", import.meta.url));

describe("find() columns and nearest() vector columns at the type level (deno check)", { timeout: 120_000 }, () => {
  it("accepts every expectation in tests/types/inputs.ts", { timeout: 120_000 }, async () => {
    const { code, output } = await new Promise<{ code: number; output: string }>((resolve) => {
      execFile(
        root + "node_modules/.bin/deno",
        ["check", "--quiet", "tests/types/inputs.ts"],
        { cwd: root, env: { ...process.env, NO_COLOR: "1" }, maxBuffer: 16 * 1024 * 1024 },
        (error, stdout, stderr) => {
          resolve({ code: error ? (typeof error.code === "number" ? error.code : 1) : 0, output: stdout + stderr });
        },
      );
    });
    assert.equal(code, 0, `deno check tests/types/inputs.ts failed:\n${output}`);
  });
});
