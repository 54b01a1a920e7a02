/**
 * A replica stopped under a read load (pg_ctlcluster stop): the typed reads that were on
 * it go to the primary (a hot standby cannot have written anything), the replica leaves
 * the rotation, no read fails and none hangs; started again, it comes back.
 */
import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { col, createEngine, type Engine, table } from "../../mod.ts";
import {
  clusterUp,
  ctl,
  PRIMARY_URL,
  SKIP_REASON,
  sleep,
  STANDBY_URL,
  standbyCaughtUp,
  uniqueName,
  until,
} from "../fixtures/replication.ts";

const up = await clusterUp();
const WHO = uniqueName("whoami");
const whoami = table(WHO, { id: col.integer().primaryKey(), standby: col.boolean() });

describe("a replica stopped mid-load", { skip: up ? false : SKIP_REASON }, () => {
  let engine: Engine;
  before(async () => {
    engine = createEngine(PRIMARY_URL, { replicas: [STANDBY_URL], maxReplicaLagMs: 2000 });
    await engine.execute(`CREATE VIEW ${WHO} AS SELECT 1 AS id, pg_is_in_recovery() AS standby`);
    assert.ok(await standbyCaughtUp());
  });
  after(async () => {
    await ctl("standby", "start").catch(() => {});
    await engine.execute(`DROP VIEW IF EXISTS ${WHO}`);
    await engine.dispose();
  });

  it("reads keep working on the primary; the replica is out, then back once started", async () => {
    assert.equal((await engine.health()).hosts![1].inRotation, true);
    const served = { standby: 0, primary: 0 };
    const failures: unknown[] = [];
    let slowest = 0;
    let reading = true;
    const reader = async () => {
      while (reading) {
        const started = performance.now();
        try {
          const row = await engine.session((s) => s.get(whoami, 1));
          served[row?.standby ? "standby" : "primary"]++;
        } catch (error) {
          failures.push(error);
        }
        slowest = Math.max(slowest, performance.now() - started);
      }
    };
    const readers = Array.from({ length: 8 }, reader);
    await sleep(500);
    const before = { ...served };
    await ctl("standby", "stop", "-m", "fast");
    await sleep(1000);
    const during = { ...served };
    reading = false;
    await Promise.all(readers);
    const r = (await engine.health()).hosts![1];
    console.log(
      `reads: ${JSON.stringify(before)} before the stop, ${JSON.stringify(during)} 1 s after; ` +
        `slowest ${Math.round(slowest)} ms; replica: ${r.error}`,
    );
    assert.deepEqual(failures.map(String), []);
    assert.ok(before.standby > 0, "the replica served reads before it stopped");
    assert.ok(during.primary > before.primary, "the primary took over");
    assert.equal(r.inRotation, false);
    assert.ok(slowest < 5000, `a read took ${slowest} ms`);

    await ctl("standby", "start");
    assert.ok(await until(async () => (await engine.health()).hosts![1].inRotation === true, 15_000, 100), "back in");
    assert.equal((await engine.session((s) => s.get(whoami, 1)))?.standby, true);
  });
});
