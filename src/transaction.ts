/**
 * A transaction on a reserved connection, with nested savepoints.
 * `Engine.begin`, `Connection.begin` and the Session use it.
 *
 * Two promises hold on every server:
 * - A transaction in which a statement failed is never reported as committed.
 *   PostgreSQL aborts such a transaction and answers COMMIT with a rollback;
 *   IRIS keeps going and would commit what succeeded. irisql remembers the
 *   first failure and, at commit, rolls back and throws
 *   TransactionRolledBackError, unless the failure happened inside a
 *   savepoint() that was rolled back.
 * - Concurrent calls cannot undo each other's work. While a savepoint's
 *   function runs, statements issued from outside it (a sibling savepoint,
 *   another call on the same session, commit) wait until it ends, so a
 *   rollback to that savepoint only ever undoes what was issued inside it.
 *   "Inside" is followed through async calls with AsyncLocalStorage.
 */
import { AsyncLocalStorage } from "node:async_hooks";
import type { ReservedConnection } from "./adapters/adapter.ts";
import type { BeginOptions, Outbound } from "./dialects/dialect.ts";
import {
  ConnectionError,
  IrisqlError,
  QueryCancelledError,
  QueryError,
  QueryTimeoutError,
  TransactionRolledBackError,
  TransactionsUnavailableError,
} from "./errors.ts";
import {
  closedError,
  type EngineContext,
  type ExecuteOptions,
  Executor,
  type QueryInput,
  type StreamOptions,
} from "./executor.ts";
import { refuseControl } from "./control-statements.ts";
import type { Result, Row } from "./result.ts";

/** Transaction control: prepared (a handful of fixed texts), never a script. */
const CONTROL = Object.freeze({ prepare: true });

/** A savepoint whose function is running. */
class Frame {
  readonly ended: Promise<void>;
  end!: () => void;
  constructor(readonly parent: Frame | undefined, readonly depth: number) {
    this.ended = new Promise((resolve) => (this.end = resolve));
  }
}

/** The savepoint the current async call runs inside, if any. */
const scope = new AsyncLocalStorage<Frame>();

/** Errors after which the server may have aborted or half-applied the transaction. */
function isServerFailure(error: unknown): boolean {
  return error instanceof QueryError || error instanceof QueryTimeoutError ||
    error instanceof QueryCancelledError || error instanceof ConnectionError ||
    error instanceof TransactionRolledBackError;
}

/**
 * One database transaction, on one connection: what `engine.begin()` and
 * `connection.begin()` hand to their function. Run statements with
 * `execute()` and `stream()`; nest a unit of work with `savepoint()`. It
 * commits when the function returns and rolls back when it throws; a
 * transaction in which a statement failed is never committed (commit throws
 * TransactionRolledBackError instead). Once finished, every call throws
 * SessionClosedError.
 *
 * @example A transfer with a nested savepoint
 * ```ts
 * import { createEngine, sql } from "irisql";
 *
 * await using engine = createEngine("pglite://memory");
 * await engine.execute("CREATE TABLE accounts (id int PRIMARY KEY, balance int NOT NULL)");
 * await engine.execute("INSERT INTO accounts VALUES (1, 100), (2, 0)");
 * await engine.begin(async (tx) => {
 *   await tx.execute(sql`UPDATE accounts SET balance = balance - ${30} WHERE id = ${1}`);
 *   await tx.execute(sql`UPDATE accounts SET balance = balance + ${30} WHERE id = ${2}`);
 *   await tx.savepoint(async (sp) => {
 *     await sp.execute(sql`UPDATE accounts SET balance = 0 WHERE id = ${1}`);
 *     throw new Error("changed my mind"); // undoes only what the savepoint did
 *   }).catch(() => {});
 * });
 * console.log((await engine.execute("SELECT balance FROM accounts ORDER BY id")).rows); // [ { balance: 70 }, { balance: 30 } ]
 * ```
 */
export class Transaction extends Executor {
  #done = false;
  #savepoints = 0;
  /** @internal The connection the transaction holds. */
  protected readonly conn: ReservedConnection;
  /** Savepoints whose function runs, outermost first. */
  #open: Frame[] = [];
  /** The first failure at each savepoint depth (0 = the transaction itself) not yet undone. */
  #failures: unknown[] = [];
  /** Statements sent and not answered; commit waits for them. */
  #inflight = 0;
  #drained: (() => void) | undefined;
  /** transactions: "autocommit": no BEGIN/COMMIT, each statement commits as it runs. */
  readonly #autocommit: boolean;
  /** Statements sent in autocommit mode: what a rollback() could not undo. */
  #committed = 0;

  /** @internal Made by `begin()`; users never construct one. */
  constructor(ctx: EngineContext, conn: ReservedConnection, options?: { autocommit?: boolean }) {
    super(ctx, conn);
    this.conn = conn;
    this.#autocommit = options?.autocommit === true;
  }

  /** @internal Statements that committed as they ran (transactions: "autocommit"). */
  get autocommitted(): number {
    return this.#committed;
  }

  /** @internal Throws SessionClosedError once committed or rolled back. */
  protected override guard(): void {
    if (this.#done) throw closedError("transaction");
  }

  /** @internal Refuses BEGIN, COMMIT, ROLLBACK and SAVEPOINT as raw text: use savepoint() and the function's return. */
  protected override admit(text: string): void {
    refuseControl(text, "transaction");
  }

  /** True once committed or rolled back. */
  get finished(): boolean {
    return this.#done;
  }

  /** @internal */
  override run<R = Row>(
    text: string,
    params: readonly unknown[],
    options?: ExecuteOptions & { prepare?: boolean },
  ): Promise<Result<R>> {
    if (this.#open.length > 0 || this.#done) {
      const held = this.#held(() => this.run<R>(text, params, options));
      if (held) return held;
    }
    return this.#track(super.run<R>(text, params, options));
  }

  /**
   * Rows in batches, inside this transaction (see `Executor.stream`). It waits while a
   * savepoint's function runs elsewhere; a failure counts as a failed statement of the
   * transaction.
   */
  override async *stream<R = Row>(query: QueryInput, params?: unknown, options?: StreamOptions): AsyncGenerator<R[]> {
    await this.#whenFree();
    const depth = this.#open.length;
    try {
      yield* super.stream<R>(query, params, options);
    } catch (error) {
      this.#noteFailure(error, depth);
      throw error;
    }
  }

  /**
   * A nested unit of work: if `fn` throws, only what it did is undone and the
   * error is rethrown; the outer transaction carries on. If a statement inside
   * failed and `fn` caught the error and returned, the savepoint is rolled back
   * all the same and TransactionRolledBackError says so.
   */
  savepoint<T>(fn: (tx: this) => Promise<T> | T): Promise<T> {
    if (this.#autocommit) return Promise.reject(unavailable(this.ctx, "savepoint()"));
    const held = this.#held(() => this.savepoint(fn));
    if (held) return held;
    // Registered before anything is awaited, so a sibling started in the same tick waits.
    const parent = this.#open[this.#open.length - 1];
    const frame = new Frame(parent, this.#open.length + 1);
    this.#open.push(frame);
    return this.#savepointBody(frame, fn).finally(() => {
      this.#open.splice(this.#open.indexOf(frame), 1);
      frame.end();
    });
  }

  async #savepointBody<T>(frame: Frame, fn: (tx: this) => Promise<T> | T): Promise<T> {
    const d = this.ctx.dialect;
    const name = "irisql_sp" + ++this.#savepoints;
    const outer = frame.depth - 1;
    await this.#control(d.savepointSql(name), outer);
    let result: T;
    let thrown: { error: unknown } | undefined;
    try {
      result = await scope.run(frame, () => fn(this));
    } catch (error) {
      thrown = { error };
    }
    await this.#settled();
    const failure = this.#failures[frame.depth];
    this.#failures.length = Math.min(this.#failures.length, frame.depth);
    if (thrown || failure !== undefined) {
      const error = thrown ? thrown.error : new TransactionRolledBackError(
        "A statement inside savepoint() failed and its error was caught, so the savepoint was rolled back: " +
          "nothing done inside it is stored. The transaction around it goes on. First failure: " + describe(failure),
        { scope: "savepoint", cause: failure },
      );
      if (!this.#done) {
        try {
          await this.#control(d.rollbackToSavepointSql(name), outer);
        } catch (rollbackError) {
          noteRollbackError(error, rollbackError);
        }
      }
      throw error;
    }
    const release = d.releaseSavepointSql(name);
    if (release) await this.#control(release, outer);
    return result!;
  }

  /**
   * Statements sent back to back on this connection, without waiting for each answer
   * (pipelining), then all awaited. Every value is checked (Dialect.outbound) before the
   * first is sent. Each statement is counted and reported to onQuery on its own, as a
   * lone run() would be. Rejects with the first failure in statement order; inside a
   * transaction the server fails the ones after it too.
   */
  async pipeline(statements: readonly { text: string; params: readonly unknown[] }[]): Promise<Result[]> {
    await this.#whenFree();
    this.guard();
    const sent = outbound(this.ctx, statements);
    const answers = statements.map((s, i) => this.#track(this.dispatch(s.text, s.params, sent[i])));
    const settled = await Promise.allSettled(answers);
    const failure = settled.find((s): s is PromiseRejectedResult => s.status === "rejected");
    if (failure) throw failure.reason;
    return settled.map((s) => (s as PromiseFulfilledResult<Result>).value);
  }

  /**
   * pipeline() for statements produced one at a time: each is handed to the
   * driver as soon as it exists, so the server executes one while the next is
   * built (insertMany; bench/ case 3). Fails with the first failure in
   * statement order; each statement is counted and reported as pipeline() does.
   */
  async pipelineAsBuilt(statements: Iterable<{ text: string; params: readonly unknown[] }>): Promise<void> {
    await this.#whenFree();
    this.guard();
    const step = this.ctx.dialect.outbound;
    const sent: Promise<Result>[] = [];
    try {
      for (const statement of statements) {
        const result = this.#track(
          this.dispatch(statement.text, statement.params, step === undefined ? statement : step(statement)),
        );
        result.catch(() => {}); // awaited below, in order
        sent.push(result);
        // One microtask: the driver writes what it was just given before the next is built.
        await null;
      }
    } finally {
      // A statement refused while being built: what was already sent still lands before the caller goes on.
      if (sent.length > 0) await Promise.allSettled(sent);
    }
    for (const result of sent) await result;
  }

  /** @internal Send BEGIN (nothing in autocommit mode). */
  async begin(options?: BeginOptions): Promise<void> {
    if (this.#autocommit) return;
    await this.#control(this.ctx.dialect.beginSql(options), 0);
  }

  /**
   * @internal COMMIT, once every statement sent has answered and no savepoint
   * runs. If a statement failed (and was not undone by a savepoint rollback),
   * ROLLBACK instead and throw TransactionRolledBackError; the same if the
   * server answers COMMIT with a rollback.
   */
  async commit(): Promise<void> {
    if (this.#busy()) await this.#quiet();
    this.guard();
    this.#done = true;
    // Each statement committed (or failed) on its own as it ran: there is nothing left to decide.
    if (this.#autocommit) return;
    const failure = this.#failures[0];
    if (failure !== undefined) {
      const error = new TransactionRolledBackError(
        "The transaction was rolled back, not committed: a statement in it failed and its error was caught. " +
          "Nothing it did is stored. To go on after a statement that may fail, run it inside savepoint(). " +
          "First failure: " + describe(failure),
        { scope: "transaction", cause: failure },
      );
      try {
        await this.#control(this.ctx.dialect.rollbackSql(), 0, true);
      } catch (rollbackError) {
        noteRollbackError(error, rollbackError);
      }
      throw error;
    }
    const answer = await this.#control(this.ctx.dialect.commitSql(), 0, true);
    if (answer.command.toUpperCase() === "ROLLBACK") {
      throw new TransactionRolledBackError(
        "The server rolled the transaction back instead of committing it; nothing it did is stored",
        { scope: "transaction" },
      );
    }
  }

  /**
   * @internal ROLLBACK. Returns false if that failed too (the connection should
   * then be dropped); the failure is noted on `cause` when it is an IrisqlError.
   */
  async rollback(cause?: unknown): Promise<boolean> {
    if (this.#busy()) await this.#quiet();
    if (this.#done) return true;
    this.#done = true;
    if (this.#autocommit) return true;
    try {
      await this.#control(this.ctx.dialect.rollbackSql(), 0, true);
      return true;
    } catch (rollbackError) {
      noteRollbackError(cause, rollbackError);
      return false;
    }
  }

  /** @internal Mark finished without sending anything (the connection is gone). */
  markDone(): void {
    this.#done = true;
  }

  /**
   * Transaction control, sent as is and never gated. Once the transaction ended only its own
   * COMMIT/ROLLBACK (`final`) may go: a late SAVEPOINT or RELEASE would land on a connection
   * that may already serve someone else.
   */
  #control(text: string, depth: number, final = false): Promise<Result> {
    if (this.#done && !final) return Promise.reject(closedError("transaction"));
    const answer = super.run(text, [], CONTROL);
    answer.catch((error) => this.#noteFailure(error, depth));
    return answer;
  }

  /** Count a statement in flight and remember its failure at the depth it was issued. */
  #track<T>(answer: Promise<T>, statements = 1): Promise<T> {
    if (this.#autocommit) this.#committed += statements;
    const depth = this.#open.length;
    this.#inflight++;
    // Shared handlers outside savepoints: no closure per statement on the common path (bench case 6).
    answer.then(
      this.#answered,
      depth === 0 ? this.#failedAtTop : (error) => {
        this.#noteFailure(error, depth);
        this.#landed();
      },
    );
    return answer;
  }

  #answered = (): void => this.#landed();
  #failedAtTop = (error: unknown): void => {
    this.#noteFailure(error, 0);
    this.#landed();
  };

  /** A savepoint runs or a statement is unanswered: commit and rollback must wait. */
  #busy(): boolean {
    return this.#open.length > 0 || this.#inflight > 0;
  }

  #landed(): void {
    if (--this.#inflight === 0 && this.#drained) {
      const wake = this.#drained;
      this.#drained = undefined;
      wake();
    }
  }

  #noteFailure(error: unknown, depth: number): void {
    if (!isServerFailure(error)) return;
    for (let d = this.#failures.length; d < depth; d++) this.#failures[d] = undefined;
    if (this.#failures[depth] === undefined) this.#failures[depth] = error;
  }

  /** Resolves once every statement sent so far has answered. */
  #settled(): Promise<void> {
    if (this.#inflight === 0) return Promise.resolve();
    return new Promise((resolve) => {
      const before = this.#drained;
      this.#drained = before ? () => (before(), resolve()) : resolve;
    });
  }

  /**
   * What a call returns instead of running now: the call again once the savepoint it must wait
   * for has ended, or a rejection once the transaction has ended; undefined when it may run.
   */
  #held<T>(again: () => Promise<T>): Promise<T> | undefined {
    const blocker = this.#blocker();
    if (blocker) return blocker.ended.then(again);
    return this.#done ? Promise.reject(closedError("transaction")) : undefined;
  }

  /** The savepoint the caller must wait for: the innermost one running, unless the caller is inside it. */
  #blocker(): Frame | undefined {
    const innermost = this.#open[this.#open.length - 1];
    if (!innermost) return undefined;
    for (let f = scope.getStore(); f; f = f.parent) if (f === innermost) return undefined;
    return innermost;
  }

  async #whenFree(): Promise<void> {
    for (let b = this.#blocker(); b; b = this.#blocker()) await b.ended;
  }

  /**
   * No savepoint runs (unless the caller is inside it) and every statement sent has answered.
   * Looped: a savepoint() called in the same tick as commit() registers a moment later.
   */
  async #quiet(): Promise<void> {
    do {
      await this.#whenFree();
      await this.#settled();
    } while (this.#blocker() || this.#inflight > 0);
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
  requireTransactions(ctx, "begin()");
  const tx = new Transaction(ctx, conn);
  await tx.begin(options);
  let result: T;
  try {
    result = await fn(tx);
  } catch (error) {
    await tx.rollback(error);
    throw error;
  }
  await tx.commit();
  return result;
}

/** The statements as the dialect sends them (see Dialect.outbound); throws before anything is sent. */
function outbound(ctx: EngineContext, statements: readonly Outbound[]): readonly Outbound[] {
  const step = ctx.dialect.outbound;
  return step === undefined ? statements : statements.map(step);
}

/** Throws TransactionsUnavailableError unless the server keeps transactions (see EngineOptions.transactions). */
export function requireTransactions(ctx: EngineContext, what: string): void {
  if (ctx.config.transactions !== "server") throw unavailable(ctx, what);
}

/** Why `what` cannot run on this engine; nothing has been sent. */
export function unavailable(ctx: EngineContext, what: string): TransactionsUnavailableError {
  if (ctx.config.transactions === "autocommit") {
    return new TransactionsUnavailableError(
      `${what} is not available with transactions: "autocommit": every statement commits as it runs, ` +
        `so nothing could be rolled back. Nothing was sent.`,
    );
  }
  return new TransactionsUnavailableError(
    `${what} needs to know how the server commits, and ${ctx.config.redactedUrl.replace(/\?.*$/s, "")} does not ` +
      `say. Set the engine option transactions (or ?transactions= in the URL): "server" if iris-pgwire runs ` +
      `embedded in IRIS (BEGIN/COMMIT/ROLLBACK work), "autocommit" if it runs outside IRIS (pip install ` +
      `iris-pgwire), where it commits every statement at once and begin() cannot be offered. Nothing was sent.`,
  );
}

/** Keep the first error; note a failed rollback on it. */
function noteRollbackError(original: unknown, rollbackError: unknown): void {
  if (original instanceof IrisqlError && !("rollbackError" in original)) {
    Object.defineProperty(original, "rollbackError", { value: rollbackError, enumerable: false });
  }
}

function describe(error: unknown): string {
  return error instanceof Error ? `${error.name}: ${error.message}` : String(error);
}
