/**
 * Every `deno task` in deno.json runs, briefly: a bare `deno` inside a task
 * resolves to node_modules/.bin/deno, which `deno task` runs as an npm
 * script, so `deno task bench` once failed with a SyntaxError. Each task is
 * started the way a user starts it (`deno task <name>` in the repository) and
 * must do its job: the test task runs one small test file, the example serves
 * /health, the quick start prints its lines, check passes, and bench runs its
 * set-up and its clean-up entry. A task added to deno.json without a case here
 * fails the first test.
 *
 * Also: a Deno program outside the repository imports mod.ts by its path. Deno
 * applies only the importing project's configuration, so it names deno.json as
 * its import map (or links the folder); deno.json's "imports" supply postgres
 * and the PGlite packages (without them: `Import "postgres" not a dependency`).
 *
 * The tasks run Deno whatever runtime runs this file, so it runs them under
 * Node only (one pass of `npm test`); under Bun and Deno it only checks the list.
 */
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { type ChildProcess, spawn } from "node:child_process";
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import process from "node:process";
import { REPO_ROOT, RUNTIME } from "./fixtures/hono-server.ts";
import { PG_URL } from "./helpers.ts";

const DENO = join(REPO_ROOT, "node_modules/.bin/deno");
const TASKS = Object.keys(JSON.parse(readFileSync(join(REPO_ROOT, "deno.json"), "utf8")).tasks ?? {}).sort();
const COVERED = ["bench", "check", "example", "quickstart", "test"];

function task(
  args: string[],
  env: Record<string, string> = {},
): { child: ChildProcess; done: Promise<{ code: number | null; out: string }>; out(): string } {
  const child = spawn(DENO, ["task", ...args], {
    cwd: REPO_ROOT,
    env: { ...process.env, NO_COLOR: "1", ...env },
    stdio: ["ignore", "pipe", "pipe"],
    detached: true, // its own process group: the example's server is a grandchild
  });
  let out = "";
  child.stdout!.on("data", (d) => (out += d));
  child.stderr!.on("data", (d) => (out += d));
  const done = new Promise<{ code: number | null; out: string }>((resolve) =>
    child.on("exit", (code) => resolve({ code, out }))
  );
  return { child, done, out: () => out };
}

describe("deno task entries", () => {
  it("every task in deno.json has a case in this file", () => {
    assert.deepEqual(TASKS, COVERED);
  });

  if (RUNTIME !== "node") return;

  it("deno task test -- <file> runs that file on Deno", { timeout: 180_000 }, async () => {
    const r = await task(["test", "--", "tests/sql.test.ts"]).done;
    assert.equal(r.code, 0, r.out);
    assert.match(r.out, /^tests: [1-9]\d* passed, 0 failed$/m, r.out);
  });

  it("deno task quickstart prints the quick start's lines", { timeout: 120_000 }, async () => {
    const r = await task(["quickstart"]).done;
    assert.equal(r.code, 0, r.out);
    assert.match(r.out, /1 \+ 2 = 3\nIRIS vectors: 1\.000\npgvector: 0\.994\npublished: IRIS vectors\n/);
  });

  it("deno task example serves /health on PGlite", { timeout: 120_000 }, async () => {
    const t = task(["example"], { PORT: "0", DATABASE_URL: "pglite://memory" });
    try {
      const url = await new Promise<string>((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error("no URL within 90 s:\n" + t.out())), 90_000);
        t.child.stdout!.on("data", () => {
          const m = /listening on (http:\/\/\S+)/.exec(t.out());
          if (m) {
            clearTimeout(timer);
            resolve(m[1]!);
          }
        });
        t.done.then(() => reject(new Error("the task ended before listening:\n" + t.out())));
      });
      const health = await (await fetch(url + "/health")).json();
      assert.equal(health.status, "ok");
      assert.equal(health.backend, "pglite");
    } finally {
      process.kill(-t.child.pid!, "SIGTERM");
      await t.done;
    }
  });

  it("deno task check passes (deno check, lint, fmt --check)", { timeout: 180_000 }, async () => {
    const r = await task(["check"]).done;
    assert.equal(r.code, 0, r.out);
  });

  it("deno task bench runs (only its clean-up entry, to be brief)", { timeout: 180_000 }, async () => {
    const r = await task(["bench", "--filter", "close clients"], { IRISQL_BENCH_PG_URL: PG_URL }).done;
    assert.equal(r.code, 0, r.out);
    assert.match(r.out, /close clients, drop tables \(not a measurement\)/);
  });

  it("a program outside the repository imports mod.ts by path, with deno.json as its import map or linked", {
    timeout: 240_000,
  }, async () => {
    const dir = mkdtempSync(join(tmpdir(), "irisql-deno-path-"));
    try {
      const program = (from: string) =>
        `import { createEngine, text } from "${from}";\n` +
        `const engine = createEngine("pglite://memory");\n` +
        `const r = await engine.execute(text("SELECT :a::int * 6 AS n"), { a: 7 });\n` +
        `console.log("answer", r.scalar());\n` +
        `await engine.dispose();\n`;
      writeFileSync(join(dir, "by-path.ts"), program(join(REPO_ROOT, "mod.ts")));
      const run = (args: string[], cwd = dir) =>
        new Promise<{ code: number | null; out: string }>((resolve) => {
          const child = spawn(DENO, args, { cwd, env: { ...process.env, NO_COLOR: "1" } });
          let out = "";
          child.stdout.on("data", (d) => (out += d));
          child.stderr.on("data", (d) => (out += d));
          child.on("exit", (code) => resolve({ code, out }));
        });
      const flags = ["run", "--allow-env", "--allow-read", "--allow-net"];
      const mapped = await run([...flags, "--import-map", join(REPO_ROOT, "deno.json"), "by-path.ts"]);
      assert.equal(mapped.code, 0, mapped.out);
      assert.match(mapped.out, /^answer 42$/m);

      // Linked: the folder stands in for the JSR package, with its own import map.
      const linked = join(dir, "linked");
      mkdirSync(linked);
      writeFileSync(
        join(linked, "deno.json"),
        JSON.stringify({ imports: { "@irisql/irisql": "jsr:@irisql/irisql@^0.1.0" }, links: [REPO_ROOT] }),
      );
      writeFileSync(join(linked, "main.ts"), program("@irisql/irisql"));
      const viaLink = await run([...flags, "main.ts"], linked);
      assert.equal(viaLink.code, 0, viaLink.out);
      assert.match(viaLink.out, /^answer 42$/m);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
