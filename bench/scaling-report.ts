/**
 * Case 8 (bench/scaling.ts) as tables and a chart: statements per second by pool
 * size and number of concurrent callers, irisql against postgres.js, per runtime.
 */
import { escape } from "./plot.ts";
import type { CaseResult } from "./sampler.ts";
import { SCALING_CALLERS, SCALING_POOLS } from "./scaling.ts";

export interface ScalingRun {
  runtime: string;
  version: string;
  cases: CaseResult[];
}

function point(run: ScalingRun, callers: number, pool: number): CaseResult | undefined {
  return run.cases.find((c) => c.scaling?.callers === callers && c.scaling?.pool === pool);
}

const rate = (c: CaseResult | undefined, key: string) => c?.contenders.find((x) => x.key === key)?.rowsPerSecond;
const perSecond = (v: number | undefined) => (v === undefined ? "-" : Math.round(v).toLocaleString("en-US"));

/**
 * One Markdown table per runtime (rows: pool size; columns: callers), each cell
 * "irisql ÷ postgres.js statements/s" with both rates, and the points that missed.
 */
export function scalingMarkdown(runs: ScalingRun[], enforce: boolean): { markdown: string; misses: string[] } {
  const misses: string[] = [];
  const out: string[] = [];
  for (const run of runs) {
    if (!run.cases.some((c) => c.scaling)) continue;
    out.push(
      `**${run.runtime} ${run.version}**`,
      "",
      "| pool ╲ callers | " + SCALING_CALLERS.join(" | ") + " |",
      "|---|" + SCALING_CALLERS.map(() => "---").join("|") + "|",
    );
    for (const pool of SCALING_POOLS) {
      const cells = SCALING_CALLERS.map((callers) => {
        const c = point(run, callers, pool);
        if (!c) return "-";
        if (c.error) return "error";
        const mine = c.contenders.find((x) => x.key === "irisql");
        if (!mine?.ratio) return "-";
        if (mine.pass === false) {
          misses.push(
            `${run.runtime} case ${c.id}: ${mine.ratio.median.toFixed(3)} (bound ${c.bound.op} ${
              c.bound.value.toFixed(3)
            })`,
          );
        }
        const verdict = enforce ? (mine.pass === false ? " **MISS**" : " ok") : "";
        return `${mine.ratio.median.toFixed(3)}${verdict} (${perSecond(mine.rowsPerSecond)} / ${
          perSecond(rate(c, "raw"))
        })`;
      });
      out.push(`| ${pool} | ${cells.join(" | ")} |`);
    }
    out.push("");
  }
  return { markdown: out.join("\n"), misses };
}

const POOL_COLORS = ["#7b1fa2", "#1565c0", "#2e7d32", "#ef6c00"];

/**
 * Statements per second against callers (log scale), one panel per runtime: a line per
 * pool size, solid for irisql, dashed for postgres.js.
 */
export function scalingChart(runs: ScalingRun[], title: string): string {
  const panels = runs.filter((r) => r.cases.some((c) => c.scaling));
  const all = panels.flatMap((r) =>
    r.cases.filter((c) => c.scaling).flatMap((c) => [rate(c, "irisql"), rate(c, "raw")])
  ).filter((v): v is number => v !== undefined);
  const step = 10_000;
  const hi = Math.max(step, Math.ceil(Math.max(...all, 0) / step) * step);
  const panelW = 300;
  const gap = 30;
  const left = 70;
  const top = 50;
  const plotH = 260;
  const width = left + panels.length * (panelW + gap) + 10;
  const height = top + plotH + 90;
  const x = (i: number, p: number) =>
    left + p * (panelW + gap) + 20 + (i / (SCALING_CALLERS.length - 1)) * (panelW - 40);
  const y = (v: number) => top + plotH - (v / hi) * plotH;
  const out: string[] = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="Helvetica, Arial, sans-serif" font-size="12">`,
    `<rect width="100%" height="100%" fill="#ffffff"/>`,
    `<text x="${width / 2}" y="24" text-anchor="middle" font-size="15" font-weight="bold">${escape(title)}</text>`,
    `<text transform="translate(16 ${
      top + plotH / 2
    }) rotate(-90)" text-anchor="middle" fill="#333">statements per second</text>`,
  ];
  for (let v = 0; v <= hi; v += step) {
    out.push(
      `<text x="${left - 6}" y="${(y(v) + 4).toFixed(1)}" text-anchor="end" fill="#555">${perSecond(v)}</text>`,
    );
  }
  panels.forEach((run, p) => {
    const x0 = left + p * (panelW + gap);
    for (let v = 0; v <= hi; v += step) {
      out.push(
        `<line x1="${x0}" x2="${x0 + panelW}" y1="${y(v).toFixed(1)}" y2="${y(v).toFixed(1)}" stroke="#e4e4e4"/>`,
      );
    }
    out.push(
      `<rect x="${x0}" y="${top}" width="${panelW}" height="${plotH}" fill="none" stroke="#999"/>`,
      `<text x="${x0 + panelW / 2}" y="${top - 8}" text-anchor="middle" font-weight="bold">${
        escape(`${run.runtime} ${run.version}`)
      }</text>`,
    );
    SCALING_CALLERS.forEach((callers, i) => {
      out.push(
        `<text x="${x(i, p).toFixed(1)}" y="${top + plotH + 16}" text-anchor="middle" fill="#555">${callers}</text>`,
      );
    });
    out.push(
      `<text x="${x0 + panelW / 2}" y="${top + plotH + 34}" text-anchor="middle" fill="#333">concurrent callers</text>`,
    );
    SCALING_POOLS.forEach((pool, k) => {
      for (const [key, dash] of [["irisql", ""], ["raw", ' stroke-dasharray="5 3"']] as const) {
        const pts = SCALING_CALLERS.map((callers, i) => {
          const v = rate(point(run, callers, pool), key);
          return v === undefined ? undefined : `${x(i, p).toFixed(1)},${y(v).toFixed(1)}`;
        }).filter((s): s is string => s !== undefined);
        if (pts.length < 2) continue;
        out.push(
          `<polyline points="${pts.join(" ")}" fill="none" stroke="${POOL_COLORS[k]}" stroke-width="2"${dash}><title>${
            escape(`${run.runtime}: ${key === "raw" ? "postgres.js" : "irisql"}, pool ${pool}`)
          }</title></polyline>`,
        );
      }
    });
  });
  let lx = left;
  const ly = height - 24;
  SCALING_POOLS.forEach((pool, k) => {
    out.push(
      `<line x1="${lx}" x2="${lx + 24}" y1="${ly - 4}" y2="${ly - 4}" stroke="${POOL_COLORS[k]}" stroke-width="2"/>`,
      `<text x="${lx + 30}" y="${ly}">pool ${pool}</text>`,
    );
    lx += 90;
  });
  out.push(
    `<line x1="${lx}" x2="${lx + 24}" y1="${ly - 4}" y2="${ly - 4}" stroke="#333" stroke-width="2"/>`,
    `<text x="${lx + 30}" y="${ly}">irisql</text>`,
    `<line x1="${lx + 90}" x2="${lx + 114}" y1="${ly - 4}" y2="${
      ly - 4
    }" stroke="#333" stroke-width="2" stroke-dasharray="5 3"/>`,
    `<text x="${lx + 120}" y="${ly}">postgres.js</text>`,
    "</svg>",
  );
  return out.join("\n") + "\n";
}
