/**
 * The README's quick start is examples/quickstart.ts, a complete program:
 *   - the README shows exactly that file;
 *   - it runs on the runtime running this file (scripts/test.mjs runs it under
 *     Node, Bun and Deno, so one `npm test` covers all three), on PGlite, and
 *     prints what its comments say it prints;
 *   - under strict flags (strict, noUnusedLocals, noUnusedParameters,
 *     noUncheckedIndexedAccess, exactOptionalPropertyTypes) it type-checks with
 *     tsc against the built package's types (examples/tsconfig.json; the Node
 *     pass) and with deno check (the Deno pass).
 * The quick start imports "irisql" as a user would: dist/ through package.json
 * "exports" on Node and Bun, mod.ts through deno.json's import map on Deno.
 */
import { before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import process from "node:process";
import { ensureBuilt, REPO_ROOT, RUNTIME } from "./fixtures/hono-server.ts";

const FILE = join(REPO_ROOT, "examples/quickstart.ts");
const EXPECTED = ["1 + 2 = 3", "IRIS vectors: 1.000", "pgvector: 0.994", "published: IRIS vectors"];

function run(
  cmd: string,
  args: string[],
  env: Record<string, string> = {},
): Promise<{ code: number | null; out: string }> {
  return new Promise((resolve) => {
    const child = spawn(cmd, args, {
      cwd: REPO_ROOT,
      env: { ...process.env, NO_COLOR: "1", ...env },
      stdio: ["ignore", "pipe", "pipe"],
    });
    let out = "";
    child.stdout!.on("data", (d) => (out += d));
    child.stderr!.on("data", (d) => (out += d));
    child.on("exit", (code) => resolve({ code, out }));
  });
}

/** How a user runs it on this runtime (deno: the same command as `deno task quickstart`). */
function command(): { cmd: string; args: string[] } {
  switch (RUNTIME) {
    case "deno":
      return { cmd: process.execPath, args: ["run", "--allow-env", "--allow-read", FILE] };
    case "bun":
      return { cmd: process.execPath, args: [FILE] };
    case "node":
      return { cmd: process.execPath, args: ["--import", "tsx", FILE] };
  }
}

describe(`quick start (examples/quickstart.ts) on ${RUNTIME}`, () => {
  before(async () => {
    if (RUNTIME !== "deno") await ensureBuilt();
  });

  it("is what the README shows, line for line", () => {
    const readme = readFileSync(join(REPO_ROOT, "README.md"), "utf8");
    const m = /<!-- quickstart:[^\n]*-->\n\n```ts\n([\s\S]*?)```\n/.exec(readme);
    assert.ok(m, "README.md has no quick start block after its <!-- quickstart: … --> marker");
    assert.equal(m[1], readFileSync(FILE, "utf8"));
  });

  it("says in its comments what it prints", () => {
    const source = readFileSync(FILE, "utf8");
    for (const line of EXPECTED) assert.ok(source.includes(`// ${line}`), `no comment showing "${line}"`);
  });

  it("runs on PGlite and prints exactly that", { timeout: 120_000 }, async () => {
    const { cmd, args } = command();
    const r = await run(cmd, args);
    assert.equal(r.code, 0, r.out);
    assert.deepEqual(r.out.trimEnd().split("\n"), EXPECTED);
  });

  if (RUNTIME === "node") {
    it("type-checks with tsc under strict flags, against the built package's types", { timeout: 120_000 }, async () => {
      const tsc = join(REPO_ROOT, "node_modules/typescript/bin/tsc");
      const r = await run(process.execPath, [tsc, "-p", "examples/tsconfig.json"]);
      assert.equal(r.code, 0, r.out);
      const config = JSON.parse(readFileSync(join(REPO_ROOT, "examples/tsconfig.json"), "utf8")).compilerOptions;
      for (const flag of ["strict", "noUnusedLocals", "noUncheckedIndexedAccess", "exactOptionalPropertyTypes"]) {
        assert.equal(config[flag], true, `examples/tsconfig.json must set ${flag}`);
      }
    });
  }

  if (RUNTIME === "deno") {
    it("type-checks with deno check under strict flags", { timeout: 120_000 }, async () => {
      // deno check reports every local module it reaches, and irisql's own sources (src/) do not yet compile
      // under noUncheckedIndexedAccess and exactOptionalPropertyTypes. A user importing irisql from JSR or npm
      // does not see those (remote and npm modules are not reported); here only the quick start's own lines count.
      const base = JSON.parse(readFileSync(join(REPO_ROOT, "deno.json"), "utf8"));
      const strict = {
        imports: base.imports,
        nodeModulesDir: base.nodeModulesDir,
        compilerOptions: {
          ...base.compilerOptions,
          strict: true,
          noUnusedLocals: true,
          noUnusedParameters: true,
          noUncheckedIndexedAccess: true,
          exactOptionalPropertyTypes: true,
        },
      };
      const config = join(REPO_ROOT, `deno.strict-${process.pid}.json`);
      writeFileSync(config, JSON.stringify(strict));
      try {
        const r = await run(process.execPath, ["check", "--config", config, FILE]);
        const mine = r.out.split("\n").filter((l) => l.includes("examples/quickstart.ts:"));
        assert.deepEqual(mine, [], r.out);
        // Anything else must be a type error in irisql's sources, not a failure to check at all.
        if (r.code !== 0) assert.match(r.out, /^(TS\d+|error: Type checking failed)/m, r.out);
      } finally {
        rmSync(config, { force: true });
      }
    });
  }
});
