/**
 * iris:// in its multi-host form, one iris-pgwire in front of each member: the REAL
 * iris-pgwire 1.7.3 (PyPI, unmodified) over the IRIS stand-in (tests/fixtures/iris-pgwire-real),
 * whose IRIS SQL runs on the replication pair's PostgreSQL. NOT IRIS, and no IRIS mirror: the
 * members are PostgreSQL 15 primary and synchronous streaming standby, so what passes here is
 * what irisql and the real wire server do when a member goes away; how an IRIS mirror fails over
 * is not shown.
 *
 *   iris-pgwire A ──▶ stand-in ──▶ primary 127.0.0.1:54391
 *   iris-pgwire B ──▶ stand-in ──▶ standby 127.0.0.1:54392 (synchronous)
 *
 * iris-pgwire cannot say whether its member is primary (wire.replication.role answers "read-write"
 * for any member that answers), so the engine takes the first member of the URL that answers:
 * A while it is up, B once A is gone. The failover is the standby's promotion, then the crash of
 * the old primary's host (PostgreSQL stopped -m immediate, iris-pgwire A killed with SIGKILL).
 *
 * 04-failover.test.ts leaves the pair as a lone primary: when the pair it finds is not a primary
 * with a streaming standby, this file restores one first (scripts/replication/cluster.sh rebuild
 * sync: the primary started again, the standby rebuilt from a base backup, no initdb). It leaves
 * the pair failed over too.
 */
import { execFile } from "node:child_process";
import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { ConnectionError, createEngine, type Engine } from "../../mod.ts";
import { type IrisPgwire, isInstalled, startIrisPgwire } from "../fixtures/iris-pgwire-real/mod.ts";
import {
  ctl,
  PRIMARY_PORT,
  PRIMARY_URL,
  query,
  replication,
  SKIP_REASON,
  sleep,
  STANDBY_PORT,
  STANDBY_URL,
  standbyCaughtUp,
  uniqueName,
  until,
} from "../fixtures/replication.ts";

const RECOVERY_LIMIT_MS = 5000;
/** A call that has not settled by then counts as hung. */
const HANG_MS = 10_000;
const T = uniqueName("iris_acked");
const WHO = uniqueName("iris_whoami");

/** Does either member answer (the runner made the pair; 04 may have failed it over)? */
async function pairMade(): Promise<boolean> {
  for (const member of ["primary", "standby"] as const) {
    try {
      await query(member, "SELECT 1");
      return true;
    } catch {
      // try the other
    }
  }
  return false;
}

/** The primary answers read-write and the standby streams from it. */
async function pairHealthy(): Promise<boolean> {
  try {
    const [p] = await query<{ r: boolean; n: number }>(
      "primary",
      "SELECT pg_is_in_recovery() AS r, (SELECT count(*)::int FROM pg_stat_replication WHERE state = 'streaming') AS n",
    );
    const [s] = await query<{ r: boolean }>("standby", "SELECT pg_is_in_recovery() AS r");
    return p.r === false && p.n === 1 && s.r === true;
  } catch {
    return false;
  }
}

function clusterScript(...args: string[]): Promise<void> {
  const script = new URL("../../scripts/replication/cluster.sh", import.meta.url).pathname;
  return new Promise((resolve, reject) => {
    execFile("bash", [script, ...args], { timeout: 90_000 }, (error, _out, stderr) => {
      if (error) reject(new Error(`cluster.sh ${args.join(" ")}: ${stderr || error.message}`));
      else resolve();
    });
  });
}

/** The outcome of `call`, or "hung" after HANG_MS. */
async function bounded<T>(call: Promise<T>): Promise<T | "hung" | { error: unknown }> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const watchdog = new Promise<"hung">((resolve) => (timer = setTimeout(() => resolve("hung"), HANG_MS)));
  try {
    return await Promise.race([call.catch((error) => ({ error })), watchdog]);
  } finally {
    clearTimeout(timer);
  }
}

const made = await pairMade();
const skip = !made
  ? SKIP_REASON
  : !isInstalled()
  ? "iris-pgwire is not installed (bash scripts/iris-pgwire/setup.sh)"
  : false;

describe("iris:// multi-host through two real iris-pgwire 1.7.3 (stand-in on a PostgreSQL pair, not IRIS)", {
  skip,
}, () => {
  let a: IrisPgwire | undefined;
  let b: IrisPgwire | undefined;
  let both: string;
  const engines: Engine[] = [];
  const engine = (url: string, options: Parameters<typeof createEngine>[1] = {}) => {
    const e = createEngine(url, options);
    engines.push(e);
    return e;
  };
  const irisUrl = (...servers: IrisPgwire[]) =>
    `iris://_SYSTEM:SYS@${servers.map((s) => `127.0.0.1:${s.port}`).join(",")}/USER?transactions=autocommit`;

  before(async () => {
    if (!(await pairHealthy())) await clusterScript("rebuild", "sync");
    else await replication("sync");
    // The member's own port, read where the statement runs (a view replicates like a table).
    await query("primary", `CREATE VIEW ${WHO} AS SELECT 1 AS id, inet_server_port() AS port`);
    [a, b] = await Promise.all([startIrisPgwire({ backend: PRIMARY_URL }), startIrisPgwire({ backend: STANDBY_URL })]);
    both = irisUrl(a, b);
  });
  after(async () => {
    await Promise.all(engines.map((e) => e.dispose().catch(() => {})));
    await Promise.all([a?.close(), b?.close()]);
  });

  it("writes and reads go through the first iris-pgwire to the primary; replicas: [B] takes provable reads", async () => {
    const main = engine(both, { replicas: [b!.url.replace(/\?.*$/, "")] });
    await main.execute(`CREATE TABLE ${T} (id INT PRIMARY KEY, writer INT NOT NULL)`);
    for (let id = 1; id <= 5; id++) {
      await main.execute({ text: `INSERT INTO ${T} (id, writer) VALUES ($1, $2)`, params: [id, 0] });
    }

    const port = async (replica: boolean) =>
      Number((await main.execute(`SELECT port FROM ${WHO}`, undefined, { replica })).scalar());
    assert.equal(await port(false), PRIMARY_PORT, "a plain read runs on the primary, through A");
    assert.equal(main.stats().hosts?.[0].host, `127.0.0.1:${a!.port}`, "the engine's connections go to A");
    const onPrimary = await query<{ n: number }>("primary", `SELECT count(*)::int AS n FROM ${T}`);
    assert.equal(onPrimary[0].n, 5, "the rows are on the primary (read there with a plain connection)");
    assert.ok(await standbyCaughtUp(), "the standby replays them");
    const onStandby = await query<{ n: number }>("standby", `SELECT count(*)::int AS n FROM ${T}`);
    assert.equal(onStandby[0].n, 5, "and the standby has them");

    // Read replicas on iris:// are only checked for an answer; the first check puts B in the rotation.
    assert.ok(await until(async () => (await port(true)) === STANDBY_PORT, 5000), "a { replica: true } read runs on B");
    const count = await main.execute(`SELECT count(*) AS n FROM ${T}`, undefined, { replica: true });
    assert.equal(Number(count.scalar()), 5, "B reads the replicated rows");
    const replica = main.stats().hosts?.find((h) => h.role === "replica");
    assert.equal(replica?.host, `127.0.0.1:${b!.port}`);
    assert.ok((replica?.reads ?? 0) >= 2, `reads went to B: ${replica?.reads}`);
    assert.equal(await port(false), PRIMARY_PORT, "writes and unmarked reads stay on A meanwhile");
  });

  it("no role question: with B first, the first member that answers is used, standby or not", async () => {
    // A limitation, shown: iris-pgwire cannot say its member is a standby.
    const wrong = engine(irisUrl(b!, a!));
    assert.equal(Number((await wrong.execute(`SELECT port FROM ${WHO}`)).scalar()), STANDBY_PORT);
    const write = await bounded(
      wrong.execute({ text: `INSERT INTO ${T} (id, writer) VALUES ($1, $2)`, params: [1000, 0] }),
    );
    assert.ok(typeof write === "object" && write !== null && "error" in write, "the standby refuses the write");
    assert.ok(!(write.error instanceof ConnectionError), `a server error, not a lost connection: ${write.error}`);
  });

  it("failover under load: in-flight calls fail with ConnectionError, writes resume through B within 5 s, none acknowledged is lost", async () => {
    const main = engine(both);
    // The control: the same load on a URL that names A only. It must not recover.
    const onlyA = engine(irisUrl(a!));
    let next = 10_000;
    let writing = true;
    let promotedAt = 0;
    let crashedAt = 0;
    const outcome = {
      main: { acked: [] as number[], failures: [] as unknown[], hung: 0, afterCrash: 0, first: 0 },
      onlyA: { acked: [] as number[], failures: [] as unknown[], hung: 0, afterCrash: 0, first: 0 },
    };
    const writer = async (e: Engine, o: typeof outcome.main, w: number) => {
      while (writing) {
        const id = ++next;
        const started = performance.now();
        const r = await bounded(e.execute({ text: `INSERT INTO ${T} (id, writer) VALUES ($1, $2)`, params: [id, w] }));
        if (r === "hung") {
          o.hung++;
        } else if (typeof r === "object" && r !== null && "error" in r) {
          o.failures.push(r.error);
          await sleep(20);
        } else {
          o.acked.push(id);
          if (crashedAt && started >= crashedAt) {
            o.afterCrash++;
            if (!o.first) o.first = performance.now();
          }
        }
      }
    };
    const writers = [
      ...Array.from({ length: 4 }, (_, w) => writer(main, outcome.main, w + 1)),
      writer(onlyA, outcome.onlyA, 9),
    ];
    await sleep(1000);
    const beforeFailover = outcome.main.acked.length;
    promotedAt = performance.now();
    await ctl("standby", "promote");
    const promoteTook = performance.now() - promotedAt;
    // The old primary's host goes down: its iris-pgwire and its PostgreSQL.
    await a!.crash();
    crashedAt = performance.now();
    await ctl("primary", "stop", "-m", "immediate");
    const deadline = promotedAt + RECOVERY_LIMIT_MS + 2000;
    while (!outcome.main.first && performance.now() < deadline) await sleep(20);
    await sleep(500);
    writing = false;
    await Promise.all(writers);

    const recovery = outcome.main.first ? outcome.main.first - promotedAt : Infinity;
    const rows = await query<{ id: number }>("standby", `SELECT id FROM ${T}`);
    const stored = new Set(rows.map((r) => Number(r.id)));
    const lost = [...outcome.main.acked, ...outcome.onlyA.acked].filter((id) => !stored.has(id));
    const kinds = (fs: unknown[]) => [...new Set(fs.map((e) => (e as Error)?.name))].join(", ");
    console.log(
      `iris failover (iris-pgwire 1.7.3 + stand-in, sync): A,B: ${beforeFailover} writes before the promotion, ` +
        `${outcome.main.acked.length} acknowledged in all, ${outcome.main.failures.length} failed ` +
        `(${kinds(outcome.main.failures)}), ${outcome.main.hung} hung; promotion took ${Math.round(promoteTook)} ms; ` +
        `first write through B ${Math.round(recovery)} ms after the promotion was asked for, ` +
        `${outcome.main.afterCrash} after the crash. A only: ${outcome.onlyA.acked.length} acknowledged, ` +
        `${outcome.onlyA.afterCrash} after the crash, ${outcome.onlyA.failures.length} failed ` +
        `(${kinds(outcome.onlyA.failures)}), ${outcome.onlyA.hung} hung. Acknowledged writes missing on the new ` +
        `primary: ${lost.length}`,
    );
    assert.ok(beforeFailover > 0, "the load ran through A before the failover");
    assert.equal(outcome.main.hung + outcome.onlyA.hung, 0, "no call hangs");
    for (const [name, o] of Object.entries(outcome)) {
      assert.ok(
        o.failures.every((e) => e instanceof ConnectionError),
        `${name}: only ConnectionError: ${kinds(o.failures)}`,
      );
    }
    assert.ok(outcome.main.failures.length > 0, "calls in flight through A failed");
    assert.ok(recovery < RECOVERY_LIMIT_MS, `writes resumed through B ${Math.round(recovery)} ms after the promotion`);
    assert.equal(main.stats().hosts?.[0].host, `127.0.0.1:${b!.port}`, "the engine now writes through B");
    assert.equal(Number((await main.execute(`SELECT port FROM ${WHO}`)).scalar()), STANDBY_PORT);
    assert.equal(outcome.onlyA.afterCrash, 0, "with A alone in the URL nothing is written after the crash");
    assert.ok(outcome.onlyA.failures.length > 0, "with A alone every call after the crash fails");
    assert.deepEqual(lost, [], "every acknowledged write is on the new primary");
  });
});
