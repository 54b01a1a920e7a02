/**
 * The connection pool behind the postgres.js adapter. Each connection is its own
 * postgres.js client capped at one connection (a "link"), so irisql, not the
 * driver, decides who uses which connection. This keeps clear of postgres.js 3.4.9
 * bugs in its pool and `sql.reserve()` (porsager/postgres #751, #1195, #1208,
 * #1209): a reserve on a not yet connected pool never resolving when fetch_types
 * is off, a queued reserve stranded when a connection dies, a reserved connection
 * crashing the process once its backend is gone, and a reconnected connection
 * whose write timer went stale so it never sends again. A link whose socket
 * closed is dropped and never reconnected; a fresh one takes its place.
 */
import type { IrisqlError } from "../errors.ts";

// deno-lint-ignore no-explicit-any
type Sql = any;

export class Link {
  /** Statements and streams in flight on it (pooled use). */
  busy = 0;
  /** Held by one session, transaction or connect(). */
  reserved = false;
  /** Its socket closed or failed: never used again. */
  dead = false;
  readonly sql: Sql;
  constructor(open: (onclose: () => void) => Sql, onclose: (link: Link) => void) {
    this.sql = open(() => onclose(this));
  }
}

interface Waiter {
  reserve: boolean;
  grant(link: Link): void;
  fail(error: IrisqlError): void;
}

export interface LinkPoolOptions {
  max: number;
  /** ms to wait for a link; 0 = forever. */
  acquireTimeout: number;
  /** A postgres.js client with max 1 that calls `onclose` when its socket closes. */
  open(onclose: () => void): Sql;
  timeoutError(ms: number, held: number): IrisqlError;
  cancelledError(): IrisqlError;
  endedError(): IrisqlError;
}

export class LinkPool {
  #links: Link[] = [];
  #waiters: Waiter[] = [];
  #held = 0;
  #closed = false;
  /** Dropped links still ending. */
  #retiring = new Set<Promise<void>>();
  readonly #options: LinkPoolOptions;

  constructor(options: LinkPoolOptions) {
    this.#options = options;
  }

  get held(): number {
    return this.#held;
  }

  get waiting(): number {
    return this.#waiters.length;
  }

  /** A link for one statement now (counted busy; call done()), or undefined: use acquire(). */
  now(): Link | undefined {
    if (this.#waiters.length > 0 || this.#closed) return undefined;
    const link = this.#forStatement();
    if (link) link.busy++;
    return link;
  }

  /**
   * A link for one statement (`reserve` false, call done() after) or held until
   * release() (`reserve` true). Waits at most acquireTimeout, first come first served.
   */
  acquire(reserve: boolean, signal?: AbortSignal): Promise<Link> {
    if (this.#closed) return Promise.reject(this.#options.endedError());
    if (signal?.aborted) return Promise.reject(this.#options.cancelledError());
    if (this.#waiters.length === 0) {
      const link = reserve ? this.#idle() : this.#forStatement();
      if (link) return Promise.resolve(this.#take(link, reserve));
    }
    return new Promise((resolve, reject) => {
      const ms = this.#options.acquireTimeout;
      const leave = (error: IrisqlError) => {
        const i = this.#waiters.indexOf(waiter);
        if (i < 0) return;
        this.#waiters.splice(i, 1);
        clearTimeout(timer);
        signal?.removeEventListener("abort", onAbort);
        reject(error);
        // A reservation that gave up may have been blocking statements queued behind it.
        this.#serve();
      };
      const onAbort = () => leave(this.#options.cancelledError());
      const timer = ms > 0 ? setTimeout(() => leave(this.#options.timeoutError(ms, this.#held)), ms) : undefined;
      const waiter: Waiter = {
        reserve,
        grant: (link) => {
          clearTimeout(timer);
          signal?.removeEventListener("abort", onAbort);
          resolve(link);
        },
        fail: leave,
      };
      signal?.addEventListener("abort", onAbort, { once: true });
      this.#waiters.push(waiter);
    });
  }

  /** A statement on `link` finished. */
  done(link: Link): void {
    link.busy--;
    if (link.busy === 0 && this.#waiters.length > 0) this.#serve();
  }

  /** A reservation ends; a dead link is not handed out again. */
  release(link: Link): void {
    if (!link.reserved) return;
    link.reserved = false;
    this.#held--;
    this.#serve();
  }

  /** The link's connection is gone: forget it, end its client, let a new one take its place. */
  drop(link: Link): void {
    if (link.dead) return;
    link.dead = true;
    const i = this.#links.indexOf(link);
    if (i >= 0) this.#links.splice(i, 1);
    // A graceful end: statements queued on it but not yet sent still run (the driver may
    // already be reconnecting for them). Forcing it instead would leave a socket that is
    // mid-connect open for good, keeping the process alive.
    const ending: Promise<void> = link.sql.end().catch(() => {});
    this.#retiring.add(ending);
    ending.then(() => this.#retiring.delete(ending));
    this.#serve();
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    for (const w of this.#waiters.slice()) w.fail(this.#options.endedError());
    const links = this.#links.splice(0);
    for (const link of links) link.dead = true;
    let timer: ReturnType<typeof setTimeout> | undefined;
    const patience = new Promise<void>((resolve) => (timer = setTimeout(resolve, 5000)));
    await Promise.all([
      ...links.map((link) => link.sql.end({ timeout: 5 })),
      Promise.race([Promise.all(this.#retiring), patience]),
    ]);
    clearTimeout(timer);
  }

  #take(link: Link, reserve: boolean): Link {
    if (reserve) {
      link.reserved = true;
      this.#held++;
    } else {
      link.busy++;
    }
    return link;
  }

  /** Hand free links to waiters, in order; stop at the first that cannot be served. */
  #serve(): void {
    while (this.#waiters.length > 0 && !this.#closed) {
      const w = this.#waiters[0];
      const link = w.reserve ? this.#idle() : this.#forStatement();
      if (!link) return;
      this.#waiters.shift();
      w.grant(this.#take(link, w.reserve));
    }
  }

  /** An idle link not held by anyone, opening one while under max. */
  #idle(): Link | undefined {
    for (const link of this.#links) {
      if (!link.reserved && link.busy === 0) return link;
    }
    return this.#links.length < this.#options.max ? this.#open() : undefined;
  }

  /** An idle link, else a new one while under max, else the least busy (statements pipeline). */
  #forStatement(): Link | undefined {
    let best: Link | undefined;
    for (const link of this.#links) {
      if (link.reserved) continue;
      if (link.busy === 0) return link;
      if (!best || link.busy < best.busy) best = link;
    }
    return this.#links.length < this.#options.max ? this.#open() : best;
  }

  #open(): Link {
    const link = new Link(this.#options.open, (l) => this.drop(l));
    this.#links.push(link);
    return link;
  }
}
