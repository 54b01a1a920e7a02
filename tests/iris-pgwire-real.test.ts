/**
 * irisql through the REAL iris-pgwire server (PyPI iris-pgwire==1.7.3, unmodified)
 * over an IRIS stand-in that executes the IRIS SQL on PostgreSQL — NOT IRIS: a
 * stand-in (tests/fixtures/iris-pgwire-real/README.md). What passes here is what
 * the real wire server does to statements; IRIS itself is not involved.
 *
 * Needs `bash scripts/iris-pgwire/setup.sh` (.ci/run runs it) and PostgreSQL on
 * 127.0.0.1:5432 (first block); the second block runs the stand-in on PGlite +
 * pgvector + citext (pglite-socket, `backend: "pglite"`). Runs under
 * `node --import tsx --test`, `bun test`, `deno test -A`.
 *
 * Each README finding is shown twice where it matters: with a raw postgres.js
 * client ("real server:"), what iris-pgwire 1.7.3 does to a plain statement; and
 * through irisql ("irisql:"), the guard it puts up (refusal, error or other SQL).
 * External mode commits every statement, so irisql's engines here say
 * `transactions: "autocommit"` (the URL's `?transactions=autocommit`).
 */
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import postgres from "postgres";
import {
  col,
  createEngine,
  type Engine,
  index,
  QueryError,
  type QueryEvent,
  table,
  UniqueViolationError,
  UnsupportedFeatureError,
  ValidationError,
} from "../mod.ts";
import { type IrisPgwire, startIrisPgwire } from "./fixtures/iris-pgwire-real/mod.ts";
import { transactionsUnavailable, withQuery } from "./helpers.ts";

const RUN = `${Date.now().toString(36)}${Math.random().toString(36).slice(2, 6)}`;
const PREPARED = { prepare: true } as postgres.UnsafeQueryOptions;

/** A raw postgres.js client as irisql's IRIS profile sets it up (no type fetch), on one connection. */
function rawClient(server: IrisPgwire): postgres.Sql {
  return postgres(`postgres://u:p@127.0.0.1:${server.port}/USER`, {
    fetch_types: false,
    prepare: true,
    max: 1,
    onnotice: () => {},
  });
}

describe("irisql through the real iris-pgwire 1.7.3 (IRIS stand-in, not IRIS)", () => {
  let server: IrisPgwire;
  let engine: Engine;
  let raw: postgres.Sql;
  const events: QueryEvent[] = [];
  const name = `rp_smoke_${RUN}`;
  const People = table(name, {
    id: col.integer().primaryKey(),
    name: col.varchar(50).notNull(),
    zip: col.varchar(10),
  });
  const Prices = table(`rp_price_${RUN}`, {
    id: col.integer().primaryKey(),
    p: col.numeric(10, 2),
    d: col.numeric(30, 20),
  });
  /** What irisql sent since `from`. */
  const sentSince = (from: number) => events.slice(from).map((e) => e.sql);

  before(async () => {
    server = await startIrisPgwire();
    engine = createEngine(withQuery(server.url, "transactions=autocommit"), { onQuery: (e) => events.push(e) });
    raw = rawClient(server);
  });

  after(async () => {
    await engine?.dropAll([People, Prices]).catch(() => {});
    await raw?.end();
    await engine?.dispose();
    await server?.close();
  });

  test("connects, creates a table, inserts and selects", async () => {
    await engine.createAll([People, Prices]);
    const session = engine.session();
    try {
      await session.insert(People, { id: 1, name: "Bob", zip: "A1B 2C3" });
      await session.insert(People, { id: 2, name: "Alice", zip: null });
      await session.commit();
    } finally {
      await session.close();
    }
    const rows = await engine.execute({ text: `SELECT id, name, zip FROM ${name} ORDER BY id`, params: [] });
    assert.deepEqual(rows.rows, [{ id: 1, name: "Bob", zip: "A1B 2C3" }, { id: 2, name: "Alice", zip: null }]);
    const one = await engine.execute({ text: `SELECT name FROM ${name} WHERE id = $1`, params: [2] });
    assert.deepEqual(one.rows, [{ name: "Alice" }], "a parameterised SELECT survives the Describe NULL probe");
  });

  test("real server: INFORMATION_SCHEMA answers are fabricated, with no columns and no rows (finding 7)", async () => {
    const info = await raw.unsafe(
      `SELECT TABLE_NAME FROM INFORMATION_SCHEMA.TABLES WHERE TABLE_NAME = $1`,
      [name.toUpperCase()],
      PREPARED,
    );
    assert.deepEqual([...info], [], "the table exists, yet the catalog shows nothing");
    assert.equal(info.columns?.length ?? 0, 0, "not even the column asked for");
  });

  test("irisql: hasTable() probes the table itself; introspect()'s queries carry an EXISTS, which the server passes to IRIS", async () => {
    assert.equal(await engine.hasTable(name), true);
    assert.equal(await engine.hasTable(`rp_missing_${RUN}`), false);
    // catalog_router.py declines statements holding "EXISTS (" before it would invent an answer.
    const from = events.length;
    const t = (await engine.introspect()).tables.find((x) => x.name.toLowerCase() === name.toLowerCase());
    assert.ok(t, "introspect() lists the table");
    assert.deepEqual(t.columns.map((c) => [c.name.toLowerCase(), c.dataType, c.nullable]), [
      ["id", "integer", false],
      ["name", "varchar", false],
      ["zip", "varchar", true],
    ]);
    assert.deepEqual(t.primaryKey.map((c) => c.toLowerCase()), ["id"]);
    assert.ok(
      sentSince(from).every((s) => /INFORMATION_SCHEMA/.test(s) && /EXISTS \(/.test(s)),
      "each query has its EXISTS",
    );
  });

  test("real server: numeric-looking text is converted before it reaches IRIS (finding 1)", async () => {
    const zips = ["00123", "+5", " 42", "1e5", "1_000", "\u0663"];
    for (const [i, zip] of zips.entries()) {
      await raw.unsafe(`INSERT INTO ${name} (id, name, zip) VALUES ($1, $2, $3)`, [10 + i, "z", zip], PREPARED);
    }
    const back = await raw.unsafe(`SELECT zip FROM ${name} WHERE id >= 10 ORDER BY id`);
    assert.deepEqual(back.map((r) => r.zip), ["123", "5", "42", "100000.0", "1000", "3"]);
  });

  test("irisql: numeric-looking text is a ValidationError and nothing is sent", async () => {
    const from = events.length;
    await assert.rejects(engine.session((s) => s.insert(People, { id: 30, name: "z", zip: "00123" })), ValidationError);
    assert.deepEqual(sentSince(from), [], "nothing sent");
    assert.equal(await engine.session((s) => s.get(People, 30)), undefined);
  });

  test("irisql: decimals arrive with every digit or are refused (the server reads them as doubles)", async () => {
    const row = await engine.session((s) => s.insert(Prices, { id: 1, p: "1.50", d: "0.123456789012345" }));
    // Every digit arrives; through the real server and the stand-in the text comes back without
    // the column's trailing zeros ("1.5" where PostgreSQL says "1.50"; what IRIS sends is not known).
    assert.deepEqual(row, { id: 1, p: "1.5", d: "0.123456789012345" });
    assert.deepEqual(await engine.session((s) => s.get(Prices, 1)), row);
    const from = events.length;
    await assert.rejects(
      engine.session((s) => s.insert(Prices, { id: 2, d: "0.12345678901234567890" })),
      (e: unknown) => e instanceof ValidationError && /significant digits/.test((e as Error).message),
    );
    assert.deepEqual(sentSince(from), [], "nothing sent");
    assert.equal(await engine.session((s) => s.get(Prices, 2)), undefined);
  });

  test("real server: BEGIN … ROLLBACK undoes nothing in external mode (finding 5)", async () => {
    await assert.rejects(
      raw.begin(async (tx) => {
        await tx.unsafe(`INSERT INTO ${name} (id, name) VALUES ($1, $2)`, [100, "tx"], PREPARED);
        throw new Error("undo");
      }),
      /undo/,
    );
    const r = await raw.unsafe(`SELECT name FROM ${name} WHERE id = $1`, [100], PREPARED);
    assert.deepEqual(r.map((x) => x.name), ["tx"], "the rolled-back row is still there");
  });

  test("irisql: without the transactions option, begin() and a session's first write are refused before anything is sent", async () => {
    const bare = createEngine(server.url, { onQuery: (e) => events.push(e) });
    try {
      const from = events.length;
      await assert.rejects(
        bare.begin(async (tx) => {
          await tx.execute({ text: `INSERT INTO ${name} (id, name) VALUES ($1, $2)`, params: [101, "tx"] });
        }),
        transactionsUnavailable(/transactions/),
      );
      await assert.rejects(
        bare.session((s) => s.insert(People, { id: 102, name: "s" })),
        transactionsUnavailable(/transactions/),
      );
      assert.deepEqual(sentSince(from), [], "nothing sent");
    } finally {
      await bare.dispose();
    }
  });

  test("irisql: with transactions: autocommit, begin() is refused and a session's rollback() says its writes stay", async () => {
    const from = events.length;
    await assert.rejects(engine.begin(async () => {}), transactionsUnavailable(/autocommit/));
    assert.deepEqual(sentSince(from), [], "nothing sent");
    const s = engine.session();
    try {
      await s.insert(People, { id: 103, name: "kept" });
      await assert.rejects(s.rollback(), transactionsUnavailable(/cannot undo/));
    } finally {
      await s.close();
    }
    assert.equal((await engine.session((x) => x.get(People, 103)))?.name, "kept", "written, as the error says");
  });

  test("real server: a failing INSERT on the extended protocol is reported as success (finding 8)", async () => {
    // id 1 exists: IRIS (here: the stand-in) raises SQLCODE -119, the batch path retries row by
    // row and counts the {"success": False} dict it gets back as an inserted row.
    await raw.unsafe(`INSERT INTO ${name} (id, name) VALUES ($1, $2)`, [1, "dup"], PREPARED);
    await raw.unsafe(`INSERT INTO rp_nowhere_${RUN} (id) VALUES ($1)`, [1], PREPARED);
    const r = await raw.unsafe(`SELECT name FROM ${name} WHERE id = 1`);
    assert.deepEqual(r.map((x) => x.name), ["Bob"]);
  });

  test("irisql: the same failing INSERTs reject, typed and raw", async () => {
    await assert.rejects(engine.session((s) => s.insert(People, { id: 1, name: "dup" })), UniqueViolationError);
    await assert.rejects(
      engine.execute({ text: `INSERT INTO ${name} (id, name) VALUES ($1, $2)`, params: [1, "dup"] }),
      UniqueViolationError,
    );
    await assert.rejects(
      engine.execute({ text: `INSERT INTO rp_nowhere_${RUN} (id) VALUES ($1)`, params: [1] }),
      QueryError,
    );
    assert.equal((await engine.session((s) => s.get(People, 1)))?.name, "Bob");
  });
});

describe("irisql vectors through the real iris-pgwire 1.7.3 on the PGlite + pgvector stand-in (not IRIS)", () => {
  let server: IrisPgwire;
  let engine: Engine;
  let raw: postgres.Sql;
  const name = `rp_vec_${RUN}`;
  const LOG = join(tmpdir(), `irisql-rp-vec-${RUN}.log`);
  const DIM = 8;
  const Docs = table(name, {
    id: col.integer().primaryKey(),
    title: col.varchar(40),
    emb: col.vector(DIM).notNull(),
  }, {
    indexes: [
      index(`${name}_cos`).on("emb").hnsw({ metric: "cosine", m: 16, efConstruction: 64 }),
      index(`${name}_dot`).on("emb").hnsw({ metric: "dot" }),
    ],
  });
  let seed = 7;
  const rnd = () => ((seed = (seed * 16807) % 2147483647) / 2147483647) * 2 - 1;
  const rows = Array.from({ length: 40 }, (_, i) => ({
    id: i + 1,
    title: `Item ${i + 1}`,
    emb: Array.from({ length: DIM }, rnd),
  }));
  const query = Array.from({ length: DIM }, rnd);
  const dot = (a: number[], b: number[]) => a.reduce((s, x, i) => s + x * b[i], 0);
  const score = {
    cosine: (v: number[]) => dot(v, query) / Math.sqrt(dot(v, v) * dot(query, query)),
    dot: (v: number[]) => dot(v, query),
    l2: (v: number[]) => Math.sqrt(v.reduce((s, x, i) => s + (x - query[i]) ** 2, 0)),
  };
  const brute = (metric: keyof typeof score, k: number) =>
    rows.map((r) => ({ id: r.id, s: score[metric](r.emb) }))
      .sort((a, b) => (metric === "l2" ? a.s - b.s : b.s - a.s))
      .slice(0, k);

  // PGlite (wasm) plus the Python server take 5-20 s to start on a loaded machine; Bun's
  // default hook timeout is 5 s.
  before(async () => {
    server = await startIrisPgwire({ backend: "pglite", statementLog: LOG });
    engine = createEngine(server.url, { transactions: "autocommit" });
    raw = rawClient(server);
  }, { timeout: 240_000 });

  after(async () => {
    await raw?.end();
    await engine?.dispose();
    await server?.close();
    rmSync(LOG, { force: true });
  });

  test("VECTOR column and HNSW indexes are created; nearest() returns the brute-force order", async () => {
    await engine.createAll([Docs]);
    await engine.session(async (s) => {
      for (const r of rows) await s.insert(Docs, r);
    });
    for (const metric of ["cosine", "dot", "l2"] as const) {
      const got = await engine.session((s) => s.nearest(Docs, "emb", query, { k: 5, metric }));
      const want = brute(metric, 5);
      assert.deepEqual(got.map((r) => r.id), want.map((r) => r.id), metric);
      for (const [i, r] of got.entries()) {
        assert.ok(Math.abs(r.score - want[i].s) < 1e-4, `${metric} #${i}: ${r.score} vs ${want[i].s}`);
        assert.equal(r.emb.length, DIM, "rows come back with their columns after the Describe probe");
      }
    }
  });

  test("real server: HNSW parameter names reach IRIS upper-cased (M, EFCONSTRUCTION, DISTANCE)", () => {
    const log = readFileSync(LOG, "utf8").split("\n").filter((l) => l.includes("AS HNSW"));
    assert.equal(log.length, 2, log.join("\n"));
    // irisql sends efConstruction=64, Distance='Cosine'; the identifier normaliser upper-cases
    // the unquoted names. IRIS's %SQL.Index.HNSW declares them as class parameters M,
    // efConstruction and Distance; whether IRIS matches them case-insensitively is not known here.
    assert.match(log[0], /AS HNSW\(M=16, EFCONSTRUCTION=64, DISTANCE=\\'Cosine\\'\)/);
    assert.match(log[1], /AS HNSW\(M=16, EFCONSTRUCTION=64, DISTANCE=\\'DotProduct\\'\)/);
  });

  test("irisql: its string columns compare exactly (COLLATE %EXACT); a plain VARCHAR made with raw SQL does not (stand-in models SQLUPPER)", async () => {
    const ddl = readFileSync(LOG, "utf8").split("\n").find((l) =>
      l.includes(`CREATE TABLE`) && l.includes(name.toUpperCase())
    );
    assert.match(ddl ?? "", /"title" VARCHAR\(40\) collate %exact/i, "irisql declares exact collation");
    const found = await engine.session((s) => s.find(Docs, { where: { title: "ITEM 3" }, columns: ["id", "title"] }));
    assert.deepEqual(found, [], "'ITEM 3' does not find 'Item 3', as on PostgreSQL");
    const exact = await engine.session((s) => s.find(Docs, { where: { title: "Item 3" }, columns: ["id", "title"] }));
    assert.deepEqual(exact, [{ id: 3, title: "Item 3" }]);

    // IRIS's default for a VARCHAR without COLLATE is SQLUPPER: case ignored in comparisons and UNIQUE.
    const t = `rp_coll_${RUN}`;
    await raw.unsafe(
      `CREATE TABLE ${t} (id INTEGER PRIMARY KEY, ci VARCHAR(10) UNIQUE, ex VARCHAR(10) COLLATE %EXACT UNIQUE)`,
    );
    await raw.unsafe(`INSERT INTO ${t} (id, ci, ex) VALUES (1, 'Bob', 'Bob')`);
    await assert.rejects(raw.unsafe(`INSERT INTO ${t} (id, ci, ex) VALUES (2, 'BOB', 'x')`), /SQLCODE: <-119>/);
    await raw.unsafe(`INSERT INTO ${t} (id, ci, ex) VALUES (3, 'z', 'BOB')`); // exact: 'BOB' <> 'Bob'
    assert.deepEqual((await raw.unsafe(`SELECT id FROM ${t} WHERE ci = $1`, ["bob"], PREPARED)).map((r) => r.id), [1]);
    assert.deepEqual((await raw.unsafe(`SELECT id FROM ${t} WHERE ex = $1`, ["bob"], PREPARED)).map((r) => r.id), []);
    assert.deepEqual(
      (await raw.unsafe(`SELECT id FROM ${t} WHERE %EXACT(ci) = $1`, ["Bob"], PREPARED)).map((r) => r.id),
      [1],
    );
    await assert.rejects(raw.unsafe(`INSERT INTO ${t} (id, ci) VALUES (4, 'abcdefghijk')`), /SQLCODE: <-104>/);
  });

  test("real server: LIMIT ? OFFSET ? loses its OFFSET (inlined, then LIMIT→TOP; finding 11)", async () => {
    const page = await raw.unsafe(`SELECT "id" FROM "${name}" ORDER BY "id" LIMIT $1 OFFSET $2`, [2, 10], PREPARED);
    // the right answer is ids 11, 12: the server inlines the parameters (iris_executor.py:1222-1224)
    // and its vector optimizer turns `LIMIT 2 OFFSET 10` into TOP 2 (vector_optimizer.py:443-468)
    assert.deepEqual(page.map((r) => r.id), [1, 2]);
  });

  test("irisql: find({ offset }) is refused before anything is sent; paging by key gives the right rows", async () => {
    await assert.rejects(
      engine.session((s) => s.find(Docs, { orderBy: { id: "asc" }, limit: 2, offset: 10, columns: ["id"] })),
      (e: unknown) => e instanceof UnsupportedFeatureError && /offset/i.test((e as Error).message),
    );
    const page = await engine.session((s) =>
      s.find(Docs, { where: { id: { gt: 10 } }, orderBy: { id: "asc" }, limit: 2, columns: ["id"] })
    );
    assert.deepEqual(page.map((r) => r.id), [11, 12]);
  });
});
