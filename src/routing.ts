/**
 * Read replicas: which server a read goes to. Only reads irisql can prove are reads
 * come here (a session's typed get/find/nearest before its first write, and
 * engine.execute/stream calls marked `{ replica: true }`); everything else goes
 * to the primary without passing through this file.
 *
 * A replica is in the rotation while its last check passed: it answered, and it
 * had replayed what the primary had written more than maxReplicaLagMs ago. The
 * lag is measured with the servers' own write positions (dialect.wire.replication):
 * every check samples the primary's position with the time it was taken, and asks
 * each replica how many of the recent samples it has replayed. An idle primary
 * does not move its position, so an idle replica is never taken for a late one;
 * the measure's resolution is the check interval. A read that fails on a replica
 * with ConnectionError takes the replica out at once; if that replica was last
 * seen in recovery (a hot standby, which cannot write), the read is sent to the
 * primary, since nothing it did on the standby could have changed anything.
 */
import type { Adapter, PoolStats, RawResult, Reply, Runner, RunOptions } from "./adapters/adapter.ts";
import { now } from "./adapters/runtime.ts";
import type { ReplicationSql } from "./dialects/dialect.ts";
import { ConnectionError, EngineDisposedError } from "./errors.ts";
import { type EngineContext, Executor } from "./executor.ts";
import { refuseControl } from "./control-statements.ts";

/** One host in stats() and health(). */
/** One host in `engine.stats().hosts` and `engine.health().hosts`: a snapshot, with no secrets. */
export interface HostReport {
  /** "primary" for the host writes go to, "replica" for a read replica. */
  role: "primary" | "replica";
  /** "host:port" (the primary: the host its connections now go to). */
  host: string;
  /** Replicas: whether reads go there now. */
  inRotation?: boolean;
  /** Replicas: ms behind the primary at the last check (null: not known). */
  lagMs?: number | null;
  /** Replicas: still in recovery (a hot standby) at the last check. */
  inRecovery?: boolean;
  /** Replicas: reads sent there so far. */
  reads?: number;
  /** Primary with a multi-host URL: how often the hosts were asked which is which. */
  resolutions?: number;
  /** The host's own connection pool. */
  pool: PoolStats;
  /** Why it is out (no secrets). */
  error?: string;
}

interface Replica {
  readonly label: string;
  readonly adapter: Adapter;
  checked: boolean;
  inRotation: boolean;
  inRecovery: boolean;
  lagMs: number | null;
  reads: number;
  error: string | undefined;
}

/** Primary positions kept for the lag measure. */
const MAX_SAMPLES = 200;

export class ReplicaSet {
  readonly #primary: Adapter;
  readonly #replicas: Replica[];
  readonly #sql: ReplicationSql;
  readonly #maxLagMs: number;
  readonly #every: number;
  readonly #answerWithin: number;
  #samples: { position: string; at: number }[] = [];
  #next = 0;
  #timer: ReturnType<typeof setTimeout> | undefined;
  #running: Promise<void> | undefined;
  #started = false;
  #closed = false;

  constructor(
    primary: Adapter,
    replicas: { label: string; adapter: Adapter }[],
    sql: ReplicationSql,
    maxLagMs: number,
  ) {
    this.#primary = primary;
    this.#sql = sql;
    this.#maxLagMs = maxLagMs;
    // A lag past the bound is seen within about a quarter of it (at most 1 s late).
    this.#every = Math.max(50, Math.min(1000, Math.round(maxLagMs / 4)));
    this.#answerWithin = Math.max(1000, this.#every * 2);
    this.#replicas = replicas.map((r) => ({
      label: r.label,
      adapter: r.adapter,
      checked: false,
      inRotation: false,
      inRecovery: false,
      lagMs: null,
      reads: 0,
      error: undefined,
    }));
  }

  /** A replica in the rotation (round robin), or undefined: the read goes to the primary. */
  pick(): Replica | undefined {
    this.#start();
    const n = this.#replicas.length;
    for (let i = 0; i < n; i++) {
      const r = this.#replicas[(this.#next + i) % n];
      if (r.inRotation) {
        this.#next = (this.#next + i + 1) % n;
        return r;
      }
    }
    return undefined;
  }

  /** A read on `r` lost its connection: out of the rotation until a check passes. */
  down(r: Replica, error: unknown): void {
    r.inRotation = false;
    r.error = describe(error);
  }

  /** Check every replica now (health() calls it); checks also run on their own once reads began. */
  check(): Promise<void> {
    this.#start();
    return this.#running ??= this.#round().finally(() => (this.#running = undefined));
  }

  reports(): HostReport[] {
    return this.#replicas.map((r) => ({
      role: "replica",
      host: r.label,
      inRotation: r.inRotation,
      lagMs: r.lagMs,
      inRecovery: r.inRecovery,
      reads: r.reads,
      pool: r.adapter.stats(),
      ...(r.error && !r.inRotation ? { error: r.error } : {}),
    }));
  }

  async close(): Promise<void> {
    this.#closed = true;
    clearTimeout(this.#timer);
    await this.#running?.catch(() => {});
    await Promise.all(this.#replicas.map((r) => r.adapter.close()));
  }

  #start(): void {
    if (this.#started || this.#closed) return;
    this.#started = true;
    this.#schedule(0);
  }

  #schedule(ms: number): void {
    if (this.#closed) return;
    this.#timer = setTimeout(() => {
      this.check().finally(() => this.#schedule(this.#every));
    }, ms);
    unref(this.#timer);
  }

  async #round(): Promise<void> {
    if (this.#closed) return;
    const sql = this.#sql;
    if (sql.position !== null) {
      try {
        const at = now();
        const raw = await within(this.#primary.run(sql.position, [], { prepare: false }), this.#answerWithin);
        const position = raw.rows[0]?.position;
        if (typeof position === "string") this.#sample(position, at);
      } catch {
        // The primary is not answering: the replicas are judged by the samples already taken.
      }
    }
    await Promise.all(this.#replicas.map((r) => this.#checkOne(r)));
  }

  #sample(position: string, at: number): void {
    const samples = this.#samples;
    if (samples.length > 0 && samples[samples.length - 1].position === position) {
      // An idle primary: the newest sample stands for "now" (a replica that has it is current).
      samples[samples.length - 1].at = at;
    } else {
      samples.push({ position, at });
    }
    // Kept for twice the bound, so "none replayed" proves a lag past it; the newest always stays.
    const oldest = at - 2 * this.#maxLagMs;
    while (samples.length > 1 && (samples[0].at < oldest || samples.length > MAX_SAMPLES)) samples.shift();
  }

  async #checkOne(r: Replica): Promise<void> {
    const sql = this.#sql;
    const samples = this.#samples.slice();
    try {
      if (sql.replayed === null) {
        // The server cannot say how far behind it is: only whether it answers.
        await within(r.adapter.run("SELECT 1", [], { prepare: false }), this.#answerWithin);
        this.#set(r, null, false);
        return;
      }
      const raw = await within(
        r.adapter.run(sql.replayed, [samples.map((s) => s.position).join(",")], { prepare: false }),
        this.#answerWithin,
      );
      const row = raw.rows[0] ?? {};
      const replayed = Number(row.replayed);
      const inRecovery = row.in_recovery === true || row.in_recovery === "t" || row.in_recovery === 1;
      if (samples.length === 0) return this.#set(r, null, inRecovery, "the primary's position is not known yet");
      const t = now();
      // It has everything the primary had at samples[replayed - 1]; none: at least since samples[0].
      const lag = replayed >= samples.length ? 0 : Math.round(t - samples[Math.max(0, replayed - 1)].at);
      this.#set(
        r,
        lag,
        inRecovery,
        lag > this.#maxLagMs ? `lags ${lag} ms behind the primary (maxReplicaLagMs ${this.#maxLagMs})` : undefined,
      );
    } catch (error) {
      r.checked = true;
      r.inRotation = false;
      r.error = describe(error);
    }
  }

  #set(r: Replica, lag: number | null, inRecovery: boolean, problem?: string): void {
    r.checked = true;
    r.lagMs = lag;
    r.inRecovery = inRecovery;
    r.error = problem;
    r.inRotation = problem === undefined && !this.#closed;
  }
}

/**
 * The runner behind replica reads: a replica in the rotation, else the primary. A read
 * that lost its replica's connection goes to the primary if that replica was a hot
 * standby (it could not have written anything); otherwise the ConnectionError stands.
 */
export class ReplicaRunner implements Runner {
  readonly #set: ReplicaSet;
  readonly #primary: Runner;

  constructor(set: ReplicaSet, primary: Runner) {
    this.#set = set;
    this.#primary = primary;
  }

  run(text: string, params: readonly unknown[], options?: RunOptions): Promise<RawResult>;
  run<T>(text: string, params: readonly unknown[], options: RunOptions, reply: Reply<T>): Promise<T>;
  run<T>(text: string, params: readonly unknown[], options: RunOptions = {}, reply?: Reply<T>): Promise<T | RawResult> {
    const r = this.#set.pick();
    if (!r) return reply ? this.#primary.run(text, params, options, reply) : this.#primary.run(text, params, options);
    r.reads++;
    return r.adapter.run(
      text,
      params,
      options,
      new Fallback(this.#set, r, this.#primary, text, params, options, reply),
    );
  }

  async *stream(
    text: string,
    params: readonly unknown[],
    batchSize: number,
    options?: RunOptions,
  ): AsyncGenerator<Record<string, unknown>[]> {
    const r = this.#set.pick();
    if (!r) return yield* this.#primary.stream(text, params, batchSize, options);
    r.reads++;
    let sent = false;
    try {
      for await (const batch of r.adapter.stream(text, params, batchSize, options)) {
        sent = true;
        yield batch;
      }
    } catch (error) {
      if (!(error instanceof ConnectionError) || error instanceof EngineDisposedError) throw error;
      this.#set.down(r, error);
      // Rows already handed out cannot be taken back: only a stream that gave none moves.
      if (sent || !r.inRecovery) throw error;
      yield* this.#primary.stream(text, params, batchSize, options);
    }
  }
}

class Fallback<T> implements Reply<T | RawResult> {
  constructor(
    readonly set: ReplicaSet,
    readonly replica: Replica,
    readonly primary: Runner,
    readonly text: string,
    readonly params: readonly unknown[],
    readonly options: RunOptions,
    readonly reply: Reply<T> | undefined,
  ) {}

  ok(raw: RawResult): T | RawResult {
    return this.reply ? this.reply.ok(raw) : raw;
  }

  fail(error: unknown): Promise<T | RawResult> {
    if (error instanceof ConnectionError && !(error instanceof EngineDisposedError)) {
      this.set.down(this.replica, error);
      if (this.replica.inRecovery && !this.options.signal?.aborted) {
        return this.reply
          ? this.primary.run(this.text, this.params, this.options, this.reply)
          : this.primary.run(this.text, this.params, this.options);
      }
    }
    return this.reply ? this.reply.fail(error) : Promise.reject(error);
  }
}

/** engine.execute/stream with `{ replica: true }`, and sessions' reads before their first write. */
export class ReplicaReads extends Executor {
  readonly #guard: () => void;

  constructor(ctx: EngineContext, runner: Runner, guard: () => void) {
    super(ctx, runner);
    this.#guard = guard;
  }

  protected override guard(): void {
    this.#guard();
  }

  protected override admit(text: string): void {
    refuseControl(text, "pool");
  }
}

/** The statement's answer, or a ConnectionError-free timeout error after `ms`. */
function within<T>(answer: Promise<T>, ms: number): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const late = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`no answer within ${ms} ms`)), ms);
  });
  return Promise.race([answer, late]).finally(() => clearTimeout(timer));
}

function describe(error: unknown): string {
  return error instanceof Error ? `${error.name}: ${error.message}` : String(error);
}

/** Let the process exit while only this timer is left (Node/Bun: unref(); Deno: Deno.unrefTimer). */
function unref(timer: unknown): void {
  if (typeof timer === "object" && timer !== null && "unref" in timer) {
    (timer as { unref(): void }).unref();
    return;
  }
  const deno = (globalThis as { Deno?: { unrefTimer?(id: number): void } }).Deno;
  if (typeof timer === "number") deno?.unrefTimer?.(timer);
}
