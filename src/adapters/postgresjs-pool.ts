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
import { DISPOSE_GRACE_MS } from "./adapter.ts";
import type { Endpoint } from "./host-select.ts";
import { now } from "./runtime.ts";

// deno-lint-ignore no-explicit-any
type Sql = any;

/** What a link needs of a socket. */
export interface LinkSocket {
  once(event: "close", listener: () => void): unknown;
  on(event: "data", listener: (chunk: Uint8Array) => void): unknown;
  destroy(): void;
}

/**
 * The server's transaction status byte, from the ReadyForQuery message that ends
 * every answer: idle, in a transaction, in a failed transaction. TX_UNSEEN: no
 * ReadyForQuery seen yet (or never: under TLS the driver reads another socket);
 * TX_UNKNOWN: bytes came after the last one (an answer in progress).
 */
export const TX_IDLE = 73, TX_IN = 84, TX_FAILED = 69, TX_UNSEEN = 0, TX_UNKNOWN = -1;

export class Link {
  /** Statements and streams in flight on it (pooled use). */
  busy = 0;
  /** Held by one session, transaction or connect(). */
  reserved = false;
  /** Runs one statement that no other may share (see LinkUse). */
  solo = false;
  /** Its socket closed or failed: never used again. */
  dead = false;
  /** A statement succeeded on it: the server was reachable and the session worked. */
  ready = false;
  /** Gets no new work and closes once idle (past maxLifetime). */
  retiring = false;
  readonly born: number = now();
  /** When it last became idle (no statement in flight, not reserved). */
  idleSince: number = this.born;
  /** When the oldest statement in flight (pending.first) started to run, as far as the client can tell. */
  headSince = 0;
  /** The pool's turn (see LinkPool.headStarted) when it did. */
  headTurn = 0;
  readonly sql: Sql;
  /** The host its connection went to (chosen when it opened: multi-host URLs). */
  endpoint: Endpoint | undefined;
  #sockets = new Set<LinkSocket>();
  #opened = false;
  #lost: () => void;

  constructor(options: LinkPoolOptions, lost: (link: Link) => void) {
    this.#lost = () => lost(this);
    this.sql = options.open({ onclose: this.#lost, socket: () => this.#socket(options) });
  }

  /**
   * The driver asks for a socket: the first is the connection; more while it is open
   * are cancel requests, to the same host. Once the connection closed, the driver asking
   * again means a reconnect, which would be a new session in the middle of someone's
   * work: refused. Where the host must be chosen first (a multi-host URL), the socket
   * comes once it is; no host to be had fails the connection with the chooser's error.
   */
  #socket(options: LinkPoolOptions): LinkSocket | Promise<LinkSocket> {
    if (this.dead) throw connectionClosed();
    if (this.endpoint || !options.endpoint) return this.#connect(options, this.endpoint);
    const ep = options.endpoint();
    if (!(ep instanceof Promise)) return this.#connect(options, this.endpoint = ep);
    return ep.then((chosen) => {
      if (this.dead) throw connectionClosed();
      return this.#connect(options, this.endpoint = chosen);
    });
  }

  #connect(options: LinkPoolOptions, ep: Endpoint | undefined): LinkSocket {
    const socket = options.connect(ep);
    this.#sockets.add(socket);
    socket.once("close", () => this.#sockets.delete(socket));
    if (!this.#opened) {
      this.#opened = true;
      // Runs before the driver's own close handler, so its reconnect is refused.
      socket.once("close", this.#lost);
      // Registered before the driver's listener: the status is current when its answers settle.
      socket.on("data", this.#track);
    }
    return socket;
  }

  /** Transaction status after the last answer received (TX_*). */
  txStatus = TX_UNSEEN;
  /** The last bytes received: the previous chunk, or at most 6 bytes joined across small chunks. */
  #tail: Uint8Array | undefined;

  /**
   * Once the server has answered everything, the last 6 bytes received are its
   * ReadyForQuery: 'Z', length 5, status. O(1) per chunk: only the tail is read.
   */
  #track = (chunk: Uint8Array): void => {
    let b = chunk;
    const prev = this.#tail;
    if (b.length < 6 && prev) {
      // A message split across chunks: join the few bytes needed from before.
      const take = Math.min(6 - b.length, prev.length);
      const joined = new Uint8Array(take + b.length);
      joined.set(prev.subarray(prev.length - take), 0);
      joined.set(b, take);
      b = joined;
    }
    this.#tail = b;
    const n = b.length;
    if (n >= 6 && b[n - 6] === 90 && b[n - 5] === 0 && b[n - 4] === 0 && b[n - 3] === 0 && b[n - 2] === 5) {
      this.txStatus = b[n - 1];
    } else if (this.txStatus !== TX_UNSEEN) {
      this.txStatus = TX_UNKNOWN;
    }
  };

  /** Close every socket this link opened, whatever state the driver left it in. */
  destroySockets(): void {
    for (const socket of this.#sockets) socket.destroy();
    this.#sockets.clear();
  }

  /**
   * Driver queries sent on this link and not settled yet, oldest first. A connection
   * answers in the order it was sent, so removal is almost always at the head (a Set
   * showed in the per-statement profile, bench/ case 4).
   */
  readonly pending = new Fifo<DriverQuery>();

  /** Texts this connection has as named prepared statements (on the server and in the driver). */
  #prepared = new Set<string>();

  /**
   * Whether to send `text` as a named prepared statement: yes for the texts it has,
   * and for new ones while it has fewer than STATEMENT_CACHE. Beyond that, new texts
   * go unnamed, which leaves nothing behind: the driver has no way to evict, and each
   * prepared text costs memory on both sides for the life of the connection (a stream
   * of ever-new texts grew both without bound). maxLifetime brings a fresh set.
   */
  prepares(text: string): boolean {
    if (this.#prepared.has(text)) return true;
    if (this.#prepared.size >= STATEMENT_CACHE) return false;
    this.#prepared.add(text);
    return true;
  }

  /**
   * Fail what the driver still holds: it strands queries queued on a connection
   * that died (while connecting, or behind a full pipeline). `reject` is the
   * driver's own, a no-op on a query it already settled.
   */
  failPending(error: unknown): void {
    for (const query of this.pending.drain()) query.reject(error);
  }
}

/**
 * Prepared statements per connection. Far above the distinct texts of an ordinary
 * application (its repeated statements keep their one round trip); small on the
 * server (a few kB each in the backend).
 */
export const STATEMENT_CACHE = 1000;

/** The driver's error for a connection that is gone; the adapter turns it into a ConnectionError. */
export function connectionClosed(): Error {
  return Object.assign(new Error("connection closed"), { code: "CONNECTION_CLOSED" });
}

/** The part of a postgres.js query the pool uses. */
export interface DriverQuery {
  reject(error: unknown): void;
  /** Set by the driver when it hands the query to the socket; null while it still holds it. */
  state: { pid: number | null; secret: number | null } | null;
}

/**
 * How a link is used: "shared" by one statement among others pipelined on the same
 * connection; "solo" by one statement alone (a cancellable statement, since a
 * PostgreSQL cancel request hits whatever the connection runs at that moment, or
 * a stream); "reserve": held by a session, transaction or connect() until released.
 */
export type LinkUse = "shared" | "solo" | "reserve";

export interface Waiter {
  use: LinkUse;
  grant(link: Link): void;
  fail(error: IrisqlError): void;
}

/**
 * A first-in first-out list with O(1) removal at the head (Array#shift is O(n) on
 * some engines): the pool's waiters, and each link's queries in flight.
 */
class Fifo<T> {
  #items: (T | undefined)[] = [];
  #head = 0;

  get length(): number {
    return this.#items.length - this.#head;
  }

  get first(): T | undefined {
    return this.#items[this.#head];
  }

  push(item: T): void {
    this.#items.push(item);
  }

  shift(): T | undefined {
    const item = this.#items[this.#head];
    this.#items[this.#head++] = undefined;
    if (this.#head === this.#items.length) {
      this.#items.length = 0;
      this.#head = 0;
    } else if (this.#head >= 1024 && this.#head * 2 >= this.#items.length) {
      this.#items.splice(0, this.#head);
      this.#head = 0;
    }
    return item;
  }

  /** Remove one item wherever it is; false if absent. */
  remove(item: T): boolean {
    const i = this.#items.indexOf(item, this.#head);
    if (i < 0) return false;
    if (i === this.#head) this.shift();
    else this.#items.splice(i, 1);
    return true;
  }

  /** Take everything out, oldest first. */
  drain(): T[] {
    const all = this.#items.slice(this.#head) as T[];
    this.#items.length = 0;
    this.#head = 0;
    return all;
  }
}

export interface LinkPoolOptions {
  max: number;
  /**
   * Pooled statements in flight per link before the pool queues more itself. The driver's
   * own limit is set above it, so the driver never parks a connection as "full" with a
   * private queue: the pool's one queue feeds whichever connection answers first, and
   * each answer lets the next statement in at once.
   */
  pipeline: number;
  /** ms to wait for a link; 0 = forever. */
  acquireTimeout: number;
  /** ms a link may stay idle before it is closed; 0 = forever. */
  idleTimeout: number;
  /** ms after which a link is closed once idle; 0 = forever. */
  maxLifetime: number;
  /**
   * ms a statement may go unanswered before its connection is given up; 0 = wait
   * forever. Checked by the pool's sweep, not a timer per statement.
   */
  deadline: number;
  /** For the statement that went unanswered past the deadline. */
  deadlineError(): IrisqlError;
  /** For the other statements on the connection given up (those never sent go to another link). */
  abandonedError(): IrisqlError;
  /** Ask the server at `ep` to stop a statement (best effort, on a connection of its own). */
  cancel(state: { pid: number | null; secret: number | null }, ep: Endpoint | undefined): void;
  /** A postgres.js client with max 1, given the driver's `onclose` and `socket` options. */
  open(hooks: { onclose: () => void; socket: () => LinkSocket | Promise<LinkSocket> }): Sql;
  /** Where a new connection goes: known now, or once the hosts have been asked (multi-host URLs). */
  endpoint?(): Endpoint | Promise<Endpoint>;
  /** A new TCP connection to the server at `ep` (undefined without endpoint()). */
  connect(ep: Endpoint | undefined): LinkSocket;
  /** A link's connection was given up or lost (not retired): its host may have gone. */
  dropped?(link: Link): void;
  timeoutError(ms: number, held: number): IrisqlError;
  cancelledError(): IrisqlError;
  endedError(): IrisqlError;
  /** For statements left unanswered on a connection that died. */
  lostError(): IrisqlError;
}

/**
 * A statement that has run this long (ms) is slow: well above a round trip plus a
 * pipeline of ordinary statements on a healthy server, well below a stall anyone
 * would notice. New statements go elsewhere while another connection can take them.
 */
const SLOW_MS = 50;

export class LinkPool {
  #links: Link[] = [];
  #waiters = new Fifo<Waiter>();
  /** Statements waiting in #waiters through queue() (they share one timer). */
  #queued = 0;
  /** Pooled statements finished so far: the queue timer's measure of progress. */
  #finished = 0;
  #queueTimer: ReturnType<typeof setTimeout> | undefined;
  #held = 0;
  #closed = false;

  /** close() has begun: links that die now were ended by dispose(). */
  get closed(): boolean {
    return this.#closed;
  }
  readonly #options: LinkPoolOptions;
  /** One timer for the whole pool, running while it has links (see #sweep). */
  #sweeper: ReturnType<typeof setInterval> | undefined;
  readonly #sweepEvery: number;

  constructor(options: LinkPoolOptions) {
    this.#options = options;
    const periods = [options.idleTimeout, options.maxLifetime].filter((ms) => ms > 0).map((ms) => ms / 4);
    // A deadline is seen at most an eighth late (and within 250 ms).
    if (options.deadline > 0) periods.push(Math.min(250, options.deadline / 8));
    this.#sweepEvery = periods.length ? Math.max(10, Math.min(1000, ...periods)) : 0;
  }

  get held(): number {
    return this.#held;
  }

  get waiting(): number {
    return this.#waiters.length;
  }

  /** A link for a statement now (call done() after), or undefined: use acquire(). */
  now(use: "shared" | "solo"): Link | undefined {
    if (this.#waiters.length > 0 || this.#closed) return undefined;
    const link = this.#pick(use);
    return link && this.#take(link, use);
  }

  /**
   * A link for a statement (call done() after) or held until release() ("reserve").
   * Waits at most acquireTimeout, first come first served.
   */
  acquire(use: "solo" | "reserve", signal?: AbortSignal): Promise<Link> {
    if (this.#closed) return Promise.reject(this.#options.endedError());
    if (signal?.aborted) return Promise.reject(this.#options.cancelledError());
    if (this.#waiters.length === 0) {
      const link = this.#pick(use);
      if (link) return Promise.resolve(this.#take(link, use));
    }
    return new Promise((resolve, reject) => {
      const ms = this.#options.acquireTimeout;
      const leave = (error: IrisqlError) => {
        if (!this.#waiters.remove(waiter)) return;
        clearTimeout(timer);
        signal?.removeEventListener("abort", onAbort);
        reject(error);
        // A reservation that gave up may have been blocking statements queued behind it.
        this.#serve();
      };
      const onAbort = () => leave(this.#options.cancelledError());
      const timer = ms > 0 ? setTimeout(() => leave(this.#options.timeoutError(ms, this.#held)), ms) : undefined;
      const waiter: Waiter = {
        use,
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

  /**
   * Queue a pooled statement (no signal) until a connection has room: the waiter's
   * grant() sends it. Cheaper than acquire() (no promise, no timer per statement).
   * Queued statements fail with the pool timeout only when no pooled statement
   * finished for acquireTimeout: a long queue that keeps moving always moves on.
   */
  queue(waiter: Waiter): void {
    if (this.#closed) return waiter.fail(this.#options.endedError());
    this.#waiters.push(waiter);
    this.#queued++;
    this.#watchQueue();
  }

  #watchQueue(): void {
    const ms = this.#options.acquireTimeout;
    if (ms <= 0 || this.#queueTimer !== undefined) return;
    const seen = this.#finished;
    this.#queueTimer = setTimeout(() => {
      this.#queueTimer = undefined;
      if (this.#queued === 0) return;
      if (this.#finished === seen) this.#expireQueued(ms);
      if (this.#queued > 0) this.#watchQueue();
    }, ms);
  }

  #expireQueued(ms: number): void {
    const error = this.#options.timeoutError(ms, this.#held);
    for (const w of this.#waiters.drain()) {
      if (w.use === "shared") w.fail(error);
      else this.#waiters.push(w);
    }
    this.#queued = 0;
  }

  /** A statement on `link` finished. */
  done(link: Link): void {
    link.busy--;
    link.solo = false;
    this.#finished++;
    // Left inside a transaction (a script ending in BEGIN): what is pipelined behind it would join
    // that transaction, and no ROLLBACK is safe while others share the connection. Closing rolls it back.
    if (link.txStatus === TX_IN || link.txStatus === TX_FAILED) this.drop(link);
    if (link.busy === 0 && !link.reserved) this.#idle(link);
    if (this.#waiters.length > 0) this.#serve();
  }

  /** A reservation ends; a dead link is not handed out again. */
  release(link: Link): void {
    if (!link.reserved) return;
    link.reserved = false;
    this.#held--;
    if (link.busy === 0) this.#idle(link);
    this.#serve();
  }

  /** `link` has nothing in flight and no holder: the only time it may be retired. */
  #idle(link: Link): void {
    if (link.dead) return;
    if (link.retiring) this.#retire(link);
    else link.idleSince = this.#clock();
  }

  /** Close an idle link politely (Terminate, then the socket), and let a new one take its place. */
  #retire(link: Link): void {
    // Idle: nothing to fail, so the driver may say goodbye to the server properly.
    this.#forget(link, 1);
  }

  /**
   * The pool's timer: marks links past maxLifetime as retiring and closes idle links
   * that are retiring or idle past idleTimeout. Never touches a busy or held link:
   * the driver's own timers would end a connection whatever it was doing.
   */
  #sweep(): void {
    const { idleTimeout, maxLifetime, deadline } = this.#options;
    const t = now();
    for (let i = this.#links.length - 1; i >= 0; i--) {
      const link = this.#links[i];
      const head = link.pending.first;
      if (deadline > 0 && head) {
        // Not sent yet (the connection is still opening): its clock has not started.
        if (head.state === null) link.headSince = t;
        else if (t - link.headSince >= deadline) {
          this.#giveUp(link, head);
          continue;
        }
      }
      if (maxLifetime > 0 && t - link.born >= maxLifetime) link.retiring = true;
      if (link.busy > 0 || link.reserved) continue;
      if (link.retiring || (idleTimeout > 0 && t - link.idleSince >= idleTimeout)) this.#retire(link);
    }
    if (this.#links.length === 0) this.#stopSweeping();
  }

  /**
   * `head` went unanswered past the deadline: fail it, ask the server to stop it, and
   * close the connection. The rest fail as abandoned; the driver never sent those it
   * still held, so they go to another link (see send() in postgresjs.ts).
   */
  #giveUp(link: Link, head: DriverQuery): void {
    const rest = link.pending.drain();
    if (head.state) this.#options.cancel(head.state, link.endpoint);
    head.reject(this.#options.deadlineError());
    const abandoned = this.#options.abandonedError();
    for (const query of rest) if (query !== head) query.reject(abandoned);
    this.drop(link);
  }

  #startSweeping(): void {
    if (this.#sweeper !== undefined || this.#sweepEvery === 0 || this.#closed) return;
    this.#sweeper = setInterval(() => this.#sweep(), this.#sweepEvery);
    unref(this.#sweeper);
  }

  #stopSweeping(): void {
    clearInterval(this.#sweeper);
    this.#sweeper = undefined;
  }

  /** The link's connection is gone: forget it, end its client, let a new one take its place. */
  drop(link: Link): void {
    if (link.dead) return;
    this.#options.dropped?.(link);
    this.#forget(link, 0);
  }

  /** Take `link` out of the pool and end its client within `endTimeout` seconds. */
  #forget(link: Link, endTimeout: number): void {
    if (link.dead) return;
    link.dead = true;
    const i = this.#links.indexOf(link);
    if (i >= 0) this.#links.splice(i, 1);
    // Its statements already failed; reject any still queued in the driver, then make sure
    // no socket stays open (the driver leaves one that was mid-connect when it ended).
    link.sql.end({ timeout: endTimeout }).catch(() => {}).then(() => {
      link.destroySockets();
      link.failPending(this.#options.lostError());
    });
    this.#serve();
  }

  /**
   * The oldest statement in flight on `link` changed (it got work while idle, or its
   * previous head answered): its clock starts now. The turn advances at the next
   * microtask checkpoint, so a statement queued in the same synchronous burst as the
   * pick that looks at it is never taken for slow, however long the burst took.
   */
  headStarted(link: Link): void {
    link.headSince = this.#clock();
    link.headTurn = this.#turn;
  }

  /**
   * now(), read once per turn: a burst of statements (10,000 in one Promise.all) or of answers
   * (one socket read) shares one reading. performance.now() is not free (on Bun about as
   * much as the rest of a statement's pool bookkeeping), and the pool's clocks (slow head,
   * idle since) need milliseconds, not the microseconds inside one burst.
   */
  #clock(): number {
    if (this.#clockTurn !== this.#turn || !this.#turnPending) {
      this.#clockValue = now();
      this.#clockTurn = this.#turn;
      if (!this.#turnPending) {
        this.#turnPending = true;
        queueMicrotask(this.#nextTurn);
      }
    }
    return this.#clockValue;
  }
  #clockValue = 0;
  #clockTurn = -1;

  #turn = 0;
  #turnPending = false;
  #nextTurn = (): void => {
    this.#turn++;
    this.#turnPending = false;
  };

  /** Is there a live link other than `except` that has run a statement? */
  hasReady(except: Link): boolean {
    return this.#links.some((l) => l !== except && l.ready && !l.dead);
  }

  async close(graceMs = DISPOSE_GRACE_MS): Promise<void> {
    if (this.#closed) return;
    // What was accepted finishes first: statements in flight (also on connections still opening)
    // or queued, and held connections until released, for up to graceMs. The engine already
    // refuses new work. Polled: done() and release() stay free of shutdown bookkeeping.
    const deadline = now() + graceMs;
    while (
      !this.#closed && now() < deadline &&
      (this.#waiters.length > 0 || this.#held > 0 || this.#links.some((link) => link.busy > 0))
    ) {
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
    if (this.#closed) return;
    this.#closed = true;
    this.#stopSweeping();
    clearTimeout(this.#queueTimer);
    this.#queued = 0;
    for (const w of this.#waiters.drain()) w.fail(this.#options.endedError());
    const links = this.#links.splice(0);
    for (const link of links) link.dead = true;
    // Past the grace period nothing is waited for any more.
    await Promise.all(links.map((link) =>
      link.sql.end({ timeout: 0 }).finally(() => {
        link.destroySockets();
        link.failPending(this.#options.endedError());
      })
    ));
  }

  #take(link: Link, use: LinkUse): Link {
    if (use === "reserve") {
      link.reserved = true;
      this.#held++;
    } else {
      link.busy++;
      link.solo = use === "solo";
    }
    return link;
  }

  /** Hand free links to waiters, in order; stop at the first that cannot be served. */
  #serve(): void {
    while (this.#waiters.length > 0 && !this.#closed) {
      const w = this.#waiters.first!;
      const link = this.#pick(w.use);
      if (!link) break;
      this.#waiters.shift();
      if (w.use === "shared") this.#queued--;
      w.grant(this.#take(link, w.use));
    }
    if (this.#queued === 0 && this.#queueTimer !== undefined) {
      clearTimeout(this.#queueTimer);
      this.#queueTimer = undefined;
    }
  }

  /**
   * An idle link, else a new one while under max; for a shared statement, else the
   * least busy shared link with room (statements pipeline), but not one whose oldest
   * statement has run for SLOW_MS while another will free up soon: a statement
   * pipelined there waits for the slow one.
   */
  #pick(use: LinkUse): Link | undefined {
    let best: Link | undefined;
    let stalled: Link | undefined;
    let fastButFull = false;
    let t = 0;
    const pipeline = this.#options.pipeline;
    for (const link of this.#links) {
      if (link.reserved || link.solo || link.retiring) continue;
      if (link.busy === 0) return link;
      if (use !== "shared") continue;
      t ||= this.#clock();
      if (t - link.headSince >= SLOW_MS && link.headTurn !== this.#turn) {
        if (link.busy < pipeline && (!stalled || link.busy < stalled.busy)) stalled = link;
      } else if (link.busy >= pipeline) fastButFull = true;
      else if (!best || link.busy < best.busy) best = link;
    }
    if (this.#links.length < this.#options.max) return this.#open();
    return best ?? (fastButFull ? undefined : stalled);
  }

  #open(): Link {
    const link = new Link(this.#options, (l) => this.drop(l));
    this.#links.push(link);
    this.#startSweeping();
    return link;
  }
}

/**
 * Let the process exit while only this timer is left: Node and Bun timers have
 * unref(); Deno's setInterval returns a number, unref'd through Deno.unrefTimer.
 */
function unref(timer: unknown): void {
  if (typeof timer === "object" && timer !== null && "unref" in timer) {
    (timer as { unref(): void }).unref();
    return;
  }
  const deno = (globalThis as { Deno?: { unrefTimer?(id: number): void } }).Deno;
  if (typeof timer === "number") deno?.unrefTimer?.(timer);
}
