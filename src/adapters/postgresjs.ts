/**
 * postgres.js adapter: the network path on Deno, Bun and Node, for PostgreSQL
 * and for IRIS through iris-pgwire. It maps irisql's pool options onto the
 * driver, adds what the driver lacks (acquire timeout, pre-ping, cancellation
 * by AbortSignal), and turns driver errors into irisql errors.
 */
import net from "node:net";
import postgres from "postgres";
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
import { PARSERS } from "./types.ts";
import {
  type Endpoint,
  endpointLabel,
  HostSelector,
  NO_HOST,
  type ServerRole,
  type TargetSessionAttrs,
} from "./host-select.ts";

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
const CONNECTION_SQLSTATES: Record<string, string> = {
  "28P01": "authentication failed",
  "28000": "authentication rejected",
  "3D000": "database does not exist",
  "57P01": "the server terminated the connection",
  "57P02": "the server terminated the connection",
  "57P03": "the server is not accepting connections yet",
  "53300": "too many connections for the server",
};

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

export class PostgresJsAdapter implements Adapter {
  readonly kind = "postgresjs" as const;
  #pool: LinkPool;
  #ctx: AdapterContext;
  #config: PostgresJsConfig;
  /** Which host new connections go to (multi-host URLs, target_session_attrs). */
  readonly hosts: HostSelector;

  constructor(config: PostgresJsConfig, ctx: AdapterContext) {
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
    const ended = () => this.#fail(Object.assign(new Error("ended"), { code: "CONNECTION_ENDED" }), "");
    // Without a statementTimeout nothing is given up. Where the server enforces it, the client
    // waits a margin longer for the server's own error (it reports the timeout better); beyond
    // that the server or the network is not answering. Where it does not (IRIS), the client ends it.
    const timeout = config.statementTimeout;
    const margin = config.serverTimeout ? Math.max(1000, Math.round(timeout / 2)) : 0;
    const deadline = timeout > 0 ? timeout + margin : 0;
    const hosts = config.hosts?.length ? config.hosts : [{ host: config.host, port: config.port }];
    const attrs = config.targetSessionAttrs ?? "any";
    const roleSql = config.roleSql ?? "SELECT false AS in_recovery, false AS read_only";
    this.hosts = new HostSelector(hosts, attrs, (ep) => probeRole(driverOptions, ep, roleSql));
    const where = () => endpointLabel(this.hosts.last);
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
            ? `No answer from the server at ${where()} within ${deadline} ms (statementTimeout ${timeout} ms plus ` +
              `${margin} ms for the server's own timeout to arrive); the statement's connection was closed`
            : `The statement ran longer than statementTimeout (${timeout} ms); it was cancelled and its connection closed`,
        ),
      abandonedError: () =>
        new ConnectionError(
          `Could not use the database connection to ${where()}: closed because a statement on it got no answer ` +
            `within ${deadline} ms [CONNECTION_DESTROYED]`,
          { host: this.hosts.last.host, port: this.hosts.last.port, code: "CONNECTION_DESTROYED" },
        ),
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
      timeoutError: (ms) => this.#poolTimeout(ms),
      cancelledError: () => new QueryCancelledError("Cancelled while waiting for a connection"),
      endedError: ended,
      lostError: () => this.#fail(connectionClosed(), ""),
    });
  }

  run(text: string, params: readonly unknown[], options?: RunOptions): Promise<RawResult>;
  run<T>(text: string, params: readonly unknown[], options: RunOptions, reply: Reply<T>): Promise<T>;
  run<T>(text: string, params: readonly unknown[], options: RunOptions = {}, reply?: Reply<T>): Promise<T | RawResult> {
    return dispatch(this.#pool, text, params, options, this.#prepare(options), this.#fail, reply, 0);
  }

  async *stream(
    text: string,
    params: readonly unknown[],
    batchSize: number,
    options: RunOptions = {},
  ): AsyncGenerator<Record<string, unknown>[]> {
    // A cursor holds its connection until the caller finishes reading: nothing else may queue behind it.
    const link = this.#pool.now("solo") ?? await this.#pool.acquire("solo", options.signal);
    try {
      yield* streamQuery(link, text, params, batchSize, options, this.#prepare(options), this.#fail);
    } catch (error) {
      if (error instanceof ConnectionError) this.#pool.drop(link);
      throw error;
    } finally {
      if (options.signal?.aborted) this.#pool.drop(link);
      this.#pool.done(link);
    }
  }

  async reserve(options: { signal?: AbortSignal } = {}): Promise<ReservedConnection> {
    // With prePing, a connection that fails the ping is dropped and another taken;
    // each dead one fails once, so max + 1 tries suffice.
    for (let attempt = 0;; attempt++) {
      const link = await this.#pool.acquire("reserve", options.signal);
      const conn = new PostgresJsReserved(link, this.#pool, this.#fail);
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

  #prepare(options: RunOptions): boolean {
    return options.prepare ?? this.#config.prepare;
  }

  /** Turn a driver error into an irisql error. */
  #fail = (error: unknown, sql: string): IrisqlError => {
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

  get fail(): (error: unknown, sql: string) => IrisqlError {
    return this.#fail;
  }

  stats(): PoolStats {
    return { max: this.#config.max, reserved: this.#pool.held, waiting: this.#pool.waiting };
  }

  /** The host new connections now go to ("host:port"), and how often the hosts were asked. */
  host(): { host: string; resolutions: number } {
    return { host: endpointLabel(this.hosts.last), resolutions: this.hosts.resolutions };
  }

  close(): Promise<void> {
    return this.#pool.close();
  }
}

/**
 * Hand a pooled statement to a link with room now, else wait for one. `tries`
 * counts earlier links that died before sending it (see send()).
 */
function dispatch<T>(
  pool: LinkPool,
  text: string,
  params: readonly unknown[],
  options: RunOptions,
  prepare: boolean,
  fail: (e: unknown, sql: string) => IrisqlError,
  reply: Reply<T> | undefined,
  tries: number,
): Promise<T | RawResult> {
  if (options.signal) {
    // A cancellable statement runs alone: a cancel request stops whatever its connection runs.
    const link = pool.now("solo");
    if (link) return send(link, pool, true, text, params, options, prepare, fail, reply, tries);
    return pool.acquire("solo", options.signal).then(
      (l) => send(l, pool, true, text, params, options, prepare, fail, reply, tries),
      (error) => (reply ? reply.fail(error) : Promise.reject(error)),
    );
  }
  const link = pool.now("shared");
  if (link) return send(link, pool, true, text, params, options, prepare, fail, reply, tries);
  return new Promise((resolve, reject) => {
    pool.queue(new QueuedStatement(pool, text, params, options, prepare, fail, reply, resolve, reject, tries));
  });
}

/** A pooled statement waiting for a connection with room; the pool sends it when one has. */
class QueuedStatement<T> implements Waiter {
  readonly use = "shared" as const;

  constructor(
    readonly pool: LinkPool,
    readonly text: string,
    readonly params: readonly unknown[],
    readonly options: RunOptions,
    readonly prepare: boolean,
    readonly failWith: (e: unknown, sql: string) => IrisqlError,
    readonly reply: Reply<T> | undefined,
    readonly resolve: (value: T | RawResult) => void,
    readonly reject: (error: unknown) => void,
    readonly tries: number,
  ) {}

  grant(link: Link): void {
    send(
      link,
      this.pool,
      true,
      this.text,
      this.params,
      this.options,
      this.prepare,
      this.failWith,
      this.reply,
      this.tries,
    ).then(this.resolve, this.reject);
  }

  fail(error: IrisqlError): void {
    if (this.reply) this.reply.fail(error).then(this.resolve, this.reject);
    else this.reject(error);
  }
}

/**
 * One connection held by a session, transaction or connect(). Once its socket
 * closed, every call fails fast: the driver would otherwise reconnect and run the
 * rest of a transaction on a new session, in autocommit.
 */
class PostgresJsReserved implements ReservedConnection {
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
    // After release the link may already serve someone else: nothing more goes out on it.
    if (this.#released) {
      return new SessionClosedError("This connection was released and can no longer be used; reserve a new one");
    }
    if (!this.#link.dead) return undefined;
    return this.#pool.closed ? new EngineDisposedError() : this.#fail(connectionClosed(), "");
  }

  /** A connection failure ends this connection for good; the error goes on to the caller. */
  #noteFailure = (error: unknown): never => {
    if (error instanceof ConnectionError) this.#pool.drop(this.#link);
    throw error;
  };

  run(text: string, params: readonly unknown[], options?: RunOptions): Promise<RawResult>;
  run<T>(text: string, params: readonly unknown[], options: RunOptions, reply: Reply<T>): Promise<T>;
  run<T>(text: string, params: readonly unknown[], options: RunOptions = {}, reply?: Reply<T>): Promise<T | RawResult> {
    const gone = this.#gone();
    if (gone) return reply ? reply.fail(gone) : Promise.reject(gone);
    return send(this.#link, this.#pool, false, text, params, options, options.prepare ?? true, this.#fail, reply);
  }

  async *stream(
    text: string,
    params: readonly unknown[],
    batchSize: number,
    options: RunOptions = {},
  ): AsyncGenerator<Record<string, unknown>[]> {
    const gone = this.#gone();
    if (gone) throw gone;
    try {
      yield* streamQuery(this.#link, text, params, batchSize, options, options.prepare ?? true, this.#fail);
    } catch (error) {
      this.#noteFailure(error);
    }
  }

  async pipeline(
    statements: readonly { text: string; params: readonly unknown[] }[],
    options: RunOptions = {},
  ): Promise<RawResult[]> {
    const gone = this.#gone();
    if (gone) throw gone;
    const prepare = options.prepare ?? true;
    // All sent before the first answer is awaited.
    const settled = await Promise.allSettled(
      statements.map((s) => send(this.#link, this.#pool, false, s.text, s.params, options, prepare, this.#fail)),
    );
    // The first failure is the cause; later ones are usually "transaction aborted". send()
    // already dropped the link if the connection failed.
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
        // Still answering, or the last bytes were no ReadyForQuery: its state cannot be known.
        drop = true;
      } else if (status !== TX_IDLE || resetSql) {
        // Idle after irisql's own COMMIT/ROLLBACK costs nothing; otherwise one round trip.
        // TX_UNSEEN (TLS: the driver reads another socket) always gets the ROLLBACK.
        const rollback = status !== TX_IDLE;
        const text = rollback ? (resetSql ? "ROLLBACK; " + resetSql : "ROLLBACK") : resetSql!;
        try {
          await send(link, this.#pool, false, text, [], SIMPLE, true, this.#fail);
          drop = link.txStatus !== TX_IDLE && link.txStatus !== TX_UNSEEN;
        } catch {
          drop = true;
        }
      }
    }
    if (drop) this.#pool.drop(link);
    this.#pool.release(link);
  }
}

// --- helpers shared by the pool and reserved connections -------------------

// The driver copies these into each query's own options.
const PREPARED = Object.freeze({ prepare: true });
const UNPREPARED = Object.freeze({ prepare: false });
const SIMPLE: RunOptions = Object.freeze({ simple: true });

function start(
  link: Link,
  text: string,
  params: readonly unknown[],
  options: RunOptions,
  prepare: boolean,
): PendingQuery {
  // Not .execute(): the caller's `then` starts the query, and each start costs an async step.
  return options.simple && params.length === 0
    ? link.sql.unsafe(text).simple()
    : link.sql.unsafe(text, params as unknown[], prepare && link.prepares(text) ? PREPARED : UNPREPARED);
}

/**
 * Links that may die under one pooled statement before it is sent. Each retry is
 * safe (the statement never left the client); the bound stops a server that drops
 * every new connection from looping.
 */
const MAX_RESENDS = 2;

/**
 * Send one statement on `link` and settle it: a pooled statement gives its link
 * back, a connection failure drops the link, and `reply` (the caller's handling)
 * runs in the same reaction. One `then` per statement on the hot path (bench/).
 * A pooled statement whose link died before the driver wrote it (it was still in
 * the driver's queue: the driver sets `state` when it hands a query to the socket)
 * goes to another link; anything the driver may have written fails.
 */
function send<T>(
  link: Link,
  pool: LinkPool,
  pooled: boolean,
  text: string,
  params: readonly unknown[],
  options: RunOptions,
  prepare: boolean,
  fail: (e: unknown, sql: string) => IrisqlError,
  reply?: Reply<T>,
  tries = 0,
): Promise<T | RawResult> {
  if (options.signal?.aborted) {
    return sendFailed(cancelled(options.signal), link, pool, pooled, text, options, fail, reply);
  }
  let query: PendingQuery;
  try {
    query = start(link, text, params, options, prepare);
  } catch (error) {
    return sendFailed(error, link, pool, pooled, text, options, fail, reply);
  }
  if (link.pending.length === 0) pool.headStarted(link);
  link.pending.push(query);
  const answer = options.signal ? withSignal(query, options.signal) : query;
  return answer.then((result: Sql) => {
    settled(pool, link, query);
    link.ready = true;
    if (pooled) pool.done(link);
    const raw = toRaw(result);
    return reply ? reply.ok(raw) : raw;
  }, (error: unknown) => {
    settled(pool, link, query);
    const e = error instanceof IrisqlError ? error : fail(error, text);
    if (pooled && query.state == null && e instanceof ConnectionError && unsentMayMove(link, pool, options, tries)) {
      pool.drop(link);
      pool.done(link);
      return dispatch(pool, text, params, options, prepare, fail, reply, tries + 1);
    }
    return sendFailed(e, link, pool, pooled, text, options, fail, reply);
  });
}

/** `query` left the link: the next one in line starts to run (the deadline's clock). */
function settled(pool: LinkPool, link: Link, query: PendingQuery): void {
  if (link.pending.first === query) {
    link.pending.shift();
    pool.headStarted(link);
  } else {
    link.pending.remove(query);
  }
}

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

/**
 * Whether a statement its dead link never sent goes to another one. Not when the
 * link never got to run anything and no other has (the server is unreachable:
 * say so now rather than after more connect attempts).
 */
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
  // After a cancel request the connection is retired: the request may still be on its way
  // and would stop whatever statement the connection runs next.
  if (e instanceof ConnectionError || (pooled && options.signal?.aborted)) pool.drop(link);
  if (pooled) pool.done(link);
  return reply ? reply.fail(e) : Promise.reject(e);
}

/** The driver's answer, with the query cancelled on the server when `signal` aborts. */
async function withSignal(query: PendingQuery, signal: AbortSignal): Promise<Sql> {
  const onAbort = () => query.cancel();
  signal.addEventListener("abort", onAbort, { once: true });
  try {
    return await query;
  } catch (error) {
    if (signal.aborted) throw cancelled(signal, error);
    throw error;
  } finally {
    signal.removeEventListener("abort", onAbort);
  }
}

async function* streamQuery(
  link: Link,
  text: string,
  params: readonly unknown[],
  batchSize: number,
  options: RunOptions,
  prepare: boolean,
  fail: (e: unknown, sql: string) => IrisqlError,
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

function cancelled(signal: AbortSignal, cause?: unknown): QueryCancelledError {
  const reason = signal.reason instanceof Error ? `: ${signal.reason.message}` : "";
  return new QueryCancelledError(`The query was cancelled by its AbortSignal${reason}`, {
    cause: cause ?? signal.reason,
  });
}

/** Remove a password from text, in case a server ever echoes one. */
export function redact(text: string, password: string): string {
  return password ? text.split(password).join("***") : text;
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
