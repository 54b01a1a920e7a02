/**
 * irisql through the REAL iris-pgwire server (PyPI iris-pgwire==1.7.3, unmodified)
 * over an IRIS stand-in that executes the IRIS SQL on PostgreSQL — NOT IRIS: a
 * stand-in (tests/fixtures/iris-pgwire-real/README.md). What passes here is what
 * the real wire server does to irisql's statements; IRIS itself is not involved.
 *
 * Needs `bash scripts/iris-pgwire/setup.sh` (.ci/run runs it) and PostgreSQL on
 * 127.0.0.1:5432. Runs under `node --import tsx --test`, `bun test`, `deno test -A`.
 *
 * The tests marked "real-server behaviour" pin what iris-pgwire 1.7.3 does today
 * (issue #15 section 2). They are expected to change when irisql guards against it.
 */
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import postgres from "postgres";
import { col, createEngine, type Engine, table } from "../mod.ts";
import { type IrisPgwire, startIrisPgwire } from "./fixtures/iris-pgwire-real/mod.ts";

const RUN = `${Date.now().toString(36)}${Math.random().toString(36).slice(2, 6)}`;

describe("irisql through the real iris-pgwire 1.7.3 (IRIS stand-in, not IRIS)", () => {
  let server: IrisPgwire;
  let engine: Engine;
  let raw: postgres.Sql;
  const name = `rp_smoke_${RUN}`;
  const People = table(name, {
    id: col.integer().primaryKey(),
    name: col.varchar(50).notNull(),
    zip: col.varchar(10),
  });

  before(async () => {
    server = await startIrisPgwire();
    engine = createEngine(server.url);
    raw = postgres(`postgres://u:p@127.0.0.1:${server.port}/USER`, {
      fetch_types: false,
      prepare: true,
      max: 1,
      onnotice: () => {},
    });
  });

  after(async () => {
    await raw?.unsafe(`DROP TABLE IF EXISTS ${name}`).catch(() => {});
    await raw?.end();
    await engine?.dispose();
    await server?.close();
  });

  test("connects, creates a table, inserts and selects", async () => {
    await engine.createAll([People]);
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

  test("real-server behaviour: INFORMATION_SCHEMA answers are fabricated empty, so hasTable/introspect see nothing", async () => {
    assert.equal(await engine.hasTable(name), false);
    const info = await engine.introspect(name).catch((e: Error) => e);
    if (!(info instanceof Error)) assert.deepEqual(JSON.parse(JSON.stringify(info)).tables ?? [], []);
  });

  test("real-server behaviour: numeric-looking text is converted before it reaches IRIS", async () => {
    const zips = ["00123", "+5", " 42", "1e5", "1_000", "\u0663"];
    for (const [i, zip] of zips.entries()) {
      await raw.unsafe(`INSERT INTO ${name} (id, name, zip) VALUES ($1, $2, $3)`, [10 + i, "z", zip], {
        prepare: true,
      } as postgres.UnsafeQueryOptions);
    }
    const back = await raw.unsafe(`SELECT zip FROM ${name} WHERE id >= 10 ORDER BY id`);
    assert.deepEqual(back.map((r) => r.zip), ["123", "5", "42", "100000.0", "1000", "3"]);
  });

  test("real-server behaviour: begin()/rollback undoes nothing in external mode", async () => {
    await assert.rejects(
      engine.begin(async (tx) => {
        await tx.execute({ text: `INSERT INTO ${name} (id, name) VALUES ($1, $2)`, params: [100, "tx"] });
        throw new Error("undo");
      }),
      /undo/,
    );
    const r = await engine.execute({ text: `SELECT name FROM ${name} WHERE id = $1`, params: [100] });
    assert.deepEqual(r.rows, [{ name: "tx" }], "the rolled-back row is still there");
  });

  test("real-server behaviour: a failing INSERT on the extended protocol is reported as success", async () => {
    // id 1 exists: IRIS (here: the stand-in) raises SQLCODE -119, the batch path retries row by
    // row and counts the {"success": False} dict it gets back as an inserted row.
    await raw.unsafe(`INSERT INTO ${name} (id, name) VALUES ($1, $2)`, [1, "dup"], {
      prepare: true,
    } as postgres.UnsafeQueryOptions);
    const r = await raw.unsafe(`SELECT name FROM ${name} WHERE id = 1`);
    assert.deepEqual(r.map((x) => x.name), ["Bob"]);
  });
});
