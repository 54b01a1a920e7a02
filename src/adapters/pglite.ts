/**
 * PGlite adapter: PostgreSQL compiled to WebAssembly, in process, with
 * pgvector loaded. PGlite has exactly one connection, so every caller goes
 * through one queue: a pooled query waits its turn, a reserved connection
 * (session, transaction) holds the queue until released. A caller that waits
 * longer than `acquireTimeout` gets a PoolTimeoutError instead of hanging —
 * the usual cause being a query on the engine issued inside `begin()` instead
 * of on the transaction object.
 */
import {
  DriverMissingError,
  EngineDisposedError,
  type IrisqlError,
  PoolTimeoutError,
  QueryCancelledError,
  SessionClosedError,
} from "../errors.ts";
import {
  type Adapter,
  type AdapterContext,
  type ColumnInfo,
  DISPOSE_GRACE_MS,
  type PoolStats,
  type RawResult,
  type Reply,
  replyTo,
  type ReservedConnection,
  type RunOptions,
  type ServerErrorInfo,
} from "./adapter.ts";
import { afterEventLoopTurn, importOptional } from "./runtime.ts";
import { PARSERS } from "./types.ts";

export interface PGliteConfig {
  /** Data directory, or undefined for memory. */
  dataDir?: string;
  /** Startup settings applied once, e.g. { TimeZone: "UTC", statement_timeout: "5000" }. */
  settings: Record<string, string>;
}

interface PGliteResults {
  rows: Record<string, unknown>[];
  fields: { name: string; dataTypeID: number }[];
  affectedRows?: number;
  command?: string;
}

interface PGliteLike {
  query(text: string, params?: unknown[], options?: Record<string, unknown>): Promise<PGliteResults>;
  exec(text: string, options?: Record<string, unknown>): Promise<PGliteResults[]>;
  close(): Promise<void>;
  waitReady: Promise<void>;
  /** Since PGlite 0.2; without it a released connection is always rolled back. */
  isInTransaction?(): boolean;
}

/** A FIFO lock: one holder at a time, waiters served in order. */
class Queue {
  #tail: Promise<void> = Promise.resolve();
  waiting = 0;
  held = false;
  /** The holder is a session, transaction or connect(), not one statement. */
  heldByReservation = false;
  /** When the current holder got the lock. */
  #heldSince = 0;
  #lastYield = performance.now();
  /** How to give up each waiter (failAll). */
  readonly #waiters = new Set<(error: IrisqlError) => void>();

  /** Reject everyone still waiting (dispose() gave up on the holder). */
  failAll(error: () => IrisqlError): void {
    for (const abandon of [...this.#waiters]) abandon(error());
  }

  /**
   * Resolves with a release function once the lock is ours, or rejects once one
   * reservation has held the lock for `ms` while we waited: a queue of single statements
   * always moves on, a reservation may never be released (or wait for a query issued
   * outside it).
   */
  acquire(ms: number, signal?: AbortSignal, onTimeout?: () => IrisqlError, reservation = false): Promise<() => void> {
    let release!: () => void;
    const mine = new Promise<void>((r) => (release = r));
    const before = this.#tail;
    this.#tail = before.then(() => mine);
    this.waiting++;
    let abandoned = false;
    return new Promise((resolve, reject) => {
      let timer: ReturnType<typeof setTimeout> | undefined;
      const onAbort = () => abandon(new QueryCancelledError("Cancelled while waiting for the PGlite connection"));
      const abandon = (error: IrisqlError) => {
        if (abandoned) return;
        abandoned = true;
        this.#waiters.delete(abandon);
        clearTimeout(timer);
        this.waiting--;
        signal?.removeEventListener("abort", onAbort);
        // Our turn will still come; pass it straight on.
        before.then(release);
        reject(error);
      };
      const expire = () => {
        const heldFor = performance.now() - this.#heldSince;
        if (this.heldByReservation && heldFor >= ms - 1) abandon(onTimeout!());
        else timer = setTimeout(expire, this.heldByReservation ? ms - heldFor : Math.max(10, ms / 10));
      };
      if (ms > 0 && onTimeout) timer = setTimeout(expire, ms);
      signal?.addEventListener("abort", onAbort, { once: true });
      this.#waiters.add(abandon);
      before.then(() => {
        if (abandoned) return;
        this.#waiters.delete(abandon);
        clearTimeout(timer);
        signal?.removeEventListener("abort", onAbort);
        this.waiting--;
        this.held = true;
        this.heldByReservation = reservation;
        this.#heldSince = performance.now();
        resolve(() => {
          this.held = false;
          this.heldByReservation = false;
          // PGlite answers without going through the event loop: while callers queue for it, no
          // timer or I/O (acquire timeouts, a web server's requests) would ever run. Every 10 ms,
          // let them. A lone caller's own loop is left alone, as PGlite itself leaves it.
          const t = performance.now();
          if (this.waiting === 0 || t - this.#lastYield < 10) return release();
          this.#lastYield = t;
          afterEventLoopTurn(release);
        });
      });
    });
  }
}

export class PGliteAdapter implements Adapter {
  readonly kind = "pglite" as const;
  #ctx: AdapterContext;
  #config: PGliteConfig;
  #db: Promise<PGliteLike> | undefined;
  #queue = new Queue();
  #closing: Promise<void> | undefined;
  /** Closed for good: whatever reaches the adapter now fails. */
  #closed = false;
  /** Why @electric-sql/pglite-pgvector could not be loaded, if it could not. */
  #vectorsMissing: DriverMissingError | undefined;
  /** The startup settings as SQL, applied again after a session reset (RESET ALL undoes SET). */
  readonly #settingsSql: string;

  constructor(config: PGliteConfig, ctx: AdapterContext) {
    this.#config = config;
    this.#ctx = ctx;
    this.#settingsSql = settingsSql(config.settings);
  }

  /** @internal The PGlite instance itself (benchmarks compare against it on the same data). */
  database(): Promise<PGliteLike> {
    return this.#open();
  }

  /** Open the database on first use (so createEngine stays synchronous). */
  #open(): Promise<PGliteLike> {
    if (this.#closed) return Promise.reject(ended());
    this.#db ??= openPGlite(this.#config, this.#settingsSql, (error) => (this.#vectorsMissing = error));
    return this.#db;
  }

  run(text: string, params: readonly unknown[], options?: RunOptions): Promise<RawResult>;
  run<T>(text: string, params: readonly unknown[], options: RunOptions, reply: Reply<T>): Promise<T>;
  run<T>(text: string, params: readonly unknown[], options: RunOptions = {}, reply?: Reply<T>): Promise<T | RawResult> {
    return replyTo(this.#run(text, params, options), reply);
  }

  async #run(text: string, params: readonly unknown[], options: RunOptions): Promise<RawResult> {
    // Open first: start-up (seconds for the WebAssembly module) is not time spent waiting in the queue.
    const db = await this.#open();
    const release = await this.#acquire(options.signal);
    try {
      if (this.#closed) throw ended();
      return await query(db, text, params, options, this.#fail);
    } finally {
      // A pooled statement that left the one connection in a transaction (a script ending in
      // BEGIN) would have everyone after it join that transaction: roll it back now.
      if (!this.#closed && db.isInTransaction?.()) await db.exec("ROLLBACK").catch(() => {});
      release();
    }
  }

  async *stream(
    text: string,
    params: readonly unknown[],
    batchSize: number,
    options: RunOptions = {},
  ): AsyncGenerator<Record<string, unknown>[]> {
    const conn = await this.reserve(options);
    try {
      yield* conn.stream(text, params, batchSize, options);
    } finally {
      await conn.release();
    }
  }

  async reserve(options: { signal?: AbortSignal } = {}): Promise<ReservedConnection> {
    const db = await this.#open();
    const release = await this.#acquire(options.signal, true);
    return new PGliteReserved(db, release, this.#fail, () => this.#closed, this.#settingsSql);
  }

  #acquire(signal?: AbortSignal, reservation = false): Promise<() => void> {
    if (this.#closed) return Promise.reject(ended());
    if (signal?.aborted) return Promise.reject(new QueryCancelledError("The query was cancelled by its AbortSignal"));
    const ms = this.#ctx.acquireTimeout;
    return this.#queue.acquire(ms, signal, () =>
      new PoolTimeoutError(
        `The PGlite connection was not free within ${ms} ms. PGlite has a single connection: ` +
          "inside engine.begin()/session() run queries on the transaction or session object, not on the engine.",
      ), reservation);
  }

  #fail = (error: unknown, sql: string): IrisqlError => {
    const e = error as {
      message?: string;
      code?: string;
      detail?: string;
      hint?: string;
      constraint?: string;
      table?: string;
      column?: string;
    };
    const info: ServerErrorInfo = {
      message: e?.message ?? String(error),
      sqlstate: e?.code,
      detail: e?.detail,
      hint: e?.hint,
      constraint: e?.constraint,
      table: e?.table,
      column: e?.column,
      cause: error,
    };
    const missing = this.#vectorsMissing;
    if (missing && this.#ctx.vectorMissing(info)) {
      // The server's error is right but unhelpful: the vector type is missing because the package is.
      return new DriverMissingError(`${info.message}: ${missing.message}`, { cause: error });
    }
    return this.#ctx.mapError(info, sql);
  };

  stats(): PoolStats {
    return { max: 1, reserved: this.#queue.held ? 1 : 0, waiting: this.#queue.waiting };
  }

  close(): Promise<void> {
    this.#closing ??= this.#shutdown();
    return this.#closing;
  }

  /**
   * Work accepted before dispose() finishes: statements already queued (also those still
   * waiting for the database to open) run first, the queue being first come first served.
   * A reservation holding the connection gets until DISPOSE_GRACE_MS; then the database
   * closes under it. The engine refuses new work meanwhile.
   */
  async #shutdown(): Promise<void> {
    const opening = this.#db;
    if (!opening) {
      this.#closed = true;
      return;
    }
    // Awaited after the statements that are waiting for it: they queue first.
    const db = await opening.catch(() => undefined);
    const giveUp = new AbortController();
    let timer: ReturnType<typeof setTimeout> | undefined;
    const check = () => {
      // A statement runs to its end (it cannot be interrupted); a reservation is not waited for longer.
      if (this.#queue.held && !this.#queue.heldByReservation) timer = setTimeout(check, 10);
      else giveUp.abort();
    };
    timer = setTimeout(check, DISPOSE_GRACE_MS);
    const release = await this.#queue.acquire(0, giveUp.signal).catch(() => undefined);
    clearTimeout(timer);
    this.#closed = true;
    // Still queued behind a reservation that outlived the grace period: the engine is gone.
    this.#queue.failAll(ended);
    try {
      await db?.close();
    } finally {
      release?.();
    }
  }
}

class PGliteReserved implements ReservedConnection {
  #db: PGliteLike;
  #release: (() => void) | undefined;
  #fail: (e: unknown, sql: string) => IrisqlError;
  #closed: () => boolean;
  #settingsSql: string;

  constructor(
    db: PGliteLike,
    release: () => void,
    fail: (e: unknown, sql: string) => IrisqlError,
    closed: () => boolean,
    settingsSql: string,
  ) {
    this.#db = db;
    this.#release = release;
    this.#fail = fail;
    this.#closed = closed;
    this.#settingsSql = settingsSql;
  }

  run(text: string, params: readonly unknown[], options?: RunOptions): Promise<RawResult>;
  run<T>(text: string, params: readonly unknown[], options: RunOptions, reply: Reply<T>): Promise<T>;
  run<T>(text: string, params: readonly unknown[], options: RunOptions = {}, reply?: Reply<T>): Promise<T | RawResult> {
    // Released: the one connection may already serve the next caller, outside whose turn nothing may run.
    // Held past dispose()'s grace period: the database closed under it.
    const answer = this.#release === undefined
      ? Promise.reject(
        new SessionClosedError("This connection was released and can no longer be used; reserve a new one"),
      )
      : this.#closed()
      ? Promise.reject(ended())
      : query(this.#db, text, params, options, this.#fail);
    return replyTo(answer, reply);
  }

  async *stream(
    text: string,
    params: readonly unknown[],
    batchSize: number,
    options: RunOptions = {},
  ): AsyncGenerator<Record<string, unknown>[]> {
    // PGlite hands back whole results; batch them so callers see one interface.
    const result = await this.run(text, params, options);
    for (let i = 0; i < result.rows.length; i += batchSize) {
      if (options.signal?.aborted) throw new QueryCancelledError("The stream was cancelled by its AbortSignal");
      yield result.rows.slice(i, i + batchSize);
    }
  }

  async pipeline(
    statements: readonly { text: string; params: readonly unknown[] }[],
    options: RunOptions = {},
  ): Promise<RawResult[]> {
    // In process there is no round trip to save; run back to back.
    const out: RawResult[] = [];
    for (const s of statements) out.push(await this.run(s.text, s.params, options));
    return out;
  }

  /**
   * The one connection goes to the next caller as a new one would be: not in a transaction
   * (however it got there) and, after raw statements (resetSql), with settings reset and the
   * startup settings applied again. It cannot be dropped, so if that fails it is at least
   * rolled back.
   */
  async release(_broken?: boolean, resetSql?: string | null): Promise<void> {
    const release = this.#release;
    if (!release) return;
    this.#release = undefined;
    try {
      if (this.#closed()) return;
      const db = this.#db;
      // Without isInTransaction (old PGlite), always roll back: in process it costs little.
      const open = db.isInTransaction?.() ?? true;
      if (!open && !resetSql) return;
      const reset = resetSql ? `${resetSql}; ${this.#settingsSql}` : "";
      try {
        await db.exec(open ? `ROLLBACK; ${reset}` : reset);
      } catch {
        if (db.isInTransaction?.() ?? true) await db.exec("ROLLBACK").catch(() => {});
      }
    } finally {
      release();
    }
  }
}

/** For work that reaches the adapter after dispose() closed it; the network adapter says the same. */
function ended(): EngineDisposedError {
  return new EngineDisposedError();
}

function settingsSql(settings: Record<string, string>): string {
  return Object.entries(settings)
    .map(([k, v]) => `SET ${k} = '${v.replace(/'/g, "''")}';`)
    .join(" ");
}

async function query(
  db: PGliteLike,
  text: string,
  params: readonly unknown[],
  options: RunOptions,
  fail: (e: unknown, sql: string) => IrisqlError,
): Promise<RawResult> {
  if (options.signal?.aborted) throw new QueryCancelledError("The query was cancelled by its AbortSignal");
  try {
    if (options.simple && params.length === 0) {
      const results = await db.exec(text, { rowMode: "object", parsers: PARSERS });
      return toRaw(results[results.length - 1] ?? { rows: [], fields: [] });
    }
    return toRaw(await db.query(text, params as unknown[], { rowMode: "object", parsers: PARSERS }));
  } catch (error) {
    throw fail(error, text);
  }
}

function toRaw(r: PGliteResults): RawResult {
  const command = r.command ?? "";
  const isRowCommand = /^(SELECT|FETCH|SHOW)/i.test(command) || r.fields.length > 0;
  return {
    rows: r.rows,
    columns: columnsOf(r.fields),
    command,
    count: isRowCommand ? r.rows.length : r.affectedRows ?? null,
  };
}

/**
 * PGlite describes the columns afresh for every query. Callers cache work by the
 * column list (decodeRows), so the same shape gets the same frozen list: a small
 * cache keyed by the names and type OIDs.
 */
const columnLists = new Map<string, ColumnInfo[]>();
const NO_COLUMNS: ColumnInfo[] = Object.freeze([]) as unknown as ColumnInfo[];

function columnsOf(fields: { name: string; dataTypeID: number }[]): ColumnInfo[] {
  if (fields.length === 0) return NO_COLUMNS;
  let key = "";
  for (const f of fields) key += f.dataTypeID + ":" + f.name + "\u0000";
  let list = columnLists.get(key);
  if (!list) {
    if (columnLists.size >= 1000) columnLists.clear();
    list = Object.freeze(fields.map((f) => Object.freeze({ name: f.name, typeOid: f.dataTypeID }))) as ColumnInfo[];
    columnLists.set(key, list);
  }
  return list;
}

/**
 * The two PGlite packages, pinned together: each @electric-sql/pglite-pgvector release
 * requires one exact PGlite, so installing either unpinned (its newest release) ends in
 * ERESOLVE. Keep in step with package.json's devDependencies and the README's install lines.
 */
export const PGLITE_PACKAGES: readonly string[] = [
  "@electric-sql/pglite@0.5.14",
  "@electric-sql/pglite-pgvector@0.0.15",
];
const PINNED = {
  packages: PGLITE_PACKAGES,
  note: "Install the two PGlite packages together, pinned: each @electric-sql/pglite-pgvector release " +
    "requires one exact @electric-sql/pglite, and installing them one at a time fails with ERESOLVE.",
};

async function openPGlite(
  config: PGliteConfig,
  settings: string,
  vectorsMissing: (error: DriverMissingError) => void,
): Promise<PGliteLike> {
  const { PGlite } = await importOptional<{ PGlite: new (options: Record<string, unknown>) => PGliteLike }>(
    "@electric-sql/pglite",
    "The pglite: URL scheme",
    () => import("@electric-sql/pglite"),
    PINNED,
  );
  // pgvector is optional: without it everything but vector columns works, and the
  // DriverMissingError waits for the first statement that needs the vector type (#fail).
  const vector = await importOptional<{ vector: unknown }>(
    "@electric-sql/pglite-pgvector",
    "Vector support on PGlite (vector columns, HNSW indexes)",
    () => import("@electric-sql/pglite-pgvector"),
    PINNED,
  )
    .then((m) => m.vector, (error) => {
      if (!(error instanceof DriverMissingError)) throw error;
      vectorsMissing(error);
      return undefined;
    });
  const db = new PGlite({ dataDir: config.dataDir, extensions: vector ? { vector } : {}, parsers: PARSERS });
  await db.waitReady;
  await db.exec(`${vector ? "CREATE EXTENSION IF NOT EXISTS vector; " : ""}${settings}`);
  return db;
}
