/**
 * createEngine(): a URL becomes a dialect, an adapter and a pool. The Engine
 * is the entry point for everything else.
 */
import type { Adapter, AdapterContext } from "./adapters/adapter.ts";
import { PGliteAdapter } from "./adapters/pglite.ts";
import { PostgresJsAdapter } from "./adapters/postgresjs.ts";
import { BunSqlAdapter, type BunSqlConfig } from "./adapters/bun-sql.ts";
import { runtime } from "./adapters/runtime.ts";
import { type EngineOptions, passwordOf, resolveConfig, type ResolvedConfig } from "./config.ts";
import { Connection } from "./connection.ts";
import type { BeginOptions, Dialect } from "./dialects/dialect.ts";
import { closedError, type EngineContext, Executor } from "./executor.ts";
import { refuseControl } from "./control-statements.ts";
import { inTransaction, requireTransactions, type Transaction } from "./transaction.ts";
import { createAll, type CreateOptions, dropAll, hasTable, introspect, type TableInfo } from "./metadata.ts";
import type { AnyTable } from "./schema.ts";
import { Session, type SessionHost, type SessionOptions } from "./session.ts";
import type { NetworkTarget } from "./config.ts";
import type { ExecuteOptions, QueryInput, StreamOptions } from "./executor.ts";
import type { Result, Row } from "./result.ts";
import { type HostReport, ReplicaReads, ReplicaRunner, ReplicaSet } from "./routing.ts";

export type { HostReport };

/** engine.execute()/stream() options: `replica: true` says the statement only reads (see EngineOptions.replicas). */
export interface ReadOptions {
  /** Send it to a healthy read replica if there is one (the statement must only read). */
  replica?: boolean;
}
import { migrate, type MigrateOptions, type MigrateResult } from "./migrate/runner.ts";

/** What `engine.stats()` reports: a snapshot, cheap to take, with no secrets. */
export interface EngineStats {
  /** The dialect's name: "iris" or "postgres" (PGlite speaks the "postgres" dialect). */
  dialect: string;
  /** Which adapter carries the statements: "postgresjs", "bun-sql" (Bun's SQL client) or "pglite". */
  adapter: string;
  /** The JavaScript runtime and its version, such as "node 22.1.0". */
  runtime: string;
  /** Connection limit, connections held by sessions, transactions and connect(), and callers waiting for one. */
  pool: { max: number; reserved: number; waiting: number };
  /** Statements run since the engine was created. */
  queries: number;
  /** Statements that failed since the engine was created. */
  errors: number;
  /** Network engines: the primary (the host its connections now go to), then each read replica. */
  hosts?: HostReport[];
}

/** What `engine.health()` reports; it never throws. */
export interface HealthReport {
  /** The database answered `SELECT 1`. */
  ok: boolean;
  /** The dialect's name: "iris" or "postgres". */
  dialect: string;
  /** How long the check took, in milliseconds. */
  latencyMs: number;
  /** Why it is not ok (no secrets). */
  error?: string;
  /** Network engines: the primary, then each read replica (checked now). `ok` is the primary's. */
  hosts?: HostReport[];
}

/**
 * A database: its dialect, its connection pool and everything that runs on
 * them. Make one with {@linkcode createEngine}; nothing connects until the
 * first statement. On it: raw statements (`execute`, `stream`), transactions
 * (`begin`), a held connection (`connect`), units of work with typed CRUD
 * (`session`), DDL (`createAll`, `dropAll`), `introspect`, `health`,
 * `stats`, and `dispose()` (or `await using`) to close the pool. Every
 * method may be called concurrently.
 *
 * @example An engine's life
 * ```ts
 * import { createEngine, sql } from "irisql";
 *
 * await using engine = createEngine("pglite://memory"); // disposed at the end of the block
 * await engine.execute("CREATE TABLE notes (id int PRIMARY KEY, body text)");
 * await engine.begin(async (tx) => {
 *   await tx.execute(sql`INSERT INTO notes VALUES (${1}, ${"hello"})`);
 * });
 * console.log((await engine.execute("SELECT count(*)::int AS n FROM notes")).scalar()); // 1
 * console.log((await engine.health()).ok, engine.stats().queries > 0); // true true
 * ```
 */
export class Engine extends Executor {
  /** The URL with the password shown as ***. */
  readonly url: string;
  /** The configuration resolved from the URL and options: every default filled in, the password out of reach. */
  readonly config: ResolvedConfig;
  readonly #adapter: Adapter;
  /** Read replicas, when configured. */
  readonly #replicas: ReplicaSet | undefined;
  /** Where provable reads go: a replica in the rotation, else the pool. */
  readonly #reads: Executor;
  #disposed = false;
  #disposing: Promise<void> | undefined;

  /** An engine for a resolved configuration; `createEngine()` resolves one from a URL and builds it. */
  constructor(config: ResolvedConfig) {
    const ctx: EngineContext = {
      dialect: config.dialect,
      config,
      counters: { queries: 0, errors: 0 },
    };
    const adapter = makeAdapter(config);
    super(ctx, adapter);
    this.#adapter = adapter;
    this.url = config.redactedUrl;
    this.config = config;
    if (config.replicas.length > 0) {
      const replicas = config.replicas.map(({ target }) => ({
        label: hostLabel(target),
        adapter: makeAdapter(config, target),
      }));
      this.#replicas = new ReplicaSet(adapter, replicas, config.dialect.wire.replication, config.maxReplicaLagMs);
      this.#reads = new ReplicaReads(ctx, new ReplicaRunner(this.#replicas, adapter), () => this.guard());
    } else {
      this.#replicas = undefined;
      this.#reads = this;
    }
  }

  /**
   * Run one statement (see Executor.execute). With `{ replica: true }` the caller says it only
   * reads: it goes to a read replica in the rotation, if any (else the primary).
   */
  override execute<R = Row>(
    query: QueryInput,
    params?: unknown,
    options?: ExecuteOptions & ReadOptions,
  ): Promise<Result<R>> {
    if (options?.replica && this.#reads !== this) return this.#reads.execute<R>(query, params, options);
    return super.execute<R>(query, params, options);
  }

  /** Rows in batches (see Executor.stream); `{ replica: true }` as for execute(). */
  override stream<R = Row>(
    query: QueryInput,
    params?: unknown,
    options: StreamOptions & ReadOptions = {},
  ): AsyncGenerator<R[]> {
    if (options.replica && this.#reads !== this) return this.#reads.stream<R>(query, params, options);
    return super.stream<R>(query, params, options);
  }

  /** @internal Throws EngineDisposedError once `dispose()` was called. */
  protected override guard(): void {
    if (this.#disposed) throw closedError("engine");
  }

  /**
   * @internal Refuses transaction and session-state statements (BEGIN, SET...) on the pool: use begin(), session()
   * or connect().
   */
  protected override admit(text: string): void {
    refuseControl(text, "pool");
  }

  /** The dialect the URL chose: how SQL is spelled and server errors are read. */
  override get dialect(): Dialect {
    return this.ctx.dialect;
  }

  /** What its sessions get: the context, the pool for reads, and reservations. */
  readonly #host: SessionHost = {
    ctx: this.ctx,
    pool: this,
    reader: () => this,
    reserve: () => this.adapter.reserve(),
  };

  /**
   * A session's host. With read replicas, its own: reads go to a replica until the session
   * first reserves a connection (its first write, or any statement with an isolation level),
   * then to the primary for the rest of its life (read-your-writes, also after commit).
   */
  #sessionHost(): SessionHost {
    if (this.#reads === this) return this.#host;
    let wrote = false;
    return {
      ctx: this.ctx,
      pool: this,
      reader: () => (wrote ? this : this.#reads),
      reserve: () => {
        wrote = true;
        return this.adapter.reserve();
      },
    };
  }

  /** @internal */
  get adapter(): Adapter {
    this.guard();
    return this.#adapter;
  }

  /**
   * Run `fn` in a transaction: COMMIT when it returns, ROLLBACK (and rethrow)
   * when it throws. Use the `tx` it receives for every statement inside.
   */
  async begin<T>(
    fn: (tx: Transaction) => Promise<T> | T,
    options?: BeginOptions & { signal?: AbortSignal },
  ): Promise<T> {
    this.guard();
    requireTransactions(this.ctx, "begin()");
    const conn = await this.#adapter.reserve({ signal: options?.signal });
    try {
      return await inTransaction(this.ctx, conn, fn, options);
    } finally {
      await conn.release();
    }
  }

  /** Hold one connection until `release()` (also `await using`). */
  async connect(options?: { signal?: AbortSignal }): Promise<Connection> {
    this.guard();
    return new Connection(this.ctx, await this.#adapter.reserve(options));
  }

  /**
   * A Session (unit of work with typed CRUD).
   *   await engine.session(async (s) => { ... })   // commit on return, rollback on throw
   *   const s = engine.session(); ...; await s.commit(); await s.close();
   */
  session(options?: SessionOptions): Session;
  /**
   * Run `fn` in a new session: commit when it returns, roll back (and rethrow)
   * when it throws; the session is closed either way. Resolves to what `fn` returns.
   *
   * @example
   * ```ts
   * import { col, createEngine, table } from "irisql";
   *
   * const docs = table("docs", { id: col.bigint().primaryKey().generated(), title: col.text().notNull() });
   * await using engine = createEngine("pglite://memory");
   * await engine.createAll([docs]);
   * const saved = await engine.session((s) => s.insert(docs, { title: "hello" }));
   * console.log(saved); // { id: 1, title: "hello" }
   * ```
   */
  session<T>(fn: (s: Session) => Promise<T> | T, options?: SessionOptions): Promise<T>;
  session<T>(
    fnOrOptions?: ((s: Session) => Promise<T> | T) | SessionOptions,
    options?: SessionOptions,
  ): Session | Promise<T> {
    if (typeof fnOrOptions === "function") {
      // The callback form answers with a promise, so a disposed engine rejects it rather than throwing.
      try {
        this.guard();
      } catch (error) {
        return Promise.reject(error);
      }
      return new Session(this.#sessionHost(), options).runUnit(fnOrOptions);
    }
    this.guard();
    return new Session(this.#sessionHost(), fnOrOptions);
  }

  /** CREATE TABLE (and indexes) in foreign-key order; `checkfirst` skips what exists. */
  async createAll(tables: readonly AnyTable[], options?: CreateOptions): Promise<void> {
    this.guard();
    return await createAll(this, this.config.schema, tables, options);
  }

  /** DROP TABLE in reverse foreign-key order; `checkfirst` skips what is missing. */
  async dropAll(tables: readonly AnyTable[], options?: CreateOptions): Promise<void> {
    this.guard();
    return await dropAll(this, this.config.schema, tables, options);
  }

  /** Does the table exist (in `schema`, default the engine's)? */
  async hasTable(name: string, schema?: string): Promise<boolean> {
    this.guard();
    return await hasTable(this, schema ?? this.config.schema, name);
  }

  /** Tables, columns, primary keys and indexes, from INFORMATION_SCHEMA. */
  async introspect(schema?: string): Promise<{ tables: TableInfo[] }> {
    this.guard();
    return await introspect(this, schema ?? this.config.schema);
  }

  /**
   * Apply the folder's pending migrations in name order, under a lock, recorded in a history
   * table (see src/migrate/runner.ts). `dryRun` returns what would run.
   */
  async migrate(options: MigrateOptions): Promise<MigrateResult> {
    this.guard();
    return await migrate(this, options);
  }

  /** Can the database answer? With read replicas, each is checked now too. Never throws. */
  async health(): Promise<HealthReport> {
    const started = performance.now();
    let report: HealthReport;
    try {
      this.guard();
      await this.run("SELECT 1", [], { prepare: false });
      report = { ok: true, dialect: this.ctx.dialect.name, latencyMs: performance.now() - started };
    } catch (error) {
      report = {
        ok: false,
        dialect: this.ctx.dialect.name,
        latencyMs: performance.now() - started,
        error: error instanceof Error ? `${error.name}: ${error.message}` : String(error),
      };
    }
    if (this.#replicas && !this.#disposed) await this.#replicas.check().catch(() => {});
    const hosts = this.#hostReports(report.error);
    return hosts ? { ...report, hosts } : report;
  }

  /** Pool and statement counters, and what the engine runs on. */
  stats(): EngineStats {
    const hosts = this.#hostReports();
    return {
      dialect: this.ctx.dialect.name,
      adapter: this.#adapter.kind,
      runtime: `${runtime.name} ${runtime.version}`,
      pool: this.#adapter.stats(),
      queries: this.ctx.counters.queries,
      errors: this.ctx.counters.errors,
      ...(hosts ? { hosts } : {}),
    };
  }

  /** The primary and each replica, for network engines. */
  #hostReports(primaryError?: string): HostReport[] | undefined {
    const adapter = this.#adapter;
    if (!(adapter instanceof PostgresJsAdapter)) return undefined;
    const { host, resolutions } = adapter.host();
    const primary: HostReport = {
      role: "primary",
      host,
      pool: adapter.stats(),
      ...(adapter.hosts.trivial ? {} : { resolutions }),
      ...(primaryError ? { error: primaryError } : {}),
    };
    return [primary, ...(this.#replicas?.reports() ?? [])];
  }

  /**
   * Close every connection, gracefully: calls made after it are SessionClosedError, while
   * statements already accepted (running, queued, or waiting for a first connection) finish.
   * Sessions, transactions and connect() still holding a connection get up to 5 s
   * (DISPOSE_GRACE_MS) to finish and release; then their connections are closed. Resolves
   * once everything is closed. With a network URL, open connections keep the process alive
   * until this is called (or until pool.idleTimeout closes them). Safe to call twice.
   */
  dispose(): Promise<void> {
    this.#disposed = true;
    this.#disposing ??= Promise.all([this.#adapter.close(), this.#replicas?.close()]).then(() => {});
    return this.#disposing;
  }

  /** `dispose()`, for `await using engine = createEngine(…)`. */
  [Symbol.asyncDispose](): Promise<void> {
    return this.dispose();
  }
}

/**
 * Create an engine from a URL:
 *   createEngine("postgres://user:pass@127.0.0.1:5432/app")
 *   createEngine("iris://_SYSTEM:SYS@127.0.0.1:5432/USER")
 *   createEngine("pglite://memory")
 * Nothing connects until the first query. A malformed URL or option is a
 * ConfigError that says what is accepted and never shows the password; a
 * `pglite:` URL without `@electric-sql/pglite` installed is a DriverMissingError
 * at the first statement. Options may also come in the query string
 * (`?max=5&prepare=false&schema=app`).
 *
 * @example
 * ```ts
 * import { createEngine, text } from "irisql";
 *
 * const engine = createEngine("pglite://memory"); // or postgres://…, or iris://…
 * const r = await engine.execute(text("SELECT :a::int + :b::int AS s"), { a: 1, b: 2 });
 * console.log("1 + 2 =", r.scalar()); // 1 + 2 = 3
 * await engine.dispose();
 * ```
 */
export function createEngine(url: string, options?: EngineOptions): Engine {
  return new Engine(resolveConfig(url, options));
}

/** "host:port" of a one-host target. */
function hostLabel(target: NetworkTarget): string {
  return `${target.host.includes(":") ? `[${target.host}]` : target.host}:${target.port}`;
}

/** The adapter for the engine's URL, or (`replica`) for one read replica with the same settings. */
function makeAdapter(config: ResolvedConfig, replica?: NetworkTarget): Adapter {
  const ctx: AdapterContext = {
    mapError: (info, sql) => config.dialect.mapError(info, sql),
    vectorMissing: (info) => config.dialect.vectorMissing(info),
    acquireTimeout: config.pool.acquireTimeout,
    prePing: config.pool.prePing,
  };
  const settings: Record<string, string> = { TimeZone: "UTC" };
  if (config.statementTimeout > 0 && config.dialect.wire.serverStatementTimeout) {
    settings.statement_timeout = String(config.statementTimeout);
  }
  const target = replica ?? config.target;
  if (target.kind === "pglite") {
    return new PGliteAdapter({ dataDir: target.dataDir, settings }, ctx);
  }
  const wire = config.dialect.wire;
  const connection = {
    application_name: config.applicationName,
    ...(wire.startupSettings ? settings : {}),
  };
  // What both network clients take; postgres.js adds host choice, TLS and type fetching.
  const common: BunSqlConfig = {
    host: target.host,
    port: target.port,
    database: target.database,
    user: target.user,
    password: passwordOf(target),
    max: config.pool.max,
    idleTimeout: config.pool.idleTimeout,
    maxLifetime: config.pool.maxLifetime,
    connectTimeout: config.pool.connectTimeout,
    prepare: config.prepare,
    pipeline: wire.pipeline,
    connection,
    // The adapter gives up on an unanswered statement a while after this (where the server has no
    // statement_timeout of its own, at it): one client-side mechanism for every network dialect.
    statementTimeout: config.statementTimeout,
    serverTimeout: wire.serverStatementTimeout,
  };
  // Accepted by config only on Bun, for postgres:// with one host and no TLS.
  if (config.driver === "bun-sql") return new BunSqlAdapter(common, ctx);
  return new PostgresJsAdapter({
    ...common,
    hosts: target.hosts,
    targetSessionAttrs: replica ? "any" : config.targetSessionAttrs,
    roleSql: wire.replication.role,
    ssl: config.ssl,
    fetchTypes: wire.fetchTypes,
  }, ctx);
}
