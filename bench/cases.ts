/**
 * The seven benchmark cases. Each pairs the raw driver form (the baseline, as a
 * careful user writes it: tagged templates, prepared statements, the same
 * pool size, the same server) with the irisql form of the same work. A case
 * opens fresh clients per epoch (`open`); the sampler alternates contenders.
 */
import { createEngine, type Engine, sql as irisqlSql, text } from "../mod.ts";
import { nearestStatement } from "../src/statements/nearest.ts";
import { runtime } from "../src/adapters/runtime.ts";
import {
  bulk,
  bulkRows,
  docs,
  idSequence,
  irisqlPostgres,
  items,
  PG_URL,
  POOL_MAX,
  queryVector,
  rawPostgres,
  type RawSql,
  seedDocsSql,
} from "./fixtures.ts";
import {
  AnchorClients,
  case1Anchors,
  case2Anchors,
  case3Anchors,
  case4Anchors,
  createPgbenchDatabase,
  dropPgbenchDatabase,
  floorContenders,
} from "./anchors.ts";

/** What case 5 uses of PGlite. */
interface RawPGlite {
  query<R>(sql: string, params: unknown[]): Promise<{ rows: R[] }>;
}

export type Metric = "latency" | "total" | "throughput";

export interface Contender {
  key: string;
  label: string;
  /** One operation; the sampler times it. */
  run: () => Promise<unknown>;
  /** Untimed work before each timed operation (e.g. empty the target table). */
  before?: () => Promise<unknown>;
  /**
   * The operation timed by itself, in ms per call, used by the sampler instead of
   * timing `run`: for work in another process (SQLAlchemy, pgbench) or in batches.
   */
  timed?: () => Promise<number>;
}

export interface CaseInstance {
  /** contenders[0] is the raw baseline. */
  contenders: Contender[];
  close(): Promise<void>;
}

export interface Sizes {
  quick: boolean;
  insertRows: number;
  concurrentQueries: number;
  vectors: number;
  /** Sequential calls per batch in the pgbench floor case. */
  floorCalls: number;
}

export const FULL: Sizes = {
  quick: false,
  insertRows: 100_000,
  concurrentQueries: 10_000,
  vectors: 10_000,
  floorCalls: 2_000,
};
export const QUICK: Sizes = { quick: true, insertRows: 2_000, concurrentQueries: 500, vectors: 500, floorCalls: 50 };

const ANCHORS = ["drizzle", "drizzle-prepared", "kysely", "pg", "sqlalchemy"];

/** How a case is sampled; see bench/sampler.ts. */
export interface Plan {
  /** Fresh clients (new server connections) per epoch. */
  epochs: number;
  /** Rounds per epoch; each gives one ratio per contender. */
  rounds: number;
  /** Timed operations per contender per round, taking turns. */
  samples: number;
  /** Untimed operations per contender at the start of each epoch (connect, prepare, JIT). */
  warmup: number;
}

export interface BenchCase {
  id: string;
  plan: Plan;
  title: string;
  metric: Metric;
  /** Bound on the ratio of the checked contenders: irisql/raw time, or irisql/raw rows per second. */
  bound: { op: "<=" | ">="; value: number };
  /** Contender keys the bound applies to; the others are reported for information. */
  checked: string[];
  /**
   * Other libraries doing the same work (bench/anchors.ts): each checked contender's
   * time ÷ each anchor's must be <= ANCHOR_BOUND (rows/s: >= 1 / ANCHOR_BOUND).
   */
  anchors?: string[];
  /** Reported against the checked contenders, never enforced (the pgbench floor). */
  floors?: string[];
  /** For case 8 (bench/scaling.ts): the point it measures. */
  scaling?: { callers: number; pool: number };
  /** Rows per operation (throughput cases). */
  units?: (s: Sizes) => number;
  /** Fresh clients for one epoch. */
  open(s: Sizes): Promise<CaseInstance>;
  /** Once per run, after the last epoch. */
  teardown?(): Promise<void>;
}

interface PgPair {
  raw: RawSql;
  engine: Engine;
}

function pgPair(): PgPair {
  return { raw: rawPostgres(), engine: irisqlPostgres() };
}

async function closePair(p: PgPair): Promise<void> {
  await Promise.all([p.raw.end({ timeout: 5 }), p.engine.dispose()]);
}

function instance(p: PgPair, contenders: Contender[], anchors?: AnchorClients): CaseInstance {
  return { contenders, close: () => Promise.all([closePair(p), anchors?.close()]).then(() => {}) };
}

/** Opens the anchors' clients, closing them again if building the contenders fails. */
async function anchored(build: (a: AnchorClients) => Promise<Contender[]>): Promise<[AnchorClients, Contender[]]> {
  const a = new AnchorClients();
  try {
    return [a, await build(a)];
  } catch (error) {
    await a.close().catch(() => {});
    throw error;
  }
}

/**
 * Issue #18: on Bun, `base` plus contenders on irisql over Bun's built-in SQL client
 * (`driver: "bun-sql"`, same pool size, same server), for information next to irisql on
 * postgres.js. Off Bun, `base` unchanged. Each irisql contender gets its twin on Bun SQL:
 * on a loaded machine a connection that takes more of the turns answers faster, so both
 * engines must take as many. `cleanup` runs before the engine is disposed (held sessions).
 */
export function withBunSql(
  base: CaseInstance,
  make: (engine: Engine, cleanup: (fn: () => Promise<unknown>) => void) => Contender[],
  pool = POOL_MAX,
): CaseInstance {
  if (runtime.name !== "bun") return base;
  const engine = createEngine(PG_URL, { pool: { max: pool }, driver: "bun-sql" });
  const cleanups: (() => Promise<unknown>)[] = [];
  return {
    contenders: [...base.contenders, ...make(engine, (fn) => cleanups.push(fn))],
    close: async () => {
      for (const fn of cleanups) await fn();
      await Promise.all([base.close(), engine.dispose()]);
    },
  };
}

// --- control: the method against itself ------------------------------------------

/** Two identical postgres.js clients: the ratio the method reports when nothing differs. */
const control: BenchCase = {
  id: "A/A",
  plan: { epochs: 250, rounds: 1, samples: 24, warmup: 8 },
  title: "control: postgres.js against a second, identical postgres.js client",
  metric: "latency",
  bound: { op: "<=", value: 1.05 },
  checked: [],
  open() {
    const [raw, twin] = [rawPostgres(), rawPostgres()];
    const [a, b] = [idSequence(), idSequence()];
    return Promise.resolve({
      contenders: [
        {
          key: "raw",
          label: "postgres.js sql`...`",
          run: () => raw`SELECT id, title, n, score FROM irisql_bench_items WHERE id = ${a()}`,
        },
        {
          key: "raw-twin",
          label: "the same, second client",
          run: () => twin`SELECT id, title, n, score FROM irisql_bench_items WHERE id = ${b()}`,
        },
      ],
      close: async () => {
        await Promise.all([raw.end({ timeout: 5 }), twin.end({ timeout: 5 })]);
      },
    });
  },
};

// --- 1. single-row SELECT by primary key ---------------------------------------

export const byIdText = text("SELECT id, title, n, score FROM irisql_bench_items WHERE id = :id");

const case1: BenchCase = {
  id: "1",
  plan: { epochs: 250, rounds: 1, samples: 24, warmup: 8 },
  title: "SELECT by primary key: engine.execute(text(...))",
  metric: "latency",
  bound: { op: "<=", value: 1.05 },
  checked: ["irisql"],
  anchors: ANCHORS,
  async open() {
    const [anchors, others] = await anchored(case1Anchors);
    const p = pgPair();
    const [a, b, c, d, f] = [idSequence(), idSequence(), idSequence(), idSequence(), idSequence()];
    return withBunSql(
      instance(p, [
        {
          key: "raw",
          label: "postgres.js sql`...`",
          run: () => p.raw`SELECT id, title, n, score FROM irisql_bench_items WHERE id = ${a()}`,
        },
        {
          key: "irisql",
          label: "engine.execute(text(...), { id })",
          run: () => p.engine.execute(byIdText, { id: b() }),
        },
        {
          key: "irisql-sql",
          label: "engine.execute(sql`...`)",
          run: () => p.engine.execute(irisqlSql`SELECT id, title, n, score FROM irisql_bench_items WHERE id = ${c()}`),
        },
        ...others,
      ], anchors),
      (e) => [
        {
          key: "irisql-bun",
          label: "engine.execute(text(...)) on Bun SQL",
          run: () => e.execute(byIdText, { id: d() }),
        },
        {
          key: "irisql-sql-bun",
          label: "engine.execute(sql`...`) on Bun SQL",
          run: () => e.execute(irisqlSql`SELECT id, title, n, score FROM irisql_bench_items WHERE id = ${f()}`),
        },
      ],
    );
  },
};

// --- 2. the same through the typed Session ---------------------------------------

const case2: BenchCase = {
  id: "2",
  plan: { epochs: 250, rounds: 1, samples: 24, warmup: 8 },
  title: "SELECT by primary key: session.get / session.find",
  metric: "latency",
  // Issue #18: typed CRUD within 5% of the driver (was 1.10).
  bound: { op: "<=", value: 1.05 },
  // What a request handler writes: one unit of work per request.
  checked: ["get", "find"],
  anchors: ANCHORS,
  async open() {
    const [anchors, others] = await anchored(case2Anchors);
    const p = pgPair();
    const seq = Array.from({ length: 9 }, idSequence);
    const held = p.engine.session();
    const close = async () => {
      await held.close();
      await Promise.all([closePair(p), anchors.close()]);
    };
    return withBunSql({
      close,
      contenders: [
        {
          key: "raw",
          label: "postgres.js sql`...` (same SQL)",
          run: async () =>
            (await p.raw`SELECT "id", "title", "n", "score" FROM "irisql_bench_items" WHERE "id" = ${seq[0]()}`)[0],
        },
        {
          key: "get",
          label: "engine.session(s => s.get(items, id))",
          run: () => p.engine.session((s) => s.get(items, seq[1]())),
        },
        {
          key: "find",
          label: "engine.session(s => s.find(items, { where: { id } }))",
          run: () => p.engine.session((s) => s.find(items, { where: { id: seq[2]() } })),
        },
        {
          key: "get-held",
          label: "s.get(items, id) on one long-lived session",
          run: () => held.get(items, seq[3]()),
        },
        {
          key: "find-held",
          label: "s.find(items, { where: { id } }) on one long-lived session",
          run: () => held.find(items, { where: { id: seq[4]() } }),
        },
        ...others,
      ],
    }, (e, cleanup) => {
      const heldBun = e.session();
      cleanup(() => heldBun.close());
      return [
        { key: "get-bun", label: "get on Bun SQL", run: () => e.session((s) => s.get(items, seq[5]())) },
        {
          key: "find-bun",
          label: "find on Bun SQL",
          run: () => e.session((s) => s.find(items, { where: { id: seq[6]() } })),
        },
        { key: "get-held-bun", label: "held get on Bun SQL", run: () => heldBun.get(items, seq[7]()) },
        {
          key: "find-held-bun",
          label: "held find on Bun SQL",
          run: () => heldBun.find(items, { where: { id: seq[8]() } }),
        },
      ];
    });
  },
};

// --- 3. bulk insert ----------------------------------------------------------------

const case3: BenchCase = {
  id: "3",
  plan: { epochs: 3, rounds: 5, samples: 1, warmup: 1 },
  title: "insertMany vs sql(rows, ...columns), rows/s",
  metric: "throughput",
  bound: { op: ">=", value: 0.90 },
  checked: ["irisql"],
  anchors: ["drizzle", "kysely", "pg", "sqlalchemy"],
  units: (s) => s.insertRows,
  async open(s) {
    const p = pgPair();
    const rows = bulkRows(s.insertRows);
    // Same chunking on both sides: irisql's default chunkSize.
    const chunk = 1000;
    const chunks: typeof rows[] = [];
    for (let i = 0; i < rows.length; i += chunk) chunks.push(rows.slice(i, i + chunk));
    const empty = () => p.raw`TRUNCATE irisql_bench_bulk`;
    let anchors: AnchorClients, others: Contender[];
    try {
      [anchors, others] = await anchored((a) => case3Anchors(a, rows, chunks, empty));
    } catch (error) {
      await closePair(p);
      throw error;
    }
    return instance(p, [
      {
        key: "raw",
        label: "sql.begin(sql => chunks.map(c => sql`INSERT ... ${sql(c, ...cols)}`))",
        before: empty,
        // All chunks pipelined in one transaction: all or nothing, as insertMany.
        run: () =>
          p.raw.begin((tx: RawSql) =>
            chunks.map((c) => tx`INSERT INTO irisql_bench_bulk ${tx(c, "title", "n", "score")}`)
          ),
      },
      {
        key: "irisql",
        label: "engine.session(s => s.insertMany(bulk, rows))",
        before: empty,
        run: () => p.engine.session((x) => x.insertMany(bulk, rows, { chunkSize: chunk })),
      },
      ...others,
    ], anchors);
  },
};

// --- 4. many concurrent queries through one pool -------------------------------------

const case4: BenchCase = {
  id: "4",
  // 4 epochs (was 8): with the anchors a round takes ~25 s (SQLAlchemy alone ~14 s for 10,000 queries).
  plan: { epochs: 4, rounds: 3, samples: 1, warmup: 1 },
  title: "concurrent queries through a pool of 10, total time",
  metric: "total",
  bound: { op: "<=", value: 1.05 },
  checked: ["irisql"],
  anchors: ANCHORS,
  async open(s) {
    const n = s.concurrentQueries;
    const ids = Array.from({ length: n }, idSequence());
    const [anchors, others] = await anchored((a) => case4Anchors(a, ids));
    const p = pgPair();
    return withBunSql(
      instance(p, [
        {
          key: "raw",
          label: "Promise.all(n × sql`...`)",
          run: () =>
            Promise.all(ids.map((id) => p.raw`SELECT id, title, n, score FROM irisql_bench_items WHERE id = ${id}`)),
        },
        {
          key: "irisql",
          label: "Promise.all(n × engine.execute(text(...)))",
          run: () => Promise.all(ids.map((id) => p.engine.execute(byIdText, { id }))),
        },
        ...others,
      ], anchors),
      (e) => [{
        key: "irisql-bun",
        label: "the same on Bun SQL",
        run: () => Promise.all(ids.map((id) => e.execute(byIdText, { id }))),
      }],
    );
  },
};

// --- the C-client floor for case 1 -----------------------------------------------------

let pgbenchReady = false;

/**
 * Case 1's work one call at a time, in batches, against pgbench's select-only run
 * (-S -M prepared -c 1): the fastest a client can ask PostgreSQL for one row. A floor
 * to report (irisql ÷ pgbench), not a bound: no JavaScript driver reaches libpq in C.
 */
const floor: BenchCase = {
  id: "1F",
  plan: { epochs: 6, rounds: 1, samples: 3, warmup: 1 },
  title: "floor: case 1's SELECT one call at a time vs pgbench -S -M prepared -c 1, time per call",
  metric: "latency",
  bound: { op: "<=", value: Infinity },
  checked: [],
  floors: ["pgbench"],
  async open(s) {
    if (!pgbenchReady) {
      await createPgbenchDatabase();
      pgbenchReady = true;
    }
    return floorContenders(s.floorCalls);
  },
  async teardown() {
    pgbenchReady = false;
    await dropPgbenchDatabase();
  },
};

// --- 5. nearest neighbours on PGlite -------------------------------------------------

const case5: BenchCase = {
  id: "5",
  plan: { epochs: 1, rounds: 30, samples: 3, warmup: 3 },
  title: "nearest() top-10, 384-dim vectors on PGlite",
  metric: "latency",
  bound: { op: "<=", value: 1.05 },
  checked: ["irisql"],
  async open(s) {
    const engine = createEngine("pglite://memory");
    const close = () => engine.dispose();
    const q = queryVector();
    // The statement nearest() sends (all columns, best first), written out by hand for the raw side.
    const rawSql = 'SELECT "id", "title", "embedding", 1 - ("embedding" <=> $1::vector) AS "score" ' +
      'FROM "irisql_bench_docs" ORDER BY "embedding" <=> $1::vector LIMIT $2';
    const session = () => engine.session((x) => x.nearest(docs, "embedding", q, { k: 10 }));
    // The raw side queries the engine's own PGlite instance: two instances with identical data
    // differed by a few percent between themselves, which is not irisql's overhead.
    let db: RawPGlite;
    try {
      db = await (engine.adapter as unknown as { database(): Promise<RawPGlite> }).database();
      await engine.createAll([docs]);
      for (const statement of seedDocsSql(s.vectors)) await engine.execute(statement);
      const sent = nearestStatement(engine.dialect, docs, engine.config.schema, "embedding", q, { k: 10 }).text;
      if (sent !== rawSql) throw new Error(`case 5: nearest() sends different SQL:\n${sent}\nraw side: ${rawSql}`);
      const mine = await session();
      const theirs = await db.query<{ id: number }>(rawSql, [JSON.stringify(q), 10]);
      if (mine.map((r) => r.id).join() !== theirs.rows.map((r) => r.id).join()) {
        throw new Error("case 5: irisql and the raw query found different neighbours");
      }
    } catch (error) {
      await close();
      throw error;
    }
    return {
      contenders: [
        {
          key: "raw",
          label: "PGlite db.query(same SQL, [JSON.stringify(q), 10]), embeddings JSON.parse'd",
          // Both sides hand back the same data: nearest() returns each embedding as number[].
          run: async () => {
            const r = await db.query<{ embedding: unknown }>(rawSql, [JSON.stringify(q), 10]);
            for (const row of r.rows) row.embedding = JSON.parse(row.embedding as string);
            return r;
          },
        },
        {
          key: "irisql",
          label: "engine.session(s => s.nearest(docs, 'embedding', q, { k: 10 }))",
          run: session,
        },
      ],
      close,
    };
  },
};

// --- 6. a short transaction ------------------------------------------------------------

const touch = text("UPDATE irisql_bench_items SET n = n + 1 WHERE id = :id");
const log = text("INSERT INTO irisql_bench_events (item_id, note) VALUES (:id, :note)");
const readN = text("SELECT n FROM irisql_bench_items WHERE id = :id");

const case6: BenchCase = {
  id: "6",
  plan: { epochs: 250, rounds: 1, samples: 12, warmup: 4 },
  title: "transaction with 3 statements: engine.begin vs sql.begin",
  metric: "latency",
  bound: { op: "<=", value: 1.05 },
  checked: ["irisql"],
  open() {
    const p = pgPair();
    const [a, b] = [idSequence(), idSequence()];
    return Promise.resolve(instance(p, [
      {
        key: "raw",
        label: "sql.begin(async sql => { 3 × await sql`...` })",
        run: () => {
          const id = a();
          return p.raw.begin(async (tx: RawSql) => {
            await tx`UPDATE irisql_bench_items SET n = n + 1 WHERE id = ${id}`;
            await tx`INSERT INTO irisql_bench_events (item_id, note) VALUES (${id}, ${"touched"})`;
            return await tx`SELECT n FROM irisql_bench_items WHERE id = ${id}`;
          });
        },
      },
      {
        key: "irisql",
        label: "engine.begin(async tx => { 3 × await tx.execute(text(...)) })",
        run: () => {
          const id = b();
          return p.engine.begin(async (tx) => {
            await tx.execute(touch, { id });
            await tx.execute(log, { id, note: "touched" });
            return (await tx.execute(readN, { id })).rows;
          });
        },
      },
    ]));
  },
};

// --- 7. fast statements while a slow one runs ------------------------------------------

const SLOW_S = 0.5;
const FAST = 40;

/**
 * Pool of 4, one pg_sleep(0.5) running for 100 ms already, then 40 concurrent one-row
 * SELECTs: the time until the last of them answers (their p100), against the slow
 * statement's own time. Pipelining behind the slow statement would make the fast ones
 * wait for it (ratio near 0.8). postgres.js's own pool is shown for information.
 */
const case7: BenchCase = {
  id: "7",
  plan: { epochs: 4, rounds: 2, samples: 3, warmup: 1 },
  title: `${FAST} fast statements while one slow one runs (pool of 4): their p100 ÷ the slow one's time`,
  metric: "total",
  bound: { op: "<=", value: 0.2 },
  checked: ["irisql"],
  open() {
    const raw = rawPostgres(4);
    const engine = createEngine(PG_URL, { pool: { max: 4 } });
    const ids = Array.from({ length: FAST }, idSequence());
    let slow: Promise<unknown> = Promise.resolve();
    const slowSql = `SELECT pg_sleep(${SLOW_S})`;
    /** Wait for the last slow statement, start another, let it run 100 ms. */
    const startSlow = (run: () => Promise<unknown>) => async () => {
      await slow;
      slow = run();
      await new Promise((r) => setTimeout(r, 100));
    };
    return Promise.resolve({
      contenders: [
        {
          key: "slow",
          label: `the slow statement alone: engine.execute("${slowSql}")`,
          before: () => slow,
          run: () => engine.execute(slowSql),
        },
        {
          key: "irisql",
          label: `Promise.all(${FAST} × engine.execute(text(...))) beside it`,
          before: startSlow(() => engine.execute(slowSql)),
          run: () => Promise.all(ids.map((id) => engine.execute(byIdText, { id }))),
        },
        {
          key: "raw",
          label: `Promise.all(${FAST} × sql\`...\`) beside it (postgres.js pool)`,
          before: startSlow(() => raw.unsafe(slowSql)),
          run: () =>
            Promise.all(ids.map((id) => raw`SELECT id, title, n, score FROM irisql_bench_items WHERE id = ${id}`)),
        },
      ],
      close: async () => {
        await slow;
        await Promise.all([raw.end({ timeout: 5 }), engine.dispose()]);
      },
    });
  },
};

export const CASES: BenchCase[] = [control, case1, floor, case2, case3, case4, case5, case6, case7];
