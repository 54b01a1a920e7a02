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
import type { BeginOptions, Dialect, InsertManyPlan } from "./dialects/dialect.ts";
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
import type { FindOptions } from "./statements/select.ts";
import { cachedSelectStatement, keyStatement } from "./statements/select-cache.ts";
import { deleteStatement, updateStatement } from "./statements/update-delete.ts";
import type { Where } from "./statements/where.ts";
import { Transaction, unavailable } from "./transaction.ts";
import type { CompiledQuery } from "./sql.ts";

export interface SessionOptions extends BeginOptions {}

export interface InsertManyOptions {
  /** Rows per multi-row INSERT on PostgreSQL (capped by the 65,535-parameter limit). Default 1000. */
  chunkSize?: number;
}

/** What a session needs from its engine, and nothing more. */
export interface SessionHost {
  readonly ctx: EngineContext;
  /** Where reads outside a transaction go (the engine's pool). */
  readonly pool: Executor;
  /** A connection of its own, for the session's transaction (rejects once the engine is disposed). */
  reserve(): Promise<ReservedConnection>;
}

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
    return this.#host.pool;
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
    const plan = this.#ctx.dialect.insertOne(table, this.#schema, row);
    const tx = await this.#transaction();
    const [first] = plan.statements;
    const r = plan.statements.length === 1
      ? await tx.run(first.text, first.params)
      : (await tx.pipeline(plan.statements)).at(-1)!;
    if (plan.storedRow === "sent") return Object.fromEntries(row) as InferRow<T>;
    if (plan.storedRow === "readBack" && r.rows.length !== 1) {
      throw new RowCountError(
        `The row inserted into ${table.name} could not be read back (found ${r.rows.length})`,
        r.rows.length,
      );
    }
    return decodeRows(this.#ctx.dialect, table, r.rows, r.columns)[0] as InferRow<T>;
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

  /** Update rows matching `where`. `count` is null where the server cannot say (IRIS). */
  async update<T extends AnyTable>(
    table: T,
    where: Where<T>,
    values: Partial<InferInsert<T>>,
  ): Promise<{ count: number | null }> {
    this.#guard();
    const row = normalizeRow(table, values, "update", false);
    const stmt = updateStatement(this.#ctx.dialect, table, this.#schema, where, row);
    const r = await (await this.#transaction()).run(stmt.text, stmt.params);
    return { count: r.rowCount };
  }

  /** Delete rows matching `where` (`{}` deletes all). `count` is null where the server cannot say (IRIS). */
  async delete<T extends AnyTable>(table: T, where: Where<T>): Promise<{ count: number | null }> {
    this.#guard();
    const stmt = deleteStatement(this.#ctx.dialect, table, this.#schema, where);
    const r = await (await this.#transaction()).run(stmt.text, stmt.params);
    return { count: r.rowCount };
  }

  /**
   * The k rows whose `column` is closest to `query`, best first, each with a
   * `score`: cosine similarity ("cosine") or inner product ("dot"), higher is
   * closer; Euclidean distance ("l2"), lower is closer.
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
