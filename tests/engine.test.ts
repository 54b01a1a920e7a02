import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import net from "node:net";
import {
  ConnectionError,
  DriverMissingError,
  type Engine,
  ForeignKeyViolationError,
  NotNullViolationError,
  PoolTimeoutError,
  QueryCancelledError,
  QueryError,
  QueryTimeoutError,
  RowCountError,
  SessionClosedError,
  sql,
  text,
  UndefinedTableError,
  UniqueViolationError,
  ValidationError,
} from "../mod.ts";
import { importOptional } from "../src/adapters/runtime.ts";
import { BACKENDS, engineFor, uniqueName } from "./helpers.ts";
import { runChild } from "./run-child.ts";

for (const backend of BACKENDS) {
  describe(`engine on ${backend.name}`, () => {
    let engine: Engine;
    const t = uniqueName("eng");
    const parent = uniqueName("engp");
    before(async () => {
      // PGlite is one connection and refuses a pool size.
      engine = engineFor(backend, { pool: { max: backend.name === "pglite" ? undefined : 5, acquireTimeout: 2000 } });
      await engine.execute(`CREATE TABLE ${parent} (id int PRIMARY KEY)`);
      await engine.execute(
        `CREATE TABLE ${t} (id int PRIMARY KEY, name text NOT NULL, parent int REFERENCES ${parent}(id), n int CHECK (n >= 0))`,
      );
      await engine.execute(`INSERT INTO ${parent} VALUES (1)`);
    });
    after(async () => {
      await engine.execute(`DROP TABLE IF EXISTS ${t}; DROP TABLE IF EXISTS ${parent}`);
      await engine.dispose();
    });

    it("runs text() with named parameters and reads a scalar", async () => {
      const r = await engine.execute(text("SELECT :a::int + :b::int AS s"), { a: 1, b: 2 });
      assert.equal(r.scalar(), 3);
      assert.equal(r.rowCount, 1);
      assert.deepEqual(r.columns.map((c) => c.name), ["s"]);
    });

    it("runs sql`` and plain strings", async () => {
      const r = await engine.execute(sql`SELECT ${"x"}::text AS a, ${2}::int AS b`);
      assert.deepEqual(r.rows, [{ a: "x", b: 2 }]);
      const p = await engine.execute("SELECT 1 AS one");
      assert.deepEqual(p.one(), { one: 1 });
    });

    it("gives the same JavaScript types on every adapter", async () => {
      const r = await engine.execute(
        "SELECT 2::int8 AS small, 9007199254740993::int8 AS big, 1.50::numeric AS dec, DATE '2024-02-29' AS d, " +
          "TIMESTAMP '2024-01-02 03:04:05.678' AS ts, TIMESTAMPTZ '2024-01-02 03:04:05+02:00' AS tz, " +
          "true AS b, '{\"a\":[1]}'::jsonb AS j, 0.5::float8 AS f",
      );
      const row = r.one();
      assert.equal(row.small, 2);
      assert.equal(row.big, 9007199254740993n);
      assert.equal(row.dec, "1.50");
      assert.equal(row.d, "2024-02-29");
      assert.equal((row.ts as Date).toISOString(), "2024-01-02T03:04:05.678Z");
      assert.equal((row.tz as Date).toISOString(), "2024-01-02T01:04:05.000Z");
      assert.equal(row.b, true);
      assert.deepEqual(row.j, { a: [1] });
      assert.equal(row.f, 0.5);
    });

    it("Result: first(), one(), scalar(), rowCount for DML", async () => {
      const ins = await engine.execute(
        sql`INSERT INTO ${sql.id(t)} (id, name) VALUES (${10}, ${"a"}), (${11}, ${"b"})`,
      );
      assert.equal(ins.rowCount, 2);
      const r = await engine.execute(sql`SELECT name FROM ${sql.id(t)} WHERE id >= ${10} ORDER BY id`);
      assert.deepEqual(r.first(), { name: "a" });
      assert.throws(
        () => r.one(),
        (e: unknown) => e instanceof RowCountError && /exactly one row, got 2/.test((e as Error).message),
      );
      const none = await engine.execute(sql`SELECT name FROM ${sql.id(t)} WHERE id = ${-1}`);
      assert.equal(none.first(), undefined);
      assert.equal(none.scalar(), undefined);
      assert.equal(none.rowCount, 0);
      const del = await engine.execute(sql`DELETE FROM ${sql.id(t)} WHERE id >= ${10}`);
      assert.equal(del.rowCount, 2);
    });

    it("begin() commits on return", async () => {
      const out = await engine.begin(async (tx) => {
        await tx.execute(sql`INSERT INTO ${sql.id(t)} (id, name) VALUES (${1}, ${"kept"})`);
        return "done";
      });
      assert.equal(out, "done");
      const r = await engine.execute(sql`SELECT name FROM ${sql.id(t)} WHERE id = ${1}`);
      assert.equal(r.scalar(), "kept");
    });

    it("begin() rolls back on throw and rethrows; a rolled-back transaction leaves no rows", async () => {
      await assert.rejects(
        engine.begin(async (tx) => {
          await tx.execute(sql`INSERT INTO ${sql.id(t)} (id, name) VALUES (${2}, ${"gone"})`);
          throw new Error("boom");
        }),
        /boom/,
      );
      const r = await engine.execute(sql`SELECT count(*) AS n FROM ${sql.id(t)} WHERE id = ${2}`);
      assert.equal(r.scalar(), 0);
    });

    it("a finished transaction object is a SessionClosedError, not a hang", async () => {
      let leaked: { execute(q: string): Promise<unknown> } | undefined;
      await engine.begin((tx) => {
        leaked = tx;
      });
      await assert.rejects(
        leaked!.execute("SELECT 1"),
        (e: unknown) => e instanceof SessionClosedError && /transaction has finished/.test((e as Error).message),
      );
    });

    it("begin() takes an isolation level", async () => {
      const level = await engine.begin(
        async (tx) => (await tx.execute("SHOW transaction_isolation")).scalar(),
        { isolationLevel: "serializable" },
      );
      assert.equal(level, "serializable");
    });

    it("savepoints undo only their own work", async () => {
      await engine.begin(async (tx) => {
        await tx.execute(sql`INSERT INTO ${sql.id(t)} (id, name) VALUES (${3}, ${"outer"})`);
        await assert.rejects(
          tx.savepoint(async () => {
            await tx.execute(sql`INSERT INTO ${sql.id(t)} (id, name) VALUES (${4}, ${"inner"})`);
            throw new Error("undo inner");
          }),
          /undo inner/,
        );
      });
      const r = await engine.execute(sql`SELECT id FROM ${sql.id(t)} WHERE id IN (${3}, ${4}) ORDER BY id`);
      assert.deepEqual(r.rows, [{ id: 3 }]);
    });

    it("connect() holds one connection with session state", async () => {
      const conn = await engine.connect();
      try {
        await conn.execute("CREATE TEMPORARY TABLE irisql_tmp (x int)");
        await conn.execute("INSERT INTO irisql_tmp VALUES (5)");
        assert.equal((await conn.execute("SELECT x FROM irisql_tmp")).scalar(), 5);
        await conn.begin(async (tx) => {
          await tx.execute("INSERT INTO irisql_tmp VALUES (6)");
        });
        assert.equal((await conn.execute("SELECT count(*) AS n FROM irisql_tmp")).scalar(), 2);
      } finally {
        await conn.release();
      }
      await assert.rejects(conn.execute("SELECT 1"), SessionClosedError);
    });

    it("stream() yields batches", async () => {
      const sizes: number[] = [];
      let total = 0;
      for await (
        const batch of engine.stream<{ i: number }>(sql`SELECT generate_series(1, ${25}) AS i`, undefined, {
          batchSize: 10,
        })
      ) {
        sizes.push(batch.length);
        total += batch.reduce((s, r) => s + r.i, 0);
      }
      assert.deepEqual(sizes, [10, 10, 5]);
      assert.equal(total, 325);
      await assert.rejects(async () => {
        for await (const _ of engine.stream("SELECT 1", undefined, { batchSize: 0 })) { /* never */ }
      }, ValidationError);
    });

    it("maps server errors to typed errors with SQLSTATE and the SQL", async () => {
      await engine.execute(sql`INSERT INTO ${sql.id(t)} (id, name) VALUES (${20}, ${"x"})`);
      await assert.rejects(
        engine.execute(sql`INSERT INTO ${sql.id(t)} (id, name) VALUES (${20}, ${"y"})`),
        (e: unknown) => {
          assert.ok(e instanceof UniqueViolationError);
          assert.equal(e.sqlstate, "23505");
          assert.match(e.message, /duplicate key value violates unique constraint/);
          assert.match(e.sql ?? "", /^INSERT INTO/);
          return true;
        },
      );
      await assert.rejects(
        engine.execute(sql`INSERT INTO ${sql.id(t)} (id, name) VALUES (${21}, ${null})`),
        NotNullViolationError,
      );
      await assert.rejects(
        engine.execute(sql`INSERT INTO ${sql.id(t)} (id, name, parent) VALUES (${22}, ${"z"}, ${99})`),
        ForeignKeyViolationError,
      );
      await assert.rejects(
        engine.execute("SELECT * FROM irisql_no_such_table"),
        (e: unknown) => e instanceof UndefinedTableError && /irisql_no_such_table/.test((e as Error).message),
      );
      await assert.rejects(
        engine.execute("SELEC 1"),
        (e: unknown) => e instanceof QueryError && (e as QueryError).sqlstate === "42601",
      );
    });

    it("1,000 concurrent execute calls on a pool of 5 all resolve", async () => {
      const results = await Promise.all(
        Array.from({ length: 1000 }, (_, i) => engine.execute(text("SELECT :i::int AS i"), { i })),
      );
      assert.equal(results.length, 1000);
      assert.ok(results.every((r, i) => r.scalar() === i));
    });

    it("health() and stats() report", async () => {
      const h = await engine.health();
      assert.equal(h.ok, true);
      assert.equal(h.dialect, "postgres");
      assert.ok(h.latencyMs >= 0);
      const s = engine.stats();
      assert.equal(s.dialect, "postgres");
      assert.equal(s.adapter, backend.name === "pglite" ? "pglite" : "postgresjs");
      assert.ok(s.queries > 1000);
      assert.ok(s.errors >= 5);
      assert.equal(s.pool.reserved, 0);
    });

    it("an AbortSignal cancels a running statement", async () => {
      const controller = new AbortController();
      const started = Date.now();
      if (backend.name === "pglite") {
        // PGlite runs a statement to completion in-process; a signal aborts what has not started.
        controller.abort();
      } else {
        setTimeout(() => controller.abort(), 100);
      }
      await assert.rejects(
        engine.execute("SELECT pg_sleep(5)", undefined, { signal: controller.signal }),
        (e: unknown) => e instanceof QueryCancelledError && /cancelled/.test((e as Error).message),
      );
      assert.ok(Date.now() - started < 3000);
      assert.equal((await engine.execute("SELECT 1 AS x")).scalar(), 1);
    });
  });
}

describe("pool limits and timeouts (postgres)", () => {
  it("acquireTimeout gives PoolTimeoutError while every connection is held, then works again", async () => {
    const engine = engineFor(BACKENDS[0], { pool: { max: 1, acquireTimeout: 400 } });
    try {
      await engine.execute("SELECT 1"); // connected before the clock starts
      const held = await engine.connect();
      const started = Date.now();
      await assert.rejects(
        engine.execute("SELECT 1"),
        (e: unknown) =>
          e instanceof PoolTimeoutError &&
          /No connection became free within 400 ms \(pool max 1/.test((e as Error).message),
      );
      await assert.rejects(engine.begin(() => {}), PoolTimeoutError);
      assert.ok(Date.now() - started < 2000);
      await held.release();
      assert.equal((await engine.execute("SELECT 2 AS x")).scalar(), 2);
    } finally {
      await engine.dispose();
    }
  });

  it("statements beyond the pipeline depth of each connection wait in the pool, in order, and all complete", async () => {
    const engine = engineFor(BACKENDS[0], { pool: { max: 2 } });
    try {
      const q = text("SELECT :i::int AS i");
      const calls = Array.from({ length: 1000 }, (_, i) => engine.execute(q, { i }));
      // Two connections take `pipeline` statements each (200 on PostgreSQL); the rest wait in the pool.
      assert.equal(engine.dialect.wire.pipeline, 200);
      assert.equal(engine.stats().pool.waiting, 1000 - 2 * 200);
      const results = await Promise.all(calls);
      assert.deepEqual(results.map((r) => r.scalar()), Array.from({ length: 1000 }, (_, i) => i));
      assert.equal(engine.stats().pool.waiting, 0);
    } finally {
      await engine.dispose();
    }
  });

  it("a queue that keeps moving outlasts acquireTimeout without PoolTimeoutError", async () => {
    const engine = engineFor(BACKENDS[0], { pool: { max: 1, acquireTimeout: 150 } });
    try {
      await engine.execute("SELECT 1");
      const q = text("SELECT :i::int AS i FROM pg_sleep(0.002)");
      const started = Date.now();
      const results = await Promise.all(Array.from({ length: 300 }, (_, i) => engine.execute(q, { i })));
      assert.ok(Date.now() - started > 150, "the queue should take longer than acquireTimeout");
      assert.deepEqual(results.map((r) => r.scalar()), Array.from({ length: 300 }, (_, i) => i));
    } finally {
      await engine.dispose();
    }
  });

  it("statementTimeout gives QueryTimeoutError and the pool stays healthy", async () => {
    const engine = engineFor(BACKENDS[0], { statementTimeout: 100 });
    try {
      await assert.rejects(
        engine.execute("SELECT pg_sleep(2)"),
        (e: unknown) => e instanceof QueryTimeoutError && /statementTimeout/.test((e as Error).message),
      );
      assert.equal((await engine.execute("SELECT 3 AS x")).scalar(), 3);
    } finally {
      await engine.dispose();
    }
  });
});

describe("pglite single connection", () => {
  it("queues concurrent callers, and a query on the engine inside begin() times out instead of hanging", async () => {
    // Generous enough for 50 queued statements on a loaded machine; the deadlock case waits it out once.
    const engine = engineFor("pglite://memory", { pool: { acquireTimeout: 1500 } });
    try {
      const all = await Promise.all(
        Array.from({ length: 50 }, (_, i) => engine.execute(text("SELECT :i::int AS i"), { i })),
      );
      assert.deepEqual(all.map((r) => r.scalar()), Array.from({ length: 50 }, (_, i) => i));
      await assert.rejects(
        engine.begin(async () => {
          await engine.execute("SELECT 1"); // wrong object: should be tx
        }),
        (e: unknown) => e instanceof PoolTimeoutError && /single connection/.test((e as Error).message),
      );
      assert.equal((await engine.execute("SELECT 4 AS x")).scalar(), 4);
    } finally {
      await engine.dispose();
    }
  });
});

describe("connection failures", () => {
  it("a refused connection is a ConnectionError naming host and port, never the password", async () => {
    const engine = engineFor("postgres://alice:s3cret-pw@127.0.0.1:1/db", { pool: { connectTimeout: 2000 } });
    try {
      await assert.rejects(engine.execute("SELECT 1"), (e: unknown) => {
        assert.ok(e instanceof ConnectionError, String(e));
        assert.match(e.message, /127\.0\.0\.1:1/);
        assert.match(e.message, /connection refused/);
        assert.equal(e.host, "127.0.0.1");
        assert.equal(e.port, 1);
        assert.ok(!e.message.includes("s3cret-pw"));
        return true;
      });
      const h = await engine.health();
      assert.equal(h.ok, false);
      assert.match(h.error ?? "", /ConnectionError/);
    } finally {
      await engine.dispose();
    }
  });

  it("when a busy connection dies, what it had sent fails with ConnectionError and what was still queued runs on a new one", async () => {
    // 1,000 writes through one connection: up to 200 pipelined on it (the dialect's wire.pipeline),
    // the rest wait in the pool. Writes, because reads may be retried once: a write that was
    // sent is never sent again; one that was never sent goes out on the next connection.
    const app = uniqueName("irisql_deep_queue");
    const table = uniqueName("deep_queue");
    const engine = engineFor(BACKENDS[0], { applicationName: app, pool: { max: 1 } });
    const admin = engineFor(BACKENDS[0]);
    try {
      await engine.execute(`CREATE TABLE ${table} (i integer NOT NULL)`);
      const insert = text(`INSERT INTO ${table} (i) SELECT :i WHERE pg_sleep(0.001) IS NOT NULL`);
      const calls = Promise.allSettled(Array.from({ length: 1000 }, (_, i) => engine.execute(insert, { i })));
      await new Promise((r) => setTimeout(r, 100));
      const killed = await admin.execute(
        text("SELECT count(pg_terminate_backend(pid)) AS n FROM pg_stat_activity WHERE application_name = :app"),
        { app },
      );
      assert.equal(killed.scalar(), 1);
      let timer: ReturnType<typeof setTimeout> | undefined;
      const hung = new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new Error("queued statements still pending after 20 s")), 20_000);
      });
      const settled = await Promise.race([calls, hung]).finally(() => clearTimeout(timer));
      const failed = settled.filter((s): s is PromiseRejectedResult => s.status === "rejected");
      const done = settled.length - failed.length;
      assert.ok(failed.length >= 1 && failed.length <= 200, `${failed.length} statements failed`);
      for (const f of failed) {
        assert.ok(f.reason instanceof ConnectionError, String(f.reason));
        assert.match(f.reason.message, /127\.0\.0\.1:\d+/);
      }
      // Served again without a manual step; nothing that reported success is missing.
      const rows = (await engine.execute(`SELECT count(*)::int AS n FROM ${table}`)).scalar<number>()!;
      assert.ok(rows >= done && rows <= done + 1, `${rows} rows for ${done} successful inserts`);
    } finally {
      await admin.execute(`DROP TABLE IF EXISTS ${table}`).catch(() => {});
      await Promise.all([engine.dispose(), admin.dispose()]);
    }
  });

  it("statements queued on a connection that dies while connecting fail with ConnectionError, none hangs", async () => {
    // A server that hangs up on every connection: the driver keeps the statements queued behind
    // the first one and would strand them; the pool must fail each.
    const server = net.createServer((socket) => socket.destroy());
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    const port = (server.address() as net.AddressInfo).port;
    const engine = engineFor(`postgres://postgres@127.0.0.1:${port}/test`, { pool: { max: 2 } });
    try {
      const calls = Promise.allSettled(
        Array.from({ length: 300 }, () => engine.execute("INSERT INTO nowhere VALUES (1)")),
      );
      let timer: ReturnType<typeof setTimeout> | undefined;
      const hung = new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new Error("queued statements still pending after 10 s")), 10_000);
      });
      const settled = await Promise.race([calls, hung]).finally(() => clearTimeout(timer));
      for (const s of settled) {
        assert.equal(s.status, "rejected");
        const reason = (s as PromiseRejectedResult).reason;
        assert.ok(reason instanceof ConnectionError, String(reason));
        assert.match(reason.message, new RegExp(`127\\.0\\.0\\.1:${port}`));
      }
    } finally {
      await engine.dispose();
      server.close();
    }
  });

  it("an unknown database is a ConnectionError", async () => {
    const engine = engineFor("postgres://postgres@127.0.0.1:5432/irisql_no_such_db");
    try {
      await assert.rejects(
        engine.execute("SELECT 1"),
        (e: unknown) =>
          e instanceof ConnectionError && /127\.0\.0\.1:5432.*database does not exist/.test((e as Error).message),
      );
    } finally {
      await engine.dispose();
    }
  });

  it("a missing optional driver is a DriverMissingError saying what to install", async () => {
    const name = "irisql-no-such-driver";
    await assert.rejects(importOptional(name, "The test: scheme", () => import(name)), (e: unknown) => {
      assert.ok(e instanceof DriverMissingError);
      assert.match(
        e.message,
        /The test: scheme needs the package "irisql-no-such-driver".*Install it with: (npm install |bun add |deno add npm:)irisql-no-such-driver/,
      );
      return true;
    });
  });
});

describe("dispose", () => {
  it("rejects later calls with SessionClosedError", async () => {
    const engine = engineFor("pglite://memory");
    await engine.execute("SELECT 1");
    await engine.dispose();
    await engine.dispose();
    await assert.rejects(
      engine.execute("SELECT 1"),
      (e: unknown) => e instanceof SessionClosedError && /engine has finished/.test((e as Error).message),
    );
  });

  it("supports await using", async () => {
    let e2: Engine;
    {
      await using engine = engineFor("pglite://memory");
      e2 = engine;
      await engine.execute("SELECT 1");
    }
    await assert.rejects(e2.execute("SELECT 1"), SessionClosedError);
  });

  for (const backend of BACKENDS) {
    it(`leaves no open handles: the process exits by itself (${backend.name})`, async () => {
      const r = await runChild(
        new URL("./fixtures/exit-after-dispose.ts", import.meta.url).pathname,
        [backend.url],
        60_000,
      );
      assert.equal(r.timedOut, false, "the child process did not exit within 60 s: " + r.out);
      assert.equal(r.code, 0, r.out);
      assert.match(r.out, /result 42/);
    });
  }
});
