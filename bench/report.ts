/** Text and Markdown tables for benchmark results. */
import type { CaseResult, ContenderResult, VersusResult } from "./sampler.ts";

export function formatMs(ms: number): string {
  if (!Number.isFinite(ms)) return "-";
  if (ms >= 100) return ms.toFixed(0) + " ms";
  if (ms >= 1) return ms.toFixed(2) + " ms";
  return (ms * 1000).toFixed(1) + " µs";
}

export function formatRate(rowsPerSecond: number | undefined): string {
  return rowsPerSecond === undefined ? "" : Math.round(rowsPerSecond).toLocaleString("en-US") + " rows/s";
}

export function formatBound(c: CaseResult): string {
  return `${c.bound.op} ${c.bound.value.toFixed(2)}`;
}

/** The ratio a case is judged by: the worst checked contender. */
export function caseRatio(c: CaseResult): ContenderResult | undefined {
  const checked = c.contenders.filter((x) => x.checked && x.ratio);
  if (checked.length === 0) return undefined;
  return checked.reduce((worst, x) =>
    (c.bound.op === "<=" ? x.ratio!.median > worst.ratio!.median : x.ratio!.median < worst.ratio!.median) ? x : worst
  );
}

/** A ratio with its spread: "1.012 [0.980–1.050]". */
export function formatVersus(v: VersusResult): string {
  return `${v.ratio.median.toFixed(3)} [${v.ratio.p25.toFixed(3)}–${v.ratio.p75.toFixed(3)}]`;
}

/** The anchor comparisons a case is judged by: for each anchor, the worst checked irisql contender. */
export function worstVersus(c: CaseResult): VersusResult[] {
  const byAnchor = new Map<string, VersusResult>();
  for (const v of c.versus ?? []) {
    const w = byAnchor.get(v.anchor);
    const worse = c.metric === "throughput"
      ? !w || v.ratio.median < w.ratio.median
      : !w || v.ratio.median > w.ratio.median;
    if (worse) byAnchor.set(v.anchor, v);
  }
  return [...byAnchor.values()];
}

/** A console table for one case on one runtime. */
export function formatCaseTable(c: CaseResult): string {
  const rows = c.contenders.map((x) => [
    x.checked ? "*" : x.ratio ? " " : "=",
    x.label,
    formatMs(x.medianMs),
    formatRate(x.rowsPerSecond),
    x.ratio ? `${x.ratio.median.toFixed(3)} [${x.ratio.p25.toFixed(3)}–${x.ratio.p75.toFixed(3)}]` : "baseline",
    x.pass === undefined ? "" : x.pass ? `ok (${formatBound(c)})` : `MISSES ${formatBound(c)}`,
  ]);
  const widths = rows[0]?.map((_, i) => Math.max(...rows.map((r) => r[i].length))) ?? [];
  const lines = rows.map((r) => "  " + r.map((cell, i) => cell.padEnd(widths[i])).join("  ").trimEnd());
  for (const v of c.versus ?? []) {
    lines.push(
      `  ${v.irisql} vs ${v.anchor}: ${formatVersus(v)}${
        v.floor
          ? " (floor, reported)"
          : v.pass
          ? ` ok (${v.bound!.op} ${v.bound!.value.toFixed(3)})`
          : ` BEHIND (${v.bound!.op} ${v.bound!.value.toFixed(3)})`
      }`,
    );
  }
  lines.push(`  (${c.seconds.toFixed(1)} s; raw baseline spread over rounds ${(c.baselineNoise * 100).toFixed(1)}%)`);
  return lines.join("\n");
}
