/**
 * postgres.js adapter: the network path on Deno, Bun and Node, for PostgreSQL
 * and for IRIS through iris-pgwire. It maps irisql's pool options onto the
 * driver, adds what the driver lacks (acquire timeout, pre-ping, cancellation
 * by AbortSignal), and turns driver errors into irisql errors.
 */
import net from "node:net";
import postgres from "postgres";
import { ConnectionError, EngineDisposedError, QueryCancelledError } from "../errors.ts";
import type { AdapterContext, ColumnInfo, RawResult, RunOptions } from "./adapter.ts";
import { type Link, LinkPool } from "./postgresjs-pool.ts";
import { PARSERS } from "./types.ts";
import {
  type Endpoint,
  endpointLabel,
  HostSelector,
  NO_HOST,
  type ServerRole,
  type TargetSessionAttrs,
} from "./host-select.ts";
import { LinkAdapter } from "./link-adapter.ts";
import { cancelled, CONNECTION_SQLSTATES, deadlineOptions, redact } from "./link-errors.ts";
import type { Fail, StatementDriver } from "./link-send.ts";

export interface PostgresJsConfig {
  /** The first host of the URL (what a single-host URL names). */
  host: string;
  port: number;
  /** Every host of a multi-host URL, in order (default: host and port alone). */
  hosts?: readonly Endpoint[];
  /** Which of them a connection goes to (libpq's meanings; default "any"). */
  targetSessionAttrs?: TargetSessionAttrs;
  /** The dialect's question for a host's role (Dialect.wire.replication.role). */
  roleSql?: string;
  database: string;
  user: string;
  password: string;
  ssl: boolean | "require" | "prefer";
  max: number;
  /** ms; 0 = never close idle connections */
  idleTimeout: number;
  /** ms; 0 = connections live forever */
  maxLifetime: number;
  /** ms */
  connectTimeout: number;
  prepare: boolean;
  /** Run postgres.js's pg_type query on connect (PostgreSQL only). */
  fetchTypes: boolean;
  /** Pooled statements in flight per connection before the pool queues them. */
  pipeline: number;
  /** Startup parameters (application_name, TimeZone, statement_timeout...). */
  connection: Record<string, string>;
  /** ms; 0 = none. */
  statementTimeout: number;
  /** The server enforces statementTimeout itself (PostgreSQL; not IRIS). */
  serverTimeout: boolean;
}

// deno-lint-ignore no-explicit-any
type Sql = any;
// deno-lint-ignore no-explicit-any
type PendingQuery = any;

/** Driver error codes that mean the connection, not the statement, failed. */
const CONNECTION_CODES = new Set([
  "ECONNREFUSED",
  "ECONNRESET",
  "ENOTFOUND",
  "EAI_AGAIN",
  "EHOSTUNREACH",
  "ENETUNREACH",
  "ETIMEDOUT",
  "EPIPE",
  "CONNECT_TIMEOUT",
  "CONNECTION_CLOSED",
  "CONNECTION_ENDED",
  "CONNECTION_DESTROYED",
  "SASL_SIGNATURE_MISMATCH",
  "AUTH_TYPE_NOT_IMPLEMENTED",
  NO_HOST,
]);

/** SQLSTATEs that mean we could not log in or the session was killed. */
const REASONS: Record<string, string> = {
  ECONNREFUSED: "connection refused (is the server running and listening there?)",
  ENOTFOUND: "host not found",
  EAI_AGAIN: "host name lookup failed",
  ETIMEDOUT: "timed out",
  CONNECT_TIMEOUT: "connect timeout passed",
  ECONNRESET: "connection reset by the server",
  EPIPE: "connection closed by the server",
  CONNECTION_CLOSED: "connection closed by the server",
  CONNECTION_ENDED: "the engine was disposed",
  CONNECTION_DESTROYED: "connection destroyed",
};

export class PostgresJsAdapter extends LinkAdapter {
  readonly kind = "postgresjs" as const;
  protected readonly pool: LinkPool;
  #ctx: AdapterContext;
  #config: PostgresJsConfig;
  /** Which host new connections go to (multi-host URLs, target_session_attrs). */
  readonly hosts: HostSelector;

  constructor(config: PostgresJsConfig, ctx: AdapterContext) {
    super(POSTGRES_JS, { max: config.max, prepare: config.prepare, prePing: ctx.prePing });
    this.#config = config;
    this.#ctx = ctx;
    const seconds = (ms: number) => (ms > 0 ? ms / 1000 : 0);
    const driverOptions = {
      host: config.host,
      port: config.port,
      database: config.database,
      username: config.user,
      password: config.password,
      ssl: config.ssl,
      // The pool retires idle connections itself: the driver's timers end a connection mid-statement.
      idle_timeout: 0,
      max_lifetime: 0,
      connect_timeout: seconds(config.connectTimeout),
      prepare: config.prepare,
      fetch_types: config.fetchTypes,
      connection: config.connection,
      onnotice: () => {},
      types: Object.fromEntries(
        Object.entries(PARSERS).map(([oid, parse]) => [
          "oid" + oid,
          { to: Number(oid), from: [Number(oid)], parse },
        ]),
      ),
    };
    const ended = () => this.fail(Object.assign(new Error("ended"), { code: "CONNECTION_ENDED" }), "");
    const hosts = config.hosts?.length ? config.hosts : [{ host: config.host, port: config.port }];
    const attrs = config.targetSessionAttrs ?? "any";
    const roleSql = config.roleSql ?? "SELECT false AS in_recovery, false AS read_only";
    this.hosts = new HostSelector(hosts, attrs, (ep) => probeRole(driverOptions, ep, roleSql));
    this.pool = new LinkPool({
      max: config.max,
      pipeline: config.pipeline,
      acquireTimeout: ctx.acquireTimeout,
      idleTimeout: config.idleTimeout,
      maxLifetime: config.maxLifetime,
      ...deadlineOptions(config, () => ({ label: endpointLabel(this.hosts.last), ...this.hosts.last })),
      cancel: (state, ep) => {
        const to = ep ?? this.hosts.last;
        sendCancel(to.host, to.port, state, config.connectTimeout);
      },
      // The driver's own limit above ours: it must never park a link as "full" with a private queue.
      // deno-lint-ignore no-explicit-any
      open: (hooks) => (postgres as any)({ ...driverOptions, max: 1, max_pipeline: config.pipeline + 1, ...hooks }),
      endpoint: () => this.hosts.endpoint(),
      connect: (chosen) => {
        const ep = chosen ?? this.hosts.last;
        const socket = net.connect({ host: ep.host, port: ep.port });
        // The driver names host and port in its connection errors.
        return Object.assign(socket, { host: ep.host, port: ep.port });
      },
      // A lost connection may mean a failover: the next connection asks the hosts again.
      dropped: (link) => this.hosts.invalidate(link.endpoint),
      endedError: ended,
      ...this.poolErrors(),
    });
  }

  /** Turn a driver error into an irisql error. */
  readonly fail: Fail = (error, sql) => {
    // The driver's error becomes the `cause`, which loggers print too: without the bound values
    // it keeps (hidden, but shown by inspect with showHidden), and without the password.
    error = withoutValues(error);
    scrub(error, this.#config.password);
    const e = error as { code?: string; name?: string; message?: string; severity?: string };
    const at = this.hosts.last;
    const where = endpointLabel(at);
    // Only dispose() ends the driver's clients.
    if (e?.code === "CONNECTION_ENDED") return new EngineDisposedError();
    if (e?.code === NO_HOST) {
      // The chooser's own text: host:port and codes only.
      return new ConnectionError(`Could not connect: ${e.message} [${NO_HOST}]`, {
        host: at.host,
        port: at.port,
        code: NO_HOST,
        cause: error,
      });
    }
    if (e?.code && CONNECTION_CODES.has(e.code)) {
      const reason = REASONS[e.code] ?? e.code;
      return new ConnectionError(
        `Could not use the database connection to ${where}: ${reason} [${e.code}]`,
        { host: at.host, port: at.port, code: e.code, cause: error },
      );
    }
    if (e?.name === "PostgresError" && e.code && e.code in CONNECTION_SQLSTATES) {
      return new ConnectionError(
        `Could not use the database connection to ${where} as user "${this.#config.user}": ${
          CONNECTION_SQLSTATES[e.code]
        } [${e.code}] ${redact(e.message ?? "", this.#config.password)}`,
        { host: at.host, port: at.port, code: e.code, cause: error },
      );
    }
    if (e?.name === "PostgresError") {
      const pe = error as {
        message: string;
        code?: string;
        detail?: string;
        hint?: string;
        constraint_name?: string;
        table_name?: string;
        column_name?: string;
      };
      return this.#ctx.mapError({
        message: redact(pe.message, this.#config.password),
        sqlstate: pe.code,
        detail: pe.detail,
        hint: pe.hint,
        constraint: pe.constraint_name,
        table: pe.table_name,
        column: pe.column_name,
        cause: error,
      }, sql);
    }
    if (e?.code === "57014" && e.message?.includes("user request")) {
      return new QueryCancelledError("The query was cancelled before it was sent", { cause: error });
    }
    return this.#ctx.mapError(
      { message: redact(e?.message ?? String(error), this.#config.password), cause: error },
      sql,
    );
  };

  /** The host new connections now go to ("host:port"), and how often the hosts were asked. */
  host(): { host: string; resolutions: number } {
    return { host: endpointLabel(this.hosts.last), resolutions: this.hosts.resolutions };
  }
}

// The driver copies these into each query's own options.
const PREPARED = Object.freeze({ prepare: true });
const UNPREPARED = Object.freeze({ prepare: false });

/**
 * A statement on a postgres.js link: the driver's own query object is what the pool
 * tracks, and its `then` starts it (one promise reaction per statement).
 */
const POSTGRES_JS: StatementDriver<PendingQuery> = {
  start(link, text, params, options, prepare) {
    // Not .execute(): send()'s `then` starts the query, and each start costs an async step.
    return options.simple && params.length === 0
      ? link.sql.unsafe(text).simple()
      : link.sql.unsafe(text, params as unknown[], prepare && link.prepares(text) ? PREPARED : UNPREPARED);
  },
  answer: (query) => query,
  cancel: (query) => query.cancel(),
  // The driver sets `state` when it hands a query to the socket: before that it was never written.
  neverSent: (query) => query.state == null,
  read: (_link, result) => toRaw(result),
  // The link reads the transaction status from the ReadyForQuery byte itself.
  failed: () => {},
  reserved: () => {},
  stream: streamQuery,
};

/**
 * Ask one host its role (multi-host URLs), on a connection of its own that is closed
 * after. The driver's error is what the chooser sees (it keeps only the code).
 */
async function probeRole(driverOptions: Record<string, unknown>, ep: Endpoint, roleSql: string): Promise<ServerRole> {
  // deno-lint-ignore no-explicit-any
  const sql = (postgres as any)({
    ...driverOptions,
    host: ep.host,
    port: ep.port,
    max: 1,
    prepare: false,
    socket: () => Object.assign(net.connect({ host: ep.host, port: ep.port }), { host: ep.host, port: ep.port }),
  });
  // A host that takes the connection and never answers must not hold up the choice.
  const seconds = Number(driverOptions.connect_timeout) || 10;
  let timer: ReturnType<typeof setTimeout> | undefined;
  const late = new Promise<never>((_, reject) => {
    timer = setTimeout(
      () => reject(Object.assign(new Error("no answer"), { code: "CONNECT_TIMEOUT" })),
      seconds * 1000,
    );
  });
  try {
    const [row] = await Promise.race([sql.unsafe(roleSql).simple(), late]);
    return { inRecovery: truthy(row?.in_recovery), readOnly: truthy(row?.read_only) };
  } finally {
    clearTimeout(timer);
    sql.end({ timeout: 0 }).catch(() => {});
  }
}

/** A server's yes: true, 1, "t", "on", "true", "1". */
function truthy(value: unknown): boolean {
  if (typeof value === "string") return /^(t|true|on|1|yes)$/i.test(value);
  return value === true || value === 1;
}

/**
 * A CancelRequest on a connection of its own: PostgreSQL stops whatever the backend
 * `state` names is running. Best effort; nothing waits for it.
 */
function sendCancel(
  host: string,
  port: number,
  state: { pid: number | null; secret: number | null },
  connectTimeout: number,
): void {
  if (state.pid === null || state.secret === null) return;
  const message = new Uint8Array(16);
  const view = new DataView(message.buffer);
  view.setInt32(0, 16);
  view.setInt32(4, 80877102);
  view.setInt32(8, state.pid);
  view.setInt32(12, state.secret);
  const socket = net.connect({ host, port });
  socket.on("error", () => {});
  socket.setTimeout(connectTimeout > 0 ? connectTimeout : 10_000, () => socket.destroy());
  socket.end(message);
}

/** A stream on a server cursor: `batchSize` rows at a time. */
async function* streamQuery(
  link: Link,
  _pool: LinkPool,
  text: string,
  params: readonly unknown[],
  batchSize: number,
  options: RunOptions,
  prepare: boolean,
  fail: Fail,
): AsyncGenerator<Record<string, unknown>[]> {
  if (options.signal?.aborted) throw cancelled(options.signal);
  const query = link.sql.unsafe(text, params as unknown[], { prepare: prepare && link.prepares(text) });
  const iterator: AsyncIterator<Record<string, unknown>[]> = query.cursor(batchSize)[Symbol.asyncIterator]();
  const onAbort = () => query.cancel();
  options.signal?.addEventListener("abort", onAbort, { once: true });
  try {
    while (true) {
      let step: IteratorResult<Record<string, unknown>[]>;
      try {
        step = await iterator.next();
      } catch (error) {
        if (options.signal?.aborted) throw cancelled(options.signal, error);
        throw fail(error, text);
      }
      if (step.done) return;
      yield Array.from(step.value);
    }
  } finally {
    options.signal?.removeEventListener("abort", onAbort);
    await iterator.return?.();
  }
}

/**
 * Column lists by the driver's own array, which postgres.js keeps per prepared
 * statement: mapped once, and the same (frozen) list for every run, so callers
 * can cache by it (decodeRows does).
 */
const columnLists = new WeakMap<object, ColumnInfo[]>();
const NO_COLUMNS: ColumnInfo[] = Object.freeze([]) as unknown as ColumnInfo[];

let lastDriverColumns: object | undefined;
let lastColumns: ColumnInfo[] = NO_COLUMNS;

function columnsOf(driverColumns: { name: string; type: number }[] | undefined): ColumnInfo[] {
  if (!driverColumns) return NO_COLUMNS;
  // The same statement many times in a row is the common case: skip the WeakMap then.
  if (driverColumns === lastDriverColumns) return lastColumns;
  let list = columnLists.get(driverColumns);
  if (!list) {
    list = Object.freeze(driverColumns.map((c) => Object.freeze({ name: c.name, typeOid: c.type }))) as ColumnInfo[];
    columnLists.set(driverColumns, list);
  }
  lastDriverColumns = driverColumns;
  lastColumns = list;
  return list;
}

function toRaw(result: Sql): RawResult {
  const columns = columnsOf(result.columns);
  // A plain array: the driver's Result also carries connection state (pid, cancel key).
  // An indexed copy: Array.from on the driver's Array subclass is ~20x slower (bench/).
  const n = result.length;
  const rows = new Array<Record<string, unknown>>(n);
  for (let i = 0; i < n; i++) rows[i] = result[i];
  return { rows, columns, command: result.command ?? "", count: result.count ?? null };
}

/**
 * postgres.js hangs the statement's parameters and arguments on every error it rejects a
 * query with, as fixed properties that cannot be removed: copy the error without them.
 */
function withoutValues(error: unknown): unknown {
  if (typeof error !== "object" || error === null || !("parameters" in error || "args" in error)) return error;
  const source = error as unknown as Error;
  const copy = Object.assign(new Error(source.message), error) as Error & Record<string, unknown>;
  copy.name = source.name;
  copy.stack = source.stack;
  return copy;
}

/** Remove a password from the text fields of a driver error, in place. */
function scrub(error: unknown, password: string): void {
  if (!password || typeof error !== "object" || error === null) return;
  const e = error as Record<string, unknown>;
  for (const key of ["message", "stack", "detail", "hint", "where", "internal_query"]) {
    const value = e[key];
    if (typeof value === "string" && value.includes(password)) {
      Object.defineProperty(e, key, { value: redact(value, password), writable: true, configurable: true });
    }
  }
}
