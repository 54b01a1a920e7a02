/**
 * Replica lag, measured from the servers' write positions: an idle replica of an
 * idle primary stays in; one whose replay is paused (pg_wal_replay_pause()) while the
 * primary writes leaves the rotation once it is maxReplicaLagMs behind, and reads go
 * to the primary; resumed, it comes back.
 */
import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { col, createEngine, type Engine, table } from "../../mod.ts";
import {
  clusterUp,
  PRIMARY_URL,
  query,
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
const MAX_LAG = 400;

describe("replica lag (pg_wal_replay_pause)", { skip: up ? false : SKIP_REASON }, () => {
  let engine: Engine;
  before(async () => {
    engine = createEngine(PRIMARY_URL, { replicas: [STANDBY_URL], maxReplicaLagMs: MAX_LAG });
    await engine.execute(`CREATE VIEW ${WHO} AS SELECT 1 AS id, pg_is_in_recovery() AS standby`);
    await engine.execute(`CREATE TABLE ${WHO}_w (n int)`);
    assert.ok(await standbyCaughtUp());
  });
  after(async () => {
    await query("standby", "SELECT pg_wal_replay_resume()").catch(() => {});
    await engine.execute(`DROP VIEW IF EXISTS ${WHO}`);
    await engine.execute(`DROP TABLE IF EXISTS ${WHO}_w`);
    await engine.dispose();
  });

  const servedBy = () => engine.session((s) => s.get(whoami, 1)).then((r) => (r?.standby ? "standby" : "primary"));
  const replica = async () => (await engine.health()).hosts![1];

  it("an idle primary does not make its replica look late", async () => {
    assert.equal((await replica()).inRotation, true);
    await sleep(MAX_LAG * 3);
    const r = await replica();
    assert.equal(r.inRotation, true, JSON.stringify(r));
    assert.equal(r.lagMs, 0);
    assert.equal(await servedBy(), "standby");
  });

  it("paused replay: out of the rotation past maxReplicaLagMs, reads on the primary; resumed: back", async () => {
    await query("standby", "SELECT pg_wal_replay_pause()");
    const paused = performance.now();
    // The primary keeps writing; the standby receives but does not replay.
    let writing = true;
    const writer = (async () => {
      while (writing) {
        await engine.execute(`INSERT INTO ${WHO}_w VALUES (1)`);
        await sleep(20);
      }
    })();
    try {
      const out = await until(async () => (await replica()).inRotation === false, 5000, 50);
      const r = await replica();
      assert.ok(out, `still in rotation: ${JSON.stringify(r)}`);
      assert.ok((r.lagMs ?? 0) > MAX_LAG, JSON.stringify(r));
      assert.match(r.error ?? "", /lags \d+ ms behind the primary/);
      console.log(
        `replica left the rotation ${
          Math.round(performance.now() - paused)
        } ms after replay paused (bound ${MAX_LAG} ms)`,
      );
      for (let i = 0; i < 10; i++) assert.equal(await servedBy(), "primary");
      const rows = await engine.execute(`SELECT count(*)::int AS n FROM ${WHO}_w`, undefined, { replica: true });
      assert.ok(Number(rows.scalar()) > 0, "a marked read on the primary sees the primary's rows");
    } finally {
      writing = false;
      await writer;
      await query("standby", "SELECT pg_wal_replay_resume()");
    }
    assert.ok(await until(async () => (await replica()).inRotation === true, 5000, 50), "back after resume");
    assert.equal(await servedBy(), "standby");
  });
});
