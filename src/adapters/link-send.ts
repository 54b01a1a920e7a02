/**
 * One statement on irisql's pool (postgresjs-pool.ts), for either network driver:
 * hand it to a link with room or queue it, settle it in one reaction, give the link
 * back, and re-send it only if the driver provably never sent it (decision 7). What
 * differs between postgres.js and Bun.SQL is a StatementDriver.
 */
import { ConnectionError, IrisqlError } from "../errors.ts";
import type { RawResult, Reply, RunOptions } from "./adapter.ts";
import type { DriverQuery, Link, LinkPool, Waiter } from "./postgresjs-pool.ts";
import { cancelled } from "./link-errors.ts";

/** Turns a driver error into an irisql error; `sql` is the statement's text. */
export type Fail = (error: unknown, sql: string) => IrisqlError;

/**
 * What one driver does for a statement. `E` is what the link's `pending` list holds
 * for it: the pool fails it (`reject`) and reads `state` for the cancel request.
 */
export interface StatementDriver<E extends DriverQuery = DriverQuery> {
  /** Hand the statement to the link's client (it may start only once `answer` is awaited). */
  start(link: Link, text: string, params: readonly unknown[], options: RunOptions, prepare: boolean): E;
  /** The statement's answer: awaited exactly once, by send()'s single `then`. */
  answer(entry: E): Promise<unknown>;
  /** Ask the server to stop the statement (its AbortSignal fired). */
  cancel(entry: E): void;
  /** Whether the driver provably never wrote the statement: only then may it move to another link. */
  neverSent(entry: E): boolean;
  /**
   * The driver's result as a RawResult. Runs before the link goes back to the pool, so a
   * driver that follows the transaction status itself has it right when the pool looks.
   */
  read(link: Link, result: unknown): RawResult;
  /** After the statement failed (before the link goes back to the pool). */
  failed(link: Link, text: string, params: readonly unknown[]): void;
  /** A link just reserved by a session, transaction or connect(). */
  reserved(link: Link): void;
  /** Read a result in batches on a link the caller holds alone. */
  stream(
    link: Link,
    pool: LinkPool,
    text: string,
    params: readonly unknown[],
    batchSize: number,
    options: RunOptions,
    prepare: boolean,
    fail: Fail,
  ): AsyncGenerator<Record<string, unknown>[]>;
}

/**
 * Links that may die under one pooled statement before it is sent. Each retry is
 * safe (the statement never left the client); the bound stops a server that drops
 * every new connection from looping.
 */
const MAX_RESENDS = 2;

/**
 * Hand a pooled statement to a link with room now, else wait for one. `tries`
 * counts earlier links that died before sending it (see send()).
 */
export function dispatch<T>(
  driver: StatementDriver,
  pool: LinkPool,
  text: string,
  params: readonly unknown[],
  options: RunOptions,
  prepare: boolean,
  fail: Fail,
  reply: Reply<T> | undefined,
  tries: number,
): Promise<T | RawResult> {
  if (options.signal) {
    // A cancellable statement runs alone: a cancel request stops whatever its connection runs.
    const link = pool.now("solo");
    if (link) return send(driver, link, pool, true, text, params, options, prepare, fail, reply, tries);
    return pool.acquire("solo", options.signal).then(
      (l) => send(driver, l, pool, true, text, params, options, prepare, fail, reply, tries),
      (error) => (reply ? reply.fail(error) : Promise.reject(error)),
    );
  }
  const link = pool.now("shared");
  if (link) return send(driver, link, pool, true, text, params, options, prepare, fail, reply, tries);
  return new Promise((resolve, reject) => {
    pool.queue(new QueuedStatement(driver, pool, text, params, options, prepare, fail, reply, resolve, reject, tries));
  });
}

/** A pooled statement waiting for a connection with room; the pool sends it when one has. */
class QueuedStatement<T> implements Waiter {
  readonly use = "shared" as const;

  constructor(
    readonly driver: StatementDriver,
    readonly pool: LinkPool,
    readonly text: string,
    readonly params: readonly unknown[],
    readonly options: RunOptions,
    readonly prepare: boolean,
    readonly failWith: Fail,
    readonly reply: Reply<T> | undefined,
    readonly resolve: (value: T | RawResult) => void,
    readonly reject: (error: unknown) => void,
    readonly tries: number,
  ) {}

  grant(link: Link): void {
    send(
      this.driver,
      link,
      this.pool,
      true,
      this.text,
      this.params,
      this.options,
      this.prepare,
      this.failWith,
      this.reply,
      this.tries,
    ).then(this.resolve, this.reject);
  }

  fail(error: IrisqlError): void {
    if (this.reply) this.reply.fail(error).then(this.resolve, this.reject);
    else this.reject(error);
  }
}

/**
 * Send one statement on `link` and settle it: a pooled statement gives its link
 * back, a connection failure drops the link, and `reply` (the caller's handling)
 * runs in the same reaction. One `then` per statement on the hot path (bench/).
 * A pooled statement whose link died before the driver wrote it (`neverSent`)
 * goes to another link; anything the driver may have written fails.
 */
export function send<T>(
  driver: StatementDriver,
  link: Link,
  pool: LinkPool,
  pooled: boolean,
  text: string,
  params: readonly unknown[],
  options: RunOptions,
  prepare: boolean,
  fail: Fail,
  reply?: Reply<T>,
  tries = 0,
): Promise<T | RawResult> {
  if (options.signal?.aborted) {
    return sendFailed(cancelled(options.signal), link, pool, pooled, text, options, fail, reply);
  }
  let entry: DriverQuery;
  try {
    entry = driver.start(link, text, params, options, prepare);
  } catch (error) {
    return sendFailed(error, link, pool, pooled, text, options, fail, reply);
  }
  if (link.pending.length === 0) pool.headStarted(link);
  link.pending.push(entry);
  const answer = options.signal
    ? withSignal(driver.answer(entry), () => driver.cancel(entry), options.signal)
    : driver.answer(entry);
  return answer.then((result: unknown) => {
    settled(pool, link, entry);
    link.ready = true;
    const raw = driver.read(link, result);
    if (pooled) pool.done(link);
    return reply ? reply.ok(raw) : raw;
  }, (error: unknown) => {
    settled(pool, link, entry);
    const e = error instanceof IrisqlError ? error : fail(error, text);
    driver.failed(link, text, params);
    if (
      pooled && driver.neverSent(entry) && e instanceof ConnectionError && unsentMayMove(link, pool, options, tries)
    ) {
      pool.drop(link);
      pool.done(link);
      return dispatch(driver, pool, text, params, options, prepare, fail, reply, tries + 1);
    }
    return sendFailed(e, link, pool, pooled, text, options, fail, reply);
  });
}

/** `entry` left the link: the next one in line starts to run (the deadline's clock). */
function settled(pool: LinkPool, link: Link, entry: DriverQuery): void {
  if (link.pending.first === entry) {
    link.pending.shift();
    pool.headStarted(link);
  } else {
    link.pending.remove(entry);
  }
}

/**
 * Whether a statement its dead link never sent goes to another one. Not when the
 * link never got to run anything and no other has (the server is unreachable:
 * say so now rather than after more connect attempts).
 */
function unsentMayMove(link: Link, pool: LinkPool, options: RunOptions, tries: number): boolean {
  return tries < MAX_RESENDS && !options.signal?.aborted && (link.ready || pool.hasReady(link));
}

function sendFailed<T>(
  error: unknown,
  link: Link,
  pool: LinkPool,
  pooled: boolean,
  text: string,
  options: RunOptions,
  fail: Fail,
  reply?: Reply<T>,
): Promise<T | RawResult> {
  const e = error instanceof IrisqlError ? error : fail(error, text);
  // After a cancel request the connection is retired: the request may still be on its way
  // and would stop whatever statement the connection runs next.
  if (e instanceof ConnectionError || (pooled && options.signal?.aborted)) pool.drop(link);
  if (pooled) pool.done(link);
  return reply ? reply.fail(e) : Promise.reject(e);
}

/** The driver's answer, with the statement cancelled on the server when `signal` aborts. */
async function withSignal(answer: Promise<unknown>, cancel: () => void, signal: AbortSignal): Promise<unknown> {
  signal.addEventListener("abort", cancel, { once: true });
  try {
    return await answer;
  } catch (error) {
    if (signal.aborted) throw cancelled(signal, error);
    throw error;
  } finally {
    signal.removeEventListener("abort", cancel);
  }
}
