/**
 * The adapter contract: how irisql moves bytes. An adapter runs
 * `{ text, params }`, reserves and releases connections, streams, and closes.
 * It knows nothing about SQL spelling; server errors are handed to the
 * dialect's `mapError` so the class a user sees comes from one place.
 */
import type { IrisqlError } from "../errors.ts";

/** One column of a result, as the server described it. */
export interface ColumnInfo {
  /** The column's name as the server sent it (IRIS sends names lower-cased). */
  name: string;
  /** PostgreSQL type OID the server announced (IRIS guesses these). */
  typeOid: number;
}

/** What a driver returns, reduced to what irisql needs. */
export interface RawResult {
  rows: Record<string, unknown>[];
  columns: ColumnInfo[];
  /** Command tag word: "SELECT", "INSERT", "CREATE TABLE"... */
  command: string;
  /** Count from the command tag, or null when the tag carried none. */
  count: number | null;
}

export interface RunOptions {
  signal?: AbortSignal;
  /** Use a named prepared statement (cached per connection). */
  prepare?: boolean;
  /** Send with the simple protocol (no parameters; multi-statement allowed). */
  simple?: boolean;
}

/** A server error, normalised across drivers, before the dialect classifies it. */
export interface ServerErrorInfo {
  message: string;
  sqlstate?: string;
  detail?: string;
  hint?: string;
  constraint?: string;
  table?: string;
  column?: string;
  cause: unknown;
}

/**
 * What the caller makes of a statement's outcome. A runner applies it in its own
 * reaction to the driver, so a statement costs one promise step however many
 * layers it passes through (bench/ case 4 measures this).
 */
export interface Reply<T> {
  ok(raw: RawResult): T;
  /** Gets an irisql error (or what the caller's own code threw); returns a fallback or rejects. */
  fail(error: unknown): Promise<T>;
}

/** Runs statements. The pool and a reserved connection both are runners. */
export interface Runner {
  run(text: string, params: readonly unknown[], options?: RunOptions): Promise<RawResult>;
  run<T>(text: string, params: readonly unknown[], options: RunOptions, reply: Reply<T>): Promise<T>;
  /** Rows in batches of at most `batchSize`, without holding all rows in memory. */
  stream(
    text: string,
    params: readonly unknown[],
    batchSize: number,
    options?: RunOptions,
  ): AsyncGenerator<Record<string, unknown>[]>;
}

/** A connection held by one caller until `release()`. */
export interface ReservedConnection extends Runner {
  /**
   * Send all statements without waiting for each answer (pipelining), then
   * wait for all. Rejects with the first error; statements after a failing one
   * inside a transaction fail too, so nothing half-applies once rolled back.
   */
  pipeline(
    statements: readonly { text: string; params: readonly unknown[] }[],
    options?: RunOptions,
  ): Promise<RawResult[]>;
  /**
   * Give the connection back, clean or not at all: one left inside a transaction
   * (status 'T' or 'E', however it got there) is rolled back first, so it cannot
   * swallow its next user's autocommit writes. `resetSql` (the dialect's
   * `sessionResetSql`) also undoes session settings, for holders that ran raw
   * statements irisql cannot vouch for (connect()). A connection whose state
   * cannot be known or restored is dropped instead; `broken` drops it outright.
   * Idle after irisql's own COMMIT/ROLLBACK and no `resetSql`: nothing is sent.
   */
  release(broken?: boolean, resetSql?: string | null): Promise<void>;
}

/**
 * The most parameters one statement may carry on the network adapters. The wire protocol counts
 * them in 16 bits, and postgres.js refuses 65,534 and more; irisql refuses beyond this itself, in
 * the same words on every driver, and insertMany sizes its chunks by it.
 */
export const MAX_PARAMS = 65_533;

/** A connection pool's counters at one moment (see `engine.stats()`). */
export interface PoolStats {
  /** Largest number of connections. */
  max: number;
  /** Connections currently held by sessions, transactions or connect(). */
  reserved: number;
  /** Callers waiting for a connection. */
  waiting: number;
}

export interface Adapter extends Runner {
  readonly kind: "postgresjs" | "bun-sql" | "pglite";
  reserve(options?: { signal?: AbortSignal }): Promise<ReservedConnection>;
  stats(): PoolStats;
  /**
   * Refuse nothing already accepted: statements in flight, queued or waiting for a
   * first connection finish, and held connections may be released, for up to
   * DISPOSE_GRACE_MS; then whatever is left is closed. Resolves once all is closed.
   * (The engine refuses new work from the moment dispose() is called.)
   */
  close(): Promise<void>;
}

/** How long dispose() lets accepted work and held connections finish before closing them (ms). */
export const DISPOSE_GRACE_MS = 5000;

/** What every adapter receives from the engine. */
export interface AdapterContext {
  /** Classify a server error (the dialect's job). */
  mapError(info: ServerErrorInfo, sql: string): IrisqlError;
  /** Does this server error mean that the vector type is not installed (the dialect's judgement)? */
  vectorMissing(info: ServerErrorInfo): boolean;
  /** `pool.acquireTimeout` in ms. */
  acquireTimeout: number;
  /** Check a reserved connection with a round trip before handing it out. */
  prePing: boolean;
}

/** Applies a reply to a runner's answer, for runners without a cheaper way. */
export function replyTo<T>(answer: Promise<RawResult>, reply: Reply<T> | undefined): Promise<T | RawResult> {
  return reply ? answer.then((raw) => reply.ok(raw), (error) => reply.fail(error)) : answer;
}
