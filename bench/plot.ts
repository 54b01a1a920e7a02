/**
 * An SVG bar chart of the checked ratios: one group per case, one bar per
 * runtime, each case's bound drawn across its group. All bars are time ratios
 * (irisql / raw, lower is better); for the throughput case that is raw rows/s
 * divided by irisql rows/s, and its bound 1 / 0.90.
 */
import type { CaseResult } from "./sampler.ts";
import { caseRatio } from "./report.ts";

export interface PlotRun {
  runtime: string;
  version: string;
  cases: CaseResult[];
}

const COLORS: Record<string, string> = { node: "#3c873a", bun: "#c47f2c", deno: "#2a5db0" };

export function ratioChart(runs: PlotRun[], title: string): string {
  const caseIds = [...new Set(runs.flatMap((r) => r.cases.filter((c) => !c.scaling && caseRatio(c)).map((c) => c.id)))];
  const byCase = new Map(runs[0]?.cases.map((c) => [c.id, c]) ?? []);
  const timeRatio = (c: CaseResult) => {
    const r = caseRatio(c)?.ratio?.median;
    return r === undefined ? undefined : c.metric === "throughput" ? 1 / r : r;
  };
  const timeBound = (c: CaseResult) => (c.metric === "throughput" ? 1 / c.bound.value : c.bound.value);

  const values = runs.flatMap((r) =>
    r.cases.filter((c) => !c.scaling).map(timeRatio).filter((v): v is number => v !== undefined)
  );
  const bounds = [...byCase.values()].map(timeBound);
  const lo = Math.min(0.85, Math.floor(Math.min(...values, 1) * 20) / 20);
  const hi = Math.max(1.2, Math.ceil(Math.max(...values, ...bounds) * 20) / 20 + 0.05);

  const width = 860;
  const height = 420;
  const left = 60;
  const right = 20;
  const top = 50;
  const bottom = 90;
  const plotW = width - left - right;
  const plotH = height - top - bottom;
  const y = (v: number) => top + plotH - ((Math.min(Math.max(v, lo), hi) - lo) / (hi - lo)) * plotH;
  const groupW = plotW / Math.max(caseIds.length, 1);
  const barW = Math.min(36, (groupW - 24) / Math.max(runs.length, 1));

  const out: string[] = [];
  out.push(
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="Helvetica, Arial, sans-serif" font-size="12">`,
    `<rect width="100%" height="100%" fill="#ffffff"/>`,
    `<text x="${width / 2}" y="24" text-anchor="middle" font-size="15" font-weight="bold">${escape(title)}</text>`,
  );
  for (let v = Math.ceil(lo * 20) / 20; v <= hi + 1e-9; v += 0.05) {
    const yy = y(v).toFixed(1);
    const major = Math.abs(v - 1) < 1e-9;
    out.push(
      `<line x1="${left}" x2="${width - right}" y1="${yy}" y2="${yy}" stroke="${
        major ? "#444" : "#e4e4e4"
      }" stroke-width="${major ? 1.2 : 1}"/>`,
      `<text x="${left - 6}" y="${(Number(yy) + 4).toFixed(1)}" text-anchor="end" fill="#555">${v.toFixed(2)}</text>`,
    );
  }
  out.push(
    `<text transform="translate(16 ${
      top + plotH / 2
    }) rotate(-90)" text-anchor="middle" fill="#333">irisql time / raw time (lower is better)</text>`,
  );
  caseIds.forEach((id, g) => {
    const x0 = left + g * groupW;
    const c = byCase.get(id)!;
    const bx = x0 + (groupW - barW * runs.length) / 2;
    runs.forEach((run, i) => {
      const cr = run.cases.find((x) => x.id === id);
      const v = cr ? timeRatio(cr) : undefined;
      if (v === undefined) return;
      const x = bx + i * barW;
      const y1 = y(Math.max(v, 1));
      const y0 = y(Math.min(v, 1));
      out.push(
        `<rect x="${(x + 2).toFixed(1)}" y="${y1.toFixed(1)}" width="${(barW - 4).toFixed(1)}" height="${
          Math.max(1, y0 - y1).toFixed(1)
        }" fill="${COLORS[run.runtime] ?? "#888"}"><title>${
          escape(`${run.runtime}: case ${id} ${v.toFixed(3)}`)
        }</title></rect>`,
        `<text x="${(x + barW / 2).toFixed(1)}" y="${
          (v >= 1 ? y1 - 4 : y0 + 12).toFixed(1)
        }" text-anchor="middle" font-size="10" fill="#333">${v.toFixed(3)}</text>`,
      );
    });
    const by = y(timeBound(c)).toFixed(1);
    out.push(
      `<line x1="${(x0 + 8).toFixed(1)}" x2="${
        (x0 + groupW - 8).toFixed(1)
      }" y1="${by}" y2="${by}" stroke="#c62828" stroke-width="2" stroke-dasharray="6 3"/>`,
      `<text x="${(x0 + groupW / 2).toFixed(1)}" y="${
        top + plotH + 18
      }" text-anchor="middle" font-weight="bold">case ${id}</text>`,
      `<text x="${(x0 + groupW / 2).toFixed(1)}" y="${
        top + plotH + 33
      }" text-anchor="middle" fill="#555" font-size="10">${escape(shortTitle(c))}</text>`,
    );
  });
  let lx = left;
  for (const run of runs) {
    out.push(
      `<rect x="${lx}" y="${height - 30}" width="12" height="12" fill="${COLORS[run.runtime] ?? "#888"}"/>`,
      `<text x="${lx + 16}" y="${height - 20}">${escape(`${run.runtime} ${run.version}`)}</text>`,
    );
    lx += 150;
  }
  out.push(
    `<line x1="${lx}" x2="${lx + 24}" y1="${height - 24}" y2="${
      height - 24
    }" stroke="#c62828" stroke-width="2" stroke-dasharray="6 3"/>`,
    `<text x="${lx + 30}" y="${height - 20}">bound</text>`,
    `</svg>`,
  );
  return out.join("\n") + "\n";
}

function shortTitle(c: CaseResult): string {
  const names: Record<string, string> = {
    "1": "execute(text) by PK",
    "2": "session.get / find",
    "3": "insertMany (time/row)",
    "4": "10k concurrent, pool 10",
    "5": "nearest() on PGlite",
    "6": "begin + 3 statements",
  };
  return names[c.id] ?? c.title;
}

export function escape(s: string): string {
  return s.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;");
}
