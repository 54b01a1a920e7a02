/**
 * Bun's built-in SQL client (`Bun.SQL`) as the network path for postgres:// on Bun
 * (`driver: "bun-sql"`). It keeps irisql's own pool (postgresjs-pool.ts): each link
 * is one `Bun.SQL` client with `max: 1`, and the pool decides who uses which, as on
 * postgres.js: pipelining up to `wire.pipeline` per connection, one FIFO queue,
 * acquireTimeout, idle/lifetime retirement, the statement deadline, reserved
 * connections with prePing. What differs, and why:
 *
 * - Transaction status. Bun's client owns its socket, so the ReadyForQuery status byte
 *   cannot be read. It is followed from the command tags instead (BEGIN / START
 *   TRANSACTION: in a transaction; COMMIT / ROLLBACK: idle; a failure inside a
 *   transaction: failed). A failed text that may hold several statements (no parameters
 *   and a `;`) leaves the state unknown, taken as failed: rolled back on release, or the
 *   connection dropped when pooled.
 * - Sent or not. Bun exposes no per-query "written" state: `query.active` turns true at
 *   once for every statement handed to a connected client, also those pipelined behind a
 *   text not prepared yet (postgres.js holds those until its Describe round trip ends).
 *   So a statement counts as never sent only when its connection never finished
 *   connecting (`onconnect` never fired): only those move to another connection when it
 *   dies; all else fails with ConnectionError (nothing that may have run is sent again).
 * - A server that accepts the connection and hangs up during startup is noticed only at
 *   connectTimeout (Bun 1.4.5 does not see the close then): statements fail after it.
 * - Prepared statements. Bun prepares every parameterised text (the per-query `prepare`
 *   option is ignored by `unsafe`), so the 1,000-texts bound is kept by retiring a
 *   connection once it has seen that many distinct texts (it closes once idle).
 * - Streams read the whole result, then hand it out in batches: Bun's client has no
 *   cursor. Memory is not bounded by the batch size.
 * - Values are brought to the forms of adapters/types.ts (int8 as number or bigint, date
 *   as "YYYY-MM-DD", float4 as its shortest decimal, infinite timestamps as text). Arrays
 *   come parsed, as on PGlite (plain arrays, elements in the same forms); postgres.js
 *   (fetch_types off) gives their text, "{1,2}".
 */
import {
  ConnectionError,
  EngineDisposedError,
  IrisqlError,
  PoolTimeoutError,
  QueryCancelledError,
  QueryTimeoutError,
  SessionClosedError,
} from "../errors.ts";
import type {
  Adapter,
  AdapterContext,
  ColumnInfo,
  PoolStats,
  RawResult,
  Reply,
  ReservedConnection,
  RunOptions,
} from "./adapter.ts";
import {
  connectionClosed,
  type Link,
  LinkPool,
  TX_FAILED,
  TX_IDLE,
  TX_IN,
  TX_UNSEEN,
  type Waiter,
} from "./postgresjs-pool.ts";
import { parseInt8 } from "./types.ts";
import type { PostgresJsConfig } from "./postgresjs.ts";
import { OID } from "../values/oid.ts";

/** What the Bun adapter needs: the postgres.js adapter's settings, one host, no TLS. */
export type BunSqlConfig = Omit<PostgresJsConfig, "hosts" | "targetSessionAttrs" | "roleSql" | "ssl" | "fetchTypes">;

// deno-lint-ignore no-explicit-any
type BunQuery = any;
// deno-lint-ignore no-explicit-any
type BunResult = any;

/** The `Bun.SQL` constructor, or undefined off Bun. */
function bunSql(): (new (options: Record<string, unknown>) => BunQuery) | undefined {
  return (globalThis as { Bun?: { SQL?: new (options: Record<string, unknown>) => BunQuery } }).Bun?.SQL;
}

/** Bun's error codes that mean the connection, not the statement, failed. */
const CONNECTION_CODES: Record<string, string> = {
  ERR_POSTGRES_CONNECTION_CLOSED: "connection closed by the server",
  ERR_POSTGRES_CONNECTION_REFUSED: "connection refused (is the server running and listening there?)",
  ERR_POSTGRES_CONNECTION_FAILED: "could not connect",
  ERR_POSTGRES_CONNECTION_TIMEOUT: "connect timeout passed",
  ERR_POSTGRES_IDLE_TIMEOUT: "idle timeout",
  ERR_POSTGRES_LIFETIME_TIMEOUT: "lifetime timeout",
  ERR_POSTGRES_TLS_NOT_AVAILABLE: "TLS not available",
  ERR_POSTGRES_TLS_UPGRADE_FAILED: "TLS upgrade failed",
  ERR_POSTGRES_AUTHENTICATION_FAILED_PBKDF: "authentication failed",
  ERR_POSTGRES_SASL_SIGNATURE_MISMATCH: "SASL signature mismatch",
  ERR_POSTGRES_SASL_SIGNATURE_INVALID_BASE: "SASL signature invalid",
  ERR_POSTGRES_SASL_NO_KNOWN_MECHANISM: "no known SASL mechanism",
  ERR_POSTGRES_SASL_ITERATION_COUNT_OUT_OF_RANGE: "SASL iteration count out of range",
  ERR_POSTGRES_INVALID_SERVER_SIGNATURE: "invalid server signature",
  ERR_POSTGRES_INVALID_SERVER_KEY: "invalid server key",
  ERR_POSTGRES_UNKNOWN_AUTHENTICATION_METHOD: "unknown authentication method",
  ERR_POSTGRES_UNSUPPORTED_AUTHENTICATION_METHOD: "unsupported authentication method",
  ERR_POSTGRES_CHANNEL_BINDING_FAILED: "channel binding failed",
  ERR_POSTGRES_CHANNEL_BINDING_REQUIRED: "channel binding required",
  ERR_POSTGRES_INVALID_BACKEND_KEY_DATA: "invalid backend key data",
  ERR_POSTGRES_UNEXPECTED_MESSAGE: "unexpected protocol message",
  ERR_POSTGRES_INVALID_MESSAGE: "invalid protocol message",
  ERR_POSTGRES_INVALID_MESSAGE_LENGTH: "invalid protocol message length",
  CONNECTION_CLOSED: "connection closed by the server",
};

/** SQLSTATEs that mean we could not log in or the session was killed (as on postgres.js). */
const CONNECTION_SQLSTATES: Record<string, string> = {
  "28P01": "authentication failed",
  "28000": "authentication rejected",
  "3D000": "database does not exist",
  "57P01": "the server terminated the connection",
  "57P02": "the server terminated the connection",
  "57P03": "the server is not accepting connections yet",
  "53300": "too many connections for the server",
};

/** Command tags that carry a row count (the rest: count null, as on postgres.js). */
const COUNTED = new Set(["SELECT", "INSERT", "UPDATE", "DELETE", "MERGE", "MOVE", "FETCH", "COPY"]);

/** One Bun.SQL client with max 1: a link's driver. `connected` once it finished connecting. */
interface LinkDriver {
  db: BunQuery;
  connected: boolean;
  /** Transaction status followed from command tags (TX_*). */
  tx: number;
  end(options: { timeout: number }): Promise<void>;
}

export class BunSqlAdapter implements Adapter {
  /** What engine.stats() reports as its adapter. */
  readonly kind = "bun-sql" as const;
  #pool: LinkPool;
  #ctx: AdapterContext;
  #config: BunSqlConfig;

  constructor(config: BunSqlConfig, ctx: AdapterContext) {
    const SQL = bunSql();
    if (!SQL) throw new ConnectionError("Bun.SQL is not available: this runtime is not Bun", {});
    this.#config = config;
    this.#ctx = ctx;
    const options: Record<string, unknown> = {
      hostname: config.host,
      port: config.port,
      database: config.database,
      username: config.user,
      password: config.password,
      max: 1,
      // The pool retires idle and old connections itself, never mid-statement.
      idleTimeout: 0,
      maxLifetime: 0,
      prepare: config.prepare,
      connection: config.connection,
    };
    if (config.connectTimeout > 0) options.connectionTimeout = Math.max(1, Math.ceil(config.connectTimeout / 1000));
    const timeout = config.statementTimeout;
    const margin = config.serverTimeout ? Math.max(1000, Math.round(timeout / 2)) : 0;
    const deadline = timeout > 0 ? timeout + margin : 0;
    const where = `${config.host}:${config.port}`;
    this.#pool = new LinkPool({
      max: config.max,
      pipeline: config.pipeline,
      acquireTimeout: ctx.acquireTimeout,
      idleTimeout: config.idleTimeout,
      maxLifetime: config.maxLifetime,
      deadline,
      deadlineError: () =>
        new QueryTimeoutError(
          config.serverTimeout
            ? `No answer from the server at ${where} within ${deadline} ms (statementTimeout ${timeout} ms plus ` +
              `${margin} ms for the server's own timeout to arrive); the statement's connection was closed`
            : `The statement ran longer than statementTimeout (${timeout} ms); it was cancelled and its connection closed`,
        ),
      abandonedError: () =>
        new ConnectionError(
          `Could not use the database connection to ${where}: closed because a statement on it got no answer ` +
            `within ${deadline} ms [CONNECTION_DESTROYED]`,
          { host: config.host, port: config.port, code: "CONNECTION_DESTROYED" },
        ),
      // The pool hands back what send() put in `pending`: a Pending, whose query Bun can cancel.
      cancel: (state) => (state as unknown as Pending).cancel(),
      open: (hooks) => {
        const driver: LinkDriver = {
          db: undefined,
          connected: false,
          tx: TX_IDLE,
          end: ({ timeout }) => driver.db.close({ timeout }),
        };
        driver.db = new SQL({
          ...options,
          onconnect: (error: unknown) => {
            if (!error) driver.connected = true;
          },
          // A closed connection is never used again (Bun would reconnect on the next query: a new
          // session in the middle of someone's transaction).
          onclose: () => hooks.onclose(),
        });
        return driver;
      },
      connect: () => {
        throw new Error("unused: Bun.SQL opens its own sockets");
      },
      timeoutError: (ms) => this.#poolTimeout(ms),
      cancelledError: () => new QueryCancelledError("Cancelled while waiting for a connection"),
      endedError: () => new EngineDisposedError(),
      lostError: () => this.#fail(connectionClosed(), ""),
    });
  }

  run(text: string, params: readonly unknown[], options?: RunOptions): Promise<RawResult>;
  run<T>(text: string, params: readonly unknown[], options: RunOptions, reply: Reply<T>): Promise<T>;
  run<T>(text: string, params: readonly unknown[], options: RunOptions = {}, reply?: Reply<T>): Promise<T | RawResult> {
    return dispatch(this.#pool, text, params, options, this.#fail, reply, 0);
  }

  async *stream(
    text: string,
    params: readonly unknown[],
    batchSize: number,
    options: RunOptions = {},
  ): AsyncGenerator<Record<string, unknown>[]> {
    const link = this.#pool.now("solo") ?? await this.#pool.acquire("solo", options.signal);
    try {
      yield* streamWhole(link, this.#pool, text, params, batchSize, options, this.#fail);
    } finally {
      if (options.signal?.aborted) this.#pool.drop(link);
      this.#pool.done(link);
    }
  }

  async reserve(options: { signal?: AbortSignal } = {}): Promise<ReservedConnection> {
    for (let attempt = 0;; attempt++) {
      const link = await this.#pool.acquire("reserve", options.signal);
      link.txStatus = driverOf(link).tx;
      const conn = new BunSqlReserved(link, this.#pool, this.#fail);
      if (!this.#ctx.prePing) return conn;
      try {
        await conn.run("SELECT 1", [], { simple: true });
        return conn;
      } catch (error) {
        await conn.release(true);
        if (!(error instanceof ConnectionError) || attempt >= this.#config.max) throw error;
      }
    }
  }

  #poolTimeout(ms: number): PoolTimeoutError {
    return new PoolTimeoutError(
      `No connection became free within ${ms} ms (pool max ${this.#config.max}, ${this.#pool.held} held by sessions/transactions). ` +
        "Release sessions sooner, raise pool.max, or raise pool.acquireTimeout.",
    );
  }

  /** Turn a Bun.SQL error into an irisql error. */
  #fail = (error: unknown, sql: string): IrisqlError => {
    const password = this.#config.password;
    const e = error as {
      code?: string;
      errno?: string;
      name?: string;
      message?: string;
      detail?: string;
      hint?: string;
      constraint?: string;
      table?: string;
      column?: string;
    };
    const { host, port } = this.#config;
    const where = `${host}:${port}`;
    const code = typeof e?.code === "string" ? e.code : undefined;
    if (code && code in CONNECTION_CODES) {
      // Only dispose() closes the clients while they work.
      if (this.#pool.closed) return new EngineDisposedError();
      return new ConnectionError(
        `Could not use the database connection to ${where}: ${CONNECTION_CODES[code]} [${code}]`,
        { host, port, code, cause: scrubbed(error, password) },
      );
    }
    const sqlstate = e?.name === "PostgresError" && typeof e.errno === "string" ? e.errno : undefined;
    if (sqlstate && sqlstate in CONNECTION_SQLSTATES) {
      if (sqlstate === "57P01" || sqlstate === "57P02") {
        // Bun hands the server's FATAL to the statements in flight (postgres.js reports the closed
        // socket): the same words as any lost connection, not a login failure's.
        return new ConnectionError(
          `Could not use the database connection to ${where}: ${CONNECTION_SQLSTATES[sqlstate]} [${sqlstate}]`,
          { host, port, code: sqlstate, cause: scrubbed(error, password) },
        );
      }
      return new ConnectionError(
        `Could not use the database connection to ${where} as user "${this.#config.user}": ${
          CONNECTION_SQLSTATES[sqlstate]
        } [${sqlstate}] ${redact(e.message ?? "", password)}`,
        { host, port, code: sqlstate, cause: scrubbed(error, password) },
      );
    }
    if (sqlstate) {
      return this.#ctx.mapError({
        message: redact(e.message ?? "", password),
        sqlstate,
        detail: e.detail,
        hint: e.hint,
        constraint: e.constraint,
        table: e.table,
        column: e.column,
        cause: scrubbed(error, password),
      }, sql);
    }
    if (code === "ERR_POSTGRES_QUERY_CANCELLED") {
      return new QueryCancelledError("The query was cancelled before it was sent", { cause: error });
    }
    return this.#ctx.mapError(
      { message: redact(e?.message ?? String(error), password), cause: scrubbed(error, password) },
      sql,
    );
  };

  stats(): PoolStats {
    return { max: this.#config.max, reserved: this.#pool.held, waiting: this.#pool.waiting };
  }

  close(): Promise<void> {
    return this.#pool.close();
  }
}

function driverOf(link: Link): LinkDriver {
  return link.sql as LinkDriver;
}

/**
 * A statement in a link's `pending` list. The pool reads `state` (non-null once it may
 * have been sent: the connection finished connecting), calls `reject` to fail it (deadline,
 * dead link) and, through the adapter's `cancel`, asks Bun to cancel it.
 */
class Pending {
  readonly pid = null;
  readonly secret = null;
  reject: (error: unknown) => void = () => {};

  constructor(readonly driver: LinkDriver, readonly query: BunQuery) {}

  get state(): Pending | null {
    return this.driver.connected ? this : null;
  }

  cancel(): void {
    try {
      this.query.cancel();
    } catch {
      // Best effort, as a CancelRequest always is.
    }
  }
}

function dispatch<T>(
  pool: LinkPool,
  text: string,
  params: readonly unknown[],
  options: RunOptions,
  fail: (e: unknown, sql: string) => IrisqlError,
  reply: Reply<T> | undefined,
  tries: number,
): Promise<T | RawResult> {
  if (options.signal) {
    // A cancellable statement runs alone: a cancel request stops whatever its connection runs.
    const link = pool.now("solo");
    if (link) return send(link, pool, true, text, params, options, fail, reply, tries);
    return pool.acquire("solo", options.signal).then(
      (l) => send(l, pool, true, text, params, options, fail, reply, tries),
      (error) => (reply ? reply.fail(error) : Promise.reject(error)),
    );
  }
  const link = pool.now("shared");
  if (link) return send(link, pool, true, text, params, options, fail, reply, tries);
  return new Promise((resolve, reject) => {
    pool.queue(new QueuedStatement(pool, text, params, options, fail, reply, resolve, reject, tries));
  });
}

class QueuedStatement<T> implements Waiter {
  readonly use = "shared" as const;

  constructor(
    readonly pool: LinkPool,
    readonly text: string,
    readonly params: readonly unknown[],
    readonly options: RunOptions,
    readonly failWith: (e: unknown, sql: string) => IrisqlError,
    readonly reply: Reply<T> | undefined,
    readonly resolve: (value: T | RawResult) => void,
    readonly reject: (error: unknown) => void,
    readonly tries: number,
  ) {}

  grant(link: Link): void {
    send(link, this.pool, true, this.text, this.params, this.options, this.failWith, this.reply, this.tries)
      .then(this.resolve, this.reject);
  }

  fail(error: IrisqlError): void {
    if (this.reply) this.reply.fail(error).then(this.resolve, this.reject);
    else this.reject(error);
  }
}

/** One connection held by a session, transaction or connect(). */
class BunSqlReserved implements ReservedConnection {
  #link: Link;
  #pool: LinkPool;
  #fail: (e: unknown, sql: string) => IrisqlError;
  #released = false;

  constructor(link: Link, pool: LinkPool, fail: (e: unknown, sql: string) => IrisqlError) {
    this.#link = link;
    this.#pool = pool;
    this.#fail = fail;
  }

  #gone(): IrisqlError | undefined {
    if (this.#released) {
      return new SessionClosedError("This connection was released and can no longer be used; reserve a new one");
    }
    if (!this.#link.dead) return undefined;
    return this.#pool.closed ? new EngineDisposedError() : this.#fail(connectionClosed(), "");
  }

  run(text: string, params: readonly unknown[], options?: RunOptions): Promise<RawResult>;
  run<T>(text: string, params: readonly unknown[], options: RunOptions, reply: Reply<T>): Promise<T>;
  run<T>(text: string, params: readonly unknown[], options: RunOptions = {}, reply?: Reply<T>): Promise<T | RawResult> {
    const gone = this.#gone();
    if (gone) return reply ? reply.fail(gone) : Promise.reject(gone);
    return send(this.#link, this.#pool, false, text, params, options, this.#fail, reply);
  }

  async *stream(
    text: string,
    params: readonly unknown[],
    batchSize: number,
    options: RunOptions = {},
  ): AsyncGenerator<Record<string, unknown>[]> {
    const gone = this.#gone();
    if (gone) throw gone;
    yield* streamWhole(this.#link, this.#pool, text, params, batchSize, options, this.#fail);
  }

  async pipeline(
    statements: readonly { text: string; params: readonly unknown[] }[],
    options: RunOptions = {},
  ): Promise<RawResult[]> {
    const gone = this.#gone();
    if (gone) throw gone;
    const settled = await Promise.allSettled(
      statements.map((s) => send(this.#link, this.#pool, false, s.text, s.params, options, this.#fail)),
    );
    const failure = settled.find((s): s is PromiseRejectedResult => s.status === "rejected");
    if (failure) throw failure.reason;
    return settled.map((s) => (s as PromiseFulfilledResult<RawResult>).value);
  }

  async release(broken = false, resetSql?: string | null): Promise<void> {
    if (this.#released) return;
    this.#released = true;
    const link = this.#link;
    let drop = broken;
    if (!drop && !link.dead) {
      const status = link.txStatus;
      const known = status === TX_IDLE || status === TX_IN || status === TX_FAILED || status === TX_UNSEEN;
      if (link.pending.length > 0 || !known) {
        drop = true;
      } else if (status !== TX_IDLE || resetSql) {
        const rollback = status !== TX_IDLE;
        const text = rollback ? (resetSql ? "ROLLBACK; " + resetSql : "ROLLBACK") : resetSql!;
        try {
          await send(link, this.#pool, false, text, [], SIMPLE, this.#fail);
          drop = link.txStatus !== TX_IDLE;
        } catch {
          drop = true;
        }
      }
    }
    if (drop) this.#pool.drop(link);
    this.#pool.release(link);
  }
}

const SIMPLE: RunOptions = Object.freeze({ simple: true });
const MAX_RESENDS = 2;

function start(link: Link, text: string, params: readonly unknown[], options: RunOptions): BunQuery {
  const driver = driverOf(link);
  // Bun prepares every parameterised text; past the per-connection bound the connection
  // retires (closes once idle), so a stream of new texts cannot grow it without end.
  if (params.length > 0 && !link.prepares(text)) link.retiring = true;
  const query = driver.db.unsafe(text, params as unknown[]);
  return options.simple && params.length === 0 ? query.simple() : query;
}

/**
 * Send one statement on `link` and settle it, as send() in postgresjs.ts: a pooled
 * statement gives its link back, a connection failure drops the link, `reply` runs in
 * the same reaction, and a pooled statement whose link never connected moves on.
 */
function send<T>(
  link: Link,
  pool: LinkPool,
  pooled: boolean,
  text: string,
  params: readonly unknown[],
  options: RunOptions,
  fail: (e: unknown, sql: string) => IrisqlError,
  reply?: Reply<T>,
  tries = 0,
): Promise<T | RawResult> {
  if (options.signal?.aborted) {
    return sendFailed(cancelled(options.signal), link, pool, pooled, text, options, fail, reply);
  }
  const driver = driverOf(link);
  let query: BunQuery;
  try {
    query = start(link, text, params, options);
  } catch (error) {
    return sendFailed(error, link, pool, pooled, text, options, fail, reply);
  }
  const entry = new Pending(driver, query);
  if (link.pending.length === 0) pool.headStarted(link);
  link.pending.push(entry);
  let answer: Promise<BunResult> = new Promise((resolve, reject) => {
    entry.reject = reject;
    query.then(resolve, reject);
  });
  if (options.signal) answer = withSignal(answer, entry, options.signal);
  return answer.then((result: BunResult) => {
    settled(pool, link, entry);
    link.ready = true;
    const raw = toRaw(result);
    track(link, driver, raw.command, result);
    if (pooled) pool.done(link);
    return reply ? reply.ok(raw) : raw;
  }, (error: unknown) => {
    settled(pool, link, entry);
    const e = error instanceof IrisqlError ? error : fail(error, text);
    trackFailure(link, driver, text, params);
    if (pooled && entry.state === null && e instanceof ConnectionError && unsentMayMove(link, pool, options, tries)) {
      pool.drop(link);
      pool.done(link);
      return dispatch(pool, text, params, options, fail, reply, tries + 1);
    }
    return sendFailed(e, link, pool, pooled, text, options, fail, reply);
  });
}

/** The transaction status after a statement succeeded, from its command tag(s). */
function track(link: Link, driver: LinkDriver, command: string, result: BunResult): void {
  if (isMulti(result)) {
    for (const r of result as BunResult[]) driver.tx = nextStatus(driver.tx, r.command ?? "");
  } else {
    driver.tx = nextStatus(driver.tx, command);
  }
  link.txStatus = driver.tx;
}

function nextStatus(tx: number, command: string): number {
  switch (command) {
    case "BEGIN":
    case "START TRANSACTION":
      return TX_IN;
    case "COMMIT":
    case "ROLLBACK":
    case "PREPARE TRANSACTION":
      return TX_IDLE;
    default:
      return tx;
  }
}

/**
 * After a failure: inside a transaction it is now failed. A text that may hold several
 * statements (Bun sends parameterless text by the simple protocol) may have begun one
 * before failing: unknown, taken as failed (rolled back on release, dropped when pooled).
 */
function trackFailure(link: Link, driver: LinkDriver, text: string, params: readonly unknown[]): void {
  if (driver.tx === TX_IN || (params.length === 0 && text.includes(";"))) driver.tx = TX_FAILED;
  link.txStatus = driver.tx;
}

function settled(pool: LinkPool, link: Link, entry: Pending): void {
  if (link.pending.first === entry) {
    link.pending.shift();
    pool.headStarted(link);
  } else {
    link.pending.remove(entry);
  }
}

function unsentMayMove(link: Link, pool: LinkPool, options: RunOptions, tries: number): boolean {
  return tries < MAX_RESENDS && !options.signal?.aborted && (link.ready || pool.hasReady(link));
}

function sendFailed<T>(
  error: unknown,
  link: Link,
  pool: LinkPool,
  pooled: boolean,
  text: string,
  options: RunOptions,
  fail: (e: unknown, sql: string) => IrisqlError,
  reply?: Reply<T>,
): Promise<T | RawResult> {
  const e = error instanceof IrisqlError ? error : fail(error, text);
  // After a cancel request the connection is retired: the request may still be on its way.
  if (e instanceof ConnectionError || (pooled && options.signal?.aborted)) pool.drop(link);
  if (pooled) pool.done(link);
  return reply ? reply.fail(e) : Promise.reject(e);
}

async function withSignal(answer: Promise<BunResult>, entry: Pending, signal: AbortSignal): Promise<BunResult> {
  const onAbort = () => entry.cancel();
  signal.addEventListener("abort", onAbort, { once: true });
  try {
    return await answer;
  } catch (error) {
    if (signal.aborted) throw cancelled(signal, error);
    throw error;
  } finally {
    signal.removeEventListener("abort", onAbort);
  }
}

/**
 * A stream without a cursor: Bun's client has none. The whole result is read, then
 * handed out in batches of `batchSize`.
 */
async function* streamWhole(
  link: Link,
  pool: LinkPool,
  text: string,
  params: readonly unknown[],
  batchSize: number,
  options: RunOptions,
  fail: (e: unknown, sql: string) => IrisqlError,
): AsyncGenerator<Record<string, unknown>[]> {
  let raw: RawResult;
  try {
    raw = await send(link, pool, false, text, params, options, fail);
  } catch (error) {
    if (error instanceof ConnectionError) pool.drop(link);
    throw error;
  }
  const rows = raw.rows;
  for (let i = 0; i < rows.length; i += batchSize) {
    if (options.signal?.aborted) throw cancelled(options.signal);
    yield rows.slice(i, i + batchSize);
  }
}

// --- results ----------------------------------------------------------------

/** Several statements' results (simple protocol): an array of result arrays. */
function isMulti(result: BunResult): boolean {
  return result.command === undefined && Array.isArray(result[0]);
}

type Fix = (value: unknown) => unknown;

const isoDay = (value: unknown): unknown => {
  if (value instanceof Date) return value.toISOString().slice(0, 10);
  if (value === Infinity) return "infinity";
  if (value === -Infinity) return "-infinity";
  return value;
};
const infiniteText = (value: unknown): unknown =>
  value === Infinity ? "infinity" : value === -Infinity ? "-infinity" : value;
const int8 = (value: unknown): unknown => (typeof value === "string" ? parseInt8(value) : value);
/**
 * A float4 Bun read in binary (0.1 -> 0.10000000149011612) as the shortest decimal that is the
 * same float4: what PostgreSQL's text output (and so postgres.js and PGlite) gives.
 */
const float4 = (value: unknown): unknown => {
  if (typeof value !== "number" || !Number.isFinite(value) || value === 0) return value;
  for (let digits = 1; digits < 9; digits++) {
    const n = Number(value.toPrecision(digits));
    if (Math.fround(n) === value) return n;
  }
  return Number(value.toPrecision(9));
};
const plainArray = (value: unknown): unknown =>
  ArrayBuffer.isView(value) ? Array.from(value as unknown as ArrayLike<unknown>) : value;
const arrayOf = (fix: Fix): Fix => (value) =>
  Array.isArray(value) || ArrayBuffer.isView(value)
    ? Array.from(value as unknown as ArrayLike<unknown>, (v) => (v === null ? v : fix(v)))
    : value;

/** How a column's values are brought to the forms of adapters/types.ts, by type OID. */
const FIXES: Record<number, Fix> = {
  [OID.int8]: int8,
  [OID.float4]: float4,
  [OID.date]: isoDay,
  [OID.timestamp]: infiniteText,
  [OID.timestamptz]: infiniteText,
  1005: plainArray, // int2[]
  1007: plainArray, // int4[]
  1021: arrayOf(float4), // float4[]
  1022: plainArray, // float8[]
  1016: arrayOf(int8), // int8[]
  1182: arrayOf(isoDay), // date[]
};

interface Shape {
  columns: ColumnInfo[];
  fixes: [string, Fix][];
}

const NO_SHAPE: Shape = Object.freeze({ columns: Object.freeze([]) as unknown as ColumnInfo[], fixes: [] });
/** Bun keeps one columns array per prepared statement: mapped once. */
const shapes = new WeakMap<object, Shape>();

function shapeOf(driverColumns: { name: string; type: number }[] | undefined): Shape {
  if (!driverColumns || driverColumns.length === 0) return NO_SHAPE;
  let shape = shapes.get(driverColumns);
  if (!shape) {
    const columns = Object.freeze(
      driverColumns.map((c) => Object.freeze({ name: c.name, typeOid: c.type })),
    ) as ColumnInfo[];
    const fixes: [string, Fix][] = [];
    for (const c of driverColumns) if (FIXES[c.type]) fixes.push([c.name, FIXES[c.type]]);
    shape = { columns, fixes };
    shapes.set(driverColumns, shape);
  }
  return shape;
}

function toRaw(result: BunResult): RawResult {
  const last = isMulti(result) ? result[result.length - 1] : result;
  const shape = shapeOf(last.columns);
  const n = last.length;
  const rows = new Array<Record<string, unknown>>(n);
  const fixes = shape.fixes;
  for (let i = 0; i < n; i++) {
    const row = last[i];
    for (let f = 0; f < fixes.length; f++) {
      const [name, fix] = fixes[f];
      const v = row[name];
      if (v !== null && v !== undefined) row[name] = fix(v);
    }
    rows[i] = row;
  }
  const command: string = last.command ?? "";
  return { rows, columns: shape.columns, command, count: COUNTED.has(command) ? last.count ?? null : null };
}

function cancelled(signal: AbortSignal, cause?: unknown): QueryCancelledError {
  const reason = signal.reason instanceof Error ? `: ${signal.reason.message}` : "";
  return new QueryCancelledError(`The query was cancelled by its AbortSignal${reason}`, {
    cause: cause ?? signal.reason,
  });
}

function redact(text: string, password: string): string {
  return password ? text.split(password).join("***") : text;
}

/** The driver's error with the password removed from its text fields (a copy when needed). */
function scrubbed(error: unknown, password: string): unknown {
  if (!password || typeof error !== "object" || error === null) return error;
  const e = error as Record<string, unknown>;
  for (const key of ["message", "stack", "detail", "hint", "where"]) {
    const value = e[key];
    if (typeof value === "string" && value.includes(password)) {
      try {
        Object.defineProperty(e, key, { value: redact(value, password), writable: true, configurable: true });
      } catch {
        // A fixed property: left as it is.
      }
    }
  }
  return error;
}
