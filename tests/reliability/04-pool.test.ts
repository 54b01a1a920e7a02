/**
 * Pool exhaustion: with every connection held, a new call fails with
 * PoolTimeoutError after acquireTimeout, works again once one is released, and a
 * waiting call is served as soon as a connection comes back. (PGlite's single
 * connection: 07-pglite.test.ts.)
 */
import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { type Connection, type Engine, PoolTimeoutError, QueryCancelledError, text } from "../../mod.ts";
import { ensureRole, flushEvidence, PG_URL, timed, uniqueName, watchedEngine } from "./support.ts";

const ACQUIRE_MS = 300;

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
