/**
 * Vector columns where pgvector is missing (issue #16, "Install and first run"):
 *   - PostgreSQL (the test server at 127.0.0.1:5432 has no pgvector at all): createAll() with a
 *     vector column fails before creating anything, with an error that says CREATE EXTENSION
 *     vector and whether this user may run it; a raw statement that meets the missing type says
 *     CREATE EXTENSION vector too.
 *   - PGlite without @electric-sql/pglite-pgvector: plain tables work as ever; the first use of
 *     the vector type is a DriverMissingError naming the pinned install line, and createAll()
 *     leaves nothing behind. Without @electric-sql/pglite, the same pinned line.
 * The missing packages are really missing: a child process (this runtime) runs a copy of mod.ts
 * and src/ in a temporary directory whose node_modules links every package of the repository's
 * except the ones left out. Nothing of irisql is mocked.
 */
import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { cpSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import process from "node:process";
import postgres from "postgres";
import { col, createEngine, index, QueryError, table } from "../mod.ts";
import { PG_URL, uniqueName } from "./helpers.ts";
import { REPO_ROOT, RUNTIME } from "./fixtures/hono-server.ts";

const PINNED = ["@electric-sql/pglite@0.5.14", "@electric-sql/pglite-pgvector@0.0.15"];

/** The pinned install line as this runtime's package manager spells it. */
function installLine(runtime: string): string {
  if (runtime === "deno") return `deno add ${PINNED.map((p) => `npm:${p}`).join(" ")}`;
  if (runtime === "bun") return `bun add ${PINNED.join(" ")}`;
  return `npm install ${PINNED.join(" ")}`;
}

describe("postgres without pgvector", () => {
  let admin: postgres.Sql;
  let hasVector = false;
  let server = { user: "", database: "", superuser: false };
  const role = uniqueName("irisql_plain_role");

  before(async () => {
    admin = postgres(PG_URL, { max: 1, onnotice: () => {} });
    const [r] = await admin`SELECT to_regtype('vector') IS NOT NULL AS installed,
      EXISTS (SELECT 1 FROM pg_available_extensions WHERE name = 'vector') AS available,
      (SELECT rolsuper FROM pg_roles WHERE rolname = current_user) AS superuser,
      current_user AS user_name, current_database() AS database_name`;
    hasVector = r.installed || r.available;
    server = { user: r.user_name, database: r.database_name, superuser: r.superuser };
    await admin.unsafe(`CREATE ROLE ${role} LOGIN`);
  });
  after(async () => {
    await admin.unsafe(`DROP ROLE IF EXISTS ${role}`);
    await admin.end();
  });

  it("createAll: CREATE EXTENSION vector, who may run it, and nothing half-created", async (t) => {
    if (hasVector) return t.skip("this PostgreSQL offers pgvector; the test needs one without it");
    const engine = createEngine(PG_URL);
    const plain = table(uniqueName("nv_plain"), { id: col.integer().primaryKey(), name: col.text() });
    const docs = table(uniqueName("nv_docs"), {
      id: col.integer().primaryKey(),
      title: col.text(),
      embedding: col.vector(3),
    }, { indexes: [index(uniqueName("nv_hnsw")).on("embedding").hnsw({ metric: "cosine" })] });
    const sent: string[] = [];
    try {
      for (const checkfirst of [false, true]) {
        await assert.rejects(engine.createAll([plain, docs], { checkfirst }), (e: unknown) => {
          assert.ok(e instanceof QueryError, String(e));
          assert.equal(e.sqlstate, "42704");
          assert.match(e.message, /CREATE EXTENSION vector/);
          assert.ok(e.message.includes(`not installed in database "${server.database}"`), e.message);
          // This server does not have pgvector at all.
          assert.match(e.message, /does not offer it.*postgresql-\d+-pgvector/);
          if (server.superuser) {
            assert.ok(e.message.includes(`User "${server.user}" is a superuser and may then run it`), e.message);
          } else {
            assert.ok(e.message.includes(`User "${server.user}" is not a superuser`), e.message);
          }
          assert.match(e.message, /Nothing was created/);
          return true;
        });
      }
      // Neither the table before the vector table nor the vector table without its column.
      assert.equal(await engine.hasTable(plain.name), false);
      assert.equal(await engine.hasTable(docs.name), false);
      // Tables without vector columns are none of pgvector's business.
      const probe = createEngine(PG_URL, { onQuery: (e) => void sent.push(e.sql) });
      try {
        await probe.createAll([plain]);
        assert.equal(await probe.hasTable(plain.name), true);
        assert.ok(!sent.some((s) => /vector/.test(s)), sent.join("\n"));
      } finally {
        await probe.dropAll([plain], { checkfirst: true });
        await probe.dispose();
      }
    } finally {
      await engine.dispose();
    }
  });

  it("createAll as a user who is not a superuser: says that it may not run it", async (t) => {
    if (hasVector) return t.skip("this PostgreSQL offers pgvector; the test needs one without it");
    const url = new URL(PG_URL);
    url.username = role;
    const engine = createEngine(url.toString());
    const docs = table(uniqueName("nv_docs"), { id: col.integer().primaryKey(), embedding: col.vector(2) });
    try {
      await assert.rejects(engine.createAll([docs]), (e: unknown) => {
        assert.ok(e instanceof QueryError, String(e));
        assert.match(e.message, /CREATE EXTENSION vector/);
        assert.match(e.message, new RegExp(`User "${role}" is not a superuser, so running it will take a superuser`));
        assert.ok(e.message.includes(`CREATE on database "${server.database}", which "${role}" lacks`), e.message);
        return true;
      });
    } finally {
      await engine.dispose();
    }
  });

  it("a raw statement that meets the missing type says CREATE EXTENSION vector", async (t) => {
    if (hasVector) return t.skip("this PostgreSQL offers pgvector; the test needs one without it");
    const engine = createEngine(PG_URL);
    const name = uniqueName("nv_raw");
    try {
      for (
        const statement of [
          `CREATE TABLE ${name} (id int PRIMARY KEY, embedding vector(3))`,
          `SELECT '[1,2,3]'::vector`,
          `CREATE EXTENSION vector`,
        ]
      ) {
        await assert.rejects(engine.execute(statement), (e: unknown) => {
          assert.ok(e instanceof QueryError, String(e));
          assert.match(e.message, /Vector columns and indexes need the pgvector extension.*CREATE EXTENSION vector/);
          assert.match(e.message, /\[SQLSTATE (42704|0A000)\]$/);
          return true;
        });
      }
      assert.equal(await engine.hasTable(name), false);
      // Other unknown types keep the server's message alone.
      await assert.rejects(engine.execute(`SELECT 1::no_such_type_${name}`), (e: unknown) => {
        assert.ok(e instanceof QueryError);
        assert.doesNotMatch(e.message, /pgvector/);
        return true;
      });
    } finally {
      await engine.dispose();
    }
  });
});

/** What the child prints: how each step went. */
const CHILD = `
import { col, createEngine, DriverMissingError, index, table } from "./mod.ts";

function outcome(e) {
  return { name: e?.name, driverMissing: e instanceof DriverMissingError, message: String(e?.message ?? e) };
}
const out = {};
const engine = createEngine("pglite://memory");
try {
  if (process.argv.includes("--no-pglite")) {
    out.first = await engine.execute("SELECT 1 AS one").then(() => "ok", outcome);
  } else {
    // A user who never uses vectors is not bothered.
    const notes = table("notes", { id: col.integer().primaryKey(), body: col.text() });
    await engine.createAll([notes]);
    await engine.execute("INSERT INTO notes VALUES (1, 'plain')");
    out.plain = (await engine.execute("SELECT body FROM notes")).scalar();
    const tags = table("tags", { id: col.integer().primaryKey() });
    const docs = table("docs", { id: col.integer().primaryKey(), embedding: col.vector(3) }, {
      indexes: [index("docs_hnsw").on("embedding").hnsw({ metric: "cosine" })],
    });
    out.createAll = await engine.createAll([tags, docs]).then(() => "ok", outcome);
    out.tags = await engine.hasTable("tags");
    out.docs = await engine.hasTable("docs");
    out.raw = await engine.execute("CREATE TABLE raw_docs (embedding vector(3))").then(() => "ok", outcome);
    out.after = (await engine.execute("SELECT count(*)::int AS n FROM notes")).scalar();
  }
} finally {
  await engine.dispose();
}
console.log("RESULT " + JSON.stringify(out));
`;

/**
 * A directory with a copy of mod.ts and src/, a node_modules that links every package of the
 * repository's but `leaveOut`, and the project files each runtime reads.
 */
function project(leaveOut: string[]): string {
  const dir = mkdtempSync(join(tmpdir(), "irisql-no-pgvector-"));
  cpSync(join(REPO_ROOT, "mod.ts"), join(dir, "mod.ts"));
  cpSync(join(REPO_ROOT, "src"), join(dir, "src"), { recursive: true });
  const modules = join(REPO_ROOT, "node_modules");
  const link = (name: string) => {
    if (!leaveOut.includes(name)) symlinkSync(join(modules, name), join(dir, "node_modules", name), "dir");
  };
  mkdirSync(join(dir, "node_modules"));
  for (const entry of readdirSync(modules)) {
    if (entry === ".bin" || entry === ".cache" || entry === ".deno") continue;
    if (entry.startsWith("@")) {
      mkdirSync(join(dir, "node_modules", entry));
      for (const sub of readdirSync(join(modules, entry))) link(`${entry}/${sub}`);
    } else {
      link(entry);
    }
  }
  // What a user's project declares: postgres, and PGlite unless it is the package left out.
  const dependencies: Record<string, string> = { postgres: "3.4.9" };
  if (!leaveOut.includes("@electric-sql/pglite")) dependencies["@electric-sql/pglite"] = "0.5.14";
  writeFileSync(join(dir, "package.json"), JSON.stringify({ type: "module", dependencies }));
  writeFileSync(join(dir, "deno.json"), JSON.stringify({ nodeModulesDir: "manual" }));
  writeFileSync(join(dir, "main.ts"), CHILD);
  return dir;
}

function runIn(dir: string, args: string[] = []): Promise<{ code: number | null; out: string }> {
  const cmd = process.execPath;
  const full = RUNTIME === "deno"
    ? ["run", "-A", "--no-lock", "main.ts", ...args]
    : RUNTIME === "bun"
    ? ["main.ts", ...args]
    : ["--import", "tsx", "main.ts", ...args];
  return new Promise((resolve) => {
    const child = spawn(cmd, full, { cwd: dir, env: { ...process.env, NO_COLOR: "1" } });
    let out = "";
    child.stdout.on("data", (d) => (out += d));
    child.stderr.on("data", (d) => (out += d));
    child.on("close", (code) => resolve({ code, out }));
  });
}

function result(r: { code: number | null; out: string }): Record<string, unknown> {
  assert.equal(r.code, 0, r.out);
  const line = r.out.split("\n").find((l) => l.startsWith("RESULT "));
  assert.ok(line, r.out);
  return JSON.parse(line.slice("RESULT ".length));
}

describe(`pglite without its packages, on ${RUNTIME}`, () => {
  const dirs: string[] = [];
  after(() => {
    for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
  });

  it("without @electric-sql/pglite-pgvector: plain tables work, vectors are a DriverMissingError", {
    timeout: 120_000,
  }, async () => {
    const dir = project(["@electric-sql/pglite-pgvector"]);
    dirs.push(dir);
    const out = result(await runIn(dir));
    assert.equal(out.plain, "plain");
    const line = installLine(RUNTIME);
    for (const step of ["createAll", "raw"]) {
      const e = out[step] as { name: string; driverMissing: boolean; message: string };
      assert.equal(e.name, "DriverMissingError", `${step}: ${e.message}`);
      assert.equal(e.driverMissing, true);
      assert.match(e.message, /"@electric-sql\/pglite-pgvector", which is not installed/);
      assert.ok(e.message.includes(`Install it with: ${line}`), `${step}: ${e.message}`);
      assert.match(e.message, /pinned/);
    }
    // The pre-check ran before anything was created.
    assert.equal(out.tags, false);
    assert.equal(out.docs, false);
    // And the engine goes on working.
    assert.equal(out.after, 1);
  });

  it("without @electric-sql/pglite: a DriverMissingError with the same pinned install line", {
    timeout: 120_000,
  }, async () => {
    const dir = project(["@electric-sql/pglite", "@electric-sql/pglite-pgvector"]);
    dirs.push(dir);
    const out = result(await runIn(dir, ["--no-pglite"]));
    const e = out.first as { name: string; driverMissing: boolean; message: string };
    assert.equal(e.name, "DriverMissingError", e.message);
    assert.equal(e.driverMissing, true);
    assert.match(e.message, /The pglite: URL scheme needs the package "@electric-sql\/pglite"/);
    assert.ok(e.message.includes(`Install it with: ${installLine(RUNTIME)}`), e.message);
  });

  it("the pinned pair is the one package.json tests with and the README's install lines show", () => {
    const pkg = JSON.parse(readFileSync(join(REPO_ROOT, "package.json"), "utf8"));
    assert.deepEqual(PINNED, [
      `@electric-sql/pglite@${pkg.devDependencies["@electric-sql/pglite"]}`,
      `@electric-sql/pglite-pgvector@${pkg.devDependencies["@electric-sql/pglite-pgvector"]}`,
    ]);
    const readme = readFileSync(join(REPO_ROOT, "README.md"), "utf8");
    assert.ok(readme.includes(`npm install irisql ${PINNED.join(" ")}`));
    assert.ok(readme.includes(`bun add irisql ${PINNED.join(" ")}`));
    assert.ok(readme.includes(`deno add npm:irisql ${PINNED.map((p) => `npm:${p}`).join(" ")}`));
  });
});
