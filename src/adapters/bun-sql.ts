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
import { ConnectionError, EngineDisposedError, QueryCancelledError } from "../errors.ts";
import type { AdapterContext, ColumnInfo, RawResult, RunOptions } from "./adapter.ts";
import { type Link, LinkPool, TX_FAILED, TX_IDLE, TX_IN } from "./postgresjs-pool.ts";
import { parseInt8 } from "./types.ts";
import type { PostgresJsConfig } from "./postgresjs.ts";
import { OID } from "../values/oid.ts";
import { LinkAdapter } from "./link-adapter.ts";
import { cancelled, CONNECTION_SQLSTATES, deadlineOptions, redact } from "./link-errors.ts";
import { type Fail, send, type StatementDriver } from "./link-send.ts";

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

export class BunSqlAdapter extends LinkAdapter {
  readonly kind = "bun-sql" as const;
  protected readonly pool: LinkPool;
  #ctx: AdapterContext;
  #config: BunSqlConfig;

  constructor(config: BunSqlConfig, ctx: AdapterContext) {
    super(BUN_SQL, { max: config.max, prepare: config.prepare, prePing: ctx.prePing });
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
    const where = { label: `${config.host}:${config.port}`, host: config.host, port: config.port };
    this.pool = new LinkPool({
      max: config.max,
      pipeline: config.pipeline,
      acquireTimeout: ctx.acquireTimeout,
      idleTimeout: config.idleTimeout,
      maxLifetime: config.maxLifetime,
      ...deadlineOptions(config, () => where),
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
      endedError: () => new EngineDisposedError(),
      ...this.poolErrors(),
    });
  }

  /** Turn a Bun.SQL error into an irisql error. */
  readonly fail: Fail = (error, sql) => {
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
      if (this.pool.closed) return new EngineDisposedError();
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

/**
 * A statement on a Bun.SQL link. What the pool tracks is a Pending around Bun's query;
 * the transaction status is followed from command tags (Bun owns the socket).
 */
const BUN_SQL: StatementDriver<Pending> = {
  start(link, text, params, options) {
    const driver = driverOf(link);
    // Bun prepares every parameterised text (the `prepare` option is ignored); past the
    // per-connection bound the connection retires (closes once idle), so a stream of new
    // texts cannot grow it without end.
    if (params.length > 0 && !link.prepares(text)) link.retiring = true;
    const query = driver.db.unsafe(text, params as unknown[]);
    return new Pending(driver, options.simple && params.length === 0 ? query.simple() : query);
  },
  answer: (entry) =>
    new Promise((resolve, reject) => {
      entry.reject = reject;
      entry.query.then(resolve, reject);
    }),
  cancel: (entry) => entry.cancel(),
  // Decision 22: Bun marks everything pipelined as sent at once, so only a statement whose
  // connection never finished connecting counts as never sent (held-back ones are not resent).
  neverSent: (entry) => entry.state === null,
  read(link, result) {
    const raw = toRaw(result);
    track(link, driverOf(link), raw.command, result);
    return raw;
  },
  failed: (link, text, params) => trackFailure(link, driverOf(link), text, params),
  // The status Bun's client was left in, which the pool cannot read off the socket.
  reserved: (link) => {
    link.txStatus = driverOf(link).tx;
  },
  stream: streamWhole,
};

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
  prepare: boolean,
  fail: Fail,
): AsyncGenerator<Record<string, unknown>[]> {
  // A connection failure drops the link in the caller (LinkAdapter, LinkReserved).
  const raw: RawResult = await send(BUN_SQL, link, pool, false, text, params, options, prepare, fail);
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
