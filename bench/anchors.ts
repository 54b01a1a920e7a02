/**
 * The anchors of issue #18: other libraries doing the work of cases 1-4 on the
 * same PostgreSQL, sampled in the same run, alternating with irisql call by call:
 *   - Drizzle ORM on postgres.js (the driver irisql wraps): its default query
 *     builder call ("unprepared", SQL built per call) and `.prepare()`;
 *   - Kysely on a pg Pool;
 *   - pg (node-postgres) with a named (server-side prepared) statement;
 *   - async SQLAlchemy 2.x on asyncpg, from Python (bench/python.ts);
 * and pgbench -S -M prepared -c 1 as the C-client floor (floorCase, below).
 * Every JavaScript anchor gets its own client with the same pool size (10) per epoch.
 * irisql must not fall behind any of them (ANCHOR_BOUND); the floor is reported only.
 */
import { execFile } from "node:child_process";
import { drizzle } from "drizzle-orm/postgres-js";
import { eq, sql as dsql } from "drizzle-orm";
import { bigint, doublePrecision, integer, pgTable, text as dtext } from "drizzle-orm/pg-core";
import { type Generated, Kysely, PostgresDialect } from "kysely";
import pg from "pg";
import postgres from "postgres";
import { text } from "../mod.ts";
import type { Contender } from "./cases.ts";
import { idSequence, irisqlPostgres, PG_URL, POOL_MAX } from "./fixtures.ts";
import { openPython } from "./python.ts";

/**
 * irisql's time ÷ an anchor's time (median over rounds) may be at most this: 1.0
 * plus the 5% the method allows itself (the A/A control's bound, and every latency
 * bound against postgres.js). For rows/s (case 3), irisql ÷ anchor must be >= 1 / 1.05.
 */
export const ANCHOR_BOUND = 1.05;

const itemsD = pgTable("irisql_bench_items", {
  id: integer("id").primaryKey(),
  title: dtext("title").notNull(),
  n: integer("n").notNull(),
  score: doublePrecision("score").notNull(),
});

const bulkD = pgTable("irisql_bench_bulk", {
  id: bigint("id", { mode: "number" }).primaryKey().generatedAlwaysAsIdentity(),
  title: dtext("title").notNull(),
  n: integer("n").notNull(),
  score: doublePrecision("score").notNull(),
});

interface KyselyDb {
  irisql_bench_items: { id: number; title: string; n: number; score: number };
  irisql_bench_bulk: { id: Generated<number>; title: string; n: number; score: number };
}

const BY_ID = "SELECT id, title, n, score FROM irisql_bench_items WHERE id = $1";

/** The anchors' clients for one epoch, opened fresh like the other contenders'. */
export class AnchorClients {
  private readonly pgjs = postgres(PG_URL, { max: POOL_MAX, onnotice: () => {} });
  readonly drizzle = drizzle({ client: this.pgjs });
  private readonly kyselyPool = new pg.Pool({ connectionString: PG_URL, max: POOL_MAX });
  readonly kysely = new Kysely<KyselyDb>({ dialect: new PostgresDialect({ pool: this.kyselyPool }) });
  readonly pool = new pg.Pool({ connectionString: PG_URL, max: POOL_MAX });
  python?: { timed: () => Promise<number>; close: () => Promise<void> };

  constructor() {
    // pg's pools emit "error" when the server ends an idle connection (another suite on this
    // server terminating backends); unhandled, that would end the benchmark process.
    for (const p of [this.kyselyPool, this.pool]) p.on("error", () => {});
  }

  /** Drizzle's prepared form of the primary-key SELECT (one per client: a named statement). */
  readonly drizzleById = this.drizzle.select().from(itemsD).where(eq(itemsD.id, dsql.placeholder("id")))
    .prepare("irisql_bench_by_id");

  #closed: Promise<void> | undefined;

  /** Ends every client once; a second call waits for the first (pg's Pool.end() throws when called twice). */
  close(): Promise<void> {
    return this.#closed ??= Promise.all([
      this.pgjs.end({ timeout: 5 }),
      this.kysely.destroy(), // ends kyselyPool
      this.pool.end(),
      this.python?.close(),
    ]).then(() => {});
  }
}

/** Adds the Python contender for a case to `a` (a fresh AsyncEngine for this epoch). */
async function withPython(
  a: AnchorClients,
  caseId: string,
  extra: { rows?: number; queries?: number } = {},
): Promise<Contender> {
  a.python = await openPython(caseId, { url: PG_URL, pool: POOL_MAX, ...extra });
  const timed = a.python.timed;
  return { key: "sqlalchemy", label: CASE_PY_LABEL[caseId], run: timed, timed };
}

const CASE_PY_LABEL: Record<string, string> = {
  "1": "SQLAlchemy 2 async (asyncpg, Python): async with engine.connect() as c: await c.execute(text(...), {id})",
  "2": "SQLAlchemy 2 async (asyncpg, Python): async with AsyncSession(engine) as s: await s.get(Item, id)",
  "3": "SQLAlchemy 2 async (asyncpg, Python): async with engine.begin() as c: await c.execute(insert(bulk), rows)",
  "4": "SQLAlchemy 2 async (asyncpg, Python): asyncio.gather(n × engine.connect() + c.execute(text(...)))",
};

/** Case 1: a SELECT by primary key, the rows handed back. */
export async function case1Anchors(a: AnchorClients): Promise<Contender[]> {
  const seq = Array.from({ length: 4 }, idSequence);
  return [
    {
      key: "drizzle",
      label: "Drizzle db.select().from(items).where(eq(items.id, id))",
      run: () => a.drizzle.select().from(itemsD).where(eq(itemsD.id, seq[0]())),
    },
    {
      key: "drizzle-prepared",
      label: "Drizzle (same).prepare(name).execute({ id })",
      run: () => a.drizzleById.execute({ id: seq[1]() }),
    },
    {
      key: "kysely",
      label: "Kysely db.selectFrom(...).select([...]).where('id', '=', id).execute() on a pg Pool",
      run: () =>
        a.kysely.selectFrom("irisql_bench_items").select(["id", "title", "n", "score"]).where("id", "=", seq[2]())
          .execute(),
    },
    {
      key: "pg",
      label: "pg pool.query({ name, text, values: [id] }) (named statement)",
      run: async () => (await a.pool.query({ name: "irisql_bench_by_id", text: BY_ID, values: [seq[3]()] })).rows,
    },
    await withPython(a, "1"),
  ];
}

/** Case 2: the same, one typed row (or undefined) back, as session.get / find. */
export async function case2Anchors(a: AnchorClients): Promise<Contender[]> {
  const seq = Array.from({ length: 4 }, idSequence);
  return [
    {
      key: "drizzle",
      label: "Drizzle (await db.select().from(items).where(eq(items.id, id)))[0]",
      run: async () => (await a.drizzle.select().from(itemsD).where(eq(itemsD.id, seq[0]())))[0],
    },
    {
      key: "drizzle-prepared",
      label: "Drizzle (await prepared.execute({ id }))[0]",
      run: async () => (await a.drizzleById.execute({ id: seq[1]() }))[0],
    },
    {
      key: "kysely",
      label: "Kysely db.selectFrom(...).selectAll().where('id', '=', id).executeTakeFirst()",
      run: () => a.kysely.selectFrom("irisql_bench_items").selectAll().where("id", "=", seq[2]()).executeTakeFirst(),
    },
    {
      key: "pg",
      label: "pg (await pool.query({ name, text, values: [id] })).rows[0]",
      run: async () => (await a.pool.query({ name: "irisql_bench_get", text: BY_ID, values: [seq[3]()] })).rows[0],
    },
    await withPython(a, "2"),
  ];
}

type BulkRow = { title: string; n: number; score: number };

/** Case 3: all rows in one transaction, 1,000 per statement (irisql's chunk size). */
export async function case3Anchors(
  a: AnchorClients,
  rows: BulkRow[],
  chunks: BulkRow[][],
  empty: () => Promise<unknown>,
): Promise<Contender[]> {
  const python = await withPython(a, "3", { rows: rows.length });
  return [
    {
      key: "drizzle",
      label: "Drizzle db.transaction(tx => Promise.all(chunks.map(c => tx.insert(bulk).values(c))))",
      before: empty,
      // Pipelined on the transaction's connection, as the raw postgres.js side.
      run: () => a.drizzle.transaction((tx) => Promise.all(chunks.map((c) => tx.insert(bulkD).values(c)))),
    },
    {
      key: "kysely",
      label: "Kysely db.transaction().execute(trx => for chunk: await trx.insertInto(bulk).values(c).execute())",
      before: empty,
      run: () =>
        a.kysely.transaction().execute(async (trx) => {
          for (const c of chunks) await trx.insertInto("irisql_bench_bulk").values(c).execute();
        }),
    },
    {
      key: "pg",
      label: "pg BEGIN; per chunk client.query({ name, text: INSERT ... VALUES ($1,$2,$3),..., values }); COMMIT",
      before: empty,
      run: async () => {
        const client = await a.pool.connect();
        try {
          await client.query("BEGIN");
          for (const c of chunks) {
            const values: unknown[] = [];
            const tuples = c.map((r, i) => {
              values.push(r.title, r.n, r.score);
              return `($${3 * i + 1}, $${3 * i + 2}, $${3 * i + 3})`;
            });
            await client.query({
              name: `irisql_bench_insert_${c.length}`,
              text: `INSERT INTO irisql_bench_bulk (title, n, score) VALUES ${tuples.join(", ")}`,
              values,
            });
          }
          await client.query("COMMIT");
        } catch (error) {
          await client.query("ROLLBACK");
          throw error;
        } finally {
          client.release();
        }
      },
    },
    { ...python, before: undefined },
  ];
}

/** Case 4: n concurrent primary-key SELECTs through a pool of 10. */
export async function case4Anchors(a: AnchorClients, ids: number[]): Promise<Contender[]> {
  return [
    {
      key: "drizzle",
      label: "Drizzle Promise.all(n × db.select().from(items).where(...))",
      run: () => Promise.all(ids.map((id) => a.drizzle.select().from(itemsD).where(eq(itemsD.id, id)))),
    },
    {
      key: "drizzle-prepared",
      label: "Drizzle Promise.all(n × prepared.execute({ id }))",
      run: () => Promise.all(ids.map((id) => a.drizzleById.execute({ id }))),
    },
    {
      key: "kysely",
      label: "Kysely Promise.all(n × db.selectFrom(...)...execute())",
      run: () =>
        Promise.all(
          ids.map((id) =>
            a.kysely.selectFrom("irisql_bench_items").select(["id", "title", "n", "score"]).where("id", "=", id)
              .execute()
          ),
        ),
    },
    {
      key: "pg",
      label: "pg Promise.all(n × pool.query({ name, text, values }))",
      run: () => Promise.all(ids.map((id) => a.pool.query({ name: "irisql_bench_by_id", text: BY_ID, values: [id] }))),
    },
    await withPython(a, "4", { queries: ids.length }),
  ];
}

// --- the C-client floor -----------------------------------------------------------

const env = (globalThis as { process?: { env: Record<string, string | undefined> } }).process?.env ?? {};
const PGBENCH = env.IRISQL_BENCH_PGBENCH ?? "pgbench";
/** Its own database; runs side by side (on separate IRISQL_BENCH_PG_URL databases) name theirs apart. */
const PGBENCH_DB = env.IRISQL_BENCH_PGBENCH_DB ?? "irisql_bench_pgbench";

function pgbenchArgs(): string[] {
  const u = new URL(PG_URL);
  return ["-h", u.hostname, "-p", u.port || "5432", "-U", decodeURIComponent(u.username || "postgres")];
}

function runPgbench(args: string[]): Promise<string> {
  const env = { ...(globalThis as { process?: { env: Record<string, string> } }).process?.env };
  const u = new URL(PG_URL);
  if (u.password) env.PGPASSWORD = decodeURIComponent(u.password);
  return new Promise((resolve, reject) => {
    execFile(PGBENCH, [...pgbenchArgs(), ...args], { env }, (error, stdout, stderr) => {
      if (error) reject(new Error(`${PGBENCH} ${args.join(" ")}: ${error.message}\n${stderr}`));
      else resolve(stdout + stderr);
    });
  });
}

/** pgbench's own tables (scale 1: 100,000 accounts) in a database of their own. */
export async function createPgbenchDatabase(): Promise<void> {
  await dropPgbenchDatabase();
  const admin = postgres(PG_URL, { max: 1, onnotice: () => {} });
  try {
    await admin.unsafe(`CREATE DATABASE ${PGBENCH_DB}`);
  } finally {
    await admin.end({ timeout: 5 });
  }
  await runPgbench(["-i", "-s", "1", "-q", PGBENCH_DB]);
}

export async function dropPgbenchDatabase(): Promise<void> {
  const admin = postgres(PG_URL, { max: 1, onnotice: () => {} });
  try {
    await admin.unsafe(`DROP DATABASE IF EXISTS ${PGBENCH_DB}`);
  } finally {
    await admin.end({ timeout: 5 });
  }
}

/**
 * One batch of `calls` pgbench select-only transactions (-S -M prepared -c 1), its
 * time per transaction in ms: 1000 / pgbench's tps "without initial connection time"
 * (its "latency average" is printed to 1 µs only), so process start and connect are out.
 */
export async function pgbenchBatch(calls: number): Promise<number> {
  const out = await runPgbench(["-n", "-S", "-M", "prepared", "-c", "1", "-t", String(calls), PGBENCH_DB]);
  const tps = out.match(/tps = ([0-9.]+) \(without initial connection time\)/);
  if (!tps) throw new Error(`pgbench printed no tps:\n${out}`);
  return 1000 / Number(tps[1]);
}

const byIdText = text("SELECT id, title, n, score FROM irisql_bench_items WHERE id = :id");

/**
 * The floor case's contenders for one epoch: pgbench batches (the baseline) and
 * irisql batches of the same number of sequential primary-key SELECTs; each is
 * timed as a whole and reported per call.
 */
export function floorContenders(calls: number): { contenders: Contender[]; close: () => Promise<void> } {
  const engine = irisqlPostgres();
  const next = idSequence();
  const irisqlBatch = async () => {
    const t0 = performance.now();
    for (let i = 0; i < calls; i++) await engine.execute(byIdText, { id: next() });
    return (performance.now() - t0) / calls;
  };
  const pgbench = () => pgbenchBatch(calls);
  return {
    contenders: [
      {
        key: "pgbench",
        label:
          `pgbench -S -M prepared -c 1 -t ${calls} (C, libpq): SELECT abalance FROM pgbench_accounts WHERE aid = $1`,
        run: pgbench,
        timed: pgbench,
      },
      {
        key: "irisql",
        label: `${calls} × await engine.execute(text(...), { id }), one at a time`,
        run: irisqlBatch,
        timed: irisqlBatch,
      },
    ],
    close: () => engine.dispose(),
  };
}
