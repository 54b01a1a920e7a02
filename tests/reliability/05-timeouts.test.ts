/**
 * Timeouts and cancellation: statementTimeout ends a long statement with
 * QueryTimeoutError, an AbortSignal ends a running pg_sleep with
 * QueryCancelledError (on the server too), and the pool is healthy afterwards.
 * (Cancelling a call waiting for PGlite's connection: 07-pglite.test.ts.)
 */
import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { type Engine, QueryCancelledError, QueryTimeoutError, text } from "../../mod.ts";
import { ADMIN_URL, ensureRole, flushEvidence, PG_URL, sleep, timed, uniqueName, watchedEngine } from "./support.ts";
import { createEngine } from "../../mod.ts";

/** Statements of `app` still running pg_sleep on the server. */
async function sleepersOf(app: string): Promise<number> {
  const admin = createEngine(ADMIN_URL, { pool: { max: 1 } });
  try {
    const r = await admin.execute(
      text(`SELECT COUNT(*) AS n FROM pg_stat_activity WHERE application_name = :app AND state = 'active'
              AND query LIKE '%pg_sleep%'`),
      { app },
    );
    return Number(r.rows[0].n);
  } finally {
    await admin.dispose();
  }
}

describe("reliability: timeouts and cancellation on PostgreSQL", () => {
  const app = uniqueName("rel_time");
  const notes = uniqueName("rel_time_notes");
  let engine: Engine;

  before(async () => {
    await ensureRole();
    engine = watchedEngine(PG_URL, { pool: { max: 4 }, statementTimeout: 200, applicationName: app });
    await engine.execute(`CREATE TABLE ${notes} (tag varchar(40) NOT NULL)`);
  });

  after(async () => {
    await engine.execute(`DROP TABLE IF EXISTS ${notes}`);
    await engine.dispose();
    flushEvidence("05-timeouts");
  });

  it("ends a statement running past statementTimeout with QueryTimeoutError", async () => {
    const r = await timed(engine.execute("SELECT pg_sleep(3)"));
    assert.ok(r.error instanceof QueryTimeoutError, String(r.error ?? "it finished"));
    assert.equal(r.error.message, "The statement ran longer than statementTimeout and was cancelled by the server");
    assert.ok(r.ms >= 150 && r.ms < 2000, `after ${r.ms.toFixed(0)} ms`);
  });

  it("rolls back a transaction whose statement timed out, and the next transaction commits", async () => {
    const r = await timed(engine.begin(async (tx) => {
      await tx.execute(text(`INSERT INTO ${notes} (tag) VALUES (:tag)`), { tag: "timed-out" });
      await tx.execute("SELECT pg_sleep(3)");
    }));
    assert.ok(r.error instanceof QueryTimeoutError, String(r.error ?? "it finished"));
    await engine.begin((tx) => tx.execute(text(`INSERT INTO ${notes} (tag) VALUES (:tag)`), { tag: "next" }));
    const rows = await engine.execute(`SELECT tag FROM ${notes} ORDER BY tag`);
    assert.deepEqual(rows.rows.map((row) => row.tag), ["next"]);
  });

  it("cancels a running pg_sleep by AbortSignal with QueryCancelledError, on the server too", async () => {
    const patient = watchedEngine(PG_URL, { pool: { max: 2 }, applicationName: app + "_p" });
    try {
      const controller = new AbortController();
      setTimeout(() => controller.abort(), 100);
      const r = await timed(patient.execute("SELECT pg_sleep(5)", undefined, { signal: controller.signal }));
      assert.ok(r.error instanceof QueryCancelledError, String(r.error ?? "it finished"));
      // The reason's wording after the colon is the runtime's own.
      assert.match(r.error.message, /^The query was cancelled by its AbortSignal: \w/);
      assert.ok(r.ms < 2000, `after ${r.ms.toFixed(0)} ms`);
      await sleep(200);
      assert.equal(await sleepersOf(app + "_p"), 0, "the server stopped the statement");

      const early = await timed(patient.execute("SELECT 1", undefined, { signal: AbortSignal.abort() }));
      assert.ok(early.error instanceof QueryCancelledError, String(early.error ?? "it ran"));
    } finally {
      await patient.dispose();
    }
  });

  it("cancels a statement inside a transaction, which then rolls back", async () => {
    const controller = new AbortController();
    setTimeout(() => controller.abort(), 50);
    const r = await timed(engine.begin(async (tx) => {
      await tx.execute(text(`INSERT INTO ${notes} (tag) VALUES (:tag)`), { tag: "cancelled" });
      // Longer than statementTimeout: only the abort (at 50 ms) can end it before 200 ms.
      await tx.execute("SELECT pg_sleep(1)", undefined, { signal: controller.signal });
    }));
    assert.ok(r.error instanceof QueryCancelledError, String(r.error ?? "it finished"));
    const n = await engine.execute(text(`SELECT COUNT(*) AS n FROM ${notes} WHERE tag = :tag`), { tag: "cancelled" });
    assert.equal(Number(n.rows[0].n), 0);
  });

  it("stays healthy after 20 cancellations and 20 timeouts at once", async () => {
    const cancelled = Array.from({ length: 20 }, () => {
      const controller = new AbortController();
      // Aborted well before statementTimeout (200 ms) would end the statement.
      setTimeout(() => controller.abort(), 20 + Math.random() * 60);
      return timed(engine.execute("SELECT pg_sleep(1)", undefined, { signal: controller.signal }));
    });
    const timedOut = Array.from({ length: 20 }, () => timed(engine.execute("SELECT pg_sleep(1)")));
    for (const r of await Promise.all(cancelled)) {
      assert.ok(r.error instanceof QueryCancelledError, String(r.error ?? "it finished"));
    }
    for (const r of await Promise.all(timedOut)) {
      assert.ok(r.error instanceof QueryTimeoutError, String(r.error ?? "it finished"));
    }
    const answers = await Promise.all(
      Array.from({ length: 200 }, (_, n) => engine.execute(text("SELECT :n::int AS n"), { n })),
    );
    assert.deepEqual(answers.map((a) => a.rows[0].n), Array.from({ length: 200 }, (_, n) => n));
    assert.deepEqual(engine.stats().pool, { max: 4, reserved: 0, waiting: 0 });
    await sleep(200);
    assert.equal(await sleepersOf(app), 0, "nothing left running on the server");
  });
});
