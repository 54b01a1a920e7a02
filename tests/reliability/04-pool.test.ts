/**
 * Pool exhaustion: with every connection held, a new call fails with
 * PoolTimeoutError after acquireTimeout, works again once one is released, and a
 * waiting call is served as soon as a connection comes back. On PGlite (one
 * connection) concurrent calls are queued, not failed.
 */
import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { type Connection, type Engine, PoolTimeoutError, QueryCancelledError, text } from "../../mod.ts";
import { ensureRole, flushEvidence, log, PG_URL, seenError, uniqueName, watchedEngine } from "./support.ts";

const ACQUIRE_MS = 300;

async function timed<T>(p: Promise<T>): Promise<{ error?: Error; value?: T; ms: number }> {
  const started = performance.now();
  try {
    return { value: await p, ms: performance.now() - started };
  } catch (error) {
    return { error: seenError(error) as Error, ms: performance.now() - started };
  }
}

describe("reliability: pool exhaustion on PostgreSQL", () => {
  let engine: Engine;
  let held: Connection[] = [];

  before(async () => {
    await ensureRole();
    engine = watchedEngine(PG_URL, {
      pool: { max: 3, acquireTimeout: ACQUIRE_MS },
      applicationName: uniqueName("rel_pool"),
    });
  });

  after(async () => {
    for (const c of held) await c.release();
    await engine.dispose();
    flushEvidence("04-pool");
  });

  it("fails statements, transactions and connect() with PoolTimeoutError after acquireTimeout while all are held", async () => {
    held = await Promise.all([engine.connect(), engine.connect(), engine.connect()]);
    const calls: (() => Promise<unknown>)[] = [
      () => engine.execute("SELECT 1"),
      () => engine.begin((tx) => tx.execute("SELECT 1")),
      () => engine.connect(),
      () => engine.session((s) => s.execute("SELECT 1")),
    ];
    for (const call of calls) {
      const r = await timed(call());
      assert.ok(r.error instanceof PoolTimeoutError, String(r.error ?? "it succeeded"));
      assert.equal(
        r.error.message,
        `No connection became free within ${ACQUIRE_MS} ms (pool max 3, 3 held by sessions/transactions). ` +
          "Release sessions sooner, raise pool.max, or raise pool.acquireTimeout.",
      );
      assert.ok(r.ms >= ACQUIRE_MS - 20 && r.ms < ACQUIRE_MS + 1500, `failed after ${r.ms.toFixed(0)} ms`);
    }
    assert.deepEqual(engine.stats().pool, { max: 3, reserved: 3, waiting: 0 });
  });

  it("works again once a connection is released", async () => {
    await held.pop()!.release();
    assert.equal((await engine.execute(text("SELECT :n::int AS n"), { n: 7 })).rows[0].n, 7);
    assert.equal(await engine.begin(async (tx) => (await tx.execute("SELECT 8 AS n")).rows[0].n), 8);
  });

  it("serves a waiting call as soon as a connection comes back, and a cancelled wait leaves the queue", async () => {
    const longWait = watchedEngine(PG_URL, { pool: { max: 1, acquireTimeout: 5000 } });
    try {
      const holder = await longWait.connect();
      const controller = new AbortController();
      const cancelled = timed(longWait.execute("SELECT 1", undefined, { signal: controller.signal }));
      const waiting = timed(longWait.execute("SELECT 2 AS n"));
      await new Promise((r) => setTimeout(r, 50));
      assert.equal(longWait.stats().pool.waiting, 2);
      controller.abort();
      const c = await cancelled;
      assert.ok(c.error instanceof QueryCancelledError, String(c.error));
      assert.equal(c.error.message, "Cancelled while waiting for a connection");
      setTimeout(() => holder.release(), 150);
      const w = await waiting;
      assert.equal(w.error, undefined);
      assert.ok(w.ms >= 150 && w.ms < 2000, `served after ${w.ms.toFixed(0)} ms`);
      assert.deepEqual(longWait.stats().pool, { max: 1, reserved: 0, waiting: 0 });
    } finally {
      await longWait.dispose();
    }
  });
});

describe("reliability: PGlite's single connection", () => {
  let engine: Engine;

  before(() => {
    engine = watchedEngine("pglite://memory", { pool: { acquireTimeout: ACQUIRE_MS } });
  });

  after(async () => {
    await engine.dispose();
    flushEvidence("04-pool-pglite");
  });

  it("queues 2000 concurrent calls instead of failing them, even when that takes longer than acquireTimeout", async () => {
    await engine.execute("CREATE TABLE queued (n integer NOT NULL)");
    const started = performance.now();
    const calls = Array.from(
      { length: 2000 },
      (_, n) =>
        n % 5 === 0
          ? engine.begin((tx) => tx.execute(text("INSERT INTO queued (n) VALUES (:n)"), { n }))
          : engine.execute(text("SELECT :n::int AS n"), { n }),
    );
    const results = await Promise.allSettled(calls);
    const took = performance.now() - started;
    const failed = results.filter((r) => r.status === "rejected").map((r) =>
      String((r as PromiseRejectedResult).reason)
    );
    assert.deepEqual(failed.slice(0, 3), []);
    const count = await engine.execute("SELECT COUNT(*) AS n FROM queued");
    assert.equal(Number(count.rows[0].n), 400);
    log(
      `  PGlite: 2000 concurrent calls queued and served in ${
        took.toFixed(0)
      } ms (acquireTimeout ${ACQUIRE_MS} ms), none failed`,
    );
    assert.ok(took > ACQUIRE_MS, "the queue outlasted acquireTimeout");
  });

  it("fails a call with PoolTimeoutError while its connection is held, and serves it once released", async () => {
    const conn = await engine.connect();
    const r = await timed(engine.execute("SELECT 1"));
    assert.ok(r.error instanceof PoolTimeoutError, String(r.error ?? "it succeeded"));
    assert.equal(
      r.error.message,
      `The PGlite connection was not free within ${ACQUIRE_MS} ms. PGlite has a single connection: ` +
        "inside engine.begin()/session() run queries on the transaction or session object, not on the engine.",
    );
    assert.ok(r.ms >= ACQUIRE_MS - 20 && r.ms < ACQUIRE_MS + 1500, `failed after ${r.ms.toFixed(0)} ms`);
    await conn.release();
    assert.equal((await engine.execute("SELECT 3 AS n")).rows[0].n, 3);
    assert.deepEqual(engine.stats().pool, { max: 1, reserved: 0, waiting: 0 });
  });
});
