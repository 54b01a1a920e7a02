/**
 * Faults the pool must not paper over, and resources it must not leak.
 *
 * A read whose connection died while it ran fails with ConnectionError: it may
 * have had effects (a function that writes), so it is not sent again.
 *
 * Memory stays bounded under statements that never repeat: 200,000 distinct SQL
 * texts through a pool of 4 leave the client's heap and the server backends'
 * private memory where 20,000 left them. Each connection keeps a bounded set of
 * prepared statements; texts beyond it go unprepared (nothing kept on either
 * side). The server is local: its backends' memory is read from /proc.
 */
import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import process from "node:process";
import { ConnectionError, createEngine, type Engine, text } from "../../mod.ts";
import {
  ADMIN_URL,
  ensureRole,
  flushEvidence,
  log,
  PG_URL,
  SOAK,
  terminateWhenRunning,
  timed,
  uniqueName,
  watchedEngine,
} from "./support.ts";

const TOTAL = SOAK ? 400_000 : 200_000;
const WARM = 20_000;
/** Statements in flight at once. */
const CONCURRENCY = 256;
const MB = 1024 * 1024;

/** A full collection where the runtime offers one, so heap figures are live data, not garbage. */
async function collect(): Promise<void> {
  const g = globalThis as { Bun?: { gc(force: boolean): void }; gc?: () => void };
  if (g.Bun) return g.Bun.gc(true);
  if (!g.gc) {
    try {
      const v8 = await import("node:v8");
      const vm = await import("node:vm");
      v8.setFlagsFromString("--expose-gc");
      g.gc = vm.runInNewContext("gc");
    } catch {
      // No way to force it: settle for a pause.
    }
  }
  for (let i = 0; i < 3; i++) {
    g.gc?.();
    await new Promise((r) => setTimeout(r, 50));
  }
}

async function heapMB(): Promise<number> {
  await collect();
  return process.memoryUsage().heapUsed / MB;
}

/** Private (anonymous) memory of a local process in MB, from /proc; undefined where unreadable. */
function privateMB(pid: number): number | undefined {
  try {
    const status = readFileSync(`/proc/${pid}/status`, "utf8");
    const m = /RssAnon:\s+(\d+) kB/.exec(status);
    return m ? Number(m[1]) / 1024 : undefined;
  } catch {
    return undefined;
  }
}

describe("reliability: nothing that reached the server is sent again", () => {
  const app = uniqueName("rel_once");
  let engine: Engine;

  before(async () => {
    await ensureRole();
    engine = watchedEngine(PG_URL, { pool: { max: 2 }, applicationName: app });
  });

  after(async () => {
    await engine.dispose();
  });

  it("fails a read whose backend was terminated while it ran with ConnectionError, without running it again", async () => {
    const [r] = await Promise.all([
      timed(engine.execute("SELECT 44 AS answer, pg_sleep(0.4) AS slept")),
      terminateWhenRunning(app, "SELECT 44 AS answer, pg_sleep(0.4)%"),
    ]);
    assert.ok(r.error instanceof ConnectionError, String(r.error ?? "it answered"));
    assert.ok(r.ms < 400, `failed after ${r.ms.toFixed(0)} ms: it was not run a second time`);
    assert.equal((await engine.execute("SELECT 1 AS n")).scalar(), 1);
  });
});

describe("reliability: bounded memory under ever-new SQL texts", () => {
  const app = uniqueName("rel_mem");
  let engine: Engine;
  let admin: Engine;

  before(() => {
    engine = createEngine(ADMIN_URL, { pool: { max: 4 }, applicationName: app });
    admin = createEngine(ADMIN_URL, { pool: { max: 1 } });
  });

  after(async () => {
    await Promise.all([engine.dispose(), admin.dispose()]);
    flushEvidence("10-faults");
  });

  /** About the size of an ordinary application's statement (a few hundred characters). */
  const pad = "x".repeat(300);

  /** Statements `from` .. `to` - 1, each its own text; every fiftieth takes a parameter. */
  async function run(from: number, to: number): Promise<void> {
    let next = from;
    await Promise.all(Array.from({ length: CONCURRENCY }, async () => {
      while (next < to) {
        const i = next++;
        const r = i % 50 === 0
          ? await engine.execute(text(`SELECT :v::int + ${i} AS n, '${pad}' AS pad`), { v: 1 })
          : await engine.execute(`SELECT ${i} AS n, '${pad}' AS pad`);
        const n = Number(r.rows[0].n);
        if (n !== (i % 50 === 0 ? i + 1 : i)) throw new Error(`statement ${i} answered ${n}`);
      }
    }));
  }

  async function backends(): Promise<{ pid: number; mb: number | undefined }[]> {
    const r = await admin.execute(
      text("SELECT pid FROM pg_stat_activity WHERE application_name = :app ORDER BY pid"),
      { app },
    );
    return r.rows.map((row) => ({ pid: Number(row.pid), mb: privateMB(Number(row.pid)) }));
  }

  it(`runs ${TOTAL.toLocaleString("en-US")} distinct texts with a flat client heap and flat server backends`, async () => {
    const started = performance.now();
    await run(0, WARM);
    const heap0 = await heapMB();
    const server0 = await backends();
    await run(WARM, TOTAL);
    const heap1 = await heapMB();
    const server1 = await backends();
    const seconds = (performance.now() - started) / 1000;

    const fmt = (b: { pid: number; mb: number | undefined }[]) =>
      b.map((x) => `${x.pid}:${x.mb === undefined ? "?" : x.mb.toFixed(1)}`).join(" ");
    log(
      `# ${TOTAL} distinct texts in ${seconds.toFixed(1)} s: client heap ${heap0.toFixed(1)} -> ${
        heap1.toFixed(1)
      } MB; server backends (pid:MB private) ${fmt(server0)} -> ${fmt(server1)}`,
    );

    // Unbounded, every text stays prepared on its connection: on the client in the driver,
    // and in its server backend (see the figures logged by a run on a build without the bound).
    assert.ok(heap1 - heap0 < 15, `client heap grew ${(heap1 - heap0).toFixed(1)} MB`);
    assert.deepEqual(server1.map((b) => b.pid), server0.map((b) => b.pid), "the same backends throughout");
    for (let i = 0; i < server0.length; i++) {
      const [a, b] = [server0[i].mb, server1[i].mb];
      if (a === undefined || b === undefined) continue;
      assert.ok(b - a < 10, `backend ${server0[i].pid} grew ${(b - a).toFixed(1)} MB`);
    }
  });
});
