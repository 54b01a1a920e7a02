/**
 * Running statements: compile, send through a runner (the pool or a reserved
 * connection), time, count, report to onQuery, and wrap the answer in a
 * Result. Engine, Connection, Transaction and Session all run through here.
 */
import type { RawResult, Reply, Runner, RunOptions } from "./adapters/adapter.ts";
import { now } from "./adapters/runtime.ts";
import type { ResolvedConfig } from "./config.ts";
import type { Dialect, Outbound } from "./dialects/dialect.ts";
import { EngineDisposedError, SessionClosedError, ValidationError } from "./errors.ts";
import { Result, type Row } from "./result.ts";
import { type Compilable, compile, type CompiledQuery, compileInto } from "./sql.ts";

/**
 * A statement as `execute()` and `stream()` take it: a plain string (sent as
 * written, with no parameters), a {@linkcode text} query with `:name`
 * placeholders, or a {@linkcode sql} tagged template. Values are always bound,
 * never spliced into the SQL.
 */
export type QueryInput = string | Compilable | CompiledQuery;

/** Options of `execute()`. */
export interface ExecuteOptions {
  /** Cancels the statement: the call rejects with QueryCancelledError (PostgreSQL also stops it; iris-pgwire cannot). */
  signal?: AbortSignal;
}

/** Options of `stream()`. */
export interface StreamOptions {
  /** Rows per batch (default 500). */
  batchSize?: number;
  /** Cancels the stream: the loop throws QueryCancelledError. */
  signal?: AbortSignal;
}

/** Shared by everything one engine creates (not part of the API). */
export interface EngineContext {
  readonly dialect: Dialect;
  readonly config: ResolvedConfig;
  readonly counters: { queries: number; errors: number };
}

/**
 * What {@linkcode Engine}, {@linkcode Connection} and {@linkcode Transaction}
 * have in common: `execute()` to run one statement, `stream()` to read a large
 * result in batches, and the engine's `dialect`. You never make one yourself.
 */
export class Executor {
  /** @internal */
  protected readonly ctx: EngineContext;
  /** @internal */
  protected readonly runner: Runner;

  /** @internal */
  constructor(ctx: EngineContext, runner: Runner) {
    this.ctx = ctx;
    this.runner = runner;
  }

  /** @internal Throws SessionClosedError once this object may no longer be used. */
  protected guard(): void {}

  /** @internal Throws ValidationError for a raw statement this runner must not carry (see refuseControl). */
  protected admit(_text: string): void {}

  /** The SQL dialect statements are compiled for (`dialect.name` is "iris" or "postgres"). */
  get dialect(): Dialect {
    return this.ctx.dialect;
  }

  /**
   * Run one statement.
   *   execute(text("... :id"), { id })
   *   execute(sql`... ${id}`)
   *   execute("CREATE TABLE ...")   // plain string: no parameters
   */
  execute<R = Row>(query: QueryInput, params?: unknown, options?: ExecuteOptions): Promise<Result<R>> {
    try {
      this.guard();
      const values: unknown[] = [];
      const text = compileInto(query, params, this.ctx.dialect, values);
      this.admit(text);
      return this.run<R>(text, values, options);
    } catch (error) {
      return Promise.reject(error);
    }
  }

  /**
   * @internal Run compiled SQL: the common path for everything above the adapter.
   * `prepare` overrides the engine's choice (transaction control is never prepared).
   */
  run<R = Row>(
    text: string,
    params: readonly unknown[],
    options?: ExecuteOptions & { prepare?: boolean },
  ): Promise<Result<R>> {
    const outbound = this.ctx.dialect.outbound;
    let sent: Outbound = { text, params };
    if (outbound !== undefined) {
      try {
        sent = outbound(sent);
      } catch (error) {
        return Promise.reject(error);
      }
    }
    return this.dispatch<R>(text, params, sent, options);
  }

  /**
   * @internal Send a statement that has been through `dialect.outbound` (`sent`): counted,
   * timed and reported to onQuery as the caller wrote it (`text`, `params`). Pipelines send
   * through here too, so every statement that leaves is reported, alone or pipelined.
   */
  protected dispatch<R = Row>(
    text: string,
    params: readonly unknown[],
    sent: Outbound,
    options?: ExecuteOptions & { prepare?: boolean },
  ): Promise<Result<R>> {
    const signal = options?.signal;
    const prepare = options?.prepare;
    const simple = params.length === 0 && typeof prepare === "undefined" ? isScript(text) : false;
    const opts: RunOptions = signal || simple || prepare !== undefined ? { signal, prepare, simple } : PLAIN;
    const outcome = new Outcome<R>(this.ctx, text, params);
    try {
      return this.runner.run(sent.text, sent.params, opts, outcome);
    } catch (error) {
      return outcome.fail(error);
    }
  }

  /**
   * Rows in batches, for results too large to hold at once:
   *   for await (const batch of engine.stream(sql`SELECT ...`, undefined, { batchSize: 500 })) { ... }
   */
  async *stream<R = Row>(query: QueryInput, params?: unknown, options: StreamOptions = {}): AsyncGenerator<R[]> {
    this.guard();
    const batchSize = options.batchSize ?? 500;
    if (!Number.isInteger(batchSize) || batchSize < 1) {
      throw new ValidationError(`batchSize must be a whole number >= 1, got ${String(options.batchSize)}`);
    }
    const compiled = compile(query, params, this.ctx.dialect);
    this.admit(compiled.text);
    const { text, params: values } = this.ctx.dialect.outbound?.(compiled) ?? compiled;
    const started = this.ctx.config.onQuery ? now() : 0;
    let rows = 0;
    try {
      if (this.ctx.dialect.wire.serverCursors) {
        for await (
          const batch of this.runner.stream(text, values, batchSize, { signal: options.signal })
        ) {
          rows += batch.length;
          yield batch as R[];
        }
      } else {
        // The server sends whole results (iris-pgwire ignores max_rows): fetch, then batch.
        const result = await this.runner.run(text, values, { signal: options.signal });
        for (let i = 0; i < result.rows.length; i += batchSize) {
          const batch = result.rows.slice(i, i + batchSize);
          rows += batch.length;
          yield batch as R[];
        }
      }
    } catch (error) {
      throw failed(this.ctx, error, compiled.text, compiled.params.length, started);
    }
    this.ctx.counters.queries++;
    if (this.ctx.config.onQuery) {
      report(this.ctx, {
        sql: compiled.text,
        paramCount: compiled.params.length,
        durationMs: now() - started,
        rowCount: rows,
      });
    }
  }
}

/** No signal, prepare as configured, extended protocol: most statements. */
const PLAIN: RunOptions = Object.freeze({});

/**
 * One statement's way from the runner's answer to the caller: count it, report it
 * to onQuery, wrap it in a Result. An object with methods, not closures: every
 * statement makes one.
 */
class Outcome<R> implements Reply<Result<R>> {
  readonly #started: number;

  constructor(
    readonly ctx: EngineContext,
    readonly text: string,
    readonly params: readonly unknown[],
  ) {
    this.#started = ctx.config.onQuery ? now() : 0;
  }

  ok(raw: RawResult): Result<R> {
    const ctx = this.ctx;
    ctx.counters.queries++;
    const rowCount = raw.command === "SELECT" || raw.columns.length > 0
      ? raw.rows.length
      : ctx.dialect.rowCount(raw.command, raw.count);
    if (ctx.config.onQuery) {
      report(ctx, { sql: this.text, paramCount: this.params.length, durationMs: now() - this.#started, rowCount });
    }
    return new Result<R>(raw.rows as R[], rowCount, raw.columns, ctx.dialect.command(raw.command, this.text));
  }

  /** Nothing that may have reached the server is sent again (the adapter resends only what never left). */
  fail(error: unknown): Promise<Result<R>> {
    return Promise.reject(failed(this.ctx, error, this.text, this.params.length, this.#started));
  }
}

function failed(ctx: EngineContext, error: unknown, text: string, paramCount: number, started: number): unknown {
  ctx.counters.errors++;
  if (ctx.config.onQuery) {
    report(ctx, {
      sql: text,
      paramCount,
      durationMs: now() - started,
      rowCount: null,
      error: error instanceof Error ? error : new Error(String(error)),
    });
  }
  return error;
}

/** A parameterless statement that may hold several commands goes by the simple protocol. */
function isScript(text: string): boolean {
  return !/^\s*(SELECT|WITH|VALUES|SHOW|TABLE)\b/i.test(text);
}

function report(ctx: EngineContext, event: Parameters<NonNullable<ResolvedConfig["onQuery"]>>[0]): void {
  try {
    ctx.config.onQuery!(event);
  } catch {
    // A failing logger must not fail the query it reports.
  }
}

/** Used by objects that end: a clear error instead of a hang. */
export function closedError(what: string): SessionClosedError {
  if (what === "engine") return new EngineDisposedError();
  return new SessionClosedError(`This ${what} has finished and can no longer be used; start a new one`);
}
