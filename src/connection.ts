/**
 * `engine.connect()`: one connection held until released. Statements run in
 * autocommit unless wrapped in `begin()`. Use it for session state
 * (SET, temporary tables) or for a run of statements that must share a
 * connection.
 */
import type { ReservedConnection } from "./adapters/adapter.ts";
import type { BeginOptions } from "./dialects/dialect.ts";
import { closedError, type EngineContext, Executor } from "./executor.ts";
import { inTransaction, type Transaction } from "./transaction.ts";

/**
 * One connection held until `release()` (or `await using`), from
 * `engine.connect()`. Statements run in autocommit unless wrapped in
 * `begin()`. On release the connection goes back to the pool rolled back
 * and with its session settings reset.
 *
 * @example
 * ```ts
 * import { createEngine } from "irisql";
 *
 * await using engine = createEngine("pglite://memory");
 * {
 *   await using conn = await engine.connect();
 *   await conn.execute("CREATE TEMP TABLE scratch (n int)"); // lives as long as this connection
 *   await conn.execute("INSERT INTO scratch VALUES (1), (2)");
 *   console.log((await conn.execute("SELECT sum(n)::int FROM scratch")).scalar()); // 3
 * } // released here
 * ```
 */
export class Connection extends Executor {
  #conn: ReservedConnection;
  #released = false;

  /** Wraps a reserved connection; `engine.connect()` makes them. */
  constructor(ctx: EngineContext, conn: ReservedConnection) {
    super(ctx, conn);
    this.#conn = conn;
  }

  /** @internal Throws SessionClosedError once the connection was released. */
  protected override guard(): void {
    if (this.#released) throw closedError("connection");
  }

  /** A transaction on this connection; commits on return, rolls back on throw. */
  async begin<T>(fn: (tx: Transaction) => Promise<T> | T, options?: BeginOptions): Promise<T> {
    this.guard(); // inside async: a released connection rejects rather than throws
    return await inTransaction(this.ctx, this.#conn, fn, options);
  }

  /**
   * Give the connection back to the pool, rolled back if a transaction is still open
   * and with its session settings reset (SET, temporary tables...): its next user
   * gets a connection as fresh as a new one. Safe to call twice.
   */
  async release(): Promise<void> {
    if (this.#released) return;
    this.#released = true;
    // Raw statements ran here: irisql cannot tell what session state they left.
    await this.#conn.release(false, this.ctx.dialect.sessionResetSql);
  }

  /** The same as `release()`. */
  close(): Promise<void> {
    return this.release();
  }

  /** `release()`, for `await using conn = await engine.connect()`. */
  [Symbol.asyncDispose](): Promise<void> {
    return this.release();
  }
}
