/**
 * The figures of the README's "Scaling out" section, from a real primary and streaming
 * standby on this machine (scripts/replication/cluster.sh):
 *   node --import tsx scripts/replication/measure.ts
 * 1. Failover under a write load (8 writers, autocommit INSERTs) with synchronous, then
 *    asynchronous replication: the primary is stopped with -m immediate (no chance to send
 *    what it has), the standby promoted; how long until the engine (multi-host URL,
 *    targetSessionAttrs=read-write) writes again, and how many acknowledged writes the new
 *    primary lacks. With async replication, also the standby's largest replay lag seen in
 *    pg_stat_replication during the load: the window of writes a crash can lose.
 * 2. Read throughput under a mixed load (16 workers, 90 % session.get by random key, 10 %
 *    session.update) for 5 s, without replicas and with the standby as a replica.
 * Uses its own ports (54393/54394) and cluster names, and drops the clusters at the end.
 */
import { execFileSync } from "node:child_process";
import postgres from "postgres";
import { col, createEngine, type Engine, table } from "../../mod.ts";

const P = 54393, S = 54394;
const env = {
  ...process.env,
  IRISQL_REPL_PRIMARY_PORT: String(P),
  IRISQL_REPL_STANDBY_PORT: String(S),
  IRISQL_REPL_NAME: "irisql_measure",
};
const script = new URL("./cluster.sh", import.meta.url).pathname;
const cluster = (...args: string[]) => execFileSync("bash", [script, ...args], { env, stdio: "inherit" });
const ctl = (name: string, ...args: string[]) =>
  execFileSync("pg_ctlcluster", ["--skip-systemctl-redirect", "15", `irisql_measure_${name}`, ...args], {
    stdio: "inherit",
  });
const url = (port: number) => `postgres://postgres@127.0.0.1:${port}/postgres`;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function on<T>(port: number, fn: (sql: postgres.Sql) => Promise<T>): Promise<T> {
  const sql = postgres({
    host: "127.0.0.1",
    port,
    user: "postgres",
    database: "postgres",
    max: 1,
    fetch_types: false,
    onnotice: () => {},
  });
  try {
    return await fn(sql);
  } finally {
    await sql.end({ timeout: 1 });
  }
}

async function failover(mode: "sync" | "async") {
  cluster("up", mode);
  const engine = createEngine(
    `postgres://postgres@127.0.0.1:${S},127.0.0.1:${P}/postgres?targetSessionAttrs=read-write`,
    { pool: { max: 8 } },
  );
  try {
    await engine.execute("CREATE TABLE acked (id int PRIMARY KEY, w int NOT NULL)");
    const acked: number[] = [];
    let next = 0, writing = true, failed = 0, maxLagMs = 0, asked = 0, first = 0;
    const writers = Array.from({ length: 8 }, async (_, w) => {
      while (writing) {
        const id = ++next;
        try {
          await engine.execute(`INSERT INTO acked VALUES (${id}, ${w})`);
          acked.push(id);
          if (asked && !first) first = performance.now();
        } catch {
          failed++;
          await sleep(10);
        }
      }
    });
    const lagWatch = (async () => {
      const sql = postgres({
        host: "127.0.0.1",
        port: P,
        user: "postgres",
        database: "postgres",
        max: 1,
        fetch_types: false,
      });
      try {
        while (writing && !asked) {
          const [row] =
            await sql`SELECT COALESCE(EXTRACT(EPOCH FROM replay_lag) * 1000, 0)::float8 AS ms FROM pg_stat_replication`;
          maxLagMs = Math.max(maxLagMs, Number(row?.ms ?? 0));
          await sleep(50);
        }
      } catch { /* the primary is gone */ }
      await sql.end({ timeout: 0 }).catch(() => {});
    })();
    await sleep(2000);
    const beforeStop = acked.length;
    ctl("primary", "stop", "-m", "immediate");
    await sleep(300);
    asked = performance.now();
    ctl("standby", "promote");
    const promoted = performance.now() - asked;
    while (!first && performance.now() - asked < 10_000) await sleep(10);
    await sleep(300);
    writing = false;
    await Promise.all([...writers, lagWatch]);
    const stored = new Set((await on(S, (sql) => sql`SELECT id FROM acked`)).map((r) => Number(r.id)));
    const lost = acked.filter((id) => !stored.has(id)).length;
    return {
      mode,
      writesBeforeStop: beforeStop,
      acknowledged: acked.length,
      failedCalls: failed,
      lost,
      promotionMs: Math.round(promoted),
      firstWriteAfterPromotionAskedMs: first ? Math.round(first - asked) : null,
      maxReplayLagMs: Math.round(maxLagMs),
    };
  } finally {
    await engine.dispose();
    cluster("down");
  }
}

async function throughput(replicas: boolean, seconds: number) {
  const items = table("items", { id: col.integer().primaryKey(), n: col.integer(), label: col.text() });
  const engine: Engine = createEngine(url(P), { pool: { max: 8 }, ...(replicas ? { replicas: [url(S)] } : {}) });
  try {
    if ((await engine.health()).hosts?.[1]?.inRotation === false) throw new Error("replica not in rotation");
    let reads = 0, writes = 0, errors = 0, running = true;
    const ROWS = 10_000;
    const workers = Array.from({ length: 16 }, async () => {
      while (running) {
        const id = 1 + Math.floor(Math.random() * ROWS);
        try {
          if (Math.random() < 0.9) {
            await engine.session((s) => s.get(items, id));
            reads++;
          } else {
            await engine.session((s) => s.update(items, { id }, { n: Math.floor(Math.random() * 1000) }));
            writes++;
          }
        } catch {
          errors++;
        }
      }
    });
    await sleep(seconds * 1000);
    running = false;
    await Promise.all(workers);
    const replicaReads = engine.stats().hosts?.[1]?.reads ?? 0;
    return {
      replicas: replicas ? 1 : 0,
      readsPerS: Math.round(reads / seconds),
      writesPerS: Math.round(writes / seconds),
      errors,
      onReplica: replicaReads,
    };
  } finally {
    await engine.dispose();
  }
}

const results: unknown[] = [];
try {
  results.push(await failover("sync"));
  results.push(await failover("async"));
  cluster("up", "async");
  await on(
    P,
    (sql) =>
      sql.unsafe(
        "CREATE TABLE items (id int PRIMARY KEY, n int, label text); INSERT INTO items SELECT g, g, 'row ' || g FROM generate_series(1, 10000) g",
      ),
  );
  await sleep(1000);
  for (const replicas of [false, true, false, true]) results.push(await throughput(replicas, 5));
} finally {
  cluster("down");
}
console.log(JSON.stringify(results, null, 1));
