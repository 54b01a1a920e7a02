/**
 * postgres.js adapter: the network path on Deno, Bun and Node, for PostgreSQL
 * and for IRIS through iris-pgwire. It maps irisql's pool options onto the
 * driver, adds what the driver lacks (acquire timeout, pre-ping, cancellation
 * by AbortSignal), and turns driver errors into irisql errors.
 */
import postgres from "postgres";
import {
  ConnectionError,
  type IrisqlError,
  PoolTimeoutError,
  QueryCancelledError,
} from "../errors.ts";
import type {
  Adapter,
  AdapterContext,
  ColumnInfo,
  PoolStats,
  RawResult,
  ReservedConnection,
  RunOptions,
} from "./adapter.ts";
import { PARSERS } from "./types.ts";

export interface PostgresJsConfig {
  host: string;
  port: number;
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
  /** Startup parameters (application_name, TimeZone, statement_timeout...). */
  connection: Record<string, string>;
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
  #sql: Sql;
  #ctx: AdapterContext;
  #config: PostgresJsConfig;
  #reserved = 0;
  #waiting = 0;
  #closed = false;

  constructor(config: PostgresJsConfig, ctx: AdapterContext) {
    this.#config = config;
    this.#ctx = ctx;
    const seconds = (ms: number) => (ms > 0 ? ms / 1000 : 0);
    // deno-lint-ignore no-explicit-any
    this.#sql = (postgres as any)({
      host: config.host,
      port: config.port,
      database: config.database,
      username: config.user,
      password: config.password,
      ssl: config.ssl,
      max: config.max,
      idle_timeout: config.idleTimeout > 0 ? seconds(config.idleTimeout) : null,
      max_lifetime: config.maxLifetime > 0 ? seconds(config.maxLifetime) : null,
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
    });
  }

  run(text: string, params: readonly unknown[], options: RunOptions = {}): Promise<RawResult> {
    if (this.#reserved >= this.#config.max) return this.#runWhenFree(text, params, options);
    return execute(this.#sql, text, params, options, this.#prepare(options), this.#fail);
  }

  /** Every connection is held: the query waits in the driver's queue; bound that wait. */
  async #runWhenFree(text: string, params: readonly unknown[], options: RunOptions): Promise<RawResult> {
    this.#waiting++;
    let timedOut = false;
    let timer: ReturnType<typeof setTimeout> | undefined;
    const query = start(this.#sql, text, params, options, this.#prepare(options));
    const ms = this.#ctx.acquireTimeout;
    if (ms > 0) {
      timer = setTimeout(() => {
        // Not yet handed to a connection: take it out of the queue.
        if (!query.state) {
          timedOut = true;
          query.cancel();
        }
      }, ms);
    }
    try {
      return await finish(query, text, options, this.#fail);
    } catch (error) {
      if (timedOut) throw this.#poolTimeout(ms);
      throw error;
    } finally {
      clearTimeout(timer);
      this.#waiting--;
    }
  }

  async *stream(
    text: string,
    params: readonly unknown[],
    batchSize: number,
    options: RunOptions = {},
  ): AsyncGenerator<Record<string, unknown>[]> {
    yield* streamQuery(this.#sql, text, params, batchSize, options, this.#prepare(options), this.#fail);
  }

  async reserve(options: { signal?: AbortSignal } = {}): Promise<ReservedConnection> {
    if (this.#closed) throw this.#fail(Object.assign(new Error("ended"), { code: "CONNECTION_ENDED" }), "");
    options.signal?.throwIfAborted?.();
    this.#waiting++;
    let reserved: Sql;
    try {
      reserved = await this.#reserveWithin(this.#ctx.acquireTimeout, options.signal);
    } finally {
      this.#waiting--;
    }
    this.#reserved++;
    const conn = new PostgresJsReserved(reserved, this, () => this.#reserved--);
    if (this.#ctx.prePing) {
      try {
        await conn.run("SELECT 1", [], { simple: true });
      } catch {
        // A dead socket: postgres.js reconnects on the next query; try once more.
        await conn.run("SELECT 1", [], { simple: true }).catch(async (error) => {
          await conn.release(true);
          throw error;
        });
      }
    }
    return conn;
  }

  #reserveWithin(ms: number, signal?: AbortSignal): Promise<Sql> {
    const pending: Promise<Sql> = this.#sql.reserve();
    if (!(ms > 0) && !signal) return pending.catch((e: unknown) => Promise.reject(this.#fail(e, "")));
    return new Promise((resolve, reject) => {
      let settled = false;
      const giveUp = (error: IrisqlError) => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        signal?.removeEventListener("abort", onAbort);
        // The driver cannot withdraw a reserve request; hand the connection back when it comes.
        pending.then((r: Sql) => r.release(), () => {});
        reject(error);
      };
      const onAbort = () => giveUp(new QueryCancelledError("Cancelled while waiting for a connection"));
      const timer = ms > 0 ? setTimeout(() => giveUp(this.#poolTimeout(ms)), ms) : undefined;
      signal?.addEventListener("abort", onAbort, { once: true });
      pending.then(
        (r: Sql) => {
          if (settled) return;
          settled = true;
          clearTimeout(timer);
          signal?.removeEventListener("abort", onAbort);
          resolve(r);
        },
        (e: unknown) => giveUp(this.#fail(e, "")),
      );
    });
  }

  #poolTimeout(ms: number): PoolTimeoutError {
    return new PoolTimeoutError(
      `No connection became free within ${ms} ms (pool max ${this.#config.max}, ${this.#reserved} held by sessions/transactions). ` +
        "Release sessions sooner, raise pool.max, or raise pool.acquireTimeout.",
    );
  }

  #prepare(options: RunOptions): boolean {
    return options.prepare ?? this.#config.prepare;
  }

  /** Turn a driver error into an irisql error. */
  #fail = (error: unknown, sql: string): IrisqlError => {
    const e = error as { code?: string; name?: string; message?: string; severity?: string };
    const where = `${this.#config.host}:${this.#config.port}`;
    if (e?.code && CONNECTION_CODES.has(e.code)) {
      const reason = REASONS[e.code] ?? e.code;
      return new ConnectionError(
        `Could not use the database connection to ${where}: ${reason} [${e.code}]`,
        { host: this.#config.host, port: this.#config.port, code: e.code, cause: error },
      );
    }
    if (e?.name === "PostgresError" && e.code && e.code in CONNECTION_SQLSTATES) {
      return new ConnectionError(
        `Could not use the database connection to ${where} as user "${this.#config.user}": ${
          CONNECTION_SQLSTATES[e.code]
        } [${e.code}] ${redact(e.message ?? "", this.#config.password)}`,
        { host: this.#config.host, port: this.#config.port, code: e.code, cause: error },
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
    return this.#ctx.mapError({ message: redact(e?.message ?? String(error), this.#config.password), cause: error }, sql);
  };

  get fail(): (error: unknown, sql: string) => IrisqlError {
    return this.#fail;
  }

  stats(): PoolStats {
    return { max: this.#config.max, reserved: this.#reserved, waiting: this.#waiting };
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    await this.#sql.end({ timeout: 5 });
  }
}

class PostgresJsReserved implements ReservedConnection {
  #sql: Sql;
  #owner: PostgresJsAdapter;
  #onRelease: () => void;
  #released = false;

  constructor(sql: Sql, owner: PostgresJsAdapter, onRelease: () => void) {
    this.#sql = sql;
    this.#owner = owner;
    this.#onRelease = onRelease;
  }

  run(text: string, params: readonly unknown[], options: RunOptions = {}): Promise<RawResult> {
    return execute(this.#sql, text, params, options, options.prepare ?? true, this.#owner.fail);
  }

  async *stream(
    text: string,
    params: readonly unknown[],
    batchSize: number,
    options: RunOptions = {},
  ): AsyncGenerator<Record<string, unknown>[]> {
    yield* streamQuery(this.#sql, text, params, batchSize, options, options.prepare ?? true, this.#owner.fail);
  }

  async pipeline(
    statements: readonly { text: string; params: readonly unknown[] }[],
    options: RunOptions = {},
  ): Promise<RawResult[]> {
    const prepare = options.prepare ?? true;
    const queries = statements.map((s) => start(this.#sql, s.text, s.params, options, prepare));
    const settled = await Promise.allSettled(
      queries.map((q, i) => finish(q, statements[i].text, options, this.#owner.fail)),
    );
    const failures = settled.filter((s): s is PromiseRejectedResult => s.status === "rejected");
    if (failures.length > 0) {
      // The first failure is the cause; later ones are usually "transaction aborted".
      throw failures[0].reason;
    }
    return settled.map((s) => (s as PromiseFulfilledResult<RawResult>).value);
  }

  release(_broken?: boolean): Promise<void> {
    if (!this.#released) {
      this.#released = true;
      this.#sql.release();
      this.#onRelease();
    }
    return Promise.resolve();
  }
}

// --- helpers shared by the pool and reserved connections -------------------

function start(sql: Sql, text: string, params: readonly unknown[], options: RunOptions, prepare: boolean): PendingQuery {
  const query = options.simple && params.length === 0
    ? sql.unsafe(text).simple()
    : sql.unsafe(text, params as unknown[], { prepare });
  return query.execute();
}

function execute(
  sql: Sql,
  text: string,
  params: readonly unknown[],
  options: RunOptions,
  prepare: boolean,
  fail: (e: unknown, sql: string) => IrisqlError,
): Promise<RawResult> {
  if (options.signal?.aborted) return Promise.reject(cancelled(options.signal));
  return finish(start(sql, text, params, options, prepare), text, options, fail);
}

async function finish(
  query: PendingQuery,
  text: string,
  options: RunOptions,
  fail: (e: unknown, sql: string) => IrisqlError,
): Promise<RawResult> {
  const signal = options.signal;
  const onAbort = signal ? () => query.cancel() : undefined;
  if (signal) signal.addEventListener("abort", onAbort!, { once: true });
  try {
    return toRaw(await query);
  } catch (error) {
    if (signal?.aborted) throw cancelled(signal, error);
    throw fail(error, text);
  } finally {
    if (signal) signal.removeEventListener("abort", onAbort!);
  }
}

async function* streamQuery(
  sql: Sql,
  text: string,
  params: readonly unknown[],
  batchSize: number,
  options: RunOptions,
  prepare: boolean,
  fail: (e: unknown, sql: string) => IrisqlError,
): AsyncGenerator<Record<string, unknown>[]> {
  if (options.signal?.aborted) throw cancelled(options.signal);
  const query = sql.unsafe(text, params as unknown[], { prepare });
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

function toRaw(result: Sql): RawResult {
  const columns: ColumnInfo[] = result.columns
    ? result.columns.map((c: { name: string; type: number }) => ({ name: c.name, typeOid: c.type }))
    : [];
  // A plain array: the driver's Result also carries connection state (pid, cancel key).
  return { rows: Array.from(result as Record<string, unknown>[]), columns, command: result.command ?? "", count: result.count ?? null };
}

function cancelled(signal: AbortSignal, cause?: unknown): QueryCancelledError {
  const reason = signal.reason instanceof Error ? `: ${signal.reason.message}` : "";
  return new QueryCancelledError(`The query was cancelled by its AbortSignal${reason}`, { cause: cause ?? signal.reason });
}

/** Remove a password from text, in case a server ever echoes one. */
export function redact(text: string, password: string): string {
  return password ? text.split(password).join("***") : text;
}
