/**
 * Load: at least 1,000 statements a second through a pool of 10 reused
 * connections, mixed reads, writes and transfer transactions, for 10 s (60 s in
 * soak), with no error; afterwards every acknowledged write is found exactly once
 * and the account balances agree with the transfer ledger.
 */
import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import type { Engine } from "../../mod.ts";
import {
  createLoadTables,
  describeLoad,
  dropLoadTables,
  type LoadReport,
  type LoadTables,
  runLoad,
  verify,
} from "./load.ts";
import { ensureRole, flushEvidence, log, PG_URL, SOAK, uniqueName, watchedEngine } from "./support.ts";

const SECONDS = SOAK ? 60 : 10;
const POOL = 10;

describe(`reliability: load on PostgreSQL (pool of ${POOL}, ${SECONDS} s)`, () => {
  let engine: Engine;
  let report: LoadReport;
  const name = uniqueName("rel_load");
  const tables: LoadTables = { accounts: `${name}_accounts`, events: `${name}_events`, transfers: `${name}_transfers` };

  before(async () => {
    await ensureRole();
    engine = watchedEngine(PG_URL, { pool: { max: POOL } });
    await createLoadTables(engine, tables);
  });

  after(async () => {
    await dropLoadTables(engine, tables);
    await engine.dispose();
    flushEvidence("01-load");
  });

  it(`runs >= 1000 statements/s for ${SECONDS} s over ${POOL} reused connections without an error`, {
    timeout: (SECONDS + 60) * 1000,
  }, async () => {
    report = await runLoad(engine, tables, {
      durationMs: SECONDS * 1000,
      workers: 16,
      backendPidSql: "pg_backend_pid()",
    });
    log(describeLoad(`PostgreSQL load (pool ${POOL})`, report));
    const perConnection = report.statements / Math.max(1, report.backendPids.size);
    log(`  ${report.backendPids.size} server connections served it: ${perConnection.toFixed(0)} statements each`);

    assert.deepEqual(report.failures.map((f) => String(f.error)).slice(0, 5), []);
    assert.deepEqual(report.hung, []);
    assert.ok(
      report.statements / report.seconds >= 1000,
      `only ${(report.statements / report.seconds).toFixed(0)} statements/s`,
    );
    assert.ok(report.ops.read > 0 && report.ops.write > 0 && report.ops.transfer > 0, "every kind of call ran");
    // Connection reuse: never more than the pool, each connection used for thousands of statements.
    assert.ok(report.backendPids.size >= 1 && report.backendPids.size <= POOL, `${report.backendPids.size} backends`);
    assert.ok(perConnection >= 1000, `each connection served only ${perConnection.toFixed(0)} statements`);
    assert.equal(engine.stats().pool.reserved, 0);
    assert.equal(engine.stats().pool.waiting, 0);
  });

  it("finds every acknowledged write exactly once, and balances that match the transfer ledger", async () => {
    assert.ok(report, "the load ran");
    const v = await verify(engine, tables, report);
    log(
      `  verified: ${v.eventsFound} writes and ${report.ackedTransfers.size} transfers found; total balance ${v.total}`,
    );
    assert.deepEqual(v.missingWrites.slice(0, 5), []);
    assert.deepEqual(v.duplicateWrites.slice(0, 5), []);
    assert.equal(v.eventsFound, report.ackedWrites.size);
    assert.deepEqual(v.missingTransfers.slice(0, 5), []);
    assert.deepEqual(v.duplicateTransfers.slice(0, 5), []);
    assert.deepEqual(v.unbalancedAccounts, []);
    assert.equal(v.total, v.expectedTotal);
  });
});
