/**
 * PGlite, one connection in process: concurrency is queued, never failed.
 * All of it runs on one engine (PGlite takes seconds to start), with a short
 * acquireTimeout of 300 ms:
 * - the mixed load of 16 concurrent workers: no error, the event loop keeps turning,
 *   every acknowledged write found exactly once, no transfer half-applied;
 * - 2000 calls at once are served even though that takes longer than acquireTimeout;
 * - a call waiting while the connection is held fails with PoolTimeoutError, and works once released;
 * - a call cancelled while waiting leaves the queue, which goes on;
 * - oversized vectors and strings give clear errors.
 */
import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import {
  col,
  ConfigError,
  type Engine,
  PoolTimeoutError,
  QueryCancelledError,
  QueryError,
  table,
  text,
  ValidationError,
} from "../../mod.ts";
import { createLoadTables, describeLoad, type LoadReport, type LoadTables, runLoad, verify } from "./load.ts";
import { flushEvidence, log, seenError, sleep, SOAK, timed, watchedEngine } from "./support.ts";

const SECONDS = SOAK ? 30 : 5;
const ACQUIRE_MS = 300;

async function rejected(p: Promise<unknown>): Promise<Error> {
  const r = await timed(p);
  if (!r.error) throw new assert.AssertionError({ message: "expected a rejection" });
  return r.error;
}

describe(`reliability: PGlite (one connection, acquireTimeout ${ACQUIRE_MS} ms)`, () => {
  let engine: Engine;

  before(async () => {
    engine = watchedEngine("pglite://memory", { pool: { acquireTimeout: ACQUIRE_MS } });
    await engine.execute("SELECT 1");
  });

  after(async () => {
    await engine.dispose();
    flushEvidence("07-pglite");
  });

  describe(`load: 16 concurrent workers for ${SECONDS} s`, () => {
    let report: LoadReport;
    let mostWaiting = 0;
    const tables: LoadTables = { accounts: "rel_accounts", events: "rel_events", transfers: "rel_transfers" };

    it(`queues 16 concurrent workers for ${SECONDS} s without an error`, {
      timeout: (SECONDS + 60) * 1000,
    }, async () => {
      await createLoadTables(engine, tables);
      let ticks = 0;
      const sampler = setInterval(() => {
        ticks++;
        mostWaiting = Math.max(mostWaiting, engine.stats().pool.waiting);
      }, 5);
      try {
        report = await runLoad(engine, tables, { durationMs: SECONDS * 1000, workers: 16 });
      } finally {
        clearInterval(sampler);
      }
      log(describeLoad("PGlite load (1 connection)", report));
      log(`  up to ${mostWaiting} calls waited for the connection at once; a 5 ms timer still fired ${ticks} times`);
      assert.deepEqual(report.failures.map((f) => String(f.error)).slice(0, 5), []);
      assert.deepEqual(report.hung, []);
      assert.ok(report.ops.read > 0 && report.ops.write > 0 && report.ops.transfer > 0, "every kind of call ran");
      assert.ok(mostWaiting >= 2, "calls really were queued");
      // The queue must not starve the event loop (timers, I/O) while it is busy.
      assert.ok(ticks >= SECONDS * 10, `a 5 ms timer fired only ${ticks} times in ${SECONDS} s`);
      assert.deepEqual(engine.stats().pool, { max: 1, reserved: 0, waiting: 0 });
    });

    it("finds every acknowledged write exactly once, and balances that match the transfer ledger", async () => {
      assert.ok(report, "the load ran");
      const v = await verify(engine, tables, report);
      assert.deepEqual(v.missingWrites.slice(0, 5), []);
      assert.deepEqual(v.duplicateWrites.slice(0, 5), []);
      assert.equal(v.eventsFound, report.ackedWrites.size);
      assert.deepEqual(v.missingTransfers.slice(0, 5), []);
      assert.deepEqual(v.unbalancedAccounts, []);
      assert.equal(v.total, v.expectedTotal);
    });
  });

  describe("the single connection's queue", () => {
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

    it("cancels a call waiting for the connection, and the queue goes on", async () => {
      const conn = await engine.connect();
      try {
        const controller = new AbortController();
        const cancelled = timed(engine.execute("SELECT 1", undefined, { signal: controller.signal }));
        const next = engine.execute("SELECT 2 AS n");
        await sleep(20);
        assert.equal(engine.stats().pool.waiting, 2);
        controller.abort();
        const r = await cancelled;
        assert.ok(r.error instanceof QueryCancelledError, String(r.error ?? "it ran"));
        assert.equal(r.error.message, "Cancelled while waiting for the PGlite connection");
        await conn.release();
        assert.equal((await next).rows[0].n, 2);
      } finally {
        await conn.release();
      }
      const early = await timed(engine.execute("SELECT 1", undefined, { signal: AbortSignal.abort() }));
      assert.ok(early.error instanceof QueryCancelledError, String(early.error ?? "it ran"));
      assert.deepEqual(engine.stats().pool, { max: 1, reserved: 0, waiting: 0 });
    });
  });

  describe("oversized vectors and strings", () => {
    const docs = table("rel_docs", {
      id: col.integer().primaryKey(),
      title: col.varchar(10),
      embedding: col.vector(3),
    });

    it("rejects vectors of the wrong size or with non-finite numbers before sending them", async () => {
      await engine.createAll([docs]);
      await engine.session(async (s) => {
        const four = await rejected(s.insert(docs, { id: 1, embedding: [1, 2, 3, 4] }));
        assert.ok(four instanceof ValidationError, String(four));
        assert.equal(four.message, "rel_docs.embedding expects 3 dimensions, got 4");
        const huge = await rejected(s.insert(docs, { id: 1, embedding: new Array(100_000).fill(0.5) }));
        assert.equal(huge.message, "rel_docs.embedding expects 3 dimensions, got 100000");
        const nan = await rejected(s.insert(docs, { id: 1, embedding: [1, Number.NaN, 3] }));
        assert.ok(nan instanceof ValidationError, String(nan));
        assert.equal(nan.message, "rel_docs.embedding[1] must be a finite number, got NaN");
        const query = await rejected(s.nearest(docs, "embedding", [1, 2], { k: 1 }));
        assert.ok(query instanceof ValidationError, String(query));
      });
      let dims: unknown;
      try {
        col.vector(16_001);
      } catch (error) {
        dims = seenError(error);
      }
      assert.ok(dims instanceof ConfigError, String(dims));
      assert.equal(dims.message, "vector dimensions must be a whole number from 1 to 16000, got 16001");
      const raw = await rejected(
        engine.execute(text("SELECT :v::vector AS v"), { v: "[" + new Array(16_001).fill(1).join(",") + "]" }),
      );
      assert.ok(raw instanceof QueryError, String(raw));
      assert.match(raw.message, /vector cannot have more than 16000 dimensions/);
    });

    it("rejects strings longer than their column, in the session and on the server", async () => {
      const long = "x".repeat(11);
      const session = await rejected(engine.session((s) => s.insert(docs, { id: 2, title: long })));
      assert.ok(session instanceof ValidationError, String(session));
      assert.equal(session.message, "rel_docs.title is 11 characters long; the column holds at most 10");
      const server = await rejected(
        engine.execute(text("INSERT INTO rel_docs (id, title) VALUES (2, :t)"), { t: long }),
      );
      assert.ok(server instanceof QueryError, String(server));
      assert.equal((server as QueryError).sqlstate, "22001");
      assert.match(server.message, /value too long for type character varying\(10\)/);
      const big = "é".repeat(4_000_000);
      const back = await engine.execute(text("SELECT length(:s::text) AS n"), { s: big });
      assert.equal(back.rows[0].n, 4_000_000);
    });
  });
});
