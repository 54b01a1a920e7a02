/**
 * The server restarts under load (`pg_ctlcluster … restart`): calls in flight
 * reject with ConnectionError and none hangs; once the server is back the engine
 * serves again within 5 s with no manual step; no transfer is half-applied and
 * every acknowledged write is there exactly once.
 */
import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { ConnectionError, type Engine, text } from "../../mod.ts";
import {
  createLoadTables,
  describeLoad,
  dropLoadTables,
  type LoadReport,
  type LoadTables,
  RecoveryWatch,
  runLoad,
  verify,
} from "./load.ts";
import {
  ensureRole,
  flushEvidence,
  log,
  ms,
  PG_URL,
  restartServer,
  seenError,
  sleep,
  SOAK,
  uniqueName,
  watchedEngine,
  within,
} from "./support.ts";

const RESTARTS = SOAK ? 3 : 1;
const RECOVERY_LIMIT_MS = 5000;
/** How long the load goes on after the engine recovered, every call of it required to succeed... */
const SETTLED_MS = 1500;
/** ...except those started in the first moments, which may still meet a connection of the old server. */
const GRACE_MS = 500;

describe(`reliability: PostgreSQL restarts under load (${RESTARTS}x)`, () => {
  let engine: Engine;
  const reports: LoadReport[] = [];
  const name = uniqueName("rel_restart");
  const tables: LoadTables = { accounts: `${name}_accounts`, events: `${name}_events`, transfers: `${name}_transfers` };

  before(async () => {
    await ensureRole();
    engine = watchedEngine(PG_URL, { pool: { max: 10 } });
    await createLoadTables(engine, tables);
  });

  after(async () => {
    await dropLoadTables(engine, tables);
    await engine.dispose();
    flushEvidence("02-restart");
  });

  it("rejects calls in flight with ConnectionError, hangs none, and serves again within 5 s", {
    timeout: RESTARTS * 90_000,
  }, async () => {
    for (let round = 1; round <= RESTARTS; round++) {
      let stop = false;
      const recovery = new RecoveryWatch();
      const load = runLoad(engine, tables, {
        durationMs: 120_000,
        workers: 16,
        stop: () => stop,
        callLimitMs: 15_000,
        firstWorker: (round - 1) * 100,
        onSuccess: recovery.onSuccess,
      });
      await sleep(500);
      // Two long statements that are running when the server goes down.
      const longRead = outcome(within(engine.execute("SELECT pg_sleep(30) AS slept"), 15_000, "a running read"));
      const longWrite = outcome(within(
        engine.execute(
          text(`INSERT INTO ${tables.events} (worker, seq, payload) SELECT -1, :round, 'long' FROM pg_sleep(30)`),
          { round },
        ),
        15_000,
        "a running write",
      ));
      await sleep(300);
      const restartStarted = performance.now();
      await restartServer();
      const back = recovery.from = performance.now();
      // Wait until reads, writes and transfers all succeed again (at most 5 s and a bit),
      // then keep the load going: nothing started on the recovered engine may fail.
      await recovery.wait(RECOVERY_LIMIT_MS + 500);
      await sleep(SETTLED_MS);
      stop = true;
      const report = await load;
      reports.push(report);

      const failures = report.failures;
      const recovered = recovery.at - back;
      log(describeLoad(`restart round ${round}`, report));
      log(
        `  restart command took ${ms(back - restartStarted)} ms; ${failures.length} calls failed, all ` +
          `${[...new Set(failures.map((f) => (f.error as Error).name))].join("/")}; ` +
          `reads, writes and transfers all succeeded again ${ms(recovered)} ms after the server was back`,
      );

      assert.deepEqual(report.hung, [], "no call hangs");
      assert.ok(failures.length > 0, "the restart hit calls in flight");
      const unexpected = failures.filter((f) => !(f.error instanceof ConnectionError)).map((f) => String(f.error));
      assert.deepEqual(unexpected.slice(0, 5), [], "every failure is a ConnectionError");
      for (const f of failures) {
        assert.match((f.error as Error).message, /Could not use the database connection to 127\.0\.0\.1:\d+/);
      }
      assert.ok(recovered <= RECOVERY_LIMIT_MS, `service came back ${ms(recovered)} ms after the server`);
      const late = failures.filter((f) => f.startedAt > recovery.at + GRACE_MS).map((f) => String(f.error));
      assert.deepEqual(late.slice(0, 5), [], "no call fails once the engine has recovered");

      const read = await longRead;
      const write = await longWrite;
      assert.ok(read.error instanceof ConnectionError, `the running read: ${String(read.error ?? "succeeded")}`);
      assert.ok(write.error instanceof ConnectionError, `the running write: ${String(write.error ?? "succeeded")}`);
      assert.equal(engine.stats().pool.reserved, 0);
    }
  });

  it("leaves no transfer half-applied and every acknowledged write exactly once", async () => {
    assert.equal(reports.length, RESTARTS, "the restarts ran");
    const merged: LoadReport = { ...reports[0], ackedWrites: new Set(), ackedTransfers: new Set() };
    for (const r of reports) {
      for (const w of r.ackedWrites) merged.ackedWrites.add(w);
      for (const t of r.ackedTransfers) merged.ackedTransfers.add(t);
    }
    const v = await verify(engine, tables, merged);
    log(
      `  verified after ${RESTARTS} restart(s): ${merged.ackedWrites.size} acknowledged writes and ` +
        `${merged.ackedTransfers.size} transfers present once each; total balance ${v.total} of ${v.expectedTotal}`,
    );
    assert.deepEqual(v.missingWrites.slice(0, 5), []);
    assert.deepEqual(v.duplicateWrites.slice(0, 5), []);
    assert.deepEqual(v.missingTransfers.slice(0, 5), []);
    assert.deepEqual(v.duplicateTransfers.slice(0, 5), []);
    assert.deepEqual(v.unbalancedAccounts, [], "balances agree with the ledger");
    assert.equal(v.total, v.expectedTotal);
    const long = await engine.execute(`SELECT COUNT(*) AS n FROM ${tables.events} WHERE worker = -1`);
    assert.equal(Number((long.rows[0] as { n: unknown }).n), 0, "the write killed by the restart was rolled back");
  });
});

function outcome(p: Promise<unknown>): Promise<{ error?: unknown }> {
  return p.then(() => ({}), (error) => ({ error: seenError(error) }));
}
