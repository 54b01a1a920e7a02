/**
 * A transaction on a reserved connection, with nested savepoints.
 * `Engine.begin`, `Connection.begin` and the Session use it.
 */
import type { RawResult, ReservedConnection } from "./adapters/adapter.ts";
import type { BeginOptions } from "./dialects/dialect.ts";
import { IrisqlError } from "./errors.ts";
import { closedError, type EngineContext, Executor } from "./executor.ts";

export class Transaction extends Executor {
  #done = false;
  #savepoints = 0;
  protected readonly conn: ReservedConnection;

  constructor(ctx: EngineContext, conn: ReservedConnection) {
    super(ctx, conn);
    this.conn = conn;
  }

  protected override guard(): void {
    if (this.#done) throw closedError("transaction");
  }

  /** True once committed or rolled back. */
  get finished(): boolean {
    return this.#done;
  }

  /**
   * A nested unit of work: if `fn` throws, only what it did is undone and the
   * error is rethrown; the outer transaction carries on.
   */
  async savepoint<T>(fn: (tx: this) => Promise<T> | T): Promise<T> {
    this.guard();
    const d = this.ctx.dialect;
    const name = "irisql_sp" + ++this.#savepoints;
    await this.run(d.savepointSql(name), [], undefined, true);
    let result: T;
    try {
      result = await fn(this);
    } catch (error) {
      if (!this.#done) await this.run(d.rollbackToSavepointSql(name), [], undefined, true);
      throw error;
    }
    const release = d.releaseSavepointSql(name);
    if (release) await this.run(release, [], undefined, true);
    return result;
  }

  /** Statements sent back to back on this connection; see ReservedConnection.pipeline. */
  async pipeline(statements: readonly { text: string; params: readonly unknown[] }[]): Promise<RawResult[]> {
    this.guard();
    try {
      const results = await this.conn.pipeline(statements);
      this.ctx.counters.queries += statements.length;
      return results;
    } catch (error) {
      this.ctx.counters.errors++;
      throw error;
    }
  }

  /**
   * pipeline() for statements produced one at a time: each is handed to the
   * driver as soon as it exists, so the server executes one while the next is
   * built (insertMany; bench/ case 3). Fails with the first failure in
   * statement order; counts as pipeline() does.
   */
  async pipelineAsBuilt(statements: Iterable<{ text: string; params: readonly unknown[] }>): Promise<void> {
    this.guard();
    const sent: Promise<RawResult[]>[] = [];
    try {
      for (const statement of statements) {
        const result = this.conn.pipeline([statement]);
        result.catch(() => {}); // awaited below, in order
        sent.push(result);
        // One microtask: the driver writes what it was just given before the next is built.
        await null;
      }
      for (const result of sent) await result;
    } catch (error) {
      this.ctx.counters.errors++;
      throw error;
    }
    this.ctx.counters.queries += sent.length;
  }

  /** @internal Mark finished; the owner sends COMMIT/ROLLBACK. */
  markDone(): void {
    this.#done = true;
  }
}

/**
 * Run `fn` inside BEGIN ... COMMIT on `conn`; ROLLBACK and rethrow if it
 * throws. The connection is not released here.
 */
export async function inTransaction<T>(
  ctx: EngineContext,
  conn: ReservedConnection,
  fn: (tx: Transaction) => Promise<T> | T,
  options?: BeginOptions,
): Promise<T> {
  const tx = new Transaction(ctx, conn);
  const d = ctx.dialect;
  await tx.run(d.beginSql(options), [], undefined, true);
  let result: T;
  try {
    result = await fn(tx);
  } catch (error) {
    tx.markDone();
    await rollbackQuietly(tx, d.rollbackSql(), error);
    throw error;
  }
  tx.markDone();
  await tx.run(d.commitSql(), [], undefined, true);
  return result;
}

/** Roll back; if that fails too, keep the first error and note the second on it. */
export async function rollbackQuietly(exec: Executor, sql: string, original: unknown): Promise<boolean> {
  try {
    await exec.run(sql, [], undefined, true);
    return true;
  } catch (rollbackError) {
    if (original instanceof IrisqlError && !("rollbackError" in original)) {
      Object.defineProperty(original, "rollbackError", { value: rollbackError, enumerable: false });
    }
    return false;
  }
}
