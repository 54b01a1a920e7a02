/**
 * Misuse and faults: many workers at once drive irisql the way a careless or
 * hostile caller would, against a ledger table, on PostgreSQL, PGlite and
 * iris:// (the iris-pgwire emulator in front of PostgreSQL, not IRIS):
 * - a failed statement caught inside engine.begin()/engine.session()/a manual
 *   session, and work going on: the commit must reject (TransactionRolledBackError,
 *   scope "transaction") and nothing of it be stored;
 * - savepoints that throw, or that swallow a failure (scope "savepoint"): only
 *   their own work is undone;
 * - savepoints, inserts and commits issued concurrently in one session, nested
 *   too, and inserts left floating when the unit of work ends;
 * - `where` objects with empty or undefined branches at any depth (must be
 *   refused, nothing sent), transaction control and SET on the pool or inside a
 *   managed transaction (refused);
 * - connect() + BEGIN / a failed statement / SET, then release() without cleaning up;
 * - inserts cancelled by an AbortSignal at a random moment (never doubled);
 * - a pool whose connections are retired every couple of seconds (maxLifetime,
 *   idleTimeout) while all this runs.
 * Each call's outcome is recorded; afterwards the database must hold every
 * acknowledged write exactly once and nothing of what was rolled back, no call
 * may have hung, every error must be of a class the misuse explains, no pooled
 * connection may be held or stuck in a transaction, and a plain INSERT must be
 * visible to another engine (PGlite has one connection and one in-memory database:
 * there, the same engine). Then: SET and transaction control hidden behind a comment,
 * in a script or in set_config() leave nothing on a pooled connection; a transaction,
 * a session and a held connection outlive maxLifetime and idleTimeout; dispose()
 * finishes accepted statements and refuses new ones. Seeds are fixed (prng), so a
 * failing run can be replayed.
 */
import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import {
  col,
  type Engine,
  type EngineOptions,
  QueryCancelledError,
  QueryError,
  SessionClosedError,
  table,
  text,
  TransactionAbortedError,
  TransactionRolledBackError,
  ValidationError,
} from "../../mod.ts";
import { type IrisEmulator, startIrisEmulator } from "../fixtures/iris-pgwire-emulator/mod.ts";
import { prng } from "./load.ts";
import {
  ADMIN_URL,
  ensureRole,
  type Evidence,
  EVIDENCE_FILE,
  flushEvidence,
  HungError,
  log,
  PASSWORD,
  PG_URL,
  ROLE,
  seenError,
  sleep,
  SOAK,
  uniqueName,
  watchedEngine,
  withCredentials,
  within,
} from "./support.ts";

const CALL_LIMIT_MS = 10_000;
const POOL = 6;
const WORKERS = 12;

type ErrorClass = abstract new (...args: never[]) => Error;
type RowState = "pending" | "present" | "absent" | "maybe";

/** A thrown value the caller's own code raised (not irisql). */
class Oops extends Error {
  override name = "Oops";
}

interface Target {
  name: string;
  seconds: number;
  /** PostgreSQL-only probes (current_setting, txid_current_if_assigned, SET that reaches the server). */
  postgresLike: boolean;
  /** pool options: the network pools recycle connections while the misuse runs. */
  options: EngineOptions;
  start(): Promise<{ url: string; observerUrl?: string }>;
  stop(): Promise<void>;
}

let emulator: IrisEmulator | undefined;

const TARGETS: Target[] = [
  {
    name: "PostgreSQL",
    seconds: SOAK ? 60 : 6,
    postgresLike: true,
    options: { pool: { max: POOL, acquireTimeout: 8000, maxLifetime: 2000, idleTimeout: 1000 } },
    start: async () => {
      await ensureRole();
      return { url: PG_URL, observerUrl: PG_URL };
    },
    stop: async () => {},
  },
  {
    name: "PGlite",
    seconds: SOAK ? 30 : 4,
    postgresLike: true,
    options: { pool: { acquireTimeout: 8000 } },
    start: () => Promise.resolve({ url: "pglite://memory" }),
    stop: async () => {},
  },
  {
    name: "iris-pgwire emulator",
    seconds: SOAK ? 60 : 6,
    postgresLike: false,
    options: { pool: { max: POOL, acquireTimeout: 8000, maxLifetime: 2000, idleTimeout: 1000 } },
    start: async () => {
      await ensureRole();
      emulator = await startIrisEmulator({ backend: ADMIN_URL });
      const url = withCredentials(emulator.url, ROLE, PASSWORD);
      return { url, observerUrl: url };
    },
    stop: async () => {
      await emulator?.close();
      emulator = undefined;
    },
  },
];

/** What one backend's run saw. */
class Ledger {
  readonly rows = new Map<string, { state: RowState; pattern: string }>();
  readonly unexpected: string[] = [];
  readonly violations: string[] = [];
  readonly hung: string[] = [];
  readonly patterns = new Map<string, number>();
  calls = 0;
  acked = 0;
  refused = 0;

  tag(worker: number, seq: number, step: number, pattern: string): string {
    const key = `${worker}:${seq}:${step}`;
    this.rows.set(key, { state: "pending", pattern });
    return key;
  }

  mark(key: string, state: Exclude<RowState, "pending">): void {
    const row = this.rows.get(key);
    if (!row) throw new Error(`no such row ${key}`);
    // A row already known to be in a committed transaction stays expected.
    if (row.state === "pending" || state === "present" || row.state === "maybe") row.state = state;
  }

  violation(pattern: string, what: string): void {
    this.violations.push(`${pattern}: ${what}`);
  }

  /**
   * Await one irisql call, bounded in time. Resolves to whether it succeeded; a
   * rejection whose class is not in `allowed` (or that is a hang) is recorded.
   */
  async call<T>(
    pattern: string,
    what: string,
    promise: Promise<T>,
    allowed: readonly ErrorClass[] = [],
  ): Promise<{ ok: true; value: T } | { ok: false; error: unknown }> {
    this.calls++;
    try {
      const value = await within(promise, CALL_LIMIT_MS, `${pattern}: ${what}`);
      this.acked++;
      return { ok: true, value };
    } catch (error) {
      seenError(error);
      if (error instanceof HungError) this.hung.push(error.message);
      else if (allowed.some((c) => error instanceof c)) this.refused++;
      else this.unexpected.push(`${pattern}: ${what}: ${show(error)}`);
      return { ok: false, error };
    }
  }
}

function show(error: unknown): string {
  if (!(error instanceof Error)) return String(error);
  const cause = error.cause instanceof Error ? ` (cause ${error.cause.name}: ${error.cause.message})` : "";
  return `${error.name}: ${error.message}${cause}`;
}

const isScope = (error: unknown, scope: "transaction" | "savepoint") =>
  error instanceof TransactionRolledBackError && error.scope === scope;

/** Where objects that must be refused before anything is sent: each would match more than it says. */
// deno-lint-ignore no-explicit-any
const HOSTILE_WHERES: ((worker: number) => any)[] = [
  () => ({ or: [{ worker: undefined }] }),
  () => ({ and: [{ worker: { eq: undefined } }] }),
  () => ({ or: [] }),
  () => ({ and: [] }),
  () => ({ or: [{}] }),
  () => ({ and: [{ or: [{ seq: undefined }] }] }),
  (w) => ({ worker: w, or: [{ step: { eq: undefined } }] }),
  (w) => ({ or: [{ worker: w }, { seq: undefined }] }),
  (w) => ({ and: [{ worker: w }, { or: [{ and: [] }] }] }),
  () => ({ or: [{ worker: { gt: undefined, lt: undefined } }] }),
];

/** Raw statements the pool must refuse (they would outlive the call on a pooled connection). */
const POOL_CONTROL = [
  "BEGIN",
  "begin transaction isolation level serializable",
  "  START TRANSACTION",
  "COMMIT",
  "rollback",
  "END",
  "SAVEPOINT sp1",
  "SET search_path TO pg_catalog",
  "set statement_timeout = 1",
  "RESET ALL",
  "DISCARD ALL",
];

for (const target of TARGETS) {
  describe(`reliability: misuse and faults on ${target.name}`, () => {
    let engine: Engine;
    let observer: Engine;
    let url: string;
    const name = uniqueName("rel_misuse");
    const ledgerName = `${name}_ledger`;
    const guardName = `${name}_guard`;
    const ledger = table(ledgerName, {
      // No unique key: a write sent twice shows up as a duplicate.
      worker: col.integer().notNull(),
      seq: col.integer().notNull(),
      step: col.integer().notNull(),
      note: col.varchar(80),
    });
    const guard = table(guardName, { id: col.integer().primaryKey() });
    /** Statements irisql sent that delete or update ledger rows: the misuse never asks for one that may be sent. */
    const widened: string[] = [];
    const book = new Ledger();

    const insertSql = text(`INSERT INTO ${ledgerName} (worker, seq, step, note) VALUES (:worker, :seq, :step, :note)`);
    const failSql = `INSERT INTO ${guardName} (id) VALUES (1)`;

    before(async () => {
      const started = await target.start();
      url = started.url;
      const observerUrl = started.observerUrl;
      engine = watchedEngine(url, {
        ...target.options,
        onQuery: (event) => {
          if (/^\s*(DELETE|UPDATE)\b/i.test(event.sql) && event.sql.includes(ledgerName)) widened.push(event.sql);
        },
      });
      observer = observerUrl ? watchedEngine(observerUrl, { pool: { max: 2 } }) : engine;
      await engine.createAll([ledger, guard]);
      await engine.execute(`INSERT INTO ${guardName} (id) VALUES (1)`);
    });

    after(async () => {
      // PGlite's in-memory database ends with the engine, which the last test disposes.
      if (target.name !== "PGlite") await observer.dropAll([ledger, guard], { checkfirst: true }).catch(seenError);
      if (observer !== engine) await observer.dispose();
      await engine.dispose();
      await target.stop();
      flushEvidence(`11-misuse-${target.name}`);
    });

    it(`keeps its promises under ${WORKERS} hostile workers for ${target.seconds} s`, {
      timeout: (target.seconds + 90) * 1000,
    }, async () => {
      const deadline = performance.now() + target.seconds * 1000;
      const pids = new Set<number>();

      const worker = async (w: number) => {
        const random = prng(0x5eed + w * 7919);
        const pick = <T>(list: readonly T[]): T => list[Math.floor(random() * list.length)];
        for (let seq = 0; performance.now() < deadline; seq++) {
          const patterns = PATTERNS.filter((p) => target.postgresLike || !p.postgresOnly);
          const pattern = pick(patterns);
          book.patterns.set(pattern.name, (book.patterns.get(pattern.name) ?? 0) + 1);
          let step = 0;
          const ctx: Ctx = {
            random,
            pick,
            row: () => book.tag(w, seq, step++, pattern.name),
            insert: (exec, key, signal) => {
              const [worker, s, st] = key.split(":").map(Number);
              return exec.execute(insertSql, { worker, seq: s, step: st, note: pattern.name.slice(0, 80) }, { signal });
            },
            fail: (exec) => exec.execute(failSql),
            call: (what, promise, allowed) => book.call(pattern.name, what, promise, allowed),
            mark: (key, state) => book.mark(key, state),
            violation: (what) => book.violation(pattern.name, what),
            pids,
          };
          await within(pattern.run(ctx), CALL_LIMIT_MS * 3, `${pattern.name} (worker ${w}, seq ${seq})`).catch(
            (error) => {
              seenError(error);
              if (error instanceof HungError) book.hung.push(error.message);
              else book.unexpected.push(`${pattern.name}: the pattern itself threw ${show(error)}`);
            },
          );
        }
      };

      interface Executes {
        execute(q: unknown, p?: unknown, o?: { signal?: AbortSignal }): Promise<unknown>;
      }
      interface Ctx {
        random: () => number;
        pick: <T>(list: readonly T[]) => T;
        row: () => string;
        insert: (exec: Executes, key: string, signal?: AbortSignal) => Promise<unknown>;
        fail: (exec: Executes) => Promise<unknown>;
        call: <T>(
          what: string,
          p: Promise<T>,
          allowed?: readonly ErrorClass[],
        ) => Promise<{ ok: true; value: T } | { ok: false; error: unknown }>;
        mark: (key: string, state: Exclude<RowState, "pending">) => void;
        violation: (what: string) => void;
        pids: Set<number>;
      }
      const swallow = (p: Promise<unknown>) => p.then(() => true, (e) => (seenError(e), false));
      const row = (key: string) => {
        const [worker, seq, step] = key.split(":").map(Number);
        return { worker, seq, step, note: "typed" };
      };

      const PATTERNS: { name: string; postgresOnly?: boolean; run: (c: Ctx) => Promise<void> }[] = [
        {
          // The baseline: a plain pooled write, acknowledged means stored once.
          name: "pooled insert",
          run: async (c) => {
            const a = c.row();
            const r = await c.call("insert", c.insert(engine, a));
            c.mark(a, r.ok ? "present" : "maybe");
          },
        },
        {
          name: "begin: failure caught, work goes on",
          run: async (c) => {
            const [a, b] = [c.row(), c.row()];
            let failed = true;
            const r = await c.call(
              "begin()",
              engine.begin(async (tx) => {
                await c.insert(tx, a);
                const failure = await c.fail(tx).then(() => undefined, (e) => seenError(e));
                failed = failure instanceof QueryError;
                // PostgreSQL ignores the rest of the transaction: 25P02 is TransactionAbortedError.
                const next = await c.insert(tx, b).then(() => undefined, (e) => seenError(e));
                if (target.postgresLike && !(next instanceof TransactionAbortedError)) {
                  c.violation(`a statement after the failure: ${next ? show(next) : "succeeded"}`);
                }
              }),
              [TransactionRolledBackError],
            );
            if (!failed) c.violation("the failing statement did not fail with a QueryError");
            if (r.ok) c.violation("begin() resolved although a statement in it failed");
            else if (!isScope(r.error, "transaction")) c.violation(`rejected with ${show(r.error)}`);
            c.mark(a, "absent");
            c.mark(b, "absent");
          },
        },
        {
          name: "session: failure caught, work goes on",
          run: async (c) => {
            const [a, b] = [c.row(), c.row()];
            const r = await c.call(
              "session()",
              engine.session(async (s) => {
                await s.insert(ledger, row(a));
                await swallow(s.insert(guard, { id: 1 }));
                await swallow(s.insert(ledger, row(b)));
              }),
              [TransactionRolledBackError],
            );
            if (r.ok) c.violation("session() resolved although a statement in it failed");
            else if (!isScope(r.error, "transaction")) c.violation(`rejected with ${show(r.error)}`);
            c.mark(a, "absent");
            c.mark(b, "absent");
          },
        },
        {
          name: "manual session: commit after a caught failure, then carry on",
          run: async (c) => {
            const [a, b] = [c.row(), c.row()];
            const s = engine.session();
            try {
              await c.call("insert", s.insert(ledger, row(a)));
              const aborted = await swallow(s.execute(failSql));
              if (aborted) c.violation("the failing statement succeeded");
              const commit = await c.call("commit()", s.commit(), [TransactionRolledBackError]);
              if (commit.ok) c.violation("commit() resolved although a statement failed");
              else if (!isScope(commit.error, "transaction")) c.violation(`rejected with ${show(commit.error)}`);
              c.mark(a, "absent");
              // The session goes on with a new transaction.
              const ins = await c.call("insert after the refused commit", s.insert(ledger, row(b)));
              const again = await c.call("second commit()", s.commit());
              c.mark(b, ins.ok && again.ok ? "present" : "maybe");
            } finally {
              await c.call("close()", s.close());
            }
            const d = c.row();
            const late = await c.call("insert after close()", s.insert(ledger, row(d)), [SessionClosedError]);
            if (late.ok) c.violation("a closed session accepted an insert");
            else if (!(late.error instanceof SessionClosedError)) c.violation(`closed: ${show(late.error)}`);
            c.mark(d, late.ok ? "present" : "absent");
          },
        },
        {
          name: "savepoint throws, transaction goes on",
          run: async (c) => {
            const [a, b, d] = [c.row(), c.row(), c.row()];
            const oops = new Oops("caller's own error");
            const body = async (
              exec: Executes,
              sp: (fn: () => Promise<void>) => Promise<unknown>,
            ) => {
              await c.insert(exec, a);
              const r = await sp(async () => {
                await c.insert(exec, b);
                throw oops;
              }).then(() => undefined, (e) => e);
              if (r !== oops) c.violation(`savepoint rejected with ${show(r)}, not the caller's error`);
              await c.insert(exec, d);
            };
            const r = c.random() < 0.5
              ? await c.call("begin()", engine.begin((tx) => body(tx, (fn) => tx.savepoint(fn))))
              : await c.call("session()", engine.session((s) => body(s, (fn) => s.savepoint(fn))));
            c.mark(a, r.ok ? "present" : "maybe");
            c.mark(d, r.ok ? "present" : "maybe");
            c.mark(b, "absent");
          },
        },
        {
          name: "savepoint swallows a failure",
          run: async (c) => {
            const [a, b, d, e] = [c.row(), c.row(), c.row(), c.row()];
            const body = async (
              exec: Executes,
              sp: (fn: () => Promise<void>) => Promise<unknown>,
            ) => {
              await c.insert(exec, a);
              const r = await sp(async () => {
                await c.insert(exec, b);
                await swallow(c.fail(exec));
                await swallow(c.insert(exec, d));
              }).then(() => undefined, (err) => err);
              if (!isScope(r, "savepoint")) c.violation(`savepoint ended with ${show(r)}`);
              await c.insert(exec, e);
            };
            const r = c.random() < 0.5
              ? await c.call("begin()", engine.begin((tx) => body(tx, (fn) => tx.savepoint(fn))))
              : await c.call("session()", engine.session((s) => body(s, (fn) => s.savepoint(fn))));
            c.mark(a, r.ok ? "present" : "maybe");
            c.mark(e, r.ok ? "present" : "maybe");
            c.mark(b, "absent");
            c.mark(d, "absent");
          },
        },
        {
          name: "concurrent savepoints and inserts in one session",
          run: async (c) => {
            interface Launched {
              keys: string[];
              p: Promise<unknown>;
              parent?: Launched;
            }
            const outcomes: Launched[] = [];
            const r = await c.call(
              "session()",
              engine.session(async (s) => {
                const launch = (parent?: Launched): Launched => {
                  const kind = c.random();
                  if (kind < 0.25) {
                    const k = c.row();
                    return { keys: [k], p: s.insert(ledger, row(k)), parent };
                  }
                  if (kind < 0.45) {
                    const k = c.row();
                    return { keys: [k], p: c.insert(s, k), parent };
                  }
                  const keys = [c.row(), c.row()];
                  const pause = Math.floor(c.random() * 3);
                  const ending = c.random();
                  const children = !parent && c.random() < 0.3 ? 2 : 0;
                  const self: Launched = { keys, p: Promise.resolve(), parent };
                  self.p = s.savepoint(async () => {
                    await s.insert(ledger, row(keys[0]));
                    if (pause) await sleep(pause);
                    // Nested savepoints and inserts, started together inside this one.
                    const nested = Array.from({ length: children }, () => launch(self));
                    outcomes.push(...nested);
                    await Promise.allSettled(nested.map((n) => n.p));
                    await c.insert(s, keys[1]);
                    if (ending < 0.2) throw new Oops("rolled back on purpose");
                    if (ending < 0.35) await swallow(s.execute(failSql));
                  });
                  return self;
                };
                const started = Array.from({ length: 2 + Math.floor(c.random() * 4) }, () => launch());
                outcomes.push(...started);
                await Promise.allSettled(started.map((o) => o.p));
              }),
            );
            if (!r.ok) c.violation(`the unit rejected although every failure was inside a savepoint`);
            const settled = new Map<Launched, boolean>();
            for (const o of outcomes) {
              const ok = await o.p.then(() => true, (error) => {
                seenError(error);
                const expected = error instanceof Oops || isScope(error, "savepoint");
                if (!expected) c.violation(`a call in the session failed: ${show(error)}`);
                return false;
              });
              settled.set(o, ok);
            }
            for (const o of outcomes) {
              // Undone if it or any savepoint around it was rolled back.
              let kept = true;
              for (let x: Launched | undefined = o; x; x = x.parent) kept &&= settled.get(x) ?? false;
              for (const k of o.keys) c.mark(k, !kept ? "absent" : r.ok ? "present" : "maybe");
            }
          },
        },
        {
          name: "insert while a savepoint runs",
          run: async (c) => {
            const [a, b] = [c.row(), c.row()];
            const throws = c.random() < 0.5;
            const pause = Math.floor(c.random() * 4);
            let sp: Promise<unknown> = Promise.resolve();
            let direct: Promise<unknown> = Promise.resolve();
            const r = await c.call(
              "begin()",
              engine.begin(async (tx) => {
                sp = tx.savepoint(async () => {
                  await c.insert(tx, b);
                  await sleep(pause);
                  if (throws) throw new Oops("undo the savepoint");
                });
                direct = c.insert(tx, a);
                await Promise.allSettled([sp, direct]);
              }),
            );
            const spOk = await swallow(sp);
            const directOk = await swallow(direct);
            if (!directOk) c.violation("the insert beside the savepoint failed");
            if (spOk === throws) c.violation(`the savepoint ${spOk ? "resolved" : "rejected"} unexpectedly`);
            c.mark(a, directOk ? r.ok ? "present" : "maybe" : "absent");
            c.mark(b, spOk ? r.ok ? "present" : "maybe" : "absent");
          },
        },
        {
          name: "insert or savepoint racing commit() in a manual session",
          run: async (c) => {
            const [a, b] = [c.row(), c.row()];
            const s = engine.session();
            try {
              const first = c.random() < 0.5 ? await c.call("insert", s.insert(ledger, row(b))) : undefined;
              const pause = Math.floor(c.random() * 3);
              const ins = c.random() < 0.5 ? c.call("insert", s.insert(ledger, row(a)), [SessionClosedError]) : c.call(
                "savepoint",
                s.savepoint(async () => {
                  await sleep(pause);
                  await s.insert(ledger, row(a));
                }),
                [SessionClosedError],
              );
              const commit = c.call("commit() racing it", s.commit());
              const [i, k] = [await ins, await commit];
              const k2 = await c.call("second commit()", s.commit());
              c.mark(a, i.ok ? k.ok && k2.ok ? "present" : "maybe" : "absent");
              c.mark(b, !first ? "absent" : first.ok && k.ok ? "present" : "maybe");
            } finally {
              await c.call("close()", s.close());
            }
          },
        },
        {
          name: "failure left floating when the unit ends",
          run: async (c) => {
            const a = c.row();
            let failure: Promise<unknown> = Promise.resolve();
            const inBegin = c.random() < 0.5;
            const r = await c.call(
              inBegin ? "begin()" : "session()",
              inBegin
                ? engine.begin(async (tx) => {
                  await c.insert(tx, a);
                  failure = c.fail(tx).then(() => undefined, (e) => seenError(e));
                })
                : engine.session(async (s) => {
                  await s.insert(ledger, row(a));
                  failure = s.insert(guard, { id: 1 }).then(() => undefined, (e) => seenError(e));
                }),
              [TransactionRolledBackError],
            );
            const failed = await failure;
            // Either the failure counted (the unit rolled back), or it came too late to run at all.
            if (r.ok && !(failed instanceof SessionClosedError)) {
              c.violation(
                `the unit committed although a statement issued in it ${failed ? "failed" : "succeeded"}: ${
                  failed ? show(failed) : "a duplicate key was accepted"
                }`,
              );
            }
            if (!r.ok && !isScope(r.error, "transaction")) c.violation(`rejected with ${show(r.error)}`);
            c.mark(a, r.ok ? "present" : "absent");
          },
        },
        {
          name: "inserts left floating when the unit ends",
          run: async (c) => {
            const [a, b, d] = [c.row(), c.row(), c.row()];
            let floating: Promise<boolean> = Promise.resolve(true);
            let late: Promise<boolean> = Promise.resolve(true);
            const outcome = (p: Promise<unknown>) =>
              p.then(() => true, (error) => {
                seenError(error);
                if (!(error instanceof SessionClosedError)) c.violation(`floating insert: ${show(error)}`);
                return false;
              });
            const delay = Math.floor(c.random() * 3);
            const r = await c.call(
              "session()",
              engine.session(async (s) => {
                await s.insert(ledger, row(a));
                floating = outcome(s.insert(ledger, row(b)));
                late = outcome(sleep(delay).then(() => s.insert(ledger, row(d))));
              }),
            );
            for (const [k, p] of [[b, floating], [d, late]] as const) {
              const ok = await p;
              // Acknowledged means committed: the unit's commit is the only one this session gets.
              c.mark(k, ok ? "present" : "absent");
            }
            c.mark(a, r.ok ? "present" : "maybe");
          },
        },
        {
          name: "where that would widen",
          run: async (c) => {
            const where = c.pick(HOSTILE_WHERES)(1);
            const op = c.random();
            if (op < 0.5) {
              // Inside a transaction with writes around it: the refusal must not poison the commit.
              const [a, b] = [c.row(), c.row()];
              const r = await c.call(
                "session()",
                engine.session(async (s) => {
                  await s.insert(ledger, row(a));
                  const refused =
                    await (c.random() < 0.5 ? s.delete(ledger, where) : s.update(ledger, where, { note: "x" }))
                      .then(() => undefined, (e) => e);
                  if (!(refused instanceof ValidationError)) {
                    c.violation(`${JSON.stringify(where)} was not refused: ${show(refused)}`);
                  }
                  await s.insert(ledger, row(b));
                }),
              );
              c.mark(a, r.ok ? "present" : "maybe");
              c.mark(b, r.ok ? "present" : "maybe");
            } else {
              const s = engine.session();
              try {
                const call: Promise<unknown> = op < 0.7
                  ? s.find(ledger, { where })
                  : op < 0.85
                  ? s.delete(ledger, where)
                  : s.update(ledger, where, { note: "x" });
                const r = await c.call(`where ${JSON.stringify(where)}`, call, [ValidationError]);
                if (r.ok) c.violation(`${JSON.stringify(where)} was accepted`);
              } finally {
                await c.call("close()", s.close());
              }
            }
          },
        },
        {
          name: "transaction control on the pool or in a managed transaction",
          run: async (c) => {
            const statement = c.pick(POOL_CONTROL);
            if (c.random() < 0.5) {
              const r = await c.call(`pool ${statement}`, engine.execute(statement), [ValidationError]);
              if (r.ok) c.violation(`the pool ran ${statement}`);
              return;
            }
            const inside = c.pick(POOL_CONTROL.slice(0, 7));
            const [a, b] = [c.row(), c.row()];
            const r = await c.call(
              "begin()",
              engine.begin(async (tx) => {
                await c.insert(tx, a);
                const refused = await tx.execute(inside).then(() => undefined, (e) => e);
                if (!(refused instanceof ValidationError)) c.violation(`${inside} in a transaction: ${show(refused)}`);
                await c.insert(tx, b);
              }),
            );
            c.mark(a, r.ok ? "present" : "maybe");
            c.mark(b, r.ok ? "present" : "maybe");
          },
        },
        {
          name: "connect(), leave a transaction open, release()",
          run: async (c) => {
            const got = await c.call("connect()", engine.connect());
            if (!got.ok) return;
            const conn = got.value;
            const a = c.row();
            const variant = Math.floor(c.random() * 4);
            try {
              // A setting that must not reach the connection's next user.
              if (target.postgresLike && c.random() < 0.5) {
                await c.call("SET", conn.execute("SET irisql.misuse = 'dirty'"));
              }
              if (variant === 0) {
                // BEGIN, a write, and away without COMMIT: the write must be rolled back.
                await c.call("BEGIN", conn.execute("BEGIN"));
                await c.call("insert", c.insert(conn, a));
                c.mark(a, "absent");
              } else if (variant === 1) {
                // BEGIN, a failed statement (the transaction is aborted), and away.
                await c.call("BEGIN", conn.execute("BEGIN"));
                await c.call("insert", c.insert(conn, a));
                await swallow(conn.execute(failSql));
                c.mark(a, "absent");
              } else if (variant === 2) {
                // BEGIN ... COMMIT by hand: stored.
                await c.call("BEGIN", conn.execute("BEGIN"));
                const i = await c.call("insert", c.insert(conn, a));
                const k = await c.call("COMMIT", conn.execute("COMMIT"));
                c.mark(a, i.ok && k.ok ? "present" : "maybe");
              } else {
                // conn.begin() with a caught failure: refused like engine.begin().
                const r = await c.call(
                  "conn.begin()",
                  conn.begin(async (tx) => {
                    await c.insert(tx, a);
                    await swallow(c.fail(tx));
                  }),
                  [TransactionRolledBackError],
                );
                if (r.ok) c.violation("conn.begin() resolved although a statement failed");
                c.mark(a, "absent");
              }
            } finally {
              await c.call("release()", conn.release());
            }
          },
        },
        {
          name: "pooled connection state seen by the next user",
          postgresOnly: true,
          run: async (c) => {
            const r = await c.call(
              "probe",
              engine.execute(
                "SELECT coalesce(current_setting('irisql.misuse', true), '') AS v, " +
                  "txid_current_if_assigned() AS x, pg_backend_pid() AS pid",
              ),
            );
            if (!r.ok) return;
            const probe = r.value.rows[0] as { v: string; x: unknown; pid: number };
            c.pids.add(Number(probe.pid));
            if (probe.v === "dirty") c.violation("a pooled connection carried a SET from a released connection");
            if (probe.x !== null) c.violation(`a pooled statement ran inside a transaction (xid ${probe.x})`);
          },
        },
        {
          name: "insert cancelled at a random moment",
          run: async (c) => {
            const a = c.row();
            const controller = new AbortController();
            const timer = setTimeout(() => controller.abort(), Math.floor(c.random() * 3));
            try {
              if (c.random() < 0.5) {
                const r = await c.call("insert", c.insert(engine, a, controller.signal), [QueryCancelledError]);
                c.mark(a, r.ok ? "present" : "maybe");
              } else {
                // Cancelled inside a transaction, the error caught: the commit must not claim it.
                const b = c.row();
                let cancelled = false;
                const r = await c.call(
                  "begin()",
                  engine.begin(async (tx) => {
                    cancelled = !(await swallow(c.insert(tx, a, controller.signal)));
                    await c.insert(tx, b);
                  }),
                  [TransactionRolledBackError],
                );
                if (r.ok && cancelled) c.violation("begin() resolved although a statement in it was cancelled");
                if (!r.ok && !cancelled) c.violation(`begin() rejected: ${show(r.error)}`);
                c.mark(a, r.ok ? "present" : "absent");
                c.mark(b, r.ok ? "present" : "absent");
              }
            } finally {
              clearTimeout(timer);
            }
          },
        },
      ];

      await Promise.all(Array.from({ length: WORKERS }, (_, w) => worker(w)));

      // --- the database against what was acknowledged ------------------------------
      const found = await observer.execute<{ worker: unknown; seq: unknown; step: unknown; n: unknown }>(
        `SELECT worker, seq, step, COUNT(*) AS n FROM ${ledgerName} GROUP BY worker, seq, step`,
      );
      const counts = new Map(
        found.rows.map((r) => [`${Number(r.worker)}:${Number(r.seq)}:${Number(r.step)}`, Number(r.n)]),
      );
      const missing: string[] = [];
      const stored: string[] = [];
      const doubled: string[] = [];
      const stranger: string[] = [];
      const tally = { present: 0, absent: 0, maybe: 0, pending: 0 };
      for (const [key, { state, pattern }] of book.rows) {
        tally[state]++;
        const n = counts.get(key) ?? 0;
        if (n > 1) doubled.push(`${key} (${pattern}) x${n}`);
        if (state === "present" && n !== 1) missing.push(`${key} (${pattern})`);
        if (state === "absent" && n !== 0) stored.push(`${key} (${pattern})`);
      }
      for (const key of counts.keys()) if (!book.rows.has(key)) stranger.push(key);
      const stats = engine.stats();

      const top = [...book.patterns].sort((x, y) => y[1] - x[1]).length;
      log(
        `misuse on ${target.name}: ${WORKERS} workers, ${target.seconds} s, ${top} patterns, ${book.calls} calls ` +
          `(${book.acked} acknowledged, ${book.refused} refused as expected, ${book.unexpected.length} unexpected ` +
          `errors, ${book.hung.length} hung); rows: ${tally.present} acknowledged (${missing.length} missing, ` +
          `${doubled.length} doubled), ${tally.absent} rolled back or refused (${stored.length} stored), ` +
          `${tally.maybe + tally.pending} uncertain; ${book.violations.length} broken promises; ` +
          `${widened.length} widened statements sent` +
          (target.postgresLike && target.options.pool?.maxLifetime ? `; ${pids.size} backend pids seen` : ""),
      );
      assert.deepEqual(book.hung.slice(0, 5), [], "calls that hung");
      assert.deepEqual(book.violations.slice(0, 8), [], "broken promises");
      assert.deepEqual(book.unexpected.slice(0, 8), [], "errors of a class the misuse does not explain");
      assert.deepEqual(widened.slice(0, 3), [], "a where that should have been refused was sent");
      assert.deepEqual(missing.slice(0, 8), [], "acknowledged writes missing");
      assert.deepEqual(stored.slice(0, 8), [], "writes of rolled-back work stored");
      assert.deepEqual(doubled.slice(0, 8), [], "writes stored twice");
      assert.deepEqual(stranger.slice(0, 8), [], "rows nobody wrote");
      assert.equal(stats.pool.reserved, 0, "connections still reserved");
      assert.equal(stats.pool.waiting, 0, "callers still waiting");
      assert.equal(tally.pending, 0, "rows whose fate was never decided");
      // Every pattern ran, and enough rows went each way for the checks above to mean something.
      const applicable = PATTERNS.filter((p) => target.postgresLike || !p.postgresOnly).length;
      assert.equal(book.patterns.size, applicable, JSON.stringify([...book.patterns]));
      assert.ok(tally.present > 50 && tally.absent > 20, JSON.stringify(tally));
    });

    it("serves a plain pooled INSERT that another engine sees; no connection left in a transaction", async () => {
      const keys = Array.from({ length: POOL * 2 }, (_, i) => book.tag(999, i, 0, "after the misuse"));
      // As many at once as the pool has connections, twice: every pooled connection serves one.
      const results = await Promise.all(keys.map((k) =>
        within(
          engine.execute(insertSql, { worker: 999, seq: Number(k.split(":")[1]), step: 0, note: "after" }),
          CALL_LIMIT_MS,
          "insert after the misuse",
        ).then(() => true, (e) => (seenError(e), String(e)))
      ));
      assert.deepEqual(results.filter((r) => r !== true), []);
      const seen = await observer.execute<{ n: unknown }>(`SELECT COUNT(*) AS n FROM ${ledgerName} WHERE worker = 999`);
      assert.equal(Number(seen.rows[0].n), keys.length, "the inserts are visible to another engine");
      if (target.postgresLike) {
        for (let i = 0; i < POOL * 2; i++) {
          const r = await engine.execute("SELECT txid_current_if_assigned() AS x");
          assert.equal(r.rows[0].x, null, "a pooled statement ran inside an open transaction");
        }
      }
      if (target.name === "PostgreSQL") {
        const stuck = await observer.execute<{ n: unknown }>(
          `SELECT COUNT(*) AS n FROM pg_stat_activity WHERE usename = '${ROLE}' AND state LIKE 'idle in transaction%'`,
        );
        assert.equal(Number(stuck.rows[0].n), 0, "server connections idle in a transaction");
      }
      assert.equal(engine.stats().pool.reserved, 0);
      assert.equal(engine.stats().pool.waiting, 0);
    });

    if (target.postgresLike) {
      it("leaves no trace of transaction control or SET hidden behind a comment, in a script or in set_config()", async () => {
        // A pool of one connection, so the next call surely gets the one the smuggled statement ran on.
        const small = target.name === "PGlite" ? engine : watchedEngine(PG_URL, { pool: { max: 1 } });
        const smuggled = [
          "/* hint */ BEGIN",
          "-- note\nBEGIN",
          "SELECT 1; BEGIN",
          "/* hint */ SET search_path TO pg_catalog",
          "SELECT 1; SET search_path TO pg_catalog",
          "/* hint */ SET irisql.misuse = 'dirty'",
          "SELECT set_config('irisql.misuse', 'dirty', false)",
        ];
        const leaks: string[] = [];
        try {
          await small.execute("CREATE TABLE IF NOT EXISTS rel_misuse_smuggled (id int)");
          for (const statement of smuggled) {
            const outcome = await small.execute(statement).then(() => "ran", (e) => seenError(e));
            const label = `${JSON.stringify(statement)} (${outcome === "ran" ? "ran" : show(outcome)})`;
            // The next user of the pool's one connection:
            const r = await small.execute(
              "SELECT current_setting('search_path') AS path, " +
                "coalesce(current_setting('irisql.misuse', true), '') AS v, txid_current_if_assigned() AS x",
            );
            await small.execute("INSERT INTO public.rel_misuse_smuggled (id) VALUES (1)");
            const then = await small.execute("SELECT txid_current_if_assigned() AS x");
            const state = r.rows[0] as { path: string; v: string; x: unknown };
            if (/pg_catalog/.test(state.path)) leaks.push(`${label}: search_path left at ${state.path}`);
            if (state.v === "dirty") leaks.push(`${label}: the setting stayed on the pooled connection`);
            if (state.x !== null || then.rows[0].x !== null) {
              leaks.push(`${label}: the pooled connection stayed in a transaction`);
            }
            // Clean the connection for the next case (release() resets it).
            await (await small.connect()).release();
          }
          await small.execute("DROP TABLE IF EXISTS public.rel_misuse_smuggled");
        } finally {
          if (small !== engine) await small.dispose();
        }
        log(`  smuggled control statements on ${target.name}: ${smuggled.length} tried, ${leaks.length} left a trace`);
        assert.deepEqual(leaks, []);
      });
    }

    if (target.options.pool?.maxLifetime) {
      it("lets transactions, sessions and held connections outlive maxLifetime and idleTimeout", async () => {
        const outlive = target.options.pool!.maxLifetime! + 700;
        const put = (exec: { execute: Engine["execute"] }, seq: number, step: number) =>
          exec.execute(insertSql, { worker: 997, seq, step, note: "outlives the pool's timers" });
        const keys = [[0, 0], [0, 1], [1, 0], [1, 1], [2, 0]].map(([q, st]) => book.tag(997, q, st, "outlive"));
        const transaction = engine.begin(async (tx) => {
          await put(tx, 0, 0);
          await sleep(outlive);
          await put(tx, 0, 1);
        });
        const session = (async () => {
          const s = engine.session();
          try {
            await put(s, 1, 0);
            await sleep(outlive);
            await put(s, 1, 1);
            await s.commit();
          } finally {
            await s.close();
          }
        })();
        const held = (async () => {
          const conn = await engine.connect();
          try {
            await conn.execute("SELECT 1 AS one");
            await sleep(outlive);
            await put(conn, 2, 0);
          } finally {
            await conn.release();
          }
        })();
        const settled = await within(
          Promise.allSettled([transaction, session, held]),
          outlive + CALL_LIMIT_MS,
          "work that outlives the pool's timers",
        );
        const failed = settled.filter((x) => x.status === "rejected").map((x) => show(seenError(x.reason)));
        assert.deepEqual(failed, [], "cut off by maxLifetime or idleTimeout");
        const r = await observer.execute<{ seq: unknown; step: unknown; n: unknown }>(
          `SELECT seq, step, COUNT(*) AS n FROM ${ledgerName} WHERE worker = 997 GROUP BY seq, step`,
        );
        const found = new Map(r.rows.map((x) => [`997:${Number(x.seq)}:${Number(x.step)}`, Number(x.n)]));
        assert.deepEqual(keys.filter((k) => found.get(k) !== 1), [], "writes not stored exactly once");
        for (const k of keys) book.mark(k, "present");
      });
    }

    it("dispose(): accepted statements and transactions finish, later calls are SessionClosedError", async () => {
      // PGlite: the engine used so far (its in-memory database goes with it); elsewhere a fresh one.
      const closing = target.name === "PGlite" ? engine : watchedEngine(url, target.options);
      try {
        await closing.execute("SELECT 1");
        const keys: string[] = [];
        const accepted: Promise<unknown>[] = [];
        for (let i = 0; i < 30; i++) {
          keys.push(book.tag(998, i, 0, "accepted before dispose()"));
          accepted.push(closing.execute(insertSql, { worker: 998, seq: i, step: 0, note: "accepted" }));
        }
        for (let i = 0; i < 3; i++) {
          keys.push(book.tag(998, 100 + i, 0, "tx before dispose()"), book.tag(998, 100 + i, 1, "tx"));
          accepted.push(closing.begin(async (tx) => {
            await tx.execute(insertSql, { worker: 998, seq: 100 + i, step: 0, note: "tx" });
            await sleep(20);
            // Sent after dispose() was called: the transaction was accepted, so it finishes.
            await tx.execute(insertSql, { worker: 998, seq: 100 + i, step: 1, note: "tx" });
          }));
        }
        // On PGlite's one connection, calls are served in order: this read comes after every write above.
        const count = `SELECT seq, step, COUNT(*) AS n FROM ${ledgerName} WHERE worker = 998 GROUP BY seq, step`;
        const readBack = target.name === "PGlite"
          ? closing.execute<{ seq: unknown; step: unknown; n: unknown }>(count)
          : undefined;
        readBack?.catch(() => {});
        const disposed = closing.dispose();
        const refused = Promise.allSettled([
          closing.execute(insertSql, { worker: 998, seq: 200, step: 0, note: "late" }),
          closing.begin((tx) => tx.execute("SELECT 1")),
          Promise.resolve().then(() => closing.session((s) => s.insert(ledger, { worker: 998, seq: 201, step: 0 }))),
          Promise.resolve().then(() => closing.connect()),
        ]);
        const done = await within(Promise.allSettled(accepted), CALL_LIMIT_MS, "accepted work after dispose()");
        const late = await within(refused, CALL_LIMIT_MS, "calls after dispose()");
        const rows = readBack ? await within(readBack, CALL_LIMIT_MS, "read accepted before dispose()") : undefined;
        await within(disposed, CALL_LIMIT_MS, "dispose()");
        const failed = done.filter((d) => d.status === "rejected").map((d) => show(seenError(d.reason)));
        const served = late.filter((d) => d.status === "fulfilled").length;
        const wrong = late.filter((d) =>
          d.status === "rejected" && !(seenError(d.reason) instanceof SessionClosedError)
        )
          .map((d) => show((d as PromiseRejectedResult).reason));
        assert.deepEqual(failed.slice(0, 5), [], "accepted work that failed");
        assert.equal(served, 0, "calls after dispose() that were served");
        assert.deepEqual(wrong, [], "calls after dispose() refused with another error");
        const r = rows ?? await observer.execute<{ seq: unknown; step: unknown; n: unknown }>(count);
        const found = new Map(r.rows.map((x) => [`998:${Number(x.seq)}:${Number(x.step)}`, Number(x.n)]));
        assert.deepEqual(keys.filter((k) => found.get(k) !== 1), [], "accepted writes not stored exactly once");
        assert.equal(found.size, keys.length, "late writes stored");
        for (const k of keys) book.mark(k, "present");
        log(`  dispose() on ${target.name}: ${keys.length} accepted writes stored, ${late.length} later calls refused`);
      } finally {
        if (closing !== engine) await closing.dispose();
      }
    });
  });
}

describe("reliability: misuse and faults, secrets", () => {
  it("showed the password in no url, event, error or log line of this file", () => {
    const entries = readFileSync(EVIDENCE_FILE, "utf8").trim().split("\n").map((l) => JSON.parse(l) as Evidence)
      .filter((e) => e.file.startsWith("11-misuse")).slice(-TARGETS.length);
    assert.deepEqual(entries.map((e) => e.file), TARGETS.map((t) => `11-misuse-${t.name}`), "every backend reported");
    assert.ok(entries.every((e) => e.counts.url > 0 && e.counts.event > 0 && e.counts.error > 0));
    assert.deepEqual(entries.flatMap((e) => e.leaks).slice(0, 5), []);
  });
});
