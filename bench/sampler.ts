/**
 * Measures a case contender against contender, in a way that survives a busy
 * two-core machine:
 *   - epochs: fresh clients (new server connections, new backend processes)
 *     per epoch, so neither side keeps a luckily or unluckily scheduled
 *     backend for the whole run; the side that connects first alternates;
 *   - call by call: the contenders take turns, one operation each, in an
 *     order that rotates and reverses (ABBA for two), so drift, load bursts
 *     and order effects fall on every side alike;
 *   - per round, each contender's median time per operation; the case's
 *     ratio is the median over all rounds of (irisql median / raw median).
 * mitata measures one function at a time, which cannot interleave like this;
 * bench/mitata.ts runs the same cases under mitata's own runner.
 */
import type { BenchCase, Contender, Plan, Sizes } from "./cases.ts";
import { ANCHOR_BOUND } from "./anchors.ts";

export interface ContenderResult {
  key: string;
  label: string;
  /** Median over rounds of the per-round median, ms per operation. */
  medianMs: number;
  /** Rows per second at that median (throughput cases). */
  rowsPerSecond?: number;
  /** Against the raw baseline (absent for the baseline itself). */
  ratio?: RatioSummary;
  checked: boolean;
  pass?: boolean;
}

export interface RatioSummary {
  median: number;
  p25: number;
  p75: number;
  rounds: number;
}

/** A checked irisql contender against an anchor (or a floor) on the same case. */
export interface VersusResult {
  /** The irisql contender's key, and the anchor's. */
  irisql: string;
  anchor: string;
  anchorLabel: string;
  /** Per round irisql time ÷ anchor time (throughput: irisql rows/s ÷ anchor rows/s). */
  ratio: RatioSummary;
  /** A floor is reported, never enforced. */
  floor: boolean;
  bound?: { op: "<=" | ">="; value: number };
  pass?: boolean;
}

export interface CaseResult {
  id: string;
  /** Case 8's point (bench/scaling.ts). */
  scaling?: BenchCase["scaling"];
  title: string;
  metric: BenchCase["metric"];
  bound: BenchCase["bound"];
  plan: Plan;
  contenders: ContenderResult[];
  /** irisql against each anchor and floor (bench/anchors.ts). */
  versus?: VersusResult[];
  /** Spread of the raw baseline over rounds: (p75 - p25) / median. */
  baselineNoise: number;
  seconds: number;
  pass: boolean;
  error?: string;
}

/** Quick mode: one short epoch, enough to prove every case still runs. */
export function quickPlan(_plan: Plan): Plan {
  return { epochs: 1, rounds: 1, samples: 2, warmup: 1 };
}

export async function sampleCase(c: BenchCase, sizes: Sizes, plan: Plan): Promise<CaseResult> {
  const started = performance.now();
  const perRound = new Map<string, number[]>();
  let labels: Contender[] = [];
  let turn = 0;
  for (let epoch = 0; epoch < plan.epochs; epoch++) {
    const inst = await c.open(sizes);
    try {
      labels = inst.contenders;
      for (let w = 0; w < plan.warmup; w++) {
        for (const x of order(labels, epoch + w)) await once(x);
      }
      for (let round = 0; round < plan.rounds; round++) {
        const times = new Map<string, number[]>(labels.map((x) => [x.key, []]));
        for (let k = 0; k < plan.samples; k++) {
          for (const x of order(labels, turn++)) times.get(x.key)!.push(await once(x));
        }
        for (const x of labels) {
          const list = perRound.get(x.key) ?? [];
          list.push(quantile(times.get(x.key)!, 0.5));
          perRound.set(x.key, list);
        }
      }
    } finally {
      await inst.close();
    }
  }
  await c.teardown?.();

  const base = perRound.get(labels[0].key)!;
  const units = c.units?.(sizes);
  const contenders = labels.map((k, i): ContenderResult => {
    const times = perRound.get(k.key)!;
    const medianMs = quantile(times, 0.5);
    const out: ContenderResult = {
      key: k.key,
      label: k.label,
      medianMs,
      checked: c.checked.includes(k.key),
    };
    if (units !== undefined) out.rowsPerSecond = units / (medianMs / 1000);
    if (i > 0) {
      // Per round: irisql time / raw time, or for throughput irisql rows/s / raw rows/s.
      const ratios = times.map((t, r) => (c.metric === "throughput" ? base[r] / t : t / base[r]));
      out.ratio = summarize(ratios);
      if (out.checked) {
        out.pass = c.bound.op === "<=" ? out.ratio.median <= c.bound.value : out.ratio.median >= c.bound.value;
      }
    }
    return out;
  });
  const versus: VersusResult[] = [];
  const keys = new Set(labels.map((x) => x.key));
  // The floor case has no bound, so no checked contender: its irisql side is "irisql".
  for (const mine of (c.checked.length ? c.checked : ["irisql"]).filter((k) => keys.has(k))) {
    for (
      const [anchor, floor] of [
        ...(c.anchors ?? []).map((k) => [k, false] as const),
        ...(c.floors ?? []).map((k) => [k, true] as const),
      ]
    ) {
      if (!keys.has(anchor)) continue;
      const theirs = perRound.get(anchor)!;
      const ratios = perRound.get(mine)!.map((t, r) => (c.metric === "throughput" ? theirs[r] / t : t / theirs[r]));
      const ratio = summarize(ratios);
      const v: VersusResult = {
        irisql: mine,
        anchor,
        anchorLabel: labels.find((x) => x.key === anchor)!.label,
        ratio,
        floor,
      };
      if (!floor) {
        v.bound = c.metric === "throughput" ? { op: ">=", value: 1 / ANCHOR_BOUND } : { op: "<=", value: ANCHOR_BOUND };
        v.pass = v.bound.op === "<=" ? ratio.median <= v.bound.value : ratio.median >= v.bound.value;
      }
      versus.push(v);
    }
  }
  const baseMedian = quantile(base, 0.5);
  return {
    id: c.id,
    scaling: c.scaling,
    title: c.title,
    metric: c.metric,
    bound: c.bound,
    plan,
    contenders,
    versus,
    baselineNoise: (quantile(base, 0.75) - quantile(base, 0.25)) / baseMedian,
    seconds: (performance.now() - started) / 1000,
    pass: contenders.every((x) => x.pass !== false) && versus.every((v) => v.pass !== false),
  };
}

function summarize(ratios: number[]): RatioSummary {
  return {
    median: quantile(ratios, 0.5),
    p25: quantile(ratios, 0.25),
    p75: quantile(ratios, 0.75),
    rounds: ratios.length,
  };
}

/** One operation, its untimed preparation first; ms. */
async function once(x: Contender): Promise<number> {
  if (x.before) await x.before();
  if (x.timed) return await x.timed();
  const t0 = performance.now();
  await x.run();
  return performance.now() - t0;
}

/**
 * Turn r: rotate by r, reversed on every other pass through the list, so each
 * contender takes each place equally often (ABBA for two).
 */
export function order<T>(list: readonly T[], r: number): T[] {
  const n = list.length;
  const k = r % n;
  const rotated = [...list.slice(k), ...list.slice(0, k)];
  return Math.floor(r / n) % 2 === 1 ? rotated.reverse() : rotated;
}

export function quantile(values: readonly number[], q: number): number {
  const s = [...values].sort((a, b) => a - b);
  if (s.length === 0) return NaN;
  const pos = (s.length - 1) * q;
  const lo = Math.floor(pos);
  const hi = Math.ceil(pos);
  return s[lo] + (s[hi] - s[lo]) * (pos - lo);
}
