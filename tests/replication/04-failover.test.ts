/**
 * Failover under a write load with synchronous replication: the primary stops
 * (pg_ctlcluster stop -m immediate), the standby is promoted (pg_ctlcluster promote).
 * Calls in flight fail with ConnectionError and none hangs; the engine, on a multi-host
 * URL with targetSessionAttrs=read-write, writes again on the new primary within 5 s of
 * the promotion with no manual step; every write it acknowledged is on the new primary.
 * Leaves the pair as a lone primary: 05-iris.test.ts, which runs after it, rebuilds the pair first (cluster.sh rebuild).
 */
import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { ConnectionError, createEngine, type Engine } from "../../mod.ts";
import {
  BOTH_URL,
  clusterUp,
  ctl,
  query,
  replication,
  SKIP_REASON,
  sleep,
  STANDBY,
  uniqueName,
} from "../fixtures/replication.ts";

const up = await clusterUp();
const T = uniqueName("acked");
const WRITERS = 8;
const RECOVERY_LIMIT_MS = 5000;
/** A call that has not settled by then counts as hung. */
const HANG_MS = 10_000;

describe("failover under load, synchronous replication", { skip: up ? false : SKIP_REASON }, () => {
  let engine: Engine;
  before(async () => {
    await replication("sync");
    engine = createEngine(BOTH_URL, { pool: { max: 8 } });
    await engine.execute(`CREATE TABLE ${T} (id int PRIMARY KEY, writer int NOT NULL)`);
  });
  after(async () => {
    await engine.dispose();
  });

  it("in-flight calls fail with ConnectionError, writes resume on the promoted standby, no acknowledged write is lost", async () => {
    const acked: number[] = [];
    const failures: unknown[] = [];
    let hung = 0;
    let next = 0;
    let promotedAt = 0;
    let firstAfterPromotion = 0;
    let writing = true;
    const writer = async (w: number) => {
      while (writing) {
        const id = ++next;
        let timer: ReturnType<typeof setTimeout> | undefined;
        const watchdog = new Promise<"hung">((resolve) => (timer = setTimeout(() => resolve("hung"), HANG_MS)));
        const outcome = await Promise.race([
          engine.execute(`INSERT INTO ${T} (id, writer) VALUES (${id}, ${w})`).then(() => "ok" as const, (e) => e),
          watchdog,
        ]);
        clearTimeout(timer);
        if (outcome === "ok") {
          acked.push(id);
          if (promotedAt && !firstAfterPromotion) firstAfterPromotion = performance.now();
        } else if (outcome === "hung") {
          hung++;
        } else {
          failures.push(outcome);
          await sleep(10);
        }
      }
    };
    const writers = Array.from({ length: WRITERS }, (_, w) => writer(w));
    await sleep(1000);
    const beforeStop = acked.length;
    await ctl("primary", "stop", "-m", "immediate");
    const stoppedAt = performance.now();
    await sleep(300);
    // Writes are counted from the moment the promotion is asked for (pg_ctlcluster returns once it is done).
    promotedAt = performance.now();
    await ctl("standby", "promote");
    const promoteTook = performance.now() - promotedAt;
    const deadline = promotedAt + RECOVERY_LIMIT_MS + 2000;
    while (!firstAfterPromotion && performance.now() < deadline) await sleep(20);
    await sleep(500);
    writing = false;
    await Promise.all(writers);

    const recovery = firstAfterPromotion ? firstAfterPromotion - promotedAt : Infinity;
    const rows = await query<{ id: number }>("standby", `SELECT id FROM ${T}`);
    const stored = new Set(rows.map((r) => Number(r.id)));
    const lost = acked.filter((id) => !stored.has(id));
    const kinds = [...new Set(failures.map((e) => (e as Error)?.name))];
    console.log(
      `failover (sync): ${beforeStop} writes before the stop, ${acked.length} acknowledged in all, ${failures.length} ` +
        `failed (${kinds.join(", ")}), ${hung} hung; down ${Math.round(promotedAt - stoppedAt)} ms before the ` +
        `promotion; promotion took ${Math.round(promoteTook)} ms; first write on the new primary ${
          Math.round(recovery)
        } ms after it was asked for; acknowledged writes missing ` +
        `there: ${lost.length}`,
    );
    assert.ok(beforeStop > 0);
    assert.equal(hung, 0, "no call hangs");
    assert.ok(failures.every((e) => e instanceof ConnectionError), `only ConnectionError: ${kinds.join(", ")}`);
    assert.ok(recovery < RECOVERY_LIMIT_MS, `writes resumed ${Math.round(recovery)} ms after the promotion`);
    assert.deepEqual(lost, [], "every acknowledged write is on the new primary");
    assert.equal(engine.stats().hosts?.[0].host, STANDBY, "the engine now writes to the promoted standby");
    assert.equal(Number((await engine.execute("SELECT pg_is_in_recovery()::int AS r")).scalar()), 0);
  });
});
