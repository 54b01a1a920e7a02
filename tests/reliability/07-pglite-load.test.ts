/**
 * The same mixed load on PGlite: one connection, so 16 concurrent workers are
 * queued, never failed, and the event loop keeps turning meanwhile; every
 * acknowledged write is found and no transfer is half-applied.
 */
import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import type { Engine } from "../../mod.ts";
import { createLoadTables, describeLoad, type LoadReport, type LoadTables, runLoad, verify } from "./load.ts";
import { flushEvidence, log, SOAK, watchedEngine } from "./support.ts";

const SECONDS = SOAK ? 30 : 5;

describe(`reliability: load on PGlite (one queued connection, ${SECONDS} s)`, () => {
  let engine: Engine;
  let report: LoadReport;
  let mostWaiting = 0;
  const tables: LoadTables = { accounts: "rel_accounts", events: "rel_events", transfers: "rel_transfers" };

  before(async () => {
    engine = watchedEngine("pglite://memory");
    await createLoadTables(engine, tables);
  });

  after(async () => {
    await engine.dispose();
    flushEvidence("07-pglite-load");
  });

  it(`queues 16 concurrent workers for ${SECONDS} s without an error`, { timeout: (SECONDS + 60) * 1000 }, async () => {
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
