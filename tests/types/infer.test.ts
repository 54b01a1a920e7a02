/**
 * The type-level test: `deno check` must accept tests/types/infer.ts (every
 * `@ts-expect-error` there is a real error, every exact-type expectation
 * holds) and must reject tests/types/infer-must-fail.ts with exactly the
 * errors a user would see without the directives.
 */
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { fileURLToPath } from "node:url";

const root = fileURLToPath(new URL("../../", import.meta.url));
const deno = root + "node_modules/.bin/deno";

function denoCheck(file: string): Promise<{ code: number; output: string }> {
  return new Promise((resolve) => {
    execFile(
      deno,
      ["check", "--quiet", file],
      { cwd: root, env: { ...process.env, NO_COLOR: "1" }, maxBuffer: 16 * 1024 * 1024 },
      (error, stdout, stderr) => {
        const code = error ? (typeof error.code === "number" ? error.code : 1) : 0;
        resolve({ code, output: stdout + stderr });
      },
    );
  });
}

describe("InferRow / InferInsert at the type level (deno check)", { timeout: 120_000 }, () => {
  it("accepts every expectation in tests/types/infer.ts", { timeout: 120_000 }, async () => {
    const { code, output } = await denoCheck("tests/types/infer.ts");
    assert.equal(code, 0, `deno check tests/types/infer.ts failed:\n${output}`);
  });

  it("rejects the same mistakes without @ts-expect-error, each with the error a user reads", {
    timeout: 120_000,
  }, async () => {
    const { code, output } = await denoCheck("tests/types/infer-must-fail.ts");
    assert.notEqual(code, 0, "deno check accepted code that must not compile");
    const at = (line: number) => `tests/types/infer-must-fail.ts:${line}:`;
    const expected: [string, RegExp, number][] = [
      ["TS2741", /Property 'title' is missing in type '\{ small: number; slug: string; \}'/, 15],
      ["TS2322", /Type 'null' is not assignable to type 'string'/, 16],
      ["TS2322", /Type 'string \| null' is not assignable to type 'string'/, 17],
      ["TS2353", /Object literal may only specify known properties, and 'nope' does not exist in type 'Where</, 18],
    ];
    const blocks = output.split(/\n(?=TS\d+ \[ERROR\])/).filter((b) => /^TS\d+ \[ERROR\]/.test(b));
    assert.equal(blocks.length, expected.length, `expected ${expected.length} type errors, got:\n${output}`);
    for (const [i, [ts, message, line]] of expected.entries()) {
      assert.ok(blocks[i].startsWith(ts + " [ERROR]"), `error ${i + 1} should be ${ts}:\n${blocks[i]}`);
      assert.match(blocks[i], message);
      assert.ok(blocks[i].includes(at(line)), `error ${i + 1} should point at line ${line}:\n${blocks[i]}`);
    }
    assert.match(output, /Found 4 errors\./);
  });
});
