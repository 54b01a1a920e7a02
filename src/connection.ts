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

export class Connection extends Executor {
  #conn: ReservedConnection;
  #released = false;

  constructor(ctx: EngineContext, conn: ReservedConnection) {
    super(ctx, conn);
    this.#conn = conn;
  }

  protected override guard(): void {
    if (this.#released) throw closedError("connection");
  }

  /** A transaction on this connection; commits on return, rolls back on throw. */
  async begin<T>(fn: (tx: Transaction) => Promise<T> | T, options?: BeginOptions): Promise<T> {
    this.guard();
    return inTransaction(this.ctx, this.#conn, fn, options);
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

  close(): Promise<void> {
    return this.release();
  }

  [Symbol.asyncDispose](): Promise<void> {
    return this.release();
  }
}
