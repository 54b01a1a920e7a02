/**
 * The adapter both network drivers (postgres.js, Bun.SQL) share: pooled statements,
 * streams, reserved connections with prePing, and giving a connection back clean or
 * not at all, all on irisql's own pool (postgresjs-pool.ts, decision 1). A subclass
 * opens the pool with its driver and says how driver errors read (`fail`).
 */
import { ConnectionError, EngineDisposedError, QueryCancelledError, SessionClosedError } from "../errors.ts";
import type { Adapter, PoolStats, RawResult, Reply, ReservedConnection, RunOptions } from "./adapter.ts";
import {
  connectionClosed,
  type Link,
  type LinkPool,
  type LinkPoolOptions,
  TX_FAILED,
  TX_IDLE,
  TX_IN,
  TX_UNSEEN,
} from "./postgresjs-pool.ts";
import { poolTimeout, tooManyParams } from "./link-errors.ts";
import { dispatch, type Fail, send, type StatementDriver } from "./link-send.ts";

export abstract class LinkAdapter implements Adapter {
  /** What engine.stats() reports as its adapter. */
  abstract readonly kind: Adapter["kind"];
  /** Turn a driver error into an irisql error. */
  abstract readonly fail: Fail;
  protected abstract readonly pool: LinkPool;
  readonly #driver: StatementDriver;
  readonly #settings: { max: number; prepare: boolean; prePing: boolean };

  constructor(driver: StatementDriver, settings: { max: number; prepare: boolean; prePing: boolean }) {
    this.#driver = driver;
    this.#settings = settings;
  }

  /** The pool's errors that read the same on every driver. */
  protected poolErrors(): Pick<LinkPoolOptions, "timeoutError" | "cancelledError" | "lostError"> {
    return {
      timeoutError: (ms) => poolTimeout(ms, this.#settings.max, this.pool.held),
      cancelledError: () => new QueryCancelledError("Cancelled while waiting for a connection"),
      lostError: () => this.fail(connectionClosed(), ""),
    };
  }

  run(text: string, params: readonly unknown[], options?: RunOptions): Promise<RawResult>;
  run<T>(text: string, params: readonly unknown[], options: RunOptions, reply: Reply<T>): Promise<T>;
  run<T>(text: string, params: readonly unknown[], options: RunOptions = {}, reply?: Reply<T>): Promise<T | RawResult> {
    const refused = tooManyParams(params, text);
    if (refused) return reply ? reply.fail(refused) : Promise.reject(refused);
    return dispatch(this.#driver, this.pool, text, params, options, this.#prepare(options), this.fail, reply, 0);
  }

  async *stream(
    text: string,
    params: readonly unknown[],
    batchSize: number,
    options: RunOptions = {},
  ): AsyncGenerator<Record<string, unknown>[]> {
    const refused = tooManyParams(params, text);
    if (refused) throw refused;
    // A stream holds its connection until the caller finishes reading: nothing else may queue behind it.
    const pool = this.pool;
    const link = pool.now("solo") ?? await pool.acquire("solo", options.signal);
    try {
      yield* this.#driver.stream(link, pool, text, params, batchSize, options, this.#prepare(options), this.fail);
    } catch (error) {
      if (error instanceof ConnectionError) pool.drop(link);
      throw error;
    } finally {
      if (options.signal?.aborted) pool.drop(link);
      pool.done(link);
    }
  }

  async reserve(options: { signal?: AbortSignal } = {}): Promise<ReservedConnection> {
    // With prePing, a connection that fails the ping is dropped and another taken;
    // each dead one fails once, so max + 1 tries suffice.
    for (let attempt = 0;; attempt++) {
      const link = await this.pool.acquire("reserve", options.signal);
      this.#driver.reserved(link);
      const conn = new LinkReserved(this.#driver, link, this.pool, this.fail);
      if (!this.#settings.prePing) return conn;
      try {
        await conn.run("SELECT 1", [], { simple: true });
        return conn;
      } catch (error) {
        await conn.release(true);
        if (!(error instanceof ConnectionError) || attempt >= this.#settings.max) throw error;
      }
    }
  }

  #prepare(options: RunOptions): boolean {
    return options.prepare ?? this.#settings.prepare;
  }

  stats(): PoolStats {
    return { max: this.#settings.max, reserved: this.pool.held, waiting: this.pool.waiting };
  }

  close(): Promise<void> {
    return this.pool.close();
  }
}

const SIMPLE: RunOptions = Object.freeze({ simple: true });

/**
 * One connection held by a session, transaction or connect(). Once its socket
 * closed, every call fails fast: the driver would otherwise reconnect and run the
 * rest of a transaction on a new session, in autocommit.
 */
class LinkReserved implements ReservedConnection {
  #driver: StatementDriver;
  #link: Link;
  #pool: LinkPool;
  #fail: Fail;
  #released = false;

  constructor(driver: StatementDriver, link: Link, pool: LinkPool, fail: Fail) {
    this.#driver = driver;
    this.#link = link;
    this.#pool = pool;
    this.#fail = fail;
  }

  #gone(): ReturnType<Fail> | undefined {
    // After release the link may already serve someone else: nothing more goes out on it.
    if (this.#released) {
      return new SessionClosedError("This connection was released and can no longer be used; reserve a new one");
    }
    if (!this.#link.dead) return undefined;
    return this.#pool.closed ? new EngineDisposedError() : this.#fail(connectionClosed(), "");
  }

  #send(text: string, params: readonly unknown[], options: RunOptions): Promise<RawResult> {
    const refused = tooManyParams(params, text);
    if (refused) return Promise.reject(refused);
    return send(
      this.#driver,
      this.#link,
      this.#pool,
      false,
      text,
      params,
      options,
      options.prepare ?? true,
      this.#fail,
    );
  }

  run(text: string, params: readonly unknown[], options?: RunOptions): Promise<RawResult>;
  run<T>(text: string, params: readonly unknown[], options: RunOptions, reply: Reply<T>): Promise<T>;
  run<T>(text: string, params: readonly unknown[], options: RunOptions = {}, reply?: Reply<T>): Promise<T | RawResult> {
    const gone = this.#gone();
    if (gone) return reply ? reply.fail(gone) : Promise.reject(gone);
    const refused = tooManyParams(params, text);
    if (refused) return reply ? reply.fail(refused) : Promise.reject(refused);
    const prepare = options.prepare ?? true;
    return send(this.#driver, this.#link, this.#pool, false, text, params, options, prepare, this.#fail, reply);
  }

  async *stream(
    text: string,
    params: readonly unknown[],
    batchSize: number,
    options: RunOptions = {},
  ): AsyncGenerator<Record<string, unknown>[]> {
    const gone = this.#gone();
    if (gone) throw gone;
    const refused = tooManyParams(params, text);
    if (refused) throw refused;
    const prepare = options.prepare ?? true;
    try {
      yield* this.#driver.stream(this.#link, this.#pool, text, params, batchSize, options, prepare, this.#fail);
    } catch (error) {
      // A connection failure ends this connection for good; the error goes on to the caller.
      if (error instanceof ConnectionError) this.#pool.drop(this.#link);
      throw error;
    }
  }

  async pipeline(
    statements: readonly { text: string; params: readonly unknown[] }[],
    options: RunOptions = {},
  ): Promise<RawResult[]> {
    const gone = this.#gone();
    if (gone) throw gone;
    // All sent before the first answer is awaited.
    const settled = await Promise.allSettled(statements.map((s) => this.#send(s.text, s.params, options)));
    // The first failure is the cause; later ones are usually "transaction aborted". send()
    // already dropped the link if the connection failed.
    const failure = settled.find((s): s is PromiseRejectedResult => s.status === "rejected");
    if (failure) throw failure.reason;
    return settled.map((s) => (s as PromiseFulfilledResult<RawResult>).value);
  }

  async release(broken = false, resetSql?: string | null): Promise<void> {
    if (this.#released) return;
    this.#released = true;
    const link = this.#link;
    let drop = broken;
    if (!drop && !link.dead) {
      const status = link.txStatus;
      const known = status === TX_IDLE || status === TX_IN || status === TX_FAILED || status === TX_UNSEEN;
      if (link.pending.length > 0 || !known) {
        // Still answering, or the last bytes were no ReadyForQuery: its state cannot be known.
        drop = true;
      } else if (status !== TX_IDLE || resetSql) {
        // Idle after irisql's own COMMIT/ROLLBACK costs nothing; otherwise one round trip.
        // TX_UNSEEN (postgres.js over TLS: the driver reads another socket) always gets the
        // ROLLBACK. Bun.SQL follows the status from command tags and never leaves it unseen.
        const rollback = status !== TX_IDLE;
        const text = rollback ? (resetSql ? "ROLLBACK; " + resetSql : "ROLLBACK") : resetSql!;
        try {
          await this.#send(text, [], SIMPLE);
          drop = link.txStatus !== TX_IDLE && link.txStatus !== TX_UNSEEN;
        } catch {
          drop = true;
        }
      }
    }
    if (drop) this.#pool.drop(link);
    this.#pool.release(link);
  }
}
