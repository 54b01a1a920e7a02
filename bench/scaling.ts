/**
 * Case 8 (issue #18): throughput as concurrency grows. For each pool size (1, 4, 10,
 * 20) and each number of concurrent callers (1, 10, 100, 1,000), the callers share one
 * engine, or one postgres.js client with the same `max`, and each runs its share of a
 * fixed number of one-row SELECTs one after another. The figure is statements per
 * second; irisql must at least match postgres.js (within the method's 5%) at every
 * point. On Bun, irisql on Bun's SQL client is shown beside them for information.
 *
 * Kept out of CASES: bench/mitata.ts opens every case at once, and sixteen pairs of
 * pools would hold 480 connections.
 */
import { createEngine } from "../mod.ts";
import { ANCHOR_BOUND } from "./anchors.ts";
import { type BenchCase, byIdText, withBunSql } from "./cases.ts";
import { idSequence, PG_URL, rawPostgres } from "./fixtures.ts";

export const SCALING_CALLERS = [1, 10, 100, 1000] as const;
export const SCALING_POOLS = [1, 4, 10, 20] as const;

/** Statements per timed operation (full run), shared out among the callers; a tenth in --quick. */
export const SCALING_STATEMENTS = 2000;

function statements(quick: boolean): number {
  return quick ? SCALING_STATEMENTS / 10 : SCALING_STATEMENTS;
}

/** `callers` concurrent loops, each awaiting `per` calls in turn. */
function callersLoop(callers: number, per: number, call: () => Promise<unknown>): Promise<unknown> {
  return Promise.all(
    Array.from({ length: callers }, async () => {
      for (let i = 0; i < per; i++) await call();
    }),
  );
}

function scalingCase(callers: number, pool: number): BenchCase {
  const per = (quick: boolean) => Math.ceil(statements(quick) / callers);
  return {
    id: `8:c${callers}p${pool}`,
    scaling: { callers, pool },
    // Many short epochs: on two cores one connection can run 2–3× faster than another for a whole
    // epoch (where its backend is scheduled); only fresh connections, many times, average that out.
    plan: { epochs: 16, rounds: 1, samples: 2, warmup: 1 },
    title: `${callers} concurrent caller(s), pool of ${pool}: one-row SELECTs per second`,
    metric: "throughput",
    bound: { op: ">=", value: 1 / ANCHOR_BOUND },
    checked: ["irisql"],
    units: (s) => callers * per(s.quick),
    open(s) {
      const n = per(s.quick);
      const raw = rawPostgres(pool);
      const engine = createEngine(PG_URL, { pool: { max: pool } });
      const [a, b, c] = [idSequence(), idSequence(), idSequence()];
      return Promise.resolve(withBunSql(
        {
          contenders: [
            {
              key: "raw",
              label: `postgres.js (max ${pool}), ${callers} × ${n} sql\`...\``,
              run: () =>
                callersLoop(
                  callers,
                  n,
                  () => raw`SELECT id, title, n, score FROM irisql_bench_items WHERE id = ${a()}`,
                ),
            },
            {
              key: "irisql",
              label: `irisql (pool ${pool}), ${callers} × ${n} engine.execute(text(...))`,
              run: () => callersLoop(callers, n, () => engine.execute(byIdText, { id: b() })),
            },
          ],
          close: async () => {
            await Promise.all([raw.end({ timeout: 5 }), engine.dispose()]);
          },
        },
        (bun) => [{
          key: "irisql-bun",
          label: `the same on Bun SQL (pool ${pool})`,
          run: () => callersLoop(callers, n, () => bun.execute(byIdText, { id: c() })),
        }],
        pool,
      ));
    },
  };
}

/** Every (callers, pool) point, pool by pool. */
export const SCALING: BenchCase[] = SCALING_POOLS.flatMap((pool) => SCALING_CALLERS.map((c) => scalingCase(c, pool)));
