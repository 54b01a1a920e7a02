/**
 * iris:// through the REAL iris-pgwire 1.7.3 (PyPI, unmodified) over its IRIS stand-in on
 * PostgreSQL (tests/fixtures/iris-pgwire-real; NOT IRIS), with `transactions: "autocommit"`:
 * external mode commits every statement, so there are no transactions to load.
 *   - a bounded mixed load (inserts, reads by key, filtered finds, updates) through a pool of 5:
 *     no error, no call that hangs, and every acknowledged write is found afterwards;
 *   - the server killed (its whole process group) and restarted on the same port under load:
 *     calls fail with ConnectionError, never hang, and are served again after the restart;
 *     every write acknowledged before, during or after the outage is there.
 * Fault injection (a server that stalls, drops, half-answers) stays in 08-iris-emulator.
 */
import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { col, ConnectionError, type Engine, table } from "../../mod.ts";
import { type IrisPgwire, startIrisPgwire } from "../fixtures/iris-pgwire-real/mod.ts";
import {
  ADMIN_URL,
  flushEvidence,
  HungError,
  log,
  ms,
  PASSWORD,
  ROLE,
  seenError,
  sleep,
  SOAK,
  uniqueName,
  watchedEngine,
  withCredentials,
  within,
} from "./support.ts";

const SECONDS = SOAK ? 30 : 5;
const WORKERS = 8;
const POOL = { max: 5 };
/** No call may take longer than this: a hung call fails the test by name. */
const HANG_MS = 15_000;
/** After the restart, a call must be served again within this. */
const RECOVERY_LIMIT_MS = 30_000;

const Items = table(uniqueName("rel_irisreal_items"), {
  id: col.integer().primaryKey(),
  worker: col.integer().notNull(),
  n: col.integer().notNull(),
  note: col.varchar(40).notNull(),
});

interface LoadResult {
  ops: number;
  /** note null: an update of the row failed with a ConnectionError, so it may or may not have been applied. */
  acknowledged: Map<number, { worker: number; note: string | null }>;
  errors: Error[];
  failedAt: number[];
  servedAt: number[];
}

/**
 * `WORKERS` loops until `stop()`: 50 % insert (recorded once acknowledged), 20 % get of an acknowledged
 * row (must be found with its last acknowledged note), 15 % find by worker with a limit, 15 % update of an
 * acknowledged row. Every call goes through `within(HANG_MS)`.
 */
function startLoad(engine: Engine, idBase: number): { stop(): Promise<LoadResult> } {
  const result: LoadResult = { ops: 0, acknowledged: new Map(), errors: [], failedAt: [], servedAt: [] };
  let running = true;
  let nextId = idBase;
  const t0 = performance.now();
  /** Each worker updates and reads back its own rows only, one call at a time: no race on a row. */
  const mine = new Map<number, number[]>();
  const pickAcknowledged = (w: number) => {
    const ids = mine.get(w) ?? [];
    return ids.length ? ids[Math.floor(Math.random() * ids.length)] : undefined;
  };
  async function worker(w: number): Promise<void> {
    let n = 0;
    while (running) {
      const roll = Math.random();
      const id = pickAcknowledged(w);
      let updating: number | undefined;
      try {
        if (roll < 0.5 || id === undefined) {
          const row = { id: nextId++, worker: w, n: n++, note: `w${w} n${n}` };
          const stored = await within(engine.session((s) => s.insert(Items, row)), HANG_MS, `insert ${row.id}`);
          assert.deepEqual(stored, row);
          result.acknowledged.set(row.id, { worker: w, note: row.note });
          mine.set(w, [...(mine.get(w) ?? []), row.id]);
        } else if (roll < 0.7) {
          const want = result.acknowledged.get(id)!.note;
          const got = await within(engine.session((s) => s.get(Items, id)), HANG_MS, `get ${id}`);
          assert.ok(got, `acknowledged row ${id} not found`);
          if (want !== null) assert.equal(got.note, want, `acknowledged row ${id}`);
        } else if (roll < 0.85) {
          const rows = await within(
            engine.session((s) => s.find(Items, { where: { worker: w }, orderBy: { id: "asc" }, limit: 5 })),
            HANG_MS,
            `find worker ${w}`,
          );
          assert.ok(rows.every((r) => r.worker === w));
        } else {
          const note = `w${w} upd${n++}`;
          updating = id;
          await within(engine.session((s) => s.update(Items, { id }, { note })), HANG_MS, `update ${id}`);
          result.acknowledged.set(id, { worker: w, note });
        }
        result.ops++;
        result.servedAt.push(performance.now() - t0);
      } catch (error) {
        seenError(error);
        result.errors.push(error as Error);
        if (updating !== undefined) result.acknowledged.set(updating, { worker: w, note: null });
        result.failedAt.push(performance.now() - t0);
        if (error instanceof HungError || !(error instanceof ConnectionError)) {
          // Stop this worker at once on anything but a ConnectionError: the test reports it.
          return;
        }
        await sleep(50);
      }
    }
  }
  const workers = Array.from({ length: WORKERS }, (_, w) => worker(w));
  return {
    async stop() {
      running = false;
      await within(Promise.all(workers), HANG_MS + 5000, "the load's workers");
      return result;
    },
  };
}

/** Every acknowledged row is there, with the last note acknowledged for it. */
async function verifyAcknowledged(
  engine: Engine,
  acknowledged: Map<number, { worker: number; note: string | null }>,
): Promise<void> {
  const rows = await engine.session((s) => s.find(Items, { orderBy: { id: "asc" } }));
  const byId = new Map(rows.map((r) => [r.id, r]));
  const missing = [...acknowledged.keys()].filter((id) => !byId.has(id));
  assert.deepEqual(missing, [], `${missing.length} acknowledged writes missing`);
  const wrong = [...acknowledged].filter(([id, { note }]) => note !== null && byId.get(id)!.note !== note);
  assert.deepEqual(wrong, [], "acknowledged updates lost");
}

describe("reliability: iris:// through the real iris-pgwire 1.7.3 (PostgreSQL stand-in, not IRIS)", () => {
  let server: IrisPgwire;
  let engine: Engine;
  let url: string;

  before(async () => {
    server = await startIrisPgwire({ backend: ADMIN_URL });
    // iris-pgwire accepts any user and password: a password is set so the scans can show it never leaks.
    url = withCredentials(server.url, ROLE, PASSWORD) + "?transactions=autocommit";
    engine = watchedEngine(url, { pool: POOL });
    await engine.createAll([Items]);
  }, { timeout: 120_000 });

  after(async () => {
    await engine?.dropAll([Items], { checkfirst: true }).catch(seenError);
    await engine?.dispose();
    await server?.close();
    flushEvidence("12-iris-pgwire");
  });

  it(`a ${SECONDS} s mixed load over a pool of 5: no error, nothing hangs, every acknowledged write is there`, {
    timeout: (SECONDS + 60) * 1000,
  }, async () => {
    const load = startLoad(engine, 1);
    await sleep(SECONDS * 1000);
    const r = await load.stop();
    log(
      `iris-pgwire (real) load: ${r.ops} calls in ${SECONDS} s (${(r.ops / SECONDS).toFixed(0)}/s), ` +
        `${r.acknowledged.size} rows written, ${r.errors.length} errors`,
    );
    assert.deepEqual(r.errors.map(String), []);
    assert.ok(r.ops >= 10 * SECONDS, `only ${r.ops} calls in ${SECONDS} s`);
    await verifyAcknowledged(engine, r.acknowledged);
  });

  it(
    "the server killed and restarted under load: ConnectionErrors, never a hang; served again; no acknowledged write lost",
    {
      timeout: 180_000,
    },
    async () => {
      const port = server.port;
      const loadStart = performance.now();
      const load = startLoad(engine, 1_000_000);
      await sleep(1500);
      const killedAt = performance.now();
      await server.close();
      await sleep(2000);
      const restartAt = performance.now();
      server = await startIrisPgwire({ port, backend: ADMIN_URL });
      const upAt = performance.now();
      // Served again: a fresh call succeeds within the limit of the server being up.
      let recovered = -1;
      while (performance.now() - upAt < RECOVERY_LIMIT_MS) {
        try {
          await within(engine.execute("SELECT 1"), HANG_MS, "SELECT 1 after the restart");
          recovered = performance.now() - upAt;
          break;
        } catch (error) {
          seenError(error);
          assert.ok(error instanceof ConnectionError, `after the restart: ${error}`);
          await sleep(200);
        }
      }
      await sleep(1500); // the load runs on the restarted server a while
      const r = await load.stop();
      const served = (from: number) => r.servedAt.filter((t) => t > from).length;
      log(
        `iris-pgwire (real) kill/restart: ${r.ops} calls, ${r.errors.length} ConnectionErrors, server down ` +
          `${ms(restartAt - killedAt)} ms, restart took ${ms(upAt - restartAt)} ms, served again ${ms(recovered)} ms ` +
          `after it was up; ${served(upAt - loadStart)} calls served after the restart`,
      );
      const unexpected = r.errors.filter((e) => !(e instanceof ConnectionError));
      assert.deepEqual(unexpected.map((e) => `${e.name}: ${e.message}`), [], "only ConnectionErrors, and no hang");
      assert.ok(r.errors.length > 0, "the outage was seen by the load");
      assert.ok(recovered >= 0, `not served again within ${RECOVERY_LIMIT_MS} ms of the restart`);
      assert.ok(r.ops > 0);
      await verifyAcknowledged(engine, r.acknowledged);
    },
  );
});
