/**
 * A dialect is data and pure functions: how one server family spells SQL and
 * which quirks it has. Nothing here does I/O. The engine, session and schema
 * layers ask the dialect instead of spelling server-specific SQL themselves.
 */
import type { ServerErrorInfo } from "../adapters/adapter.ts";
import type { IrisqlError, QueryError } from "../errors.ts";
import type { CompiledQuery, CompileTarget } from "../sql.ts";
import type { AnyTable, ColumnSpec, IndexSpec, VectorMetric } from "../schema.ts";
import type { UpsertTarget } from "../statements/upsert.ts";
import type { IntrospectionRows, TableInfo } from "./introspection.ts";
import type { AlterSpelling } from "./alter.ts";

/** A dialect's name: "iris" for InterSystems IRIS, "postgres" for PostgreSQL and PGlite. */
export type DialectName = "iris" | "postgres";

/** A transaction isolation level, as SQL names it. */
export type IsolationLevel =
  | "read uncommitted"
  | "read committed"
  | "repeatable read"
  | "serializable";

/** Options of `begin()` and `engine.session()`: how the transaction starts. */
export interface BeginOptions {
  /** The isolation level (default: the server's own). */
  isolationLevel?: IsolationLevel;
  /** Start a read-only transaction: the server refuses writes in it. */
  readOnly?: boolean;
}

/** Defaults a dialect chooses for the network adapter. */
export interface WireProfile {
  defaultPort: number;
  prepare: boolean;
  fetchTypes: boolean;
  ssl: false;
  max: number;
  idleTimeout: number;
  maxLifetime: number;
  prePing: boolean;
  /** Does the server honour the statement_timeout startup parameter? */
  serverStatementTimeout: boolean;
  /** Does the server stream with portals (Execute max_rows)? */
  serverCursors: boolean;
  /** Pooled statements in flight per connection before the pool queues more (pipelining depth). */
  pipeline: number;
  /** Are session settings (TimeZone, statement_timeout) sent as startup parameters? */
  startupSettings: boolean;
  /** What irisql asks a server about replication (multi-host URLs, read replicas). */
  replication: ReplicationSql;
}

/**
 * Questions about a server's place in a replicated setup, asked on connections of
 * their own (multi-host URLs) or on the pool (replica checks).
 */
export interface ReplicationSql {
  /** One row: `in_recovery` (a standby) and `read_only` (sessions read-only by default): target_session_attrs. */
  role: string;
  /** On the primary, one row: `position`, its current write position as text; null where the server cannot say. */
  position: string | null;
  /**
   * On a replica, $1 = positions the primary had (text, comma-separated, oldest first): one row, `in_recovery` and
   * `replayed`, how many of those positions it has replayed. null where the server cannot say
   * (a replica is then only checked for an answer, and maxReplicaLagMs is not enforced).
   */
  replayed: string | null;
}

/**
 * How the server commits: "server", it keeps BEGIN ... COMMIT/ROLLBACK; "autocommit",
 * every statement commits as it runs and nothing can be rolled back (iris-pgwire
 * outside IRIS).
 */
export type TransactionMode = "server" | "autocommit";

/** A statement on its way to the server (Dialect.outbound). */
export interface Outbound {
  readonly text: string;
  readonly params: readonly unknown[];
}

/** How a URL scheme reaches this dialect's server. */
export type SchemeTarget = "network" | "pglite";

/** What a network URL may leave out. */
export interface ConnectionDefaults {
  user: string;
  database: string;
}

/**
 * How one typed row is inserted and read back as stored. The statements are
 * sent back to back on the session's connection, inside its transaction.
 * `storedRow` says where the stored row comes from: "returned", the last
 * statement's first row (RETURNING); "readBack", the last statement's rows,
 * which must be exactly one; "sent", the values sent (nothing can find the row).
 */
export interface InsertPlan {
  statements: CompiledQuery[];
  storedRow: "returned" | "readBack" | "sent";
}

/**
 * How checked rows are inserted all at once. `pipelineGroup` undefined: each
 * statement is handed to the driver as soon as it is built; a number: the
 * statements are pipelined in groups of that many.
 */
export interface InsertManyPlan {
  count: number;
  statements: Iterable<CompiledQuery>;
  pipelineGroup: number | undefined;
}

/**
 * How one server family spells SQL and what it can do (`engine.dialect`). Its
 * `name` says which family an engine talks to; the rest is used by irisql
 * itself and is not part of the API.
 */
export interface Dialect extends CompileTarget {
  /** "iris" or "postgres" (PGlite speaks "postgres"). */
  readonly name: DialectName;
  /** The schema for tables that name none: "SQLUser" on IRIS, "public" on PostgreSQL. */
  readonly defaultSchema: string;
  /** @internal Network adapter defaults and server abilities. */
  readonly wire: WireProfile;
  /** @internal The URL schemes that choose this dialect (see registry.ts). */
  readonly schemes: Readonly<Record<string, SchemeTarget>>;
  /** @internal What a network URL may leave out. */
  readonly connectionDefaults: ConnectionDefaults;
  /**
   * The transaction modes its servers can run in, and the one assumed when the user names
   * none; undefined where irisql cannot tell, so transactions are refused until the user says.
   */
  readonly transactionModes: readonly TransactionMode[];
  /** The transaction mode assumed when the user names none (see `transactionModes`). */
  readonly defaultTransactions: TransactionMode | undefined;

  /** Quote one identifier. */
  quoteId(name: string): string;
  /** A table reference, schema-qualified unless it is the default schema. */
  tableRef(name: string, schema: string): string;

  /** @internal BEGIN with the options' isolation level and access mode. */
  beginSql(options?: BeginOptions): string;
  /** @internal COMMIT. */
  commitSql(): string;
  /** @internal ROLLBACK. */
  rollbackSql(): string;
  /** @internal SAVEPOINT name. */
  savepointSql(name: string): string;
  /** @internal ROLLBACK TO SAVEPOINT name. */
  rollbackToSavepointSql(name: string): string;
  /** @internal null where the server has no RELEASE SAVEPOINT (IRIS). */
  releaseSavepointSql(name: string): string | null;
  /**
   * @internal Undo what raw statements may have left on a connection (SET, temporary tables,
   * LISTEN, advisory locks...) before it serves someone else, keeping its prepared
   * statements. null where statements leave no such state on the connection.
   */
  readonly sessionResetSql: string | null;

  /** @internal Rows affected by a DML command, or null where the server cannot say. */
  rowCount(command: string, count: number | null): number | null;
  /** @internal The command a Result reports: the server's tag, or where it cannot name one, the dialect's reading of `text`. */
  command(tag: string, text: string): string;

  /** @internal Classify a server error. */
  mapError(info: ServerErrorInfo, sql: string): IrisqlError;
  /** @internal Does this server error mean that the vector type (pgvector) is not installed? */
  vectorMissing(info: ServerErrorInfo): boolean;

  // --- DDL -----------------------------------------------------------------
  /** @internal The column's type as the server spells it. */
  columnType(spec: ColumnSpec): string;
  /** @internal CREATE TABLE for a table definition. */
  createTableSql(table: AnyTable, schema: string, ifNotExists: boolean): string;
  /** @internal DROP TABLE for a table definition. */
  dropTableSql(table: AnyTable, schema: string, ifExists: boolean): string;
  /** @internal CREATE INDEX; throws UnsupportedFeatureError where the server cannot (L2 HNSW on IRIS). */
  createIndexSql(index: IndexSpec, table: AnyTable, schema: string): string;
  /** @internal Query whose rows are non-empty when the table exists; an error meaning "no such table" is a no. */
  hasTableSql(schema: string, name: string): CompiledQuery;
  /** @internal Query whose rows are non-empty when the index exists; undefined where the server cannot be asked. */
  hasIndexSql(schema: string, table: string, index: string): CompiledQuery | undefined;
  /** @internal Does this error say that CREATE found the table or index already there? */
  alreadyExists(error: unknown): boolean;
  /** @internal INFORMATION_SCHEMA (or, on PostgreSQL, pg_indexes) queries behind introspect(). */
  introspectionSql(schema: string): IntrospectionSql;
  /** @internal The tables of `schema` from the rows of introspectionSql's queries. */
  readIntrospection(schema: string, rows: IntrospectionRows): TableInfo[];
  /** @internal What migrations need: ALTER spellings, column types read back, DDL transactions, the lock (alter.ts). */
  readonly alter: AlterSpelling;

  // --- values and statements -------------------------------------------------
  /**
   * @internal A statement as it goes to the server: values the server would change on the way are
   * refused (ValidationError, nothing sent), others may be put in the form it keeps, and the
   * text may change; undefined where every statement goes as it is (no cost on the common path).
   */
  readonly outbound: ((statement: Outbound) => Outbound) | undefined;
  /** @internal A normalised column value as the driver should send it (IRIS booleans are 1/0...). */
  encode(spec: ColumnSpec, value: unknown): unknown;
  /** @internal SQL for a bound column value: `$3`, or `TO_VECTOR($3, double)` on IRIS. */
  valueSql(spec: ColumnSpec, placeholder: string): string;
  /**
   * @internal A column value in the form this server sent it, brought to a form codec's
   * decode() reads (IRIS: day counts for dates, 1/0 for booleans...).
   */
  decodeValue(spec: ColumnSpec, raw: unknown): unknown;
  /** @internal INSERT ... RETURNING exists (PostgreSQL); IRIS re-reads the row instead. */
  readonly supportsReturning: boolean;
  /** @internal Multi-row VALUES exists (PostgreSQL); IRIS sends one INSERT per row. */
  readonly supportsMultiRowInsert: boolean;
  /** @internal SQL that reads the identity generated by the last INSERT on this connection. */
  lastIdentitySql(): string;
  /** @internal The statements that insert one checked row (normalizeRow) and give it back as stored. */
  insertOne(table: AnyTable, schema: string, row: Map<string, unknown>): InsertPlan;
  /**
   * @internal The statements that insert one checked row or update the row whose unique key
   * `target.conflict` holds the same values, and give it back as stored; throws
   * UnsupportedFeatureError where the server cannot make it mean the same.
   */
  upsertOne(table: AnyTable, schema: string, row: Map<string, unknown>, target: UpsertTarget): InsertPlan;
  /** @internal Check every row, then plan their INSERTs (`chunkSize` rows per multi-row INSERT where there is one). */
  insertMany(table: AnyTable, schema: string, rows: readonly unknown[], chunkSize: number): InsertManyPlan;
  /** @internal `column` matches the LIKE pattern at `placeholder`, ignoring case (where's `ilike`). */
  ilikeSql(columnSql: string, placeholder: string): string;
  /** @internal Row limiting: `TOP n` after SELECT and/or a tail clause. */
  limitSql(limit: number | undefined, offset: number | undefined, param: ParamFn): {
    top: string;
    tail: string;
  };

  // --- vectors ---------------------------------------------------------------
  /**
   * @internal Where vector columns need an extension installed first (pgvector on PostgreSQL and
   * PGlite); undefined where vectors are built in (IRIS). createAll() checks it before
   * creating anything, so a missing extension leaves no half-made schema behind.
   */
  readonly vectorExtension?: VectorExtensionCheck;
  /**
   * @internal An expression scoring `column` against a query vector: higher is closer
   * for "cosine" (similarity) and "dot" (inner product), lower is closer for
   * "l2" (Euclidean distance).
   */
  vectorScoreSql(
    columnSql: string,
    spec: ColumnSpec,
    metric: VectorMetric,
    query: readonly number[],
    param: ParamFn,
  ): string;
  /** @internal ORDER BY text (with direction), best first, in the form an HNSW index serves. */
  vectorOrderSql(
    columnSql: string,
    spec: ColumnSpec,
    metric: VectorMetric,
    query: readonly number[],
    param: ParamFn,
  ): string;
}

/**
 * `probe` fails when the vector type cannot be used (its error goes through the adapter, which
 * may know better: PGlite without @electric-sql/pglite-pgvector is a DriverMissingError);
 * `diagnose` never fails, and `missing` turns its first row (undefined if it could not be
 * read) and the probe's error into the error that says what to do.
 */
export interface VectorExtensionCheck {
  probe: CompiledQuery;
  diagnose: CompiledQuery;
  missing(row: Record<string, unknown> | undefined, cause: QueryError): QueryError;
}

/**
 * Bind a value and get its placeholder. Called in the order placeholders
 * appear in the text (IRIS numbers them positionally). With the same `key`,
 * PostgreSQL reuses one placeholder.
 */
export type ParamFn = (value: unknown, key?: string) => string;

export interface IntrospectionSql {
  tables: CompiledQuery;
  columns: CompiledQuery;
  primaryKeys: CompiledQuery;
  indexes: CompiledQuery;
}
