/**
 * The Bun SQL adapter (`driver: "bun-sql"`, issue #18). On Node and Deno the option is a
 * ConfigError; on Bun it runs for real against PostgreSQL (PG_URL), next to a postgres.js
 * engine on the same server for the comparisons. The whole suite also runs on it with
 * IRISQL_TEST_DRIVER=bun-sql (tests/helpers.ts).
 */
import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import {
  ConfigError,
  ConnectionError,
  createEngine,
  type Engine,
  QueryCancelledError,
  QueryError,
  UniqueViolationError,
} from "../mod.ts";
import { runtime } from "../src/adapters/runtime.ts";
import { PG_URL, uniqueName } from "./helpers.ts";

const BUN = { driver: "bun-sql" } as const;

describe("driver option", () => {
  it("refuses a driver it does not know", () => {
    assert.throws(() => createEngine(PG_URL, { driver: "pg" as never }), ConfigError);
  });

  it("refuses bun-sql off Bun, for PGlite and iris://, multi-host URLs and TLS", () => {
    const refused = (url: string, options = {}) =>
      assert.throws(() => createEngine(url, { ...BUN, ...options }), (e: unknown) => {
        assert.ok(e instanceof ConfigError, String(e));
        assert.match(e.message, /driver "bun-sql" cannot be used/);
        return true;
      });
    if (runtime.name !== "bun") {
      refused(PG_URL);
      return;
    }
    refused("pglite://memory");
    refused("iris://_SYSTEM:SYS@127.0.0.1:5433/USER");
    refused("postgres://postgres@127.0.0.1:5432,127.0.0.1:5433/test");
    refused(PG_URL, { ssl: "require" });
  });
});

describe("Bun SQL adapter", { skip: runtime.name !== "bun" && "Bun's SQL client exists only on Bun" }, () => {
  let bun: Engine;
  let pgjs: Engine;
  let admin: Engine;
  const table = uniqueName("bun_sql");

  before(async () => {
    bun = createEngine(PG_URL, { ...BUN, pool: { max: 2, acquireTimeout: 5000 } });
    pgjs = createEngine(PG_URL);
    admin = createEngine(PG_URL, { pool: { max: 1 } });
    await admin.execute(`CREATE TABLE ${table} (id int PRIMARY KEY, v text)`);
  });

  after(async () => {
    await admin.execute(`DROP TABLE IF EXISTS ${table}`).catch(() => {});
    await Promise.all([bun.dispose(), pgjs.dispose(), admin.dispose()]);
  });

  it("gives the same raw values and columns as postgres.js", async () => {
    const query = {
      text: `SELECT 1::int4 AS i4, 2::int8 AS i8, 9007199254740993::int8 AS big, 1.50::numeric AS n,
        DATE '2024-02-29' AS d, DATE '0044-03-05' AS old_day, TIMESTAMP '2020-01-02 03:04:05.123' AS ts,
        TIMESTAMPTZ '2020-01-02 03:04:05.123+05:30' AS tstz, 0.1::float4 AS f4, 1.5::float8 AS f8, true AS b,
        3.4028235e38::float4 AS f4max, '{"a":[1,2]}'::jsonb AS jb, '\\x0102'::bytea AS by, 'x'::text AS t, NULL::int8 AS nul, $1::text AS p`,
      params: ["param"],
    };
    const [a, b] = await Promise.all([bun.execute(query), pgjs.execute(query)]);
    assert.deepEqual(a.columns, b.columns);
    const row = a.rows[0] as Record<string, unknown>;
    const ref = b.rows[0] as Record<string, unknown>;
    for (const key of Object.keys(ref)) {
      const x = row[key], y = ref[key];
      if (y instanceof Uint8Array) assert.deepEqual([...(x as Uint8Array)], [...y], key);
      else assert.deepEqual(x, y, key);
    }
    assert.equal(row.big, 9007199254740993n);
    assert.equal(row.d, "2024-02-29");
  });

  it("gives arrays parsed, as PGlite does, in the same element forms (postgres.js gives their text)", async () => {
    const r = await bun.execute({
      text: `SELECT '{1,2}'::int4[] AS i4a, '{1,9007199254740993}'::int8[] AS i8a, '{0.1}'::float4[] AS f4a,
        '{2020-01-01,NULL}'::date[] AS da, '{a,NULL}'::text[] AS ta, $1::int AS p`,
      params: [1],
    });
    assert.deepEqual(r.rows[0], {
      i4a: [1, 2],
      i8a: [1, 9007199254740993n],
      f4a: [0.1],
      da: ["2020-01-01", null],
      ta: ["a", null],
      p: 1,
    });
  });

  it("reports command and row count as postgres.js does", async () => {
    const ins = await bun.execute({ text: `INSERT INTO ${table} VALUES ($1, $2), ($3, $4)`, params: [1, "a", 2, "b"] });
    assert.equal(ins.rowCount, 2);
    const ddl = await bun.execute(`CREATE TEMP TABLE IF NOT EXISTS bun_sql_tmp (x int)`);
    const ref = await pgjs.execute(`CREATE TEMP TABLE IF NOT EXISTS bun_sql_tmp (x int)`);
    assert.equal(ddl.rowCount, ref.rowCount);
  });

  it("pipelines pooled statements: 1,000 at once on two connections", async () => {
    const results = await Promise.all(
      Array.from(
        { length: 1000 },
        (_, i) => bun.execute({ text: "SELECT $1::int AS i, pg_backend_pid() AS pid", params: [i] }),
      ),
    );
    assert.deepEqual(results.map((r) => r.rows[0].i), Array.from({ length: 1000 }, (_, i) => i));
    const pids = new Set(results.map((r) => r.rows[0].pid));
    assert.ok(pids.size <= 2, `at most pool.max connections, got ${pids.size}`);
  });

  it("classifies server errors with their fields", async () => {
    await assert.rejects(
      bun.execute({ text: `INSERT INTO ${table} VALUES ($1, $2)`, params: [1, "dup"] }),
      (e: unknown) => {
        assert.ok(e instanceof UniqueViolationError, String(e));
        assert.equal(e.sqlstate, "23505");
        assert.equal(e.constraint, `${table}_pkey`);
        assert.match(e.detail ?? "", /already exists/);
        return true;
      },
    );
    await assert.rejects(bun.execute("SELECT 1/0"), (e: unknown) => e instanceof QueryError && e.sqlstate === "22012");
  });

  it("cancels a running statement by AbortSignal; the engine goes on", async () => {
    const controller = new AbortController();
    const started = performance.now();
    setTimeout(() => controller.abort(), 200);
    await assert.rejects(
      bun.execute("SELECT pg_sleep(5)", undefined, { signal: controller.signal }),
      QueryCancelledError,
    );
    assert.ok(performance.now() - started < 3000, "cancelled on the server, not waited out");
    assert.equal((await bun.execute("SELECT 1 AS one")).rows[0].one, 1);
  });

  it("a server that cannot be reached is a ConnectionError that shows the password nowhere", async () => {
    const secret = "Bun S3cr3t/pw@x";
    const e = createEngine(`postgres://app:${encodeURIComponent(secret)}@127.0.0.1:1/x`, {
      ...BUN,
      pool: { connectTimeout: 2000 },
    });
    try {
      const error = await e.execute("SELECT 1").then(() => undefined, (err: unknown) => err);
      assert.ok(error instanceof ConnectionError, `expected ConnectionError, got ${error}`);
      const { inspect } = await import("node:util");
      const shown = [
        String(error),
        (error as Error).stack ?? "",
        inspect(error, { showHidden: true, depth: 6 }),
        inspect(e, { showHidden: true, depth: 6 }),
        JSON.stringify(e.stats()),
        e.url,
      ].join("\n");
      for (const form of [secret, encodeURIComponent(secret), "S3cr3t"]) {
        assert.ok(!shown.includes(form), `the password shows:\n${shown.slice(0, 2000)}`);
      }
    } finally {
      await e.dispose();
    }
  });

  it("a session whose backend is terminated fails with ConnectionError; the next one works", async () => {
    const session = bun.session();
    try {
      await session.execute(`INSERT INTO ${table} VALUES (10, 'in tx')`);
      const pid = (await session.execute("SELECT pg_backend_pid() AS pid")).rows[0].pid;
      await admin.execute({ text: "SELECT pg_terminate_backend($1::int)", params: [pid] });
      await assert.rejects(session.execute("SELECT 1"), ConnectionError);
    } finally {
      await session.close().catch(() => {});
    }
    const row = await bun.execute({ text: `SELECT count(*)::int AS n FROM ${table} WHERE id = 10`, params: [] });
    assert.equal(row.rows[0].n, 0, "the terminated transaction did not commit");
  });

  it("a connection left inside a transaction by connect() comes back clean", async () => {
    const single = createEngine(PG_URL, { ...BUN, pool: { max: 1 } });
    try {
      const conn = await single.connect();
      await conn.execute("BEGIN");
      await conn.execute(`INSERT INTO ${table} VALUES (20, 'left open')`);
      await conn.release();
      const status = await single.execute("SELECT now() = statement_timestamp() AS fresh");
      assert.equal(status.rows[0].fresh, true, "the next statement runs in its own transaction");
      const n = await single.execute(`SELECT count(*)::int AS n FROM ${table} WHERE id = 20`);
      assert.equal(n.rows[0].n, 0, "the open transaction was rolled back");
    } finally {
      await single.dispose();
    }
  });

  it("streams in batches", async () => {
    const batches: number[] = [];
    for await (const batch of bun.stream("SELECT g FROM generate_series(1, 25) g", undefined, { batchSize: 10 })) {
      batches.push(batch.length);
    }
    assert.deepEqual(batches, [10, 10, 5]);
  });
});
