/** Text and Markdown tables for benchmark results. */
import type { CaseResult, ContenderResult } from "./sampler.ts";

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
  lines.push(`  (${c.seconds.toFixed(1)} s; raw baseline spread over rounds ${(c.baselineNoise * 100).toFixed(1)}%)`);
  return lines.join("\n");
}
