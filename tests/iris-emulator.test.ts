/**
 * Tests of the iris-pgwire EMULATOR (tests/fixtures/iris-pgwire-emulator), a
 * test fixture that reproduces documented iris-pgwire behaviour on PGlite or
 * PostgreSQL. Passing here says the fixture does what the reference notes
 * describe; it says nothing about a real InterSystems IRIS.
 *
 * Runs under `node --import tsx --test`, `bun test` and `deno test -A`.
 */
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { Buffer } from "node:buffer";
import { spawn } from "node:child_process";
import * as net from "node:net";
import process from "node:process";
import { fileURLToPath } from "node:url";
import postgres from "postgres";
import { type IrisEmulator, startIrisEmulator } from "./fixtures/iris-pgwire-emulator/mod.ts";
import { daysSince2000, normalizeParam, pyFloat, reshapeTag } from "./fixtures/iris-pgwire-emulator/quirks.ts";
import * as wire from "./fixtures/iris-pgwire-emulator/wire.ts";

const PG_URL = "postgres://postgres@127.0.0.1:5432/test";
const RUN = `${process.pid.toString(36)}${Math.random().toString(36).slice(2, 7)}`;
/** A table name no parallel run uses. */
const tname = (base: string) => `emu_${base}_${RUN}`;

type Sql = postgres.Sql;

/** The client irisql's IRIS profile uses: no type fetch, named prepared statements. */
function connect(url: string, extra: Record<string, unknown> = {}): Sql {
  return postgres(url, { fetch_types: false, prepare: true, max: 1, onnotice: () => {}, ...extra });
}

/** Every value as the raw text the server sent, to check the wire format itself. */
function connectRaw(url: string): Sql {
  return connect(url, {
    types: {
      raw: {
        to: 25,
        from: [16, 17, 20, 21, 23, 25, 701, 1082, 1083, 1114, 1700],
        serialize: (x: unknown) => String(x),
        parse: (x: string) => x,
      },
    },
  });
}

// sql.unsafe() without parameters uses the simple protocol unless told otherwise.
const EXTENDED = { prepare: true, simple: false } as postgres.UnsafeQueryOptions;
const SIMPLE = { simple: true } as postgres.UnsafeQueryOptions;

// deno-lint-ignore no-explicit-any
type Row = Record<string, any>;
/** Run IRIS SQL over the extended protocol (Parse/Describe/Bind/Execute/Sync). */
const q = (sql: Sql, text: string, params: unknown[] = []) =>
  sql.unsafe(text, params as postgres.ParameterOrJSON<never>[], EXTENDED) as unknown as Promise<
    Row[] & { count: number; command: string; columns: { name: string; type: number }[] }
  >;
/** Run IRIS SQL over the simple query protocol. */
const simple = (sql: Sql, text: string) => sql.unsafe(text, [], SIMPLE) as unknown as Promise<Row[]>;

/** Assert an IRIS-style error: SQLSTATE 42000 and `[SQLCODE: <n>:...]` in the message. */
async function rejectsIris(p: Promise<unknown>, sqlcode: number, detail?: RegExp): Promise<void> {
  await assert.rejects(p, (err: Error & { code?: string }) => {
    assert.equal(err.code, "42000", err.message);
    assert.ok(err.message.startsWith(`[SQLCODE: <${sqlcode}>:<`), `expected SQLCODE ${sqlcode}: ${err.message}`);
    if (detail) assert.match(err.message, detail);
    return true;
  });
}

function canConnect(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = net.connect({ host: "127.0.0.1", port });
    s.once("connect", () => {
      s.destroy();
      resolve(true);
    });
    s.once("error", () => resolve(false));
  });
}

const pgAvailable = await canConnect(5432);
const ROOT = fileURLToPath(new URL("..", import.meta.url));

/** Run `cmd` in the repo root; resolve with its stdout once it exits. */
function run(cmd: string, args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(cmd, args, { cwd: ROOT, stdio: ["ignore", "pipe", "pipe"] });
    let stdout = "";
    let stderr = "";
    child.stdout!.on("data", (d) => (stdout += d));
    child.stderr!.on("data", (d) => (stderr += d));
    child.once("exit", (code) => resolve({ code, stdout, stderr }));
  });
}

/**
 * `postgres(url)` with default options, first query. Run in a child process:
 * postgres.js leaves its failed type fetch as an unhandled rejection, which
 * would crash a plain Node process and fails the test that sees it.
 */
async function firstQueryWithDefaultClient(url: string): Promise<string> {
  const code = `
    import postgres from "postgres";
    process.on("unhandledRejection", () => {});
    const sql = postgres(process.argv[1], { max: 1, connect_timeout: 5 });
    try { await sql\`SELECT 1 AS x\`; console.log("OK"); }
    catch (e) { console.log("ERR " + e.code + " " + e.message); }
    await sql.end({ timeout: 0 });`;
  const r = await run("node", ["--input-type=module", "-e", code, url]);
  return r.stdout.trim() || r.stderr;
}

describe("quirk helpers", () => {
  test("floats are formatted like Python str(float)", () => {
    assert.equal(pyFloat("0.1"), "0.1");
    assert.equal(pyFloat("1e-05"), "1e-05");
    assert.equal(pyFloat("3"), "3.0");
    assert.equal(pyFloat("1e+16"), "1e+16");
    assert.equal(pyFloat("123456789012345"), "123456789012345.0");
    assert.equal(pyFloat("-2.5e-07"), "-2.5e-07");
    assert.equal(pyFloat("0.0001"), "0.0001");
    assert.equal(pyFloat("NaN"), "nan");
  });
  test("dates become day numbers since 2000-01-01", () => {
    assert.equal(daysSince2000("2000-01-01"), "0");
    assert.equal(daysSince2000("2024-01-15"), "8780");
    assert.equal(daysSince2000("1999-12-31"), "-1");
  });
  test("numeric-looking text parameters become numbers", () => {
    assert.equal(normalizeParam("00123"), "123");
    assert.equal(normalizeParam("1.50"), "1.5");
    assert.equal(normalizeParam("1e5"), "100000.0");
    assert.equal(normalizeParam("[1,2]"), "[1,2]");
    assert.equal(normalizeParam("2024-01-15"), "2024-01-15");
  });
  test("DML tags report 0 rows", () => {
    assert.equal(reshapeTag("INSERT 0 5"), "INSERT 0 0");
    assert.equal(reshapeTag("UPDATE 3"), "UPDATE 0");
    assert.equal(reshapeTag("DELETE 2"), "DELETE 0");
    assert.equal(reshapeTag("SELECT 4"), "SELECT 4");
  });
});

describe("iris-pgwire emulator over PGlite", () => {
  let emu: IrisEmulator;
  let sql: Sql;
  let raw: Sql;
  const created: string[] = [];
  /** Create a table through the emulator and remember to drop it. */
  const createTable = async (name: string, body: string) => {
    await q(sql, `CREATE TABLE "${name}" (${body})`);
    created.unshift(name);
  };

  before(async () => {
    emu = await startIrisEmulator();
    sql = connect(emu.url);
    raw = connectRaw(emu.url);
  });

  after(async () => {
    for (const t of created) await q(sql, `DROP TABLE IF EXISTS "${t}"`).catch(() => {});
    await sql?.end();
    await raw?.end();
    await emu?.close();
  });

  test("startup looks like iris-pgwire", async () => {
    // The emulator runs real transactions (the real server in external mode does not), and its URL says so.
    assert.match(emu.url, /^iris:\/\/_SYSTEM:SYS@127\.0\.0\.1:\d+\/USER\?transactions=server$/);
    await q(sql, "SELECT 1 AS x");
    const params = (sql as unknown as { parameters: Record<string, string> }).parameters;
    assert.equal(params.server_version, "16.0 (InterSystems IRIS)");
    assert.equal(params.TimeZone, "UTC");
  });

  test("a default postgres.js client fails on its first query: type fetch hits pg_catalog", async () => {
    assert.match(await firstQueryWithDefaultClient(emu.url), /^ERR 42000 \[SQLCODE: <-30>:.*PG_CATALOG\.PG_TYPE/);
  });

  test("column names are lower-cased, values are text as iris-pgwire formats them", async () => {
    const r = await q(
      raw,
      `SELECT 1 AS "CamelCase", CAST(0.1 AS DOUBLE) AS "F", CAST(0.00001 AS DOUBLE) AS g, CAST(3 AS DOUBLE) AS h,
       CAST(12.50 AS NUMERIC(10,2)) AS n, CAST(9000000000 AS BIGINT) AS big,
       CAST('2024-01-15' AS DATE) AS d, CAST('2024-01-15 10:20:30.5' AS TIMESTAMP) AS ts,
       CAST('2024-01-15 10:20:30' AS TIMESTAMP) AS ts0, '' AS empty, 'x' AS s, (1 = 1) AS yes, (1 = 0) AS no,
       CAST(1 AS BIT) AS bit1, CAST('a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11' AS UNIQUEIDENTIFIER) AS u`,
    );
    assert.deepEqual(r[0], {
      camelcase: "1",
      f: "0.1",
      g: "1e-05",
      h: "3.0",
      n: "12.50",
      big: "9000000000",
      d: "8780",
      ts: "2024-01-15 10:20:30.500000",
      ts0: "2024-01-15 10:20:30",
      empty: null,
      s: "x",
      yes: "1",
      no: "0",
      bit1: "1",
      u: "a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11",
    });
    const types = Object.fromEntries(r.columns.map((c) => [c.name, c.type]));
    assert.deepEqual(types, {
      camelcase: 23,
      f: 701,
      g: 701,
      h: 701,
      n: 1700,
      big: 20,
      d: 1082,
      ts: 1114,
      ts0: 1114,
      empty: 25,
      s: 25,
      yes: 23,
      no: 23,
      bit1: 23,
      u: 25,
    });
  });

  test("the same shaping applies over the simple query protocol", async () => {
    const r = await simple(raw, `SELECT 'A' AS "Upper", CAST('2000-01-02' AS DATE) AS d, '' AS e`);
    assert.deepEqual(r[0], { upper: "A", d: "1", e: null });
  });

  test("DDL with IDENTITY, BIT, DOUBLE, UNIQUEIDENTIFIER; LAST_IDENTITY(); DML tags report 0", async () => {
    const t = tname("ident");
    await createTable(
      t,
      `"id" BIGINT IDENTITY NOT NULL, "title" VARCHAR(200) NOT NULL, "published" BIT DEFAULT 0,
       "created_at" TIMESTAMP DEFAULT CURRENT_TIMESTAMP, "n" NUMERIC(12,2), "d" DOUBLE, "u" UNIQUEIDENTIFIER,
       "body" VARCHAR(65535), "small" SMALLINT, "day" DATE, PRIMARY KEY ("id"), UNIQUE ("title")`,
    );
    const ins = await q(sql, `INSERT INTO "${t}" ("title", "published", "n", "d") VALUES ($1, $2, $3, $4)`, [
      "first",
      1,
      "12.5",
      0.25,
    ]);
    assert.equal(ins.count, 0, "INSERT 0 0");
    assert.equal(ins.command, "INSERT");
    const [row] = await q(
      sql,
      `SELECT "id", "title", "published", "n", "d", "created_at" FROM "${t}" WHERE "id" = LAST_IDENTITY()`,
    );
    assert.equal(row.title, "first");
    assert.equal(row.published, 1);
    assert.equal(row.n, "12.50");
    assert.equal(row.d, 0.25);
    const [id] = await q(sql, 'SELECT LAST_IDENTITY() AS "id"');
    assert.equal(String(id.id), String(row.id));
    await q(sql, `INSERT INTO SQLUser."${t}" ("title") VALUES ($1)`, ["second"]);
    const upd = await q(sql, `UPDATE "SQLUser"."${t}" SET "published" = $1 WHERE "title" = $2`, [1, "second"]);
    assert.equal(upd.count, 0, "UPDATE 0");
    const del = await q(sql, `DELETE FROM "${t}" WHERE "title" = $1`, ["first"]);
    assert.equal(del.count, 0, "DELETE 0");
    const rest = await q(sql, `SELECT "title", "published" FROM "${t}"`);
    assert.deepEqual(rest.map((r) => ({ ...r })), [{ title: "second", published: 1 }]);
    // BIT holds 0/1 only: anything else fails validation
    await rejectsIris(q(sql, `INSERT INTO "${t}" ("title", "published") VALUES ($1, $2)`, ["bad", 2]), -104);
    await q(sql, `DROP TABLE "${t}"`);
    await rejectsIris(q(sql, `SELECT "id" FROM "${t}"`), -30, new RegExp(`Table 'SQLUser\\.${t}' not found`));
  });

  test("CREATE TABLE IF NOT EXISTS / DROP TABLE IF EXISTS; duplicate table is -201", async () => {
    const t = tname("ifx");
    await q(sql, `CREATE TABLE IF NOT EXISTS "${t}" ("id" INTEGER NOT NULL, PRIMARY KEY ("id"))`);
    created.unshift(t);
    await q(sql, `CREATE TABLE IF NOT EXISTS "${t}" ("id" INTEGER NOT NULL, PRIMARY KEY ("id"))`);
    await rejectsIris(q(sql, `CREATE TABLE "${t}" ("id" INTEGER)`), -201);
    await q(sql, `DROP TABLE IF EXISTS "${t}"`);
    await q(sql, `DROP TABLE IF EXISTS "${t}"`);
  });

  test("INSERT OR UPDATE upserts on the primary key, or on the unique key that is given", async () => {
    const t = tname("upsert");
    await createTable(
      t,
      `"id" INTEGER IDENTITY NOT NULL, "code" VARCHAR(20) NOT NULL, "qty" INTEGER, PRIMARY KEY ("id"), UNIQUE ("code")`,
    );
    await q(sql, `INSERT OR UPDATE "${t}" ("code", "qty") VALUES ($1, $2)`, ["a", 10]); // inserts
    await q(sql, `INSERT OR UPDATE SQLUser."${t}" ("code", "qty") VALUES ($1, $2)`, ["a", 11]); // updates by code
    const [{ id }] = await q(sql, `SELECT "id" FROM "${t}" WHERE "code" = $1`, ["a"]);
    await q(sql, `INSERT OR UPDATE "${t}" ("id", "code", "qty") VALUES ($1, $2, $3)`, [id, "a2", 12]); // updates by id
    await q(sql, `INSERT OR UPDATE "${t}" ("code", "qty") VALUES ($1, $2)`, ["b", 1]); // inserts
    const rows = await q(sql, `SELECT "id", "code", "qty" FROM "${t}" ORDER BY "code"`);
    assert.deepEqual(rows.map((r) => [r.code, r.qty]), [["a2", 12], ["b", 1]]);
    assert.equal(rows[0].id, id);
  });

  test("vector search: VECTOR_COSINE / VECTOR_DOT_PRODUCT with TOP, best first; vectors come back without brackets", async () => {
    const t = tname("vec");
    await createTable(
      t,
      `"id" INTEGER NOT NULL, "label" VARCHAR(20), "embedding" VECTOR(double, 3), "e2" VECTOR(float, 3), PRIMARY KEY ("id")`,
    );
    const data: [number, string, number[]][] = [
      [1, "x", [1, 0, 0]],
      [2, "y", [0, 1, 0]],
      [3, "xy", [0.7, 0.7, 0]],
      [4, "z", [0, 0, 1]],
    ];
    for (const [id, label, v] of data) {
      await q(
        sql,
        `INSERT INTO "${t}" ("id", "label", "embedding", "e2") VALUES ($1, $2, TO_VECTOR($3, double), TO_VECTOR($4, float, 3))`,
        [
          id,
          label,
          JSON.stringify(v),
          v.join(","),
        ],
      );
    }
    const query = [0.9, 0.1, 0];
    const cos = await q(
      sql,
      `SELECT TOP 3 "id", "label", VECTOR_COSINE("embedding", TO_VECTOR($1, double)) AS "score" FROM "${t}"
       ORDER BY VECTOR_COSINE("embedding", TO_VECTOR($2, double)) DESC`,
      [JSON.stringify(query), query], // a JS number[] arrives as "0.9,0.1,0": TO_VECTOR takes it without brackets
    );
    assert.deepEqual(cos.map((r) => r.label), ["x", "xy", "y"]);
    assert.ok(cos[0].score > cos[1].score && cos[1].score > cos[2].score);
    assert.ok(Math.abs(cos[0].score - 0.9 / Math.hypot(0.9, 0.1)) < 1e-6);
    const dot = await q(
      sql,
      `SELECT TOP $1 "id", VECTOR_DOT_PRODUCT("e2", TO_VECTOR($2, float)) AS "score" FROM "${t}" ORDER BY 2 DESC`,
      [2, "0,0.2,1"],
    );
    assert.deepEqual(dot.map((r) => r.id), [4, 2]);
    assert.ok(Math.abs(dot[0].score - 1) < 1e-6);
    const [v] = await q(raw, `SELECT "embedding" FROM "${t}" WHERE "id" = $1`, [3]);
    assert.equal(v.embedding, "0.7,0.7,0");
  });

  test("HNSW index DDL becomes a pgvector hnsw index; DROP INDEX ... ON table", async () => {
    const t = tname("hnsw");
    await createTable(t, `"id" INTEGER NOT NULL, "embedding" VECTOR(double, 3), PRIMARY KEY ("id")`);
    const ix = `ix_${t}`;
    await q(sql, `CREATE INDEX "${ix}" ON "${t}" ("embedding") AS HNSW(M=16, efConstruction=64, Distance='Cosine')`);
    await q(sql, `CREATE INDEX "${ix}_dot" ON TABLE "${t}" ("embedding") AS HNSW(Distance='DotProduct')`);
    const rows = await q(
      sql,
      `SELECT INDEX_NAME, COLUMN_NAME, NON_UNIQUE, PRIMARY_KEY, INDEX_TYPE FROM INFORMATION_SCHEMA.INDEXES
       WHERE TABLE_SCHEMA = $1 AND LOWER(TABLE_NAME) = LOWER($2) ORDER BY INDEX_NAME`,
      ["SQLUser", t],
    );
    assert.deepEqual(rows.map((r) => ({ ...r })), [
      { index_name: `${t}_pkey`, column_name: "id", non_unique: 0, primary_key: 1, index_type: "btree" },
      { index_name: ix, column_name: "embedding", non_unique: 1, primary_key: 0, index_type: "hnsw" },
      { index_name: `${ix}_dot`, column_name: "embedding", non_unique: 1, primary_key: 0, index_type: "hnsw" },
    ]);
    await q(sql, `DROP INDEX "${ix}" ON "${t}"`);
    await q(sql, `DROP INDEX "${ix}_dot" ON SQLUser."${t}"`);
    await rejectsIris(q(sql, `CREATE INDEX IF NOT EXISTS "${ix}" ON "${t}" ("id")`), -1, /IF NOT EXISTS/);
    await q(sql, `CREATE UNIQUE INDEX "${ix}_u" ON "${t}" ("id", "embedding")`).catch(() => {}); // vector has no btree opclass
    await q(sql, `CREATE INDEX "${ix}_a" ON "${t}" ("id")`);
    await rejectsIris(q(sql, `CREATE INDEX "${ix}_a" ON "${t}" ("id")`), -324);
  });

  test("LIMIT $1 OFFSET $2 keeps its offset; a literal LIMIT 2 OFFSET 2 silently loses it", async () => {
    const t = tname("page");
    await createTable(t, `"id" INTEGER NOT NULL, PRIMARY KEY ("id")`);
    for (let i = 1; i <= 6; i++) await q(sql, `INSERT INTO "${t}" ("id") VALUES ($1)`, [i]);
    const bound = await q(sql, `SELECT "id" FROM "${t}" ORDER BY "id" LIMIT $1 OFFSET $2`, [2, 2]);
    assert.deepEqual(bound.map((r) => r.id), [3, 4]);
    const literal = await q(sql, `SELECT "id" FROM "${t}" ORDER BY "id" LIMIT 2 OFFSET 2`);
    assert.deepEqual(literal.map((r) => r.id), [1, 2]);
    const literalSimple = await simple(sql, `SELECT "id" FROM "${t}" ORDER BY "id" LIMIT 2 OFFSET 2`);
    assert.deepEqual(literalSimple.map((r) => r.id), [1, 2]);
    const top = await q(
      sql,
      `SELECT TOP 2 "id" FROM "${t}" WHERE "id" IN (SELECT TOP 4 "id" FROM "${t}" ORDER BY "id" DESC) ORDER BY "id"`,
    );
    assert.deepEqual(top.map((r) => r.id), [3, 4]);
  });

  test("ORDER BY an alias over a comma expression fails in the extended protocol only", async () => {
    const t = tname("alias");
    await createTable(t, `"id" INTEGER NOT NULL, "embedding" VECTOR(double, 2), PRIMARY KEY ("id")`);
    await q(sql, `INSERT INTO "${t}" ("id", "embedding") VALUES ($1, TO_VECTOR($2, double))`, [1, "[1,0]"]);
    await q(sql, `INSERT INTO "${t}" ("id", "embedding") VALUES ($1, TO_VECTOR($2, double))`, [2, "[0,1]"]);
    await rejectsIris(
      q(
        sql,
        `SELECT "id", VECTOR_COSINE("embedding", TO_VECTOR($1, double)) AS score FROM "${t}" ORDER BY score DESC`,
        ["[0,1]"],
      ),
      -1,
      /ORDER BY double\)\) DESC/,
    );
    const ordinal = await q(
      sql,
      `SELECT "id", VECTOR_COSINE("embedding", TO_VECTOR($1, double)) AS score FROM "${t}" ORDER BY 2 DESC`,
      ["[0,1]"],
    );
    assert.deepEqual(ordinal.map((r) => r.id), [2, 1]);
    const viaSimple = await simple(
      sql,
      `SELECT "id", VECTOR_COSINE("embedding", TO_VECTOR('[0,1]', double)) AS score FROM "${t}" ORDER BY score DESC`,
    );
    assert.deepEqual(viaSimple.map((r) => r.id), [2, 1]);
    const plainAlias = await q(sql, `SELECT "id" AS k FROM "${t}" ORDER BY k DESC`);
    assert.deepEqual(plainAlias.map((r) => r.k), [2, 1]);
  });

  test("upper-case DOUBLE inside TO_VECTOR/VECTOR fails in the extended protocol only", async () => {
    await rejectsIris(
      q(sql, `SELECT VECTOR_COSINE(TO_VECTOR($1, DOUBLE), TO_VECTOR($2, double)) AS s`, ["[1,0]", "[1,0]"]),
      -1,
      /PRECISION not recognized as keyword/,
    );
    await rejectsIris(q(sql, `CREATE TABLE "${tname("dbl")}" ("v" VECTOR(DOUBLE, 3))`), -1, /PRECISION/);
    const [ok] = await q(sql, `SELECT VECTOR_COSINE(TO_VECTOR($1, double), TO_VECTOR($2, double)) AS s`, [
      "[1,0]",
      "[1,0]",
    ]);
    assert.ok(Math.abs(ok.s - 1) < 1e-9);
    const [viaSimple] = await simple(
      sql,
      `SELECT VECTOR_COSINE(TO_VECTOR('1,0', DOUBLE), TO_VECTOR('[1,0]', DOUBLE)) AS s`,
    );
    assert.ok(Math.abs(viaSimple.s - 1) < 1e-9);
  });

  test("rejects SQL that IRIS or iris-pgwire would refuse (trailing ';', multi-row VALUES, RETURNING, ...)", async () => {
    const t = tname("rej");
    await createTable(t, `"id" INTEGER NOT NULL, "embedding" VECTOR(double, 2), PRIMARY KEY ("id")`);
    await rejectsIris(q(sql, `SELECT 1 AS x;`), -25);
    await rejectsIris(simple(sql, `SELECT 1 AS x;`), -25);
    await rejectsIris(simple(sql, `SELECT 1 AS x; SELECT 2 AS y`), -25);
    await rejectsIris(q(sql, `INSERT INTO "${t}" ("id") VALUES ($1), ($2)`, [1, 2]), -25, /multi-row/);
    await rejectsIris(q(sql, `INSERT INTO "${t}" ("id") VALUES ($1) RETURNING "id"`, [1]), -25, /RETURNING/);
    await rejectsIris(q(sql, `INSERT INTO "${t}" ("id") VALUES ($1) ON CONFLICT DO NOTHING`, [1]), -25, /ON CONFLICT/);
    await rejectsIris(q(sql, `SELECT $1::int AS x`, [1]), -1, /::/);
    await rejectsIris(q(sql, `SELECT "id" FROM "${t}" ORDER BY "embedding" <=> $1::vector`, ["[1,0]"]), -1);
    await rejectsIris(q(sql, `SELECT "id" FROM "${t}" ORDER BY "embedding" <=> $1`, ["[1,0]"]), -1, /<=>/);
    await rejectsIris(q(sql, `SELECT "id" FROM "${t}" ORDER BY "embedding" <#> $1`, ["[1,0]"]), -1, /<#>/);
    await rejectsIris(q(sql, `SELECT "id" FROM "${t}" ORDER BY "embedding" <-> $1`, ["[1,0]"]), -1, /<->/);
    await rejectsIris(q(sql, `SELECT oid FROM pg_catalog.pg_class`), -30);
    await rejectsIris(q(sql, `SELECT relname FROM pg_class`), -30);
    await rejectsIris(q(sql, `SELECT pg_backend_pid() AS p`), -400);
    const rows = await q(sql, `SELECT "id" FROM "${t}"`);
    assert.equal(rows.length, 0, "nothing was inserted by the rejected statements");
    // the connection is still usable after each rejection
    const [one] = await q(sql, `SELECT 1 AS one`);
    assert.equal(one.one, 1);
  });

  test("backend errors become IRIS SQLCODEs: unique -119/-120, not null -108, FK -121/-122/-124, -30, -29, -1", async () => {
    const parent = tname("parent");
    const child = tname("child");
    await createTable(
      parent,
      `"id" INTEGER NOT NULL, "name" VARCHAR(50) NOT NULL, PRIMARY KEY ("id"), UNIQUE ("name")`,
    );
    await createTable(
      child,
      `"id" INTEGER NOT NULL, "parent_id" INTEGER, PRIMARY KEY ("id"),
       CONSTRAINT "fk_${child}" FOREIGN KEY ("parent_id") REFERENCES "${parent}" ("id")`,
    );
    await q(sql, `INSERT INTO "${parent}" ("id", "name") VALUES ($1, $2)`, [1, "one"]);
    await q(sql, `INSERT INTO "${parent}" ("id", "name") VALUES ($1, $2)`, [2, "two"]);
    await rejectsIris(
      q(sql, `INSERT INTO "${parent}" ("id", "name") VALUES ($1, $2)`, [1, "uno"]),
      -119,
      new RegExp(`Table 'SQLUser\\.${parent}', Constraint '${parent}_pkey', Field\\(s\\) id="1"; failed unique check`),
    );
    await rejectsIris(q(sql, `UPDATE "${parent}" SET "name" = $1 WHERE "id" = $2`, ["one", 2]), -120);
    await rejectsIris(q(sql, `INSERT INTO "${parent}" ("id") VALUES ($1)`, [3]), -108, /name/);
    await rejectsIris(q(sql, `INSERT INTO "${child}" ("id", "parent_id") VALUES ($1, $2)`, [1, 99]), -121);
    await q(sql, `INSERT INTO "${child}" ("id", "parent_id") VALUES ($1, $2)`, [1, 1]);
    await rejectsIris(q(sql, `UPDATE "${child}" SET "parent_id" = $1 WHERE "id" = $2`, [99, 1]), -122);
    await rejectsIris(q(sql, `DELETE FROM "${parent}" WHERE "id" = $1`, [1]), -124);
    await rejectsIris(q(sql, `SELECT "id" FROM "${tname("missing")}"`), -30);
    await rejectsIris(q(sql, `SELECT "nope" FROM "${parent}"`), -29, /nope/);
    await rejectsIris(q(sql, `SELEC 1`), -1);
    await rejectsIris(simple(sql, `SELECT "id" FROM "${tname("missing")}"`), -30);
  });

  test("transactions: START TRANSACTION ISOLATION LEVEL, SAVEPOINT, ROLLBACK TO SAVEPOINT, COMMIT", async () => {
    const t = tname("tx");
    await createTable(t, `"id" INTEGER NOT NULL, PRIMARY KEY ("id")`);
    const ids = async () => (await q(sql, `SELECT "id" FROM "${t}" ORDER BY "id"`)).map((r) => r.id);
    await sql.reserve().then(async (c) => {
      try {
        await simple(c, "START TRANSACTION ISOLATION LEVEL READ UNCOMMITTED");
        await q(c, `INSERT INTO "${t}" ("id") VALUES ($1)`, [1]);
        await q(c, "SAVEPOINT sp1");
        await q(c, `INSERT INTO "${t}" ("id") VALUES ($1)`, [2]);
        await q(c, "ROLLBACK TO SAVEPOINT sp1");
        await rejectsIris(q(c, "RELEASE SAVEPOINT sp1"), -1, /RELEASE/);
        await q(c, "COMMIT");
        await simple(c, "START TRANSACTION ISOLATION LEVEL READ VERIFIED");
        await q(c, `INSERT INTO "${t}" ("id") VALUES ($1)`, [3]);
        await q(c, "ROLLBACK");
        await q(c, "BEGIN");
        await rejectsIris(q(c, "ROLLBACK TO SAVEPOINT nope"), -375);
        await q(c, "ROLLBACK");
      } finally {
        c.release();
      }
    });
    assert.deepEqual(await ids(), [1]);
    // postgres.js sql.begin / savepoint (sends `begin`, `savepoint "s0_x"`, `rollback to "s0_x"`, `commit`)
    await sql.begin(async (tx) => {
      await q(tx as unknown as Sql, `INSERT INTO "${t}" ("id") VALUES ($1)`, [4]);
      await tx.savepoint("x", async (sp) => {
        await q(sp as unknown as Sql, `INSERT INTO "${t}" ("id") VALUES ($1)`, [5]);
        throw new Error("undo the savepoint");
      }).catch(() => {});
    });
    assert.deepEqual(await ids(), [1, 4]);
    await rejectsIris(simple(sql, "START TRANSACTION ISOLATION LEVEL SERIALIZABLE"), -1);
  });

  test("SET/SHOW are answered by the server itself", async () => {
    await q(sql, "SET TRANSACTION ISOLATION LEVEL READ COMMITTED");
    await simple(sql, "SET search_path TO nowhere");
    const [v] = await q(sql, "SHOW server_version");
    assert.equal(v.server_version, "16.0 (InterSystems IRIS)");
    const [u] = await simple(sql, "SHOW transaction_isolation");
    assert.equal(u.transaction_isolation, "unknown");
    // SET never reached the backend: unqualified names still resolve
    const [one] = await q(sql, "SELECT 1 AS one");
    assert.equal(one.one, 1);
  });

  test("INFORMATION_SCHEMA: rows for an existing table, an IRIS error for a missing one", async () => {
    const t = tname("info");
    await createTable(
      t,
      `"id" BIGINT IDENTITY NOT NULL, "title" VARCHAR(200) NOT NULL, "flag" BIT, "score" DOUBLE, "price" NUMERIC(12,2),
       "born" DATE, "at" TIMESTAMP, "u" UNIQUEIDENTIFIER, "embedding" VECTOR(double, 3), PRIMARY KEY ("id"), UNIQUE ("title")`,
    );
    const tables = await q(
      sql,
      `SELECT TABLE_SCHEMA, TABLE_NAME, TABLE_TYPE FROM INFORMATION_SCHEMA.TABLES WHERE TABLE_SCHEMA = $1 AND LOWER(TABLE_NAME) = LOWER($2)`,
      ["SQLUser", t.toUpperCase()],
    );
    assert.deepEqual(tables.map((r) => ({ ...r })), [{
      table_schema: "public",
      table_name: t,
      table_type: "BASE TABLE",
    }]);
    // IRIS compares catalog names case-insensitively (COLLATION Upper)
    const [count] = await q(
      sql,
      `SELECT COUNT(*) AS "n" FROM "INFORMATION_SCHEMA"."TABLES" WHERE "INFORMATION_SCHEMA"."TABLES"."TABLE_SCHEMA" = 'sqluser'
       AND "INFORMATION_SCHEMA"."TABLES"."TABLE_NAME" = $1`,
      [t.toUpperCase()],
    );
    assert.equal(Number(count.n), 1);
    const missing = tname("nonexistent");
    await rejectsIris(
      q(
        sql,
        `SELECT COUNT(*) AS "n" FROM INFORMATION_SCHEMA.TABLES WHERE TABLE_SCHEMA = $1 AND LOWER(TABLE_NAME) = LOWER($2)`,
        ["SQLUser", missing],
      ),
      -30,
      new RegExp(`Table 'SQLUser\\.${missing}' does not exist`),
    );
    await rejectsIris(
      simple(
        sql,
        `SELECT COLUMN_NAME FROM INFORMATION_SCHEMA.COLUMNS WHERE TABLE_SCHEMA = 'SQLUser' AND TABLE_NAME = '${missing}'`,
      ),
      -30,
      /does not exist/,
    );
    // A list of tables is not "one specific table": no error, just rows.
    const none = await q(sql, `SELECT TABLE_NAME FROM INFORMATION_SCHEMA.TABLES WHERE TABLE_NAME IN ($1, $2)`, [
      missing,
      `${missing}2`,
    ]);
    assert.equal(none.length, 0);

    const cols = await q(
      sql,
      `SELECT COLUMN_NAME, DATA_TYPE, IS_NULLABLE, CHARACTER_MAXIMUM_LENGTH, NUMERIC_PRECISION, NUMERIC_SCALE,
       AUTO_INCREMENT, PRIMARY_KEY, UNIQUE_COLUMN
       FROM INFORMATION_SCHEMA.COLUMNS WHERE TABLE_SCHEMA = $1 AND LOWER(TABLE_NAME) = LOWER($2) ORDER BY ORDINAL_POSITION`,
      ["SQLUser", t],
    );
    assert.deepEqual(cols.map((r) => [r.column_name, r.data_type, r.is_nullable]), [
      ["id", "bigint", "NO"],
      ["title", "varchar", "NO"],
      ["flag", "bit", "YES"],
      ["score", "double", "YES"],
      ["price", "numeric", "YES"],
      ["born", "date", "YES"],
      ["at", "timestamp", "YES"],
      ["u", "guid", "YES"],
      ["embedding", "varchar", "YES"],
    ]);
    const byName = Object.fromEntries(cols.map((r) => [r.column_name, r]));
    assert.equal(byName.id.auto_increment, "YES");
    assert.equal(byName.id.primary_key, "YES");
    assert.equal(byName.title.character_maximum_length, 200);
    assert.equal(byName.title.unique_column, "YES");
    assert.equal(byName.price.numeric_precision, 12);
    assert.equal(byName.price.numeric_scale, 2);
  });

  test("INFORMATION_SCHEMA constraints: KEY_COLUMN_USAGE, TABLE_CONSTRAINTS, REFERENTIAL_CONSTRAINTS", async () => {
    const parent = tname("iparent");
    const child = tname("ichild");
    await createTable(parent, `"id" INTEGER NOT NULL, PRIMARY KEY ("id")`);
    await createTable(
      child,
      `"id" INTEGER NOT NULL, "pid" INTEGER, PRIMARY KEY ("id"),
       CONSTRAINT "fk_${child}" FOREIGN KEY ("pid") REFERENCES "${parent}" ("id") ON DELETE CASCADE`,
    );
    const pk = await q(
      sql,
      `SELECT kcu.TABLE_NAME, kcu.CONSTRAINT_NAME, kcu.COLUMN_NAME
       FROM INFORMATION_SCHEMA.KEY_COLUMN_USAGE kcu
       JOIN INFORMATION_SCHEMA.TABLE_CONSTRAINTS tc ON kcu.CONSTRAINT_NAME = tc.CONSTRAINT_NAME AND kcu.TABLE_SCHEMA = tc.TABLE_SCHEMA
       WHERE kcu.TABLE_SCHEMA = $1 AND kcu.TABLE_NAME = $2 AND tc.CONSTRAINT_TYPE = 'PRIMARY KEY'
       ORDER BY kcu.ORDINAL_POSITION`,
      ["SQLUser", child],
    );
    assert.deepEqual(pk.map((r) => r.column_name), ["id"]);
    const fks = await q(
      sql,
      `SELECT kcu.CONSTRAINT_NAME, kcu.COLUMN_NAME, ref.TABLE_NAME AS REF_TABLE, ref.COLUMN_NAME AS REF_COLUMN, rc.DELETE_RULE,
       rc.UNIQUE_CONSTRAINT_TABLE
       FROM INFORMATION_SCHEMA.REFERENTIAL_CONSTRAINTS rc
       JOIN INFORMATION_SCHEMA.KEY_COLUMN_USAGE kcu ON kcu.TABLE_SCHEMA = rc.CONSTRAINT_SCHEMA AND kcu.CONSTRAINT_NAME = rc.CONSTRAINT_NAME
       JOIN INFORMATION_SCHEMA.KEY_COLUMN_USAGE ref ON ref.CONSTRAINT_SCHEMA = rc.UNIQUE_CONSTRAINT_SCHEMA
         AND ref.CONSTRAINT_NAME = rc.UNIQUE_CONSTRAINT_NAME AND ref.ORDINAL_POSITION = kcu.ORDINAL_POSITION
       WHERE kcu.TABLE_SCHEMA = $1 AND kcu.TABLE_NAME = $2`,
      ["SQLUser", child],
    );
    assert.deepEqual(fks.map((r) => ({ ...r })), [{
      constraint_name: `fk_${child}`,
      column_name: "pid",
      ref_table: parent,
      ref_column: "id",
      delete_rule: "CASCADE",
      unique_constraint_table: parent,
    }]);
    await rejectsIris(q(sql, `SELECT * FROM INFORMATION_SCHEMA.NO_SUCH_VIEW`), -30);
  });

  test("CREATE TABLE in another schema creates the schema, as IRIS does", async () => {
    const schema = `s_${RUN}`;
    const t = tname("schema");
    await q(sql, `CREATE TABLE "${schema}"."${t}" ("id" INTEGER NOT NULL, PRIMARY KEY ("id"))`);
    await q(sql, `INSERT INTO "${schema}"."${t}" ("id") VALUES ($1)`, [7]);
    const [row] = await q(sql, `SELECT "id" FROM "${schema}"."${t}"`);
    assert.equal(row.id, 7);
    const [info] = await q(
      sql,
      `SELECT TABLE_SCHEMA FROM INFORMATION_SCHEMA.TABLES WHERE TABLE_SCHEMA = $1 AND TABLE_NAME = $2`,
      [schema, t],
    );
    assert.equal(info.table_schema, schema);
    await q(sql, `DROP TABLE "${schema}"."${t}"`);
  });

  test("pipelined queries stay in step when some are rejected by the emulator or fail in the backend", async () => {
    const missing = tname("gone");
    const results = await Promise.allSettled([
      q(sql, "SELECT 1 AS a"),
      q(sql, "SELECT 2 AS b;"),
      q(sql, `SELECT "x" FROM "${missing}"`),
      q(sql, "SELECT $1 AS c", [3]),
      simple(sql, "SELECT 4 AS d"),
      q(sql, `SELECT TABLE_NAME FROM INFORMATION_SCHEMA.TABLES WHERE TABLE_SCHEMA = $1 AND TABLE_NAME = $2`, [
        "SQLUser",
        missing,
      ]),
      q(sql, "SELECT TOP 1 5 AS e"),
    ]);
    const summary = results.map((r) =>
      r.status === "fulfilled" ? Object.values(r.value[0]).join() : (r.reason as Error).message.slice(0, 17)
    );
    assert.deepEqual(summary, ["1", "[SQLCODE: <-25>:<", "[SQLCODE: <-30>:<", "3", "4", "[SQLCODE: <-30>:<", "5"]);
  });

  test("a client that disconnects inside a transaction releases PGlite, and its work is rolled back", async () => {
    const t = tname("gone_tx");
    await createTable(t, `"id" INTEGER NOT NULL, PRIMARY KEY ("id")`);
    const a = connect(emu.url);
    await q(a, "SELECT 1 AS warm"); // postgres.js 3.4.9: reserve() on a never-connected client hangs (also against PostgreSQL)
    const c = await a.reserve();
    await simple(c, "START TRANSACTION");
    await q(c, `INSERT INTO "${t}" ("id") VALUES ($1)`, [1]);
    await a.end({ timeout: 0 }); // drops the socket mid-transaction
    const b = connect(emu.url);
    try {
      await q(b, `INSERT INTO "${t}" ("id") VALUES ($1)`, [2]);
      const rows = await q(b, `SELECT "id" FROM "${t}" ORDER BY "id"`);
      assert.deepEqual(rows.map((r) => r.id), [2]);
    } finally {
      await b.end();
    }
  });

  test("a client that vanishes mid-batch (no Sync) neither commits nor blocks PGlite", async () => {
    const t = tname("midbatch");
    await createTable(t, `"id" INTEGER NOT NULL, PRIMARY KEY ("id")`);
    const socket = net.connect({ host: "127.0.0.1", port: emu.port });
    await new Promise((r) => socket.once("connect", r));
    socket.write(wire.startupMessage({ user: "x", database: "USER" }));
    await new Promise<void>((resolve) => {
      let seen = Buffer.alloc(0);
      socket.on("data", (d: Buffer) => {
        seen = Buffer.concat([seen, d]);
        if (seen.includes(Buffer.from("Z\0\0\0\x05I"))) resolve();
      });
    });
    socket.write(Buffer.concat([
      wire.parse("", `INSERT INTO "${t}" ("id") VALUES (1)`),
      wire.bind("", "", [], []),
      wire.execute(""),
      wire.flush(),
    ]));
    await new Promise((r) => setTimeout(r, 100)); // the INSERT has run, without Sync
    socket.destroy();
    const rows = await q(sql, `SELECT "id" FROM "${t}"`);
    assert.equal(rows.length, 0);
  });

  test("PGlite is shared: a client inside a transaction is never interleaved with another client", async () => {
    const t = tname("conc");
    await createTable(t, `"id" INTEGER NOT NULL, PRIMARY KEY ("id")`);
    const a = connect(emu.url);
    const b = connect(emu.url);
    try {
      let inserted!: () => void;
      const aInserted = new Promise<void>((r) => (inserted = r));
      const txA = a.begin(async (tx) => {
        await q(tx as unknown as Sql, `INSERT INTO "${t}" ("id") VALUES ($1)`, [1]);
        inserted();
        await new Promise((r) => setTimeout(r, 150));
        throw new Error("roll back A");
      }).catch((e: Error) => e.message);
      await aInserted;
      // B runs in autocommit mode; if it ran inside A's transaction, A's rollback would undo it.
      await q(b, `INSERT INTO "${t}" ("id") VALUES ($1)`, [2]);
      assert.equal(await txA, "roll back A");
      const rows = await q(sql, `SELECT "id" FROM "${t}" ORDER BY "id"`);
      assert.deepEqual(rows.map((r) => r.id), [2]);
      // Many clients at once, each with its own named statements
      const clients = [a, b, sql];
      const results = await Promise.all(
        Array.from({ length: 30 }, (_, i) => q(clients[i % 3], `SELECT $1 AS v, "id" FROM "${t}"`, [i])),
      );
      results.forEach((r, i) => assert.equal(r[0].v, String(i)));
    } finally {
      await a.end();
      await b.end();
    }
  });
});

describe("iris-pgwire emulator over PostgreSQL (127.0.0.1:5432)", {
  skip: pgAvailable ? false : "no PostgreSQL on 127.0.0.1:5432",
}, () => {
  let emu: IrisEmulator;
  let sql: Sql;
  const created: string[] = [];

  before(async () => {
    emu = await startIrisEmulator({ backend: PG_URL });
    sql = connect(emu.url);
  });

  after(async () => {
    for (const t of created) await q(sql, `DROP TABLE IF EXISTS "${t}"`).catch(() => {});
    await sql?.end();
    await emu?.close();
  });

  test("DDL + DML: IDENTITY, BIT, LAST_IDENTITY, INSERT OR UPDATE, tags report 0", async () => {
    const t = tname("pg_docs");
    await q(
      sql,
      `CREATE TABLE "${t}" ("id" BIGINT IDENTITY NOT NULL, "title" VARCHAR(200) NOT NULL, "published" BIT DEFAULT 0,
       "created_at" TIMESTAMP DEFAULT CURRENT_TIMESTAMP, "d" DOUBLE, "day" DATE, PRIMARY KEY ("id"), UNIQUE ("title"))`,
    );
    created.unshift(t);
    const ins = await q(sql, `INSERT INTO "${t}" ("title", "published", "d", "day") VALUES ($1, $2, $3, $4)`, [
      "a",
      1,
      0.5,
      "2000-01-03",
    ]);
    assert.equal(ins.count, 0);
    const [row] = await q(
      sql,
      `SELECT "id", "title", "published", "d", "day" FROM "${t}" WHERE "id" = LAST_IDENTITY()`,
    );
    assert.equal(row.title, "a");
    assert.equal(row.published, 1);
    assert.equal(row.d, 0.5);
    const raw = connectRaw(emu.url);
    try {
      const [r] = await q(raw, `SELECT "day", "published" FROM "${t}" WHERE "id" = $1`, [row.id]);
      assert.deepEqual({ ...r }, { day: "2", published: "1" }, "DATE arrives as a day number");
    } finally {
      await raw.end();
    }
    await q(sql, `INSERT OR UPDATE "${t}" ("title", "published") VALUES ($1, $2)`, ["a", 0]);
    const rows = await q(sql, `SELECT "title", "published" FROM "${t}"`);
    assert.deepEqual(rows.map((r) => ({ ...r })), [{ title: "a", published: 0 }]);
    const upd = await q(sql, `UPDATE "${t}" SET "d" = $1`, [1.5]);
    assert.equal(upd.count, 0);
  });

  test("errors: -119, -108, -121, -124, -30, -201; INFORMATION_SCHEMA missing table", async () => {
    const p = tname("pg_parent");
    const c = tname("pg_child");
    await q(sql, `CREATE TABLE "${p}" ("id" INTEGER NOT NULL, "name" VARCHAR(20) NOT NULL, PRIMARY KEY ("id"))`);
    created.unshift(p);
    await q(
      sql,
      `CREATE TABLE "${c}" ("id" INTEGER NOT NULL, "pid" INTEGER, PRIMARY KEY ("id"), CONSTRAINT "fk_${c}" FOREIGN KEY ("pid") REFERENCES "${p}" ("id"))`,
    );
    created.unshift(c);
    await q(sql, `INSERT INTO "${p}" ("id", "name") VALUES ($1, $2)`, [1, "x"]);
    await rejectsIris(q(sql, `INSERT INTO "${p}" ("id", "name") VALUES ($1, $2)`, [1, "y"]), -119, /id="1"/);
    await rejectsIris(q(sql, `INSERT INTO "${p}" ("id") VALUES ($1)`, [2]), -108);
    await rejectsIris(q(sql, `INSERT INTO "${c}" ("id", "pid") VALUES ($1, $2)`, [1, 42]), -121);
    await q(sql, `INSERT INTO "${c}" ("id", "pid") VALUES ($1, $2)`, [1, 1]);
    await rejectsIris(q(sql, `DELETE FROM "${p}" WHERE "id" = $1`, [1]), -124);
    await rejectsIris(q(sql, `SELECT "id" FROM "${tname("pg_missing")}"`), -30);
    await rejectsIris(q(sql, `CREATE TABLE "${p}" ("id" INTEGER)`), -201);
    await rejectsIris(q(sql, `INSERT INTO "${p}" ("id", "name") VALUES ($1, $2), ($3, $4)`, [5, "a", 6, "b"]), -25);
    const [n] = await q(
      sql,
      `SELECT COUNT(*) AS "n" FROM INFORMATION_SCHEMA.TABLES WHERE TABLE_SCHEMA = $1 AND LOWER(TABLE_NAME) = LOWER($2)`,
      ["SQLUser", p],
    );
    assert.equal(Number(n.n), 1);
    await rejectsIris(
      q(
        sql,
        `SELECT COUNT(*) AS "n" FROM INFORMATION_SCHEMA.TABLES WHERE TABLE_SCHEMA = $1 AND LOWER(TABLE_NAME) = LOWER($2)`,
        ["SQLUser", tname("pg_missing")],
      ),
      -30,
      /does not exist/,
    );
  });

  test("transactions with savepoints, and one backend connection per client", async () => {
    const t = tname("pg_tx");
    await q(sql, `CREATE TABLE "${t}" ("id" INTEGER NOT NULL, PRIMARY KEY ("id"))`);
    created.unshift(t);
    const other = connect(emu.url);
    try {
      await sql.begin(async (tx) => {
        await q(tx as unknown as Sql, `INSERT INTO "${t}" ("id") VALUES ($1)`, [1]);
        // another client does not see the uncommitted row: it has its own backend session
        const seen = await q(other, `SELECT "id" FROM "${t}"`);
        assert.equal(seen.length, 0);
        await tx.savepoint(async (sp) => {
          await q(sp as unknown as Sql, `INSERT INTO "${t}" ("id") VALUES ($1)`, [2]);
          throw new Error("undo");
        }).catch(() => {});
      });
      const rows = await q(other, `SELECT "id" FROM "${t}" ORDER BY "id"`);
      assert.deepEqual(rows.map((r) => r.id), [1]);
    } finally {
      await other.end();
    }
  });

  test("a default postgres.js client fails on its first query", async () => {
    assert.match(await firstQueryWithDefaultClient(emu.url), /^ERR 42000 \[SQLCODE: <-30>:/);
  });
});

describe("CLI", () => {
  test("`cli.ts --port 0` prints the real port, serves, and stops on SIGTERM", async () => {
    const child = spawn("node", ["--import", "tsx", "tests/fixtures/iris-pgwire-emulator/cli.ts", "--port", "0"], {
      cwd: ROOT,
      stdio: ["ignore", "pipe", "pipe"],
    });
    const exited = new Promise<{ code: number | null; signal: string | null }>((resolve) =>
      child.once("exit", (code, signal) => resolve({ code, signal }))
    );
    try {
      const port = await new Promise<number>((resolve, reject) => {
        let out = "";
        let err = "";
        // The emulator opens PGlite with pgvector first: 5-20 s on a busy 2-core machine, so a stall guard only.
        const timer = setTimeout(() => reject(new Error(`no 'listening on' line; stderr: ${err}`)), 90_000);
        child.stdout!.on("data", (d) => {
          out += d;
          const m = /^listening on 127\.0\.0\.1:(\d+)$/m.exec(out);
          if (m) {
            clearTimeout(timer);
            resolve(Number(m[1]));
          }
        });
        child.stderr!.on("data", (d) => (err += d));
        child.once("exit", (code) => {
          clearTimeout(timer);
          reject(new Error(`cli exited early (${code}): ${err}`));
        });
      });
      assert.ok(port > 0);
      const sql = connect(`postgres://_SYSTEM:SYS@127.0.0.1:${port}/USER`);
      try {
        const [row] = await q(sql, `SELECT TOP 1 'ok' AS "Status"`);
        assert.equal(row.status, "ok");
      } finally {
        await sql.end();
      }
    } finally {
      child.kill("SIGTERM");
    }
    const { code, signal } = await exited;
    // Deno's node:child_process reports (null, "SIGTERM") even when the child handled the signal and exited 0.
    const isDeno = "Deno" in globalThis;
    assert.ok(code === 0 || (isDeno && signal === "SIGTERM"), `exit code ${code}, signal ${signal}`);
  });
});
