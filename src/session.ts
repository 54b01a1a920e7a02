/**
 * Session: the AsyncSession analogue. A unit of work with typed CRUD over one
 * connection. The transaction starts lazily, at the first write or raw
 * statement; reads issued before that (get, find, nearest) run on the pool —
 * under READ COMMITTED they see exactly what they would inside the
 * transaction, and a read-only session costs no BEGIN/COMMIT round trips.
 * Pass an isolation level to start the transaction at the first statement of
 * any kind. After commit() or rollback() the session can go on (a new
 * transaction starts when needed); after close() every call is a
 * SessionClosedError.
 */
import type { ReservedConnection } from "./adapters/adapter.ts";
import type { BeginOptions, Dialect, InsertManyPlan, InsertPlan } from "./dialects/dialect.ts";
import {
  closedError,
  type EngineContext,
  type ExecuteOptions,
  type Executor,
  type QueryInput,
  type StreamOptions,
} from "./executor.ts";
import {
  IrisqlError,
  RowCountError,
  TransactionRolledBackError,
  TransactionsUnavailableError,
  UnsupportedFeatureError,
  ValidationError,
} from "./errors.ts";
import type { Result, Row } from "./result.ts";
import type { AnyTable, ColumnName, InferInsert, InferRow, Selected, VectorColumnOf } from "./schema.ts";
import { decodeRows } from "./statements/decode.ts";
import { type NearestOptions, nearestStatement } from "./statements/nearest.ts";
import { normalizeRow } from "./statements/rows.ts";
import { type FindOptions, selectStatement } from "./statements/select.ts";
import { cachedSelectStatement, keyStatement } from "./statements/select-cache.ts";
import { deleteStatement, updateStatement } from "./statements/update-delete.ts";
import { checkUpsert, type UpsertOptions } from "./statements/upsert.ts";
import { walkWhere, type Where } from "./statements/where.ts";
import { checkOptions } from "./statements/inputs.ts";
import { Transaction, unavailable } from "./transaction.ts";
import type { CompiledQuery } from "./sql.ts";

/**
 * Options of `engine.session()`: the transaction's isolation level and
 * read-only flag. With an isolation level, the transaction starts at the
 * session's first statement of any kind (reads included).
 */
export interface SessionOptions extends BeginOptions {}

/** update() and delete() options. */
export interface MutationOptions {
  /**
   * Also return the rows affected (as stored after an update, as they were before a
   * delete) and count them, on every dialect.
   */
  returning?: boolean;
}

/** Keys per statement when IRIS's update/delete with returning restricts to the keys it read. */
const KEYS_PER_STATEMENT = 500;

/** Options of `session.insertMany()`. */
export interface InsertManyOptions {
  /** Rows per multi-row INSERT on PostgreSQL (capped by the 65,535-parameter limit). Default 1000. */
  chunkSize?: number;
}

/** What a session needs from its engine, and nothing more (not part of the API). */
export interface SessionHost {
  readonly ctx: EngineContext;
  /** The engine's pool. */
  readonly pool: Executor;
  /**
   * Where this session's reads outside a transaction go: a read replica in the rotation until the
   * session first reserves a connection (its first write), the pool from then on (read-your-writes).
   */
  reader(): Executor;
  /** A connection of its own, for the session's transaction (rejects once the engine is disposed). */
  reserve(): Promise<ReservedConnection>;
}

/**
 * A unit of work with typed CRUD (`insert`, `insertMany`, `get`, `find`,
 * `update`, `delete`, `upsert`), vector search (`nearest`) and raw SQL
 * (`execute`, `stream`), over one connection. Get one from
 * `engine.session()`. Its transaction starts at the first write; reads before
 * that run on the pool and cost no BEGIN/COMMIT. `engine.session(fn)`
 * commits when `fn` returns and rolls back when it throws; a session you hold
 * yourself is committed with `commit()`, and `close()` (or `await using`)
 * rolls back whatever was not committed. After `close()`, every call throws
 * SessionClosedError.
 *
 * @example A session held by hand
 * ```ts
 * import { col, createEngine, table } from "irisql";
 *
 * const notes = table("notes", { id: col.bigint().primaryKey().generated(), body: col.text().notNull() });
 * await using engine = createEngine("pglite://memory");
 * await engine.createAll([notes]);
 * {
 *   await using s = engine.session();
 *   const note = await s.insert(notes, { body: "draft" });
 *   await s.update(notes, { id: note.id }, { body: "final" });
 *   await s.commit();
 *   await s.insert(notes, { body: "never committed" });
 * } // closed here: the second insert is rolled back
 * const all = await engine.session((s) => s.find(notes, { orderBy: { id: "asc" } }));
 * console.log(all); // [ { id: 1, body: "final" } ]
 * ```
 */
export class Session {
  readonly #host: SessionHost;
  readonly #ctx: EngineContext;
  readonly #options: SessionOptions;
  #conn: ReservedConnection | undefined;
  #tx: Transaction | undefined;
  #opening: Promise<Transaction> | undefined;
  #closed = false;

  /** @internal Sessions come from engine.session(). */
  constructor(host: SessionHost, options: SessionOptions = {}) {
    this.#host = host;
    this.#ctx = host.ctx;
    this.#options = options;
  }

  /** True once `close()` was called: every further call throws SessionClosedError. */
  get closed(): boolean {
    return this.#closed;
  }

  /** True while a transaction is open. */
  get inTransaction(): boolean {
    return this.#tx !== undefined;
  }

  #guard(): void {
    if (this.#closed) throw closedError("session");
  }

  get #schema(): string {
    return this.#ctx.config.schema;
  }

  /** The open transaction, starting one (reserve + BEGIN) if needed. */
  #transaction(): Promise<Transaction> {
    this.#guard();
    if (this.#tx) return Promise.resolve(this.#tx);
    const mode = this.#ctx.config.transactions;
    if (mode === undefined) return Promise.reject(unavailable(this.#ctx, "A session's first write"));
    this.#opening ??= (async () => {
      const conn = await this.#host.reserve();
      const tx = new Transaction(this.#ctx, conn, { autocommit: mode === "autocommit" });
      try {
        await tx.begin(this.#options);
      } catch (error) {
        await conn.release(true);
        throw error;
      } finally {
        this.#opening = undefined;
      }
      this.#conn = conn;
      this.#tx = tx;
      return tx;
    })();
    return this.#opening;
  }

  /** Where reads go: the open transaction, or the pool. */
  #reader(): Executor | Promise<Transaction> {
    this.#guard();
    if (this.#tx) return this.#tx;
    if (this.#opening || this.#options.isolationLevel) return this.#transaction();
    return this.#host.reader();
  }

  // --- raw statements --------------------------------------------------------

  /** Any statement, inside the session's transaction. */
  async execute<R = Row>(query: QueryInput, params?: unknown, options?: ExecuteOptions): Promise<Result<R>> {
    return (await this.#transaction()).execute<R>(query, params, options);
  }

  /** Rows in batches, inside the session's transaction. */
  async *stream<R = Row>(query: QueryInput, params?: unknown, options?: StreamOptions): AsyncGenerator<R[]> {
    yield* (await this.#transaction()).stream<R>(query, params, options);
  }

  // --- typed CRUD ------------------------------------------------------------

  /** Insert one row; returns it as stored, generated keys and defaults included. */
  async insert<T extends AnyTable>(table: T, values: InferInsert<T>): Promise<InferRow<T>> {
    this.#guard();
    const row = normalizeRow(table, values, "insert", true);
    return await this.#insertPlan(table, row, this.#ctx.dialect.insertOne(table, this.#schema, row));
  }

  /**
   * Insert many rows, all or nothing: every row is checked first, then sent
   * inside a savepoint as the dialect plans (multi-row INSERTs on PostgreSQL,
   * pipelined single-row INSERTs on IRIS), never one awaited round trip per row.
   */
  async insertMany<T extends AnyTable>(
    table: T,
    rows: readonly InferInsert<T>[],
    options: InsertManyOptions = {},
  ): Promise<{ count: number }> {
    this.#guard();
    if (!Array.isArray(rows)) throw new ValidationError("insertMany needs an array of rows");
    const chunkSize = options.chunkSize ?? 1000;
    if (!Number.isInteger(chunkSize) || chunkSize < 1) {
      throw new ValidationError(`chunkSize must be a whole number >= 1, got ${String(options.chunkSize)}`);
    }
    const plan = this.#ctx.dialect.insertMany(table, this.#schema, rows, chunkSize);
    if (plan.count === 0) return { count: 0 };
    const tx = await this.#transaction();
    if (this.#ctx.config.transactions === "autocommit") return await insertEach(tx, plan, this.#ctx.dialect);
    const group = plan.pipelineGroup;
    await tx.savepoint(async () => {
      if (group === undefined) return await tx.pipelineAsBuilt(plan.statements);
      const batch: CompiledQuery[] = [];
      for (const statement of plan.statements) {
        if (batch.push(statement) === group) await tx.pipeline(batch.splice(0));
      }
      if (batch.length > 0) await tx.pipeline(batch);
    });
    return { count: plan.count };
  }

  /** A row by primary key, or undefined. */
  async get<T extends AnyTable>(table: T, key: unknown): Promise<InferRow<T> | undefined> {
    this.#guard();
    // SQL text cached per table: a repeated get() only checks and binds the key (bench/).
    const stmt = keyStatement(this.#ctx.dialect, table, this.#schema, key);
    const reader = this.#reader();
    const r = await (reader instanceof Promise ? await reader : reader).run(stmt.text, stmt.params);
    return decodeRows(this.#ctx.dialect, table, r.rows, r.columns)[0] as InferRow<T> | undefined;
  }

  /** Rows matching `where`, ordered and limited. */
  async find<T extends AnyTable, C extends ColumnName<T> = ColumnName<T>>(
    table: T,
    options: FindOptions<T, C> = {},
  ): Promise<Selected<T, C>[]> {
    this.#guard();
    // SQL text cached per query shape: a repeated find() only checks and binds values (bench/).
    const stmt = cachedSelectStatement(this.#ctx.dialect, table, this.#schema, options);
    const reader = this.#reader();
    const r = await (reader instanceof Promise ? await reader : reader).run(stmt.text, stmt.params);
    return decodeRows(this.#ctx.dialect, table, r.rows, r.columns) as Selected<T, C>[];
  }

  /**
   * Update rows matching `where`. `count` is null where the server cannot say (IRIS).
   * With `{ returning: true }`, also the rows as stored after the update, and their
   * count, on every dialect (RETURNING on PostgreSQL; on IRIS see README "update and
   * delete with returning").
   */
  update<T extends AnyTable>(
    table: T,
    where: Where<T>,
    values: Partial<InferInsert<T>>,
    options?: { returning?: false },
  ): Promise<{ count: number | null }>;
  /** Update rows matching `where` and return them as stored after the update, with their count. */
  update<T extends AnyTable>(
    table: T,
    where: Where<T>,
    values: Partial<InferInsert<T>>,
    options: { returning: true },
  ): Promise<{ count: number; rows: InferRow<T>[] }>;
  /** Update rows matching `where`; `rows` is there when `options.returning` is true. */
  update<T extends AnyTable>(
    table: T,
    where: Where<T>,
    values: Partial<InferInsert<T>>,
    options?: MutationOptions,
  ): Promise<{ count: number | null; rows?: InferRow<T>[] }>;
  async update<T extends AnyTable>(
    table: T,
    where: Where<T>,
    values: Partial<InferInsert<T>>,
    options?: MutationOptions,
  ): Promise<{ count: number | null; rows?: InferRow<T>[] }> {
    this.#guard();
    const returning = returningOption(table, options, "update");
    const dialect = this.#ctx.dialect;
    const row = normalizeRow(table, values, "update", false);
    const stmt = updateStatement(dialect, table, this.#schema, where, row, returning);
    if (returning && !dialect.supportsReturning) return await this.#updateReadBack(table, where, row);
    const r = await (await this.#transaction()).run(stmt.text, stmt.params);
    if (!returning) return { count: r.rowCount };
    const rows = decodeRows(dialect, table, r.rows, r.columns) as InferRow<T>[];
    return { count: rows.length, rows };
  }

  /**
   * Delete rows matching `where` (`{}` deletes all). `count` is null where the server
   * cannot say (IRIS). With `{ returning: true }`, also the rows deleted, as they were,
   * and their count, on every dialect.
   */
  delete<T extends AnyTable>(
    table: T,
    where: Where<T>,
    options?: { returning?: false },
  ): Promise<{ count: number | null }>;
  /** Delete rows matching `where` and return them as they were, with their count. */
  delete<T extends AnyTable>(
    table: T,
    where: Where<T>,
    options: { returning: true },
  ): Promise<{ count: number; rows: InferRow<T>[] }>;
  /** Delete rows matching `where`; `rows` is there when `options.returning` is true. */
  delete<T extends AnyTable>(
    table: T,
    where: Where<T>,
    options?: MutationOptions,
  ): Promise<{ count: number | null; rows?: InferRow<T>[] }>;
  async delete<T extends AnyTable>(
    table: T,
    where: Where<T>,
    options?: MutationOptions,
  ): Promise<{ count: number | null; rows?: InferRow<T>[] }> {
    this.#guard();
    const returning = returningOption(table, options, "delete");
    const dialect = this.#ctx.dialect;
    const stmt = deleteStatement(dialect, table, this.#schema, where, returning);
    if (returning && !dialect.supportsReturning) return await this.#deleteReadFirst(table, where);
    const r = await (await this.#transaction()).run(stmt.text, stmt.params);
    if (!returning) return { count: r.rowCount };
    const rows = decodeRows(dialect, table, r.rows, r.columns) as InferRow<T>[];
    return { count: rows.length, rows };
  }

  /**
   * Insert one row, or update the row whose unique key `conflict` holds the same
   * values; returns the row as stored. PostgreSQL: INSERT ... ON CONFLICT DO UPDATE.
   * IRIS: INSERT OR UPDATE, then the row read back by its key; refused
   * (UnsupportedFeatureError, nothing sent) where IRIS would not do the same.
   */
  async upsert<T extends AnyTable>(
    table: T,
    values: InferInsert<T>,
    options: UpsertOptions<T>,
  ): Promise<InferRow<T>> {
    this.#guard();
    const row = normalizeRow(table, values, "upsert", true);
    const target = checkUpsert(table, values, row, options);
    return await this.#insertPlan(table, row, this.#ctx.dialect.upsertOne(table, this.#schema, row, target));
  }

  /**
   * Without RETURNING (IRIS): the keys of the rows matching `where` are read first (in
   * the session's transaction), the UPDATE runs on `where` and those keys, and the rows
   * are read back by key (their new key, where the update sets one).
   */
  async #updateReadBack<T extends AnyTable>(
    table: T,
    where: Where<T>,
    row: Map<string, unknown>,
  ): Promise<{ count: number; rows: InferRow<T>[] }> {
    const dialect = this.#ctx.dialect;
    const pk = needsKey(table, "update");
    const tx = await this.#transaction();
    const keys = await this.#read(tx, table, { where, columns: pk });
    const rows: InferRow<T>[] = [];
    for (let i = 0; i < keys.length; i += KEYS_PER_STATEMENT) {
      const chunk = keys.slice(i, i + KEYS_PER_STATEMENT);
      const update = updateStatement(dialect, table, this.#schema, restrict(dialect, table, where, chunk), row);
      const after = chunk.map((k) => Object.fromEntries(pk.map((c) => [c, row.has(c) ? row.get(c) : k[c]])));
      const read = selectStatement<AnyTable>(dialect, table, this.#schema, { where: keysWhere(table, after) });
      const [, r] = await tx.pipeline([update, read]);
      rows.push(...decodeRows(dialect, table, r.rows, r.columns) as InferRow<T>[]);
    }
    return { count: rows.length, rows };
  }

  /** Without RETURNING (IRIS): the rows matching `where` are read, then deleted by `where` and their keys. */
  async #deleteReadFirst<T extends AnyTable>(
    table: T,
    where: Where<T>,
  ): Promise<{ count: number; rows: InferRow<T>[] }> {
    const dialect = this.#ctx.dialect;
    needsKey(table, "delete");
    const tx = await this.#transaction();
    const rows = await this.#read(tx, table, { where }) as InferRow<T>[];
    for (let i = 0; i < rows.length; i += KEYS_PER_STATEMENT) {
      const chunk = rows.slice(i, i + KEYS_PER_STATEMENT) as Record<string, unknown>[];
      const stmt = deleteStatement(dialect, table, this.#schema, restrict(dialect, table, where, chunk));
      await tx.run(stmt.text, stmt.params);
    }
    return { count: rows.length, rows };
  }

  async #read(tx: Transaction, table: AnyTable, options: FindOptions<AnyTable>): Promise<Record<string, unknown>[]> {
    const stmt = selectStatement(this.#ctx.dialect, table, this.#schema, options);
    const r = await tx.run(stmt.text, stmt.params);
    return decodeRows(this.#ctx.dialect, table, r.rows, r.columns);
  }

  /** Run an insert plan (insert, upsert) and give back the row as stored. */
  async #insertPlan<T extends AnyTable>(table: T, row: Map<string, unknown>, plan: InsertPlan): Promise<InferRow<T>> {
    const tx = await this.#transaction();
    const [first] = plan.statements;
    const r = plan.statements.length === 1
      ? await tx.run(first.text, first.params)
      : (await tx.pipeline(plan.statements)).at(-1)!;
    if (plan.storedRow === "sent") return Object.fromEntries(row) as InferRow<T>;
    if (plan.storedRow === "readBack" && r.rows.length !== 1) {
      throw new RowCountError(
        `The row written to ${table.name} could not be read back (found ${r.rows.length})`,
        r.rows.length,
      );
    }
    return decodeRows(this.#ctx.dialect, table, r.rows, r.columns)[0] as InferRow<T>;
  }

  /**
   * The k rows whose `column` is closest to `query`, best first, each with a
   * `score`: cosine similarity ("cosine") or inner product ("dot"), higher is
   * closer; Euclidean distance ("l2"), lower is closer. `where` filters before
   * the k are chosen; `columns` picks the columns returned.
   *
   * @example The two documents closest to a query vector
   * ```ts
   * import { col, createEngine, table } from "irisql";
   *
   * const docs = table("docs", {
   *   id: col.bigint().primaryKey().generated(),
   *   title: col.varchar(200).notNull(),
   *   embedding: col.vector(3),
   * });
   * await using engine = createEngine("pglite://memory");
   * await engine.createAll([docs]);
   * const hits = await engine.session(async (s) => {
   *   await s.insertMany(docs, [
   *     { title: "a", embedding: [1, 0, 0] },
   *     { title: "b", embedding: [0.9, 0.1, 0] },
   *     { title: "c", embedding: [0, 0, 1] },
   *   ]);
   *   return s.nearest(docs, "embedding", [1, 0, 0], { k: 2, metric: "cosine", columns: ["title"] });
   * });
   * console.log(hits.map((h) => h.title)); // [ "a", "b" ]
   * ```
   */
  async nearest<T extends AnyTable, C extends ColumnName<T> = ColumnName<T>>(
    table: T,
    column: VectorColumnOf<T>,
    query: readonly number[],
    options: NearestOptions<T, C> = {},
  ): Promise<(Selected<T, C> & { score: number })[]> {
    this.#guard();
    const stmt = nearestStatement(this.#ctx.dialect, table, this.#schema, column, query, options);
    const exec = await this.#reader();
    const r = await exec.run(stmt.text, stmt.params);
    return decodeRows(this.#ctx.dialect, table, r.rows, r.columns) as (Selected<T, C> & { score: number })[];
  }

  // --- units of work ---------------------------------------------------------

  /** A nested unit: if `fn` throws, only its work is undone; the error is rethrown. */
  savepoint<R>(fn: (sp: this) => Promise<R> | R): Promise<R> {
    // With a transaction open, the savepoint registers now, so a commit() called next waits for it.
    if (this.#tx && !this.#closed) return this.#tx.savepoint(() => fn(this));
    try {
      return this.#transaction().then((tx) => tx.savepoint(() => fn(this)));
    } catch (error) {
      return Promise.reject(error);
    }
  }

  /** Commit the open transaction (if any). The session stays usable. */
  async commit(): Promise<void> {
    this.#guard();
    if (this.#opening) await this.#opening;
    const tx = this.#tx;
    if (!tx) return;
    let clean = false;
    try {
      await tx.commit();
      clean = true;
    } catch (error) {
      // A refused commit rolled back; a COMMIT that failed on the wire leaves the state unknown.
      clean = error instanceof TransactionRolledBackError && error.scope === "transaction" &&
        !("rollbackError" in error);
      throw error;
    } finally {
      await this.#finish(!clean);
    }
  }

  /** Roll back the open transaction (if any). The session stays usable. */
  async rollback(): Promise<void> {
    this.#guard();
    if (this.#opening) await this.#opening.catch(() => {});
    const committed = this.#tx?.autocommitted ?? 0;
    await this.#rollback(undefined);
    if (committed > 0) {
      throw new TransactionsUnavailableError(
        `rollback() cannot undo the ${committed} statement(s) this session ran: with transactions: ` +
          `"autocommit" each one committed as it ran. They stay.`,
      );
    }
  }

  async #rollback(cause: unknown): Promise<void> {
    const tx = this.#tx;
    if (!tx) return;
    const ok = await tx.rollback(cause);
    await this.#finish(!ok);
  }

  async #finish(broken = false): Promise<void> {
    this.#tx?.markDone();
    const conn = this.#conn;
    this.#tx = undefined;
    this.#conn = undefined;
    await conn?.release(broken);
  }

  /** Roll back anything uncommitted and give the connection back. Safe to call twice. */
  async close(): Promise<void> {
    if (this.#closed) return;
    if (this.#opening) await this.#opening.catch(() => {});
    try {
      await this.#rollback(undefined);
    } finally {
      this.#closed = true;
    }
  }

  /** `close()`, for `await using s = engine.session()`. */
  [Symbol.asyncDispose](): Promise<void> {
    return this.close();
  }

  /** @internal engine.session(fn): commit on return, roll back on throw, then close. */
  async runUnit<R>(fn: (s: Session) => Promise<R> | R): Promise<R> {
    let result: R;
    try {
      result = await fn(this);
    } catch (error) {
      if (this.#opening) await this.#opening.catch(() => {});
      await this.#rollback(error);
      this.#closed = true;
      throw error;
    }
    if (!this.#tx && !this.#opening) {
      // Read-only unit: no transaction was opened, nothing to commit or release.
      this.#closed = true;
      return result;
    }
    try {
      await this.commit();
    } finally {
      await this.close();
    }
    return result;
  }
}

/**
 * insertMany() with transactions: "autocommit": one row per statement, one at a time, so a
 * failure can say exactly how many rows stay written (nothing can take them back).
 */
async function insertEach(tx: Transaction, plan: InsertManyPlan, dialect: Dialect): Promise<{ count: number }> {
  const statements = [...plan.statements];
  if (statements.length !== plan.count) {
    throw new UnsupportedFeatureError("insertMany in autocommit mode needs one INSERT per row");
  }
  // A value the server would change is refused before the first row is written.
  for (const s of statements) dialect.outbound?.(s);
  let written = 0;
  for (const statement of statements) {
    try {
      await tx.run(statement.text, statement.params);
    } catch (error) {
      // The server's own error (a UniqueViolationError stays one), saying what stays written.
      if (error instanceof IrisqlError) {
        error.message += ` (insertMany stopped at row ${written + 1} of ${plan.count}; with transactions: ` +
          `"autocommit" the ${written} row(s) before it stay written)`;
        Object.defineProperty(error, "rowsWritten", { value: written, enumerable: true });
      }
      throw error;
    }
    written++;
  }
  return { count: written };
}

function returningOption(table: AnyTable, options: MutationOptions | undefined, what: string): boolean {
  const { returning } = checkOptions(table, options, what, ["returning"]);
  if (returning !== undefined && typeof returning !== "boolean") {
    throw new ValidationError(`${what} on table ${table.name}: returning must be true or false`);
  }
  return returning === true;
}

/** Reading the affected rows back needs a key to find them by. */
function needsKey(table: AnyTable, what: string): readonly string[] {
  if (table.primaryKey.length === 0) {
    throw new UnsupportedFeatureError(
      `${what} with returning on table ${table.name} needs a primary key on this server (it has no RETURNING, ` +
        `so irisql finds the rows again by key). Nothing was sent.`,
    );
  }
  return table.primaryKey;
}

/** `{ pk: { in: [...] } }`, or for a composite key `{ or: [{ a, b }, ...] }`. */
function keysWhere(table: AnyTable, rows: readonly Record<string, unknown>[]): Record<string, unknown> {
  const pk = table.primaryKey;
  if (pk.length === 1) return { [pk[0]]: { in: rows.map((r) => r[pk[0]]) } };
  return { or: rows.map((r) => Object.fromEntries(pk.map((c) => [c, r[c]]))) };
}

/** `where` and the keys of `rows`: a statement restricted to the rows read, never beyond `where`. */
function restrict(
  dialect: Dialect,
  table: AnyTable,
  where: unknown,
  rows: readonly Record<string, unknown>[],
): Record<string, unknown> {
  const keys = keysWhere(table, rows);
  const hasCondition = walkWhere(dialect, table, where, () => "", false).shape !== "{}";
  return hasCondition ? { and: [where, keys] } : keys;
}
