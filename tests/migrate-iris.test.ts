/**
 * Migrations on IRIS through the REAL iris-pgwire 1.7.3 (PyPI, unmodified) over the IRIS
 * stand-in on PostgreSQL: NOT IRIS (tests/fixtures/iris-pgwire-real/README.md). What passes
 * here is that the real wire server carries irisql's IRIS SQL to "IRIS" and back, and that
 * the stand-in's model of IRIS's ALTER TABLE grammar and INFORMATION_SCHEMA accepts it;
 * IRIS itself is not involved.
 *
 * - Every alteration the IRIS dialect writes (src/dialects/iris/alter.ts) runs, and its effect
 *   is read back through the database (introspect(), and rows that the change lets in or keeps
 *   out). PostgreSQL-only spellings are refused with SQLCODE -1, as IRIS would refuse them.
 * - introspect() reads INFORMATION_SCHEMA through the server (it invents an empty answer for
 *   plain catalog queries; irisql's carry an EXISTS, which it passes on).
 * - generate -> migrate -> change (with type widening) -> generate -> migrate ends with no diff;
 *   pull writes a module that regenerates no diff; the same through the `irisql` CLI.
 * External mode commits every statement: the engine says `?transactions=autocommit`.
 */
import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { mkdir, mkdtemp, readdir, rm, writeFile } from "node:fs/promises";
import { join, resolve } from "node:path";
import { tmpdir } from "node:os";
import postgres from "postgres";
import {
  col,
  createEngine,
  type Engine,
  ForeignKeyViolationError,
  generate,
  index,
  loadSchemaModule,
  migrationStatus,
  NotNullViolationError,
  pullSchema,
  QueryError,
  table,
  type TableInfo,
  UniqueViolationError,
} from "../mod.ts";
import { main } from "../src/cli/main.ts";
import { writeSchemaModule } from "./fixtures/migrations/schema-file.ts";
import { PG_URL, uniqueName, withQuery } from "./helpers.ts";
import { type IrisPgwire, startIrisPgwire } from "./fixtures/iris-pgwire-real/mod.ts";

const ROOT = resolve(import.meta.dirname ?? new URL(".", import.meta.url).pathname, "..");
const SCHEMA = "SQLUser";

/**
 * A database of this file's own under the stand-in: generate and pull compare the whole
 * schema, and other test files create tables in the shared one at the same time.
 */
const DB = uniqueName("irisql_mig").toLowerCase();
let server: IrisPgwire | undefined;
const iris = {
  get url(): string {
    if (!server) throw new Error("the server starts in the file's before hook");
    return withQuery(server.url, "transactions=autocommit");
  },
};
before(async () => {
  const admin = postgres(PG_URL, { max: 1, onnotice: () => {} });
  try {
    await admin.unsafe(`CREATE DATABASE ${DB}`);
  } finally {
    await admin.end();
  }
  const url = new URL(PG_URL);
  url.pathname = "/" + DB;
  server = await startIrisPgwire({ backend: url.toString() });
}, { timeout: 240_000 });
after(async () => {
  await server?.close();
  const admin = postgres(PG_URL, { max: 1, onnotice: () => {} });
  try {
    await admin.unsafe(`DROP DATABASE IF EXISTS ${DB} WITH (FORCE)`);
  } finally {
    await admin.end();
  }
});

const lower = (s: string) => s.toLowerCase();
async function live(engine: Engine, name: string): Promise<TableInfo> {
  const info = (await engine.introspect()).tables.find((t) => lower(t.name) === lower(name));
  assert.ok(info, `introspect() lists ${name}`);
  return info;
}
function column(info: TableInfo, name: string) {
  const c = info.columns.find((x) => lower(x.name) === lower(name));
  assert.ok(c, `${info.name} has a column ${name}: ${info.columns.map((x) => x.name)}`);
  return c;
}
function sqlcodeOf(e: unknown): number | undefined {
  return e instanceof QueryError ? e.sqlcode : undefined;
}

describe(`IRIS ALTER TABLE through the real iris-pgwire 1.7.3 (stand-in, not IRIS)`, () => {
  let engine: Engine;
  const p = uniqueName("ma");
  const parent = table(`${p}_parent`, { id: col.integer().primaryKey() });
  const before1 = table(`${p}_t`, {
    id: col.integer().primaryKey(),
    name: col.varchar(50),
    n: col.integer(),
    amount: col.numeric(6, 2),
  }, { indexes: [index(`${p}_t_n`).on("n")] });
  // The same table after every kind of change the diff can write.
  const after1 = table(`${p}_t`, {
    id: col.integer().primaryKey(),
    name: col.varchar(120).notNull().default("anon"),
    n: col.bigint().default(5),
    amount: col.numeric(10, 2),
    code: col.varchar(20).unique(),
    parent_id: col.integer().references(() => parent, "id"),
    flag: col.boolean().notNull().default(false),
    note: col.text(),
  }, { indexes: [index(`${p}_t_code_n`).on("code", "n")] });
  const d = () => engine.dialect.alter;

  before(async () => {
    engine = createEngine(iris.url);
    await engine.createAll([parent, before1]);
  });
  after(async () => {
    await engine?.dropAll([after1, parent]).catch(() => {});
    await engine?.dispose();
  });

  it("introspect() reads the tables through the server (not the invented empty answer)", async () => {
    const t = await live(engine, before1.name);
    assert.deepEqual(t.columns.map((c) => lower(c.name)), ["id", "name", "n", "amount"]);
    assert.deepEqual(t.primaryKey.map(lower), ["id"]);
    assert.deepEqual(t.indexes.map((i) => [lower(i.name), i.columns.map(lower), i.unique]), [
      [lower(`${p}_t_n`), ["n"], false],
    ]);
    assert.deepEqual(engine.dialect.alter.readColumnType(column(t, "name")), { kind: "varchar", length: 50 });
    assert.deepEqual(engine.dialect.alter.readColumnType(column(t, "amount")), {
      kind: "numeric",
      precision: 6,
      scale: 2,
    });
  });

  it("ADD COLUMN (with a default, NOT NULL, text, boolean) runs and the columns are there", async () => {
    for (const c of ["code", "parent_id", "flag", "note"]) await engine.execute(d().addColumnSql(after1, c, SCHEMA));
    const t = await live(engine, before1.name);
    assert.equal(column(t, "flag").nullable, false);
    assert.deepEqual(d().readColumnType(column(t, "note")), { kind: "text" });
    assert.deepEqual(d().readColumnType(column(t, "flag")), { kind: "boolean" });
    await engine.execute(`INSERT INTO ${before1.name} (id) VALUES (1)`);
    const row = await engine.execute(`SELECT flag FROM ${before1.name} WHERE id = 1`);
    assert.equal(Number(row.rows[0].flag), 0, "the new column's default filled the row");
  });

  it("ALTER COLUMN <type> widens varchar, integer and numeric, and keeps exact comparison", async () => {
    for (const c of ["name", "n", "amount"]) await engine.execute(d().alterTypeSql(after1, c, SCHEMA));
    const t = await live(engine, before1.name);
    assert.deepEqual(d().readColumnType(column(t, "name")), { kind: "varchar", length: 120 });
    assert.deepEqual(d().readColumnType(column(t, "n")), { kind: "bigint" });
    assert.deepEqual(d().readColumnType(column(t, "amount")), { kind: "numeric", precision: 10, scale: 2 });
    await engine.execute(
      `UPDATE ${before1.name} SET name = '${"x".repeat(100)}', n = 9000000000, amount = 12345678.5 WHERE id = 1`,
    );
    await engine.execute(`UPDATE ${before1.name} SET name = 'Bob' WHERE id = 1`);
    const found = await engine.execute(`SELECT id FROM ${before1.name} WHERE name = 'BOB'`);
    assert.equal(found.rows.length, 0, "still COLLATE %EXACT after the type change");
  });

  it("ALTER COLUMN DEFAULT / DROP DEFAULT / NOT NULL / NULL change what inserts do", async () => {
    await engine.execute(`UPDATE ${before1.name} SET name = 'x' WHERE name IS NULL`);
    await engine.execute(d().alterDefaultSql(after1, "name", SCHEMA));
    await engine.execute(d().alterDefaultSql(after1, "n", SCHEMA));
    await engine.execute(d().alterNullSql(after1, "name", SCHEMA));
    let t = await live(engine, before1.name);
    assert.equal(column(t, "name").nullable, false);
    assert.match(String(column(t, "name").default), /anon/);
    await engine.execute(`INSERT INTO ${before1.name} (id) VALUES (2)`);
    const row = await engine.execute(`SELECT name, n FROM ${before1.name} WHERE id = 2`);
    assert.deepEqual([row.rows[0].name, Number(row.rows[0].n)], ["anon", 5]);
    await assert.rejects(
      engine.execute(`INSERT INTO ${before1.name} (id, name) VALUES (3, NULL)`),
      NotNullViolationError,
    );
    // Back: no default, NULL allowed (the definition `before1` has).
    await engine.execute(d().alterDefaultSql(before1, "name", SCHEMA));
    await engine.execute(d().alterNullSql(before1, "name", SCHEMA));
    t = await live(engine, before1.name);
    assert.equal(column(t, "name").nullable, true);
    assert.equal(column(t, "name").default ?? null, null);
    await engine.execute(`INSERT INTO ${before1.name} (id) VALUES (3)`);
    const three = await engine.execute(`SELECT name FROM ${before1.name} WHERE id = 3`);
    assert.equal(three.rows[0].name, null);
  });

  it("ADD CONSTRAINT UNIQUE and FOREIGN KEY are enforced", async () => {
    await engine.execute(d().addUniqueSql(after1, "code", SCHEMA));
    await engine.execute(d().addForeignKeySql(after1, "parent_id", SCHEMA));
    await engine.execute(`UPDATE ${before1.name} SET code = 'a' WHERE id = 1`);
    await assert.rejects(engine.execute(`UPDATE ${before1.name} SET code = 'a' WHERE id = 2`), UniqueViolationError);
    await assert.rejects(
      engine.execute(`UPDATE ${before1.name} SET parent_id = 99 WHERE id = 1`),
      ForeignKeyViolationError,
    );
    await engine.execute(`INSERT INTO ${parent.name} (id) VALUES (99)`);
    await engine.execute(`UPDATE ${before1.name} SET parent_id = 99 WHERE id = 1`);
    const t = await live(engine, before1.name);
    assert.ok(t.indexes.some((i) => i.unique && i.columns.map(lower).join() === "code"), "UNIQUE shows as an index");
  });

  it("CREATE INDEX and DROP INDEX ... ON change the table's indexes", async () => {
    await engine.execute(engine.dialect.createIndexSql(after1.indexes[0], after1, SCHEMA));
    await engine.execute(d().dropIndexSql(`${p}_t_n`, after1, SCHEMA));
    const t = await live(engine, before1.name);
    const plain = t.indexes.filter((i) => !i.unique).map((i) => [lower(i.name), i.columns.map(lower)]);
    assert.deepEqual(plain, [[lower(`${p}_t_code_n`), ["code", "n"]]]);
  });

  it("DROP COLUMN removes the column", async () => {
    await engine.execute(d().dropColumnSql(after1, "note", SCHEMA));
    const t = await live(engine, before1.name);
    assert.ok(!t.columns.some((c) => lower(c.name) === "note"));
  });

  it("PostgreSQL-only ALTER spellings are refused with SQLCODE -1, and change nothing", async () => {
    const t = before1.name;
    for (
      const s of [
        `ALTER TABLE ${t} ALTER COLUMN n TYPE integer`,
        `ALTER TABLE ${t} ALTER COLUMN "name" VARCHAR(200) COLLATE %EXACT`,
        `ALTER TABLE ${t} DROP COLUMN IF EXISTS code`,
        `ALTER TABLE ${t} RENAME COLUMN code TO code2`,
        `ALTER TABLE IF EXISTS ${t} ADD COLUMN q INTEGER`,
        `ALTER TABLE ${t} ADD COLUMN z2 INTEGER GENERATED ALWAYS AS IDENTITY`,
      ]
    ) {
      await assert.rejects(engine.execute(s), (e: unknown) => {
        assert.equal(sqlcodeOf(e), -1, `${s}: ${e}`);
        assert.match((e as Error).message, /is not IRIS SQL/);
        return true;
      });
    }
    const info = await live(engine, t);
    assert.deepEqual(d().readColumnType(column(info, "n")), { kind: "bigint" });
    assert.deepEqual(d().readColumnType(column(info, "name")), { kind: "varchar", length: 120 });
    assert.ok(info.columns.some((c) => lower(c.name) === "code"));
  });

  it("real server: any SQLCODE error of a statement saying IF NOT EXISTS is answered as success", async () => {
    // conversions/ddl_idempotency.py: a message matching /SQLCODE: <-n>/ counts as "already exists"
    const t = before1.name;
    await engine.execute(`ALTER TABLE ${t} ADD COLUMN IF NOT EXISTS z integer`);
    assert.ok(!(await live(engine, t)).columns.some((c) => lower(c.name) === "z"), "refused, yet reported done");
  });

  it("real server: SET DATA TYPE, SET NOT NULL, DROP NOT NULL reach IRIS in IRIS's spelling", async () => {
    const t = before1.name;
    // iris-pgwire rewrites them (log: ALTER COLUMN N INTEGER, ALTER COLUMN N NOT NULL, ... NULL)
    await engine.execute(`ALTER TABLE ${t} ALTER COLUMN amount SET DATA TYPE NUMERIC(12, 2)`);
    assert.deepEqual(d().readColumnType(column(await live(engine, t), "amount")), {
      kind: "numeric",
      precision: 12,
      scale: 2,
    });
    await engine.execute(`ALTER TABLE ${t} ALTER COLUMN code SET NOT NULL`).catch((e) => {
      // rows 2 and 3 have no code: the server's rewrite reached IRIS, which refused the NULLs
      assert.notEqual(sqlcodeOf(e), -1, String(e));
    });
    await engine.execute(`ALTER TABLE ${t} ALTER COLUMN code DROP NOT NULL`);
    assert.equal(column(await live(engine, t), "code").nullable, true);
  });
});

describe(`migrations on the real iris-pgwire 1.7.3 (stand-in, not IRIS)`, () => {
  let engine: Engine;
  let dir: string;
  const p = uniqueName("mi");
  function v1() {
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
    return [users, posts];
  }
  function v2() {
    const users = table(`${p}_users`, {
      id: col.integer().primaryKey().generated(),
      email: col.varchar(100).notNull().unique(),
      name: col.varchar(120).notNull().default("anon"),
      age: col.bigint(),
    });
    const posts = table(`${p}_posts`, {
      id: col.integer().primaryKey(),
      user_id: col.integer().references(() => users, "id"),
      title: col.varchar(200).notNull(),
      score: col.bigint().notNull().default(0),
    }, { indexes: [index(`${p}_posts_user`).on("user_id")] });
    const tags = table(`${p}_tags`, { name: col.varchar(40).primaryKey(), note: col.text() });
    return [users, posts, tags] as const;
  }
  const mine = (tables: TableInfo[]) => tables.filter((t) => lower(t.name).startsWith(lower(p) + "_"));
  const others = async () =>
    (await engine.introspect()).tables.filter((t) => !lower(t.name).startsWith(lower(p) + "_")).map((t) => t.name);

  before(async () => {
    engine = createEngine(iris.url);
    dir = await mkdtemp(join(tmpdir(), "irisql-mig-iris-"));
  });
  after(async () => {
    await engine?.dropAll(v2()).catch(() => {});
    // The history and its lock table too: the CLI test below starts a history of its own.
    for (const t of ["irisql_migrations", "irisql_migrations_lock"]) {
      await engine?.execute(`DROP TABLE ${t}`).catch(() => {});
    }
    await engine?.dispose();
    await rm(dir, { recursive: true, force: true });
  });

  it("generate -> migrate -> change (widening, NOT NULL, defaults) -> generate -> migrate ends with no diff", async () => {
    const folder = join(dir, "roundtrip");
    const ignoreTables = await others();
    const g1 = await generate(engine, { tables: v1(), folder, name: "init", ignoreTables });
    assert.ok(g1.file, g1.sql);
    assert.match(g1.sql, /CREATE TABLE/);
    const r1 = await engine.migrate({ folder });
    assert.equal(r1.applied.length, 1);
    assert.equal(r1.transactional, false);
    const again = await generate(engine, { tables: v1(), ignoreTables });
    assert.deepEqual(again.statements, [], again.sql);

    const g2 = await generate(engine, { tables: v2(), folder, name: "change", ignoreTables });
    assert.ok(g2.file);
    for (
      const expected of [
        /ALTER TABLE "[^"]+_users" ALTER COLUMN "name" VARCHAR\(120\);/,
        /ALTER TABLE "[^"]+_users" ALTER COLUMN "name" NOT NULL;/,
        /ALTER TABLE "[^"]+_users" ALTER COLUMN "name" DEFAULT 'anon';/,
        /ALTER TABLE "[^"]+_users" ADD COLUMN "age" BIGINT;/,
        /ALTER TABLE "[^"]+_posts" ALTER COLUMN "title" DROP DEFAULT;/,
        /DROP INDEX "[^"]+_posts_title" ON "[^"]+_posts";/,
        /CREATE INDEX "[^"]+_posts_user" ON/,
      ]
    ) assert.match(g2.sql, expected);
    const r2 = await engine.migrate({ folder });
    assert.deepEqual(r2.applied, [g2.file!.split(/[\\/]/).pop()]);
    const last = await generate(engine, { tables: v2(), ignoreTables });
    assert.deepEqual(last.statements, [], last.sql);
    const status = await migrationStatus(engine, { folder });
    assert.deepEqual(status.map((s) => s.state), ["applied", "applied"]);
    await engine.session(async (s) => {
      const u = await s.insert(v2()[0], { email: "a@b.c", name: "x".repeat(100), age: 3 });
      assert.equal(u.name, "x".repeat(100));
    });
  });

  it("pull writes a module that loads and regenerates no diff", async () => {
    const tables = mine((await engine.introspect()).tables);
    const text = pullSchema(engine.dialect, tables, { importFrom: join(ROOT, "mod.ts") });
    await mkdir(join(ROOT, "test-output"), { recursive: true });
    const file = join(ROOT, "test-output", `${p}_pulled.ts`);
    await writeFile(file, text);
    try {
      const loaded = await loadSchemaModule(file);
      assert.equal(loaded.length, 3, text);
      const diff = await generate(engine, { tables: loaded, ignoreTables: await others() });
      assert.deepEqual(diff.statements, [], diff.sql + "\n" + text);
    } finally {
      await rm(file, { force: true });
    }
  });
});

describe(`irisql CLI on the real iris-pgwire 1.7.3 (stand-in, not IRIS)`, () => {
  let dir: string;
  const prefix = uniqueName("mc");
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), "irisql-cli-iris-"));
  });
  after(async () => {
    await rm(dir, { recursive: true, force: true });
  });
  async function run(args: string[]) {
    const lines: string[] = [];
    const code = await main(args, { out: (l) => lines.push(l), err: (l) => lines.push(l), env: () => undefined });
    return { code, text: lines.join("\n") };
  }

  it("generate, migrate, generate again (no changes), pull", async () => {
    const folder = join(dir, "m");
    const url = iris.url;
    const schema = await writeSchemaModule(dir, prefix);
    const gen = await run(["generate", "--schema", schema, "--folder", folder, "--name", "init", "--url", url]);
    assert.equal(gen.code, 0, gen.text);
    assert.match(gen.text, /wrote .*_init\.sql \(2 statements\)/);
    const up = await run(["migrate", "--folder", folder, "--url", url]);
    assert.equal(up.code, 0, up.text);
    assert.match(up.text, /applied .*_init\.sql/);
    const pulled = join(dir, "pulled.ts");
    const pull = await run(["pull", "--out", pulled, "--url", url, "--import-from", join(ROOT, "mod.ts")]);
    assert.equal(pull.code, 0, pull.text);
    const loaded = await loadSchemaModule(pulled);
    const authors = loaded.find((t) => lower(t.name) === lower(`${prefix}_authors`));
    assert.ok(authors, `pull wrote ${prefix}_authors`);
    assert.deepEqual(authors.columnNames, ["id", "name"]);
    assert.deepEqual(authors.indexes.map((i) => lower(i.name)), [lower(`${prefix}_authors_name`)]);
    assert.equal((await readdir(folder)).length, 1);
  });
});
