/**
 * A mixed workload for the load and fault tests: reads, plain writes and transfer
 * transactions between accounts, from many concurrent workers on one engine.
 * Every acknowledged write is remembered so `verify` can prove afterwards that it
 * is in the database exactly once, and that no transfer was half-applied.
 */
import { col, createEngine, type Engine, table, text } from "../../mod.ts";
import { ADMIN_URL, ms, percentile, seenError } from "./support.ts";

export const ACCOUNTS = 50;
export const START_BALANCE = 1000;

export interface LoadTables {
  accounts: string;
  events: string;
  transfers: string;
}

export type OpKind = "read" | "write" | "transfer";

export interface LoadOptions {
  /** Run until this many ms have passed, or until `stop` says so. */
  durationMs: number;
  workers: number;
  stop?: () => boolean;
  /** SQL returning the server process id, to count the connections reused (PostgreSQL). */
  backendPidSql?: string;
  /** Limit for one call before it counts as hung (it is never abandoned silently). */
  callLimitMs?: number;
  /**
   * Number of the first worker (default 0). Writes and transfers are tagged by worker and
   * sequence number: loads that share tables (restart rounds) must not share worker numbers.
   */
  firstWorker?: number;
  /** Told of every successful call as it finishes (ms, performance.now()). */
  onSuccess?: (kind: OpKind, at: number) => void;
}

export interface Failure {
  kind: OpKind;
  error: unknown;
  startedAt: number;
  endedAt: number;
}

export interface LoadReport {
  seconds: number;
  ops: Record<OpKind, number>;
  statements: number;
  latencies: Record<OpKind | "all", number[]>;
  failures: Failure[];
  /** Calls that had not settled within callLimitMs. */
  hung: { kind: OpKind; startedAt: number }[];
  /** Writes the engine acknowledged: `${worker}:${seq}`. */
  ackedWrites: Set<string>;
  /** Transfers the engine acknowledged (committed): their tags. */
  ackedTransfers: Set<string>;
  /** Successes per kind, with the time they finished (ms, performance.now()). */
  successTimes: Record<OpKind, number[]>;
  backendPids: Set<number>;
}

const tq = {
  read: (t: LoadTables, pidSql?: string) =>
    text(`SELECT balance${pidSql ? `, ${pidSql} AS pid` : ""} FROM ${t.accounts} WHERE id = :id`),
  write: (t: LoadTables) => text(`INSERT INTO ${t.events} (worker, seq, payload) VALUES (:worker, :seq, :payload)`),
  debit: (t: LoadTables) => text(`UPDATE ${t.accounts} SET balance = balance - :amount WHERE id = :id`),
  credit: (t: LoadTables) => text(`UPDATE ${t.accounts} SET balance = balance + :amount WHERE id = :id`),
  ledger: (t: LoadTables) =>
    text(`INSERT INTO ${t.transfers} (tag, src, dst, amount) VALUES (:tag, :src, :dst, :amount)`),
};

function definitions(t: LoadTables) {
  return {
    accounts: table(t.accounts, { id: col.integer().primaryKey(), balance: col.bigint().notNull() }),
    // No unique key on (worker, seq): a write sent twice would show up as a duplicate.
    events: table(t.events, { worker: col.integer().notNull(), seq: col.integer().notNull(), payload: col.text() }),
    transfers: table(t.transfers, {
      tag: col.varchar(40).notNull(),
      src: col.integer().notNull(),
      dst: col.integer().notNull(),
      amount: col.integer().notNull(),
    }),
  };
}

export async function createLoadTables(engine: Engine, t: LoadTables): Promise<void> {
  const d = definitions(t);
  await engine.createAll([d.accounts, d.events, d.transfers]);
  await engine.session(async (s) => {
    const rows = Array.from({ length: ACCOUNTS }, (_, i) => ({ id: i + 1, balance: START_BALANCE }));
    await s.insertMany(d.accounts, rows);
  });
}

export async function dropLoadTables(engine: Engine, t: LoadTables): Promise<void> {
  const d = definitions(t);
  await engine.dropAll([d.accounts, d.events, d.transfers], { checkfirst: true });
}

/** Deterministic pseudo-random numbers, so a failing run can be replayed. */
export function prng(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let x = s;
    x = Math.imul(x ^ (x >>> 15), x | 1);
    x ^= x + Math.imul(x ^ (x >>> 7), x | 61);
    return ((x ^ (x >>> 14)) >>> 0) / 4294967296;
  };
}

export async function runLoad(engine: Engine, t: LoadTables, options: LoadOptions): Promise<LoadReport> {
  const report: LoadReport = {
    seconds: 0,
    ops: { read: 0, write: 0, transfer: 0 },
    statements: 0,
    latencies: { read: [], write: [], transfer: [], all: [] },
    failures: [],
    hung: [],
    ackedWrites: new Set(),
    ackedTransfers: new Set(),
    successTimes: { read: [], write: [], transfer: [] },
    backendPids: new Set(),
  };
  const queries = {
    read: tq.read(t, options.backendPidSql),
    write: tq.write(t),
    debit: tq.debit(t),
    credit: tq.credit(t),
    ledger: tq.ledger(t),
  };
  const statementsBefore = engine.stats().queries;
  const started = performance.now();
  const deadline = started + options.durationMs;
  const limit = options.callLimitMs ?? 30_000;

  const worker = async (id: number) => {
    const random = prng(1000 + id);
    for (let seq = 0; performance.now() < deadline && !options.stop?.(); seq++) {
      const r = random();
      const kind: OpKind = r < 0.6 ? "read" : r < 0.85 ? "write" : "transfer";
      const a = 1 + Math.floor(random() * ACCOUNTS);
      const b = 1 + ((a + Math.floor(random() * (ACCOUNTS - 1))) % ACCOUNTS);
      const amount = 1 + Math.floor(random() * 20);
      const tag = `${id}:${seq}`;
      const callStarted = performance.now();
      let call: Promise<unknown>;
      if (kind === "read") {
        call = engine.execute(queries.read, { id: a }).then((res) => {
          const pid = (res.rows[0] as { pid?: number } | undefined)?.pid;
          if (typeof pid === "number") report.backendPids.add(pid);
        });
      } else if (kind === "write") {
        call = engine.execute(queries.write, { worker: id, seq, payload: `w${tag}` }).then(() =>
          report.ackedWrites.add(tag)
        );
      } else {
        // Lock rows in id order: two transfers never wait on each other in a cycle.
        const [first, second] = a < b ? [queries.debit, queries.credit] : [queries.credit, queries.debit];
        const [firstId, secondId] = a < b ? [a, b] : [b, a];
        call = engine.begin(async (tx) => {
          await tx.execute(first, { amount, id: firstId });
          await tx.execute(second, { amount, id: secondId });
          await tx.execute(queries.ledger, { tag, src: a, dst: b, amount });
        }).then(() => report.ackedTransfers.add(tag));
      }
      const settled = await settle(call, limit);
      const ended = performance.now();
      if (settled === "hung") {
        report.hung.push({ kind, startedAt: callStarted });
        return;
      }
      if (settled.ok) {
        report.ops[kind]++;
        const took = ended - callStarted;
        report.latencies[kind].push(took);
        report.latencies.all.push(took);
        report.successTimes[kind].push(ended);
        options.onSuccess?.(kind, ended);
      } else {
        report.failures.push({ kind, error: seenError(settled.error), startedAt: callStarted, endedAt: ended });
        // The server is away: do not spin.
        await new Promise((resolve) => setTimeout(resolve, 5));
      }
    }
  };

  const first = options.firstWorker ?? 0;
  await Promise.all(Array.from({ length: options.workers }, (_, i) => worker(first + i)));
  report.seconds = (performance.now() - started) / 1000;
  report.statements = engine.stats().queries - statementsBefore;
  for (const list of Object.values(report.latencies)) list.sort((x, y) => x - y);
  return report;
}

async function settle(call: Promise<unknown>, limit: number): Promise<{ ok: boolean; error?: unknown } | "hung"> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const hung = new Promise<"hung">((resolve) => (timer = setTimeout(() => resolve("hung"), limit)));
  try {
    return await Promise.race([call.then(() => ({ ok: true }), (error) => ({ ok: false, error })), hung]);
  } finally {
    clearTimeout(timer);
  }
}

/**
 * Watches a load for the moment the engine serves again after an outage: the first
 * time reads, writes and transfers have all succeeded since `from` (set it when the
 * server is back). Pass `onSuccess` to runLoad.
 */
export class RecoveryWatch {
  from = Infinity;
  at = Infinity;
  #seen = new Set<OpKind>();
  onSuccess = (kind: OpKind, at: number): void => {
    if (at < this.from || this.at < Infinity) return;
    this.#seen.add(kind);
    if (this.#seen.size === 3) this.at = at;
  };
  /** Resolves once recovered, or after `limitMs` from `from` (then `at` stays Infinity). */
  async wait(limitMs: number): Promise<void> {
    while (this.at === Infinity && performance.now() < this.from + limitMs) {
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
  }
}

/** Figures as printed by the suite. */
export function describeLoad(label: string, r: LoadReport): string {
  const total = r.ops.read + r.ops.write + r.ops.transfer;
  const line = (k: OpKind | "all") => {
    const l = r.latencies[k];
    return `${k} p50 ${ms(percentile(l, 50))} ms, p99 ${ms(percentile(l, 99))} ms, max ${
      ms(l[l.length - 1] ?? NaN)
    } ms`;
  };
  return [
    `${label}: ${(r.statements / r.seconds).toFixed(0)} statements/s, ${(total / r.seconds).toFixed(0)} calls/s ` +
    `over ${r.seconds.toFixed(1)} s (${r.statements} statements; ${r.ops.read} reads, ${r.ops.write} writes, ` +
    `${r.ops.transfer} transfer transactions; ${r.failures.length} failed, ${r.hung.length} hung)`,
    `  latency per call: ${line("all")}`,
    `  ${line("read")}; ${line("write")}; ${line("transfer")}`,
  ].join("\n");
}

export interface Verification {
  /** Acknowledged writes not found. */
  missingWrites: string[];
  /** Writes found more than once (a write was sent twice). */
  duplicateWrites: string[];
  /** Acknowledged transfers not in the ledger. */
  missingTransfers: string[];
  duplicateTransfers: string[];
  /** Accounts whose balance disagrees with the ledger (a half-applied transfer). */
  unbalancedAccounts: number[];
  total: number;
  expectedTotal: number;
  eventsFound: number;
}

export async function verify(engine: Engine, t: LoadTables, r: LoadReport): Promise<Verification> {
  const events = await engine.execute<{ worker: unknown; seq: unknown; n: unknown }>(
    `SELECT worker, seq, COUNT(*) AS n FROM ${t.events} GROUP BY worker, seq`,
  );
  const found = new Map(events.rows.map((e) => [`${Number(e.worker)}:${Number(e.seq)}`, Number(e.n)]));
  const ledger = await engine.execute<{ tag: string; n: unknown }>(
    `SELECT tag, COUNT(*) AS n FROM ${t.transfers} GROUP BY tag`,
  );
  const tags = new Map(ledger.rows.map((e) => [e.tag, Number(e.n)]));
  const moves = await engine.execute<{ src: unknown; dst: unknown; amount: unknown }>(
    `SELECT src, dst, amount FROM ${t.transfers}`,
  );
  const expected = new Map<number, number>();
  for (let id = 1; id <= ACCOUNTS; id++) expected.set(id, START_BALANCE);
  for (const m of moves.rows) {
    expected.set(Number(m.src), expected.get(Number(m.src))! - Number(m.amount));
    expected.set(Number(m.dst), expected.get(Number(m.dst))! + Number(m.amount));
  }
  const balances = (await engine.execute<{ id: unknown; balance: unknown }>(
    `SELECT id, balance FROM ${t.accounts} ORDER BY id`,
  )).rows.map((b) => ({ id: Number(b.id), balance: Number(b.balance) }));
  return {
    missingWrites: [...r.ackedWrites].filter((k) => !found.has(k)),
    duplicateWrites: [...found].filter(([, n]) => n > 1).map(([k]) => k),
    missingTransfers: [...r.ackedTransfers].filter((k) => !tags.has(k)),
    duplicateTransfers: [...tags].filter(([, n]) => n > 1).map(([k]) => k),
    unbalancedAccounts: balances.filter((b) => b.balance !== expected.get(b.id)).map((b) => b.id),
    total: balances.reduce((sum, b) => sum + b.balance, 0),
    expectedTotal: ACCOUNTS * START_BALANCE,
    eventsFound: [...found.values()].reduce((sum, n) => sum + n, 0),
  };
}

/**
 * Samples the server (as its superuser, pg_stat_activity) every `everyMs` for the
 * connections whose latest statement mentions `marker` (a table name only this load
 * uses): which server processes served the load, and how many at once at most.
 * Works whatever sits in between (the iris-pgwire emulator opens one server
 * connection per client connection).
 */
export function watchBackends(marker: string, everyMs = 100): { stop(): Promise<{ pids: Set<number>; most: number }> } {
  const admin = createEngine(ADMIN_URL, { pool: { max: 1 } });
  const query = text(
    "SELECT pid FROM pg_stat_activity WHERE query LIKE :pattern AND pid <> pg_backend_pid()",
  );
  const pids = new Set<number>();
  let most = 0;
  let running = true;
  const loop = (async () => {
    while (running) {
      const r = await admin.execute<{ pid: unknown }>(query, { pattern: `%${marker}%` }).catch((error) => {
        seenError(error);
        return undefined;
      });
      if (r) {
        for (const row of r.rows) pids.add(Number(row.pid));
        most = Math.max(most, r.rows.length);
      }
      await new Promise((resolve) => setTimeout(resolve, everyMs));
    }
  })();
  return {
    stop: async () => {
      running = false;
      await loop;
      await admin.dispose();
      return { pids, most };
    },
  };
}
