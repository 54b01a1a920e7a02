/**
 * Migrations end to end on PostgreSQL (a schema of its own), PGlite and the IRIS path
 * through the TypeScript emulator (which runs real transactions, like iris-pgwire embedded
 * in IRIS; the real iris-pgwire 1.7.3 invents INFORMATION_SCHEMA answers, so generate
 * cannot run there: see the last test). generate -> migrate -> change -> generate -> migrate
 * ends with nothing left to generate; unsafe changes, tampering, failures, concurrency, pull.
 */
import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from "node:fs/promises";
import { join, resolve } from "node:path";
import { tmpdir } from "node:os";
import {
  type AnyTable,
  col,
  createEngine,
  type Engine,
  generate,
  index,
  loadSchemaModule,
  MigrationChecksumError,
  MigrationError,
  migrationStatus,
  pullSchema,
  table,
  UnsafeChangeError,
} from "../mod.ts";
import { ownPgSchema, uniqueName } from "./helpers.ts";
import { type IrisEmulator, startIrisEmulator } from "./fixtures/iris-pgwire-emulator/mod.ts";

const ROOT = resolve(import.meta.dirname ?? new URL(".", import.meta.url).pathname, "..");

function v1(p: string) {
  const users = table(`${p}_users`, {
    id: col.integer().primaryKey().generated(),
    email: col.varchar(100).notNull().unique(),
    name: col.varchar(50),
  });
  const posts = table(`${p}_posts`, {
    id: col.integer().primaryKey(),
    user_id: col.integer().references(() => users, "id"),
    title: col.varchar(200).notNull().default("untitled"),
  }, { indexes: [index(`${p}_posts_title`).on("title")] });
  return { users, posts };
}

/**
 * `widen`: change a column's type too (on the emulator through its model of IRIS's ALTER TABLE
 * grammar, which refuses PostgreSQL-only spellings; migrate-iris.test.ts runs them through the real server).
 */
function v2(p: string, widen = true) {
  const users = table(`${p}_users`, {
    id: col.integer().primaryKey().generated(),
    email: col.varchar(100).notNull().unique(),
    name: col.varchar(widen ? 120 : 50),
    age: col.integer(),
  });
  const posts = table(`${p}_posts`, {
    id: col.integer().primaryKey(),
    user_id: col.integer().references(() => users, "id"),
    title: col.varchar(200).notNull().default("untitled"),
    score: col.bigint().notNull().default(0),
  }, { indexes: [index(`${p}_posts_user`).on("user_id")] });
  const tags = table(`${p}_tags`, { name: col.varchar(40).primaryKey(), note: col.text() });
  return { users, posts, tags };
}

interface Target {
  name: string;
  url: () => string;
  transactional: boolean;
  /** Can IRIS-spelled ALTER COLUMN run (not on the emulator)? */
  widen: boolean;
  setup?: () => Promise<void>;
  teardown?: () => Promise<void>;
}

let emulator: IrisEmulator | undefined;
const pgSchema = ownPgSchema("mig");
const targets: Target[] = [
  {
    name: "postgres",
    url: () => pgSchema.url,
    transactional: true,
    widen: true,
    setup: pgSchema.create,
    teardown: pgSchema.drop,
  },
  { name: "pglite", url: () => "pglite://memory", transactional: true, widen: true },
  {
    name: "iris (emulator)",
    url: () => emulator!.url,
    transactional: false,
    widen: true,
    setup: async () => {
      emulator = await startIrisEmulator();
    },
    teardown: async () => {
      await emulator?.close();
    },
  },
];

for (const target of targets) {
  describe(`migrations on ${target.name}`, () => {
    let engine: Engine;
    let dir: string;
    const p = uniqueName("m");
    before(async () => {
      await target.setup?.();
      engine = createEngine(target.url());
      dir = await mkdtemp(join(tmpdir(), "irisql-mig-"));
    });
    after(async () => {
      await engine?.dispose();
      await rm(dir, { recursive: true, force: true });
      await target.teardown?.();
    });

    const tablesOf = (s: Record<string, AnyTable>) => Object.values(s);

    it("generate -> migrate -> change -> generate -> migrate ends with no diff", async () => {
      const folder = join(dir, "roundtrip");
      const g1 = await generate(engine, { tables: tablesOf(v1(p)), folder, name: "init" });
      assert.ok(g1.file, "a first migration is written");
      assert.match(g1.sql, /CREATE TABLE/);
      const lines: string[] = [];
      const r1 = await engine.migrate({ folder, onProgress: (l) => lines.push(l) });
      assert.equal(r1.applied.length, 1);
      assert.equal(r1.transactional, target.transactional);
      assert.ok(lines.some((l) => l.startsWith("applying ")), lines.join("\n"));
      const again = await generate(engine, { tables: tablesOf(v1(p)) });
      assert.deepEqual(again.statements, [], again.sql);

      const g2 = await generate(engine, { tables: tablesOf(v2(p, target.widen)), folder, name: "change" });
      assert.ok(g2.file);
      assert.match(g2.sql, /ALTER TABLE/);
      const r2 = await engine.migrate({ folder });
      assert.deepEqual(r2.applied, [g2.file!.split(/[\\/]/).pop()]);
      const last = await generate(engine, { tables: tablesOf(v2(p, target.widen)) });
      assert.deepEqual(last.statements, [], last.sql);
      const status = await migrationStatus(engine, { folder });
      assert.deepEqual(status.map((s) => s.state), ["applied", "applied"]);
      // The tables work: a row goes in through the migrated schema.
      await engine.session(async (s) => {
        await s.insert(v2(p, target.widen).users, {
          email: "a@b.c",
          name: "x".repeat(target.widen ? 100 : 50),
          age: 3,
        });
      });
    });

    it("refuses a type change that loses data, and drops without allowDrop", async () => {
      const narrower = table(`${p}_users`, {
        id: col.integer().primaryKey().generated(),
        email: col.varchar(100).notNull().unique(),
        name: col.integer(),
        age: col.integer(),
      });
      const { posts, tags } = v2(p, target.widen);
      await assert.rejects(generate(engine, { tables: [narrower, posts, tags] }), (e: unknown) => {
        assert.ok(e instanceof UnsafeChangeError, String(e));
        assert.match((e as Error).message, /name: .* -> .* can lose data/);
        return true;
      });
      await assert.rejects(
        generate(engine, { tables: [posts, tags] }),
        /not in the module: dropping it deletes its data/,
      );
    });

    it("refuses an applied migration that was edited", async () => {
      const folder = join(dir, "roundtrip");
      const first = (await readdir(folder)).sort()[0];
      const path = join(folder, first);
      const original = await readFile(path, "utf8");
      await writeFile(path, original + "\n-- edited\n");
      await assert.rejects(engine.migrate({ folder }), MigrationChecksumError);
      await assert.rejects(engine.migrate({ folder, dryRun: true }), MigrationChecksumError);
      await writeFile(path, original);
      assert.deepEqual((await engine.migrate({ folder })).applied, []);
    });

    it("a failing migration leaves the history telling the truth", async () => {
      const folder = join(dir, "failing");
      const historyTable = uniqueName("hist");
      await import("node:fs/promises").then((fs) => fs.mkdir(folder));
      await writeFile(
        join(folder, "20250101000000_bad.sql"),
        `CREATE TABLE ${p}_half (id integer PRIMARY KEY);\n-- a ; inside a comment and 'a ; in a string'\nSELECT * FROM ${p}_no_such_table;\n`,
      );
      await assert.rejects(engine.migrate({ folder, table: historyTable }), MigrationError);
      const status = await migrationStatus(engine, { folder, table: historyTable });
      const hasHalf = await engine.hasTable(`${p}_half`);
      if (target.transactional) {
        assert.deepEqual(status.map((s) => s.state), ["pending"], "rolled back: nothing recorded");
        assert.equal(hasHalf, false);
      } else {
        assert.equal(status[0].state, "failed");
        assert.match(status[0].detail!, /^1 of 2 statements ran/);
        assert.equal(hasHalf, true, "IRIS DDL stays: the history says so");
        await assert.rejects(engine.migrate({ folder, table: historyTable }), /recorded as failed/);
      }
    });

    it("a concurrent second migrate waits for the first", async () => {
      const folder = join(dir, "concurrent");
      const historyTable = uniqueName("hist");
      await import("node:fs/promises").then((fs) => fs.mkdir(folder));
      await writeFile(join(folder, "20250101000000_a.sql"), `CREATE TABLE ${p}_c1 (id integer PRIMARY KEY)`);
      await writeFile(join(folder, "20250101000001_b.sql"), `CREATE TABLE ${p}_c2 (id integer PRIMARY KEY)`);
      const other = target.name === "pglite" ? engine : createEngine(target.url());
      try {
        const [a, b] = await Promise.all([
          engine.migrate({ folder, table: historyTable }),
          other.migrate({ folder, table: historyTable }),
        ]);
        assert.deepEqual([...a.applied, ...b.applied].sort(), ["20250101000000_a.sql", "20250101000001_b.sql"]);
        assert.ok(a.applied.length === 0 || b.applied.length === 0, "one of them applied everything");
      } finally {
        if (other !== engine) await other.dispose();
      }
    });

    it("pull writes a module that loads and regenerates no diff", async () => {
      const live = await engine.introspect();
      const mine = live.tables.filter((t) =>
        t.name.toLowerCase().startsWith(`${p}_`) && !/_c[12]$|_half$/.test(t.name)
      );
      const text = pullSchema(engine.dialect, mine, { importFrom: join(ROOT, "mod.ts") });
      const file = join(ROOT, "test-output", `${p}_${target.name.replace(/\W+/g, "_")}_pulled.ts`);
      await mkdir(join(ROOT, "test-output"), { recursive: true });
      await writeFile(file, text);
      try {
        const tables = await loadSchemaModule(file);
        assert.equal(tables.length, 3, text);
        const ignore = live.tables.filter((t) => !mine.includes(t)).map((t) => t.name);
        const diff = await generate(engine, { tables, ignoreTables: ignore });
        assert.deepEqual(diff.statements, [], diff.sql + "\n" + text);
      } finally {
        await rm(file, { force: true });
      }
    });
  });
}
