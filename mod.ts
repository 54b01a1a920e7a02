/**
 * irisql: one async engine, session, schema and vector API for InterSystems
 * IRIS (through iris-pgwire), PostgreSQL + pgvector, and embedded PGlite, on
 * Deno, Bun and Node. Start with {@linkcode createEngine}; define tables with
 * {@linkcode table} and {@linkcode col}; work in `engine.session()` (typed CRUD
 * and `nearest()` vector search) or with raw SQL through {@linkcode text} and
 * {@linkcode sql}, whose values are always bound. Every error is an
 * {@linkcode IrisqlError}.
 *
 * @example Quick start (needs `@electric-sql/pglite` and `@electric-sql/pglite-pgvector` for `pglite:` URLs)
 * ```ts
 * import { col, createEngine, index, table } from "irisql";
 *
 * await using engine = createEngine("pglite://memory"); // or postgres://…, or iris://…
 * const docs = table("docs", {
 *   id: col.bigint().primaryKey().generated(),
 *   title: col.varchar(200).notNull(),
 *   embedding: col.vector(3),
 * }, { indexes: [index("docs_embedding_hnsw").on("embedding").hnsw({ metric: "cosine" })] });
 * await engine.createAll([docs], { checkfirst: true });
 *
 * const best = await engine.session(async (s) => {
 *   await s.insertMany(docs, [{ title: "IRIS vectors", embedding: [1, 0, 0] }, { title: "other", embedding: [0, 0, 1] }]);
 *   return s.nearest(docs, "embedding", [1, 0, 0], { k: 1, metric: "cosine" }); // best first, with .score
 * });
 * console.log(best[0]?.title, best[0]?.score); // IRIS vectors 1
 * ```
 *
 * @module
 */
export { createEngine, Engine } from "./src/engine.ts";
export type { EngineStats, HealthReport, ReadOptions } from "./src/engine.ts";
export type { HostReport } from "./src/routing.ts";
export type { PoolStats } from "./src/adapters/adapter.ts";
export type { Endpoint } from "./src/adapters/host-select.ts";
export type {
  Driver,
  EngineOptions,
  NetworkTarget,
  PoolOptions,
  QueryEvent,
  ResolvedConfig,
  Target,
  TargetSessionAttrs,
} from "./src/config.ts";
export { Connection } from "./src/connection.ts";
export { Transaction } from "./src/transaction.ts";
export type { ExecuteOptions, Executor, QueryInput, StreamOptions } from "./src/executor.ts";
export { Result } from "./src/result.ts";
export { Session } from "./src/session.ts";
export type { InsertManyOptions, MutationOptions, SessionOptions } from "./src/session.ts";
export type { UpsertOptions } from "./src/statements/upsert.ts";
export { col, Column, index, IndexBuilder, Table, table } from "./src/schema.ts";
export type {
  AnyColumn,
  AnyTable,
  ColumnIsOptional,
  ColumnKind,
  ColumnMap,
  ColumnName,
  ColumnSpec,
  ColumnValue,
  HnswOptions,
  IndexSpec,
  InferInsert,
  InferRow,
  Selected,
  Simplify,
  TableOptions,
  VectorColumnOf,
  VectorElement,
  VectorMetric,
} from "./src/schema.ts";
export type { FindOptions } from "./src/statements/select.ts";
export type { NearestOptions } from "./src/statements/nearest.ts";
export type { ColumnConditions, Operators, Where } from "./src/statements/where.ts";
export type { ColumnInfoRow, CreateOptions, ForeignKeyInfo, IndexInfo, TableInfo } from "./src/metadata.ts";
export type { ReferencedTable } from "./src/values/column-spec.ts";
export { encodeVector, parseVector, validateVector } from "./src/values/vector.ts";
export { nearestOrder, similarity } from "./src/vector.ts";
export {
  diffSchema,
  generate,
  loadSchemaModule,
  MigrationChecksumError,
  MigrationError,
  MigrationLockedError,
  migrationStatus,
  pullSchema,
  UnsafeChangeError,
} from "./src/migrate/mod.ts";
export type {
  DiffOptions,
  GenerateOptions,
  GenerateResult,
  MigrateOptions,
  MigrateResult,
  MigrationHost,
  MigrationState,
  MigrationStatus,
  PendingMigration,
  PullOptions,
  SchemaDiff,
} from "./src/migrate/mod.ts";
export type { VectorColumnName, VectorExpressionOptions } from "./src/vector.ts";
export type { Row } from "./src/result.ts";
export { sql, SqlFragment, text, TextQuery } from "./src/sql.ts";
export type { Compilable, CompiledQuery, CompileTarget, ParamStyle, SqlTag } from "./src/sql.ts";
export type { BeginOptions, Dialect, DialectName, IsolationLevel, TransactionMode } from "./src/dialects/dialect.ts";
export type { ColumnInfo } from "./src/adapters/adapter.ts";
// Named one by one: errors.ts also holds helpers that are not part of the API.
export {
  CheckViolationError,
  ConfigError,
  ConnectionError,
  DriverMissingError,
  EngineDisposedError,
  ForeignKeyViolationError,
  IrisqlError,
  NotNullViolationError,
  PoolTimeoutError,
  QueryCancelledError,
  QueryError,
  QueryTimeoutError,
  RowCountError,
  SerializationError,
  SessionClosedError,
  TransactionAbortedError,
  TransactionRolledBackError,
  TransactionsUnavailableError,
  UndefinedTableError,
  UniqueViolationError,
  UnsupportedFeatureError,
  ValidationError,
} from "./src/errors.ts";
export type { QueryErrorInfo } from "./src/errors.ts";
