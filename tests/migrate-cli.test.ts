/**
 * The irisql command line (src/cli/main.ts, in process): exit codes, progress lines, and the
 * password never printed, on PostgreSQL with a password in the URL (the test server trusts
 * every login, so the password is accepted and ignored).
 */
import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from "node:fs/promises";
import { join, resolve } from "node:path";
import { tmpdir } from "node:os";
import { main } from "../src/cli/main.ts";
import { createEngine } from "../mod.ts";
import { writeSchemaModule } from "./fixtures/migrations/schema-file.ts";
import { ownPgSchema, uniqueName } from "./helpers.ts";

const SECRET = "Cl1 S3cr3t/pw@x";
const pgSchema = ownPgSchema("cli");
const url = pgSchema.url.replace("postgres://postgres@", `postgres://postgres:${encodeURIComponent(SECRET)}@`);
const ROOT = resolve(import.meta.dirname ?? new URL(".", import.meta.url).pathname, "..");

async function run(args: string[], env: Record<string, string> = {}) {
  const lines: string[] = [];
  const code = await main(args, { out: (l) => lines.push(l), err: (l) => lines.push(l), env: (n) => env[n] });
  const text = lines.join("\n");
  for (const form of [SECRET, encodeURIComponent(SECRET), "S3cr3t"]) {
    assert.ok(!text.includes(form), `the password was printed:\n${text}`);
  }
  return { code, text };
}

describe("irisql command line", () => {
  let dir: string;
  before(async () => {
    await pgSchema.create();
    dir = await mkdtemp(join(tmpdir(), "irisql-cli-"));
  });
  after(async () => {
    await pgSchema.drop();
    await rm(dir, { recursive: true, force: true });
  });

  it("--help exits 0, no command or a wrong one exits 2", async () => {
    assert.equal((await run(["--help"])).code, 0);
    assert.equal((await run([])).code, 2);
    const bad = await run(["frobnicate"]);
    assert.equal(bad.code, 2);
    assert.match(bad.text, /unknown command frobnicate/);
    const noUrl = await run(["migrate", "status"]);
    assert.equal(noUrl.code, 2);
    assert.match(noUrl.text, /--url or set DATABASE_URL/);
  });

  it("generate, migrate --dry-run, migrate, status; DATABASE_URL or --url", async () => {
    const folder = join(dir, "m");
    const schema = await writeSchemaModule(dir, uniqueName("c"));
    const gen = await run([
      "generate",
      "--schema",
      schema,
      "--folder",
      folder,
      "--name",
      "init",
    ], {
      DATABASE_URL: url,
    });
    assert.equal(gen.code, 0, gen.text);
    assert.match(gen.text, /wrote .*_init\.sql \(2 statements\)/);
    assert.match(gen.text, /postgres:\*\*\*@/);
    const dry = await run(["migrate", "--dry-run", "--folder", folder, "--url", url]);
    assert.equal(dry.code, 0, dry.text);
    assert.match(dry.text, /CREATE TABLE/);
    const status0 = await run(["migrate", "status", "--folder", folder, "--url", url]);
    assert.match(status0.text, /pending/);
    const up = await run(["migrate", "up", "--folder", folder, "--url", url]);
    assert.equal(up.code, 0, up.text);
    assert.match(up.text, /applying .*_init\.sql \(2 statements\)\n.*applied/);
    const status = await run(["migrate", "status", "--folder", folder], { DATABASE_URL: url });
    assert.equal(status.code, 0);
    assert.match(status.text, /applied +\d+_init\.sql/);
    const again = await run([
      "generate",
      "--schema",
      schema,
      "--folder",
      folder,
    ], {
      DATABASE_URL: url,
    });
    assert.match(again.text, /no changes/);
    assert.equal((await readdir(folder)).length, 1);
  });

  it("pull names every column it cannot express; --ignore leaves their tables out of pull and generate", async () => {
    const p = uniqueName("ig");
    const e = createEngine(url);
    try {
      await e.execute(`CREATE TABLE "${pgSchema.name}"."${p}_kept" (id integer PRIMARY KEY, note text)`);
      await e.execute(`CREATE TABLE "${pgSchema.name}"."${p}_odd" (id integer PRIMARY KEY, a tsvector, b inet)`);
    } finally {
      await e.dispose();
    }
    const stopped = await run(["pull", "--url", url]);
    assert.equal(stopped.code, 1, stopped.text);
    assert.match(stopped.text, new RegExp(`${p}_odd\\.a has type tsvector[^]*${p}_odd\\.b has type inet`));
    assert.match(stopped.text, /--ignore/);
    await mkdir(join(ROOT, "test-output"), { recursive: true });
    const out = join(ROOT, "test-output", `${p}_pulled.ts`);
    try {
      const pulled = await run([
        "pull",
        "--url",
        url,
        "--out",
        out,
        "--import-from",
        join(ROOT, "mod.ts"),
        "--ignore",
        `${p}_odd`,
      ]);
      assert.equal(pulled.code, 0, pulled.text);
      const text = await readFile(out, "utf8");
      assert.match(text, new RegExp(`table\\("${p}_kept"`));
      assert.doesNotMatch(text, new RegExp(`${p}_odd`));
      const gen = await run([
        "generate",
        "--url",
        url,
        "--schema",
        out,
        "--folder",
        join(dir, "ig"),
        "--ignore",
        `${p}_odd`,
      ]);
      assert.equal(gen.code, 0, gen.text);
      assert.match(gen.text, /no changes/);
    } finally {
      await rm(out, { force: true });
    }
  });

  it("a failing migration exits 1 with the server's reason", async () => {
    const folder = join(dir, "bad");
    await import("node:fs/promises").then((fs) => fs.mkdir(folder));
    await writeFile(join(folder, "20250101000000_bad.sql"), "SELECT * FROM no_such_table_here");
    const r = await run(["migrate", "--folder", folder, "--url", url, "--table", uniqueName("h")]);
    assert.equal(r.code, 1);
    assert.match(r.text, /MigrationError: Migration 20250101000000_bad\.sql failed and was rolled back/);
  });

  it("a password that is part of the user name (_SYSTEM / SYS) is blanked everywhere but in the name", async () => {
    const lines: string[] = [];
    const pw = "SYS";
    const code = await main(["migrate", "status", "--folder", dir, "--url", `postgres://_SYSTEM:${pw}@127.0.0.1:1/x`], {
      out: (l) => lines.push(l),
      err: (l) => lines.push(l),
      env: () => undefined,
    });
    const text = lines.join("\n");
    assert.equal(code, 1);
    assert.match(text, /postgres:\/\/_SYSTEM:\*\*\*@127\.0\.0\.1:1\/x/, text);
    assert.doesNotMatch(text.replaceAll("_SYSTEM", ""), /SYS/, text);
  });

  it("an unreachable server exits 1 without the password", async () => {
    const r = await run([
      "migrate",
      "status",
      "--folder",
      dir,
      "--url",
      `postgres://u:${encodeURIComponent(SECRET)}@127.0.0.1:1/x`,
    ]);
    assert.equal(r.code, 1);
  });
});
