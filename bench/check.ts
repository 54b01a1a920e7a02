/**
 * bench/check: runs the benchmark suite on Node, Bun and Deno, one after the
 * other, against PostgreSQL on 127.0.0.1 and PGlite; prints the ratios per
 * runtime; writes bench/RESULTS.md and bench/ratios.svg;
 * exits 1 when a ratio misses its bound (or a runtime fails).
 *   bench/check                 full run (several minutes)
 *   bench/check --quick         smoke run: tiny sizes, nothing written, bounds not enforced
 *   bench/check --runtimes=node,bun --cases=1,2
 */
import { spawn } from "node:child_process";
import { readFileSync, writeFileSync } from "node:fs";
import { cpus, loadavg, totalmem } from "node:os";
import { join } from "node:path";
import { CASES } from "./cases.ts";
import { ratioChart } from "./plot.ts";
import { caseRatio, formatBound, formatMs, formatRate } from "./report.ts";
import type { RuntimeRun } from "./run.ts";
import type { CaseResult } from "./sampler.ts";

const root = new URL("..", import.meta.url).pathname;
const bin = (name: string) => join(root, "node_modules", ".bin", name);
const args = process.argv.slice(2);
const quick = args.includes("--quick");
const runtimes = (args.find((a) => a.startsWith("--runtimes="))?.slice(11) ?? "node,bun,deno").split(",");
const passOn = args.filter((a) => a === "--quick" || a.startsWith("--cases="));

const COMMANDS: Record<string, string[]> = {
  node: [process.execPath, "--import", "tsx", "bench/run.ts"],
  bun: [bin("bun"), "bench/run.ts"],
  deno: [bin("deno"), "run", "-A", "bench/run.ts"],
};

interface Outcome {
  runtime: string;
  run?: RuntimeRun;
  error?: string;
  load: [number, number];
}

const started = new Date();
const outcomes: Outcome[] = [];
for (const name of runtimes) {
  const command = COMMANDS[name];
  if (!command) {
    outcomes.push({ runtime: name, error: `unknown runtime ${name} (use node, bun, deno)`, load: [0, 0] });
    continue;
  }
  const before = loadavg()[0];
  console.error(`\n=== ${name}: ${[...command, ...passOn, "--json"].join(" ").replace(root, "")}`);
  const { code, stdout } = await runChild(command, [...passOn, "--json"], quick ? 300_000 : 1_800_000);
  const line = stdout.split("\n").find((l) => l.startsWith("IRISQL_BENCH_JSON "));
  const run = line ? (JSON.parse(line.slice("IRISQL_BENCH_JSON ".length)) as RuntimeRun) : undefined;
  const error = code !== 0 ? `exited with code ${code}` : !run ? "printed no results" : undefined;
  outcomes.push({ runtime: name, run, error, load: [before, loadavg()[0]] });
}

const table = summaryTable(outcomes, !quick);
console.log("\n" + table.text);
const failures = [
  ...outcomes.filter((o) => o.error).map((o) => `${o.runtime}: ${o.error}`),
  ...outcomes.flatMap((o) =>
    (o.run?.cases ?? []).filter((c) => c.error).map((c) => `${o.runtime} case ${c.id}: ${c.error}`)
  ),
];
const misses = quick ? [] : table.misses;

if (!quick) {
  const runs = outcomes.filter((o) => o.run).map((o) => o.run!);
  const svg = ratioChart(
    runs,
    `irisql overhead against the raw driver (bench/check, ${started.toISOString().slice(0, 10)})`,
  );
  writeFileSync(join(root, "bench", "ratios.svg"), svg);
  writeFileSync(join(root, "bench", "RESULTS.md"), resultsMarkdown(outcomes, table.markdown, started));
  console.log("wrote bench/RESULTS.md and bench/ratios.svg");
}
for (const f of failures) console.log("FAILED " + f);
for (const m of misses) console.log("MISSED " + m);
console.log(
  failures.length + misses.length === 0
    ? `bench/check: ${quick ? "smoke run ok (bounds not enforced in --quick)" : "every ratio within its bound"}`
    : `bench/check: ${failures.length} failure(s), ${misses.length} bound(s) missed`,
);
process.exitCode = failures.length + misses.length === 0 ? 0 : 1;

// ---------------------------------------------------------------------------

function runChild(command: string[], extra: string[], timeoutMs: number): Promise<{ code: number; stdout: string }> {
  return new Promise((resolve) => {
    const child = spawn(command[0], [...command.slice(1), ...extra], {
      cwd: root,
      stdio: ["ignore", "pipe", "inherit"],
    });
    let stdout = "";
    child.stdout.on("data", (b: Buffer) => (stdout += b.toString()));
    const timer = setTimeout(() => {
      console.error(`timed out after ${timeoutMs / 1000} s; stopping it`);
      child.kill("SIGKILL");
    }, timeoutMs);
    child.on("close", (code) => {
      clearTimeout(timer);
      resolve({ code: code ?? 1, stdout });
    });
  });
}

function summaryTable(list: Outcome[], enforce: boolean): { text: string; markdown: string; misses: string[] } {
  const misses: string[] = [];
  const head = ["case", "bound", ...list.map((o) => o.runtime)];
  const rows: string[][] = [];
  for (const def of CASES) {
    const cells = list.map((o) => {
      const c = o.run?.cases.find((x) => x.id === def.id);
      if (!c) return "-";
      if (c.error) return "error";
      const worst = caseRatio(c) ?? c.contenders.find((x) => x.ratio);
      if (!worst?.ratio) return "-";
      const ok = worst.pass !== false;
      if (!ok) misses.push(`${o.runtime} case ${c.id}: ${worst.ratio.median.toFixed(3)} (bound ${formatBound(c)})`);
      return worst.ratio.median.toFixed(3) + (worst.checked && enforce ? (ok ? " ok" : " MISS") : "");
    });
    if (cells.every((x) => x === "-")) continue;
    rows.push([def.id, def.checked.length ? `${def.bound.op} ${def.bound.value.toFixed(2)}` : "(none)", ...cells]);
  }
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
  const text = [head, ...rows].map((r) => r.map((c, i) => c.padEnd(widths[i])).join("  ")).join("\n");
  const markdown = [
    "| " + head.join(" | ") + " |",
    "|" + head.map(() => "---").join("|") + "|",
    ...rows.map((r) => "| " + r.join(" | ") + " |"),
  ].join("\n");
  return { text, markdown, misses };
}

function version(pkg: string): string {
  try {
    return JSON.parse(readFileSync(join(root, "node_modules", pkg, "package.json"), "utf8")).version;
  } catch {
    return "?";
  }
}

function resultsMarkdown(list: Outcome[], ratioTable: string, when: Date): string {
  const runs = list.filter((o) => o.run);
  const server = runs.map((o) => o.run?.server).find((s) => s) ?? "?";
  const lines: string[] = [];
  lines.push(
    "# irisql benchmark results",
    "",
    `Written by \`bench/check\` (\`npm run bench:check\`) on ${when.toISOString().replace("T", " ").slice(0, 16)} UTC.`,
    "Every number below comes from that one run; rerun the command to reproduce.",
    "",
    `- Machine: ${cpus()[0]?.model ?? "?"}, ${cpus().length} cores, ${Math.round(totalmem() / 2 ** 30)} GiB`,
    `- PostgreSQL ${server} on 127.0.0.1 (cases 1–4, 6, 7); PGlite ${
      version("@electric-sql/pglite")
    } with pgvector (case 5)`,
    `- postgres.js ${version("postgres")} on both sides; irisql from this checkout`,
    `- Runtimes: ${
      runs.map((o) => `${o.runtime} ${o.run!.version}`).join(", ")
    } (Node runs the TypeScript through tsx)`,
    `- Load average (1 min) before/after each runtime: ${
      list.map((o) => `${o.runtime} ${o.load[0].toFixed(2)}/${o.load[1].toFixed(2)}`).join(", ")
    }`,
    "",
    "## Ratios",
    "",
    "irisql / raw driver, median over rounds; case 3 is irisql rows/s ÷ raw rows/s; case 7 is the time until " +
      "the last of 40 fast statements answers ÷ the time of a slow statement running beside them. " +
      "“ok” means within the bound; the A/A row is the method measured against itself.",
    "",
    ratioTable,
    "",
    "![ratios per runtime](ratios.svg)",
    "",
  );
  for (const o of list) {
    lines.push(`## ${o.runtime}${o.run ? " " + o.run.version : ""}`, "");
    if (o.error) lines.push(`**Failed:** ${o.error}`, "");
    for (const c of o.run?.cases ?? []) lines.push(...caseMarkdown(c), "");
  }
  lines.push(
    "## How it is measured",
    "",
    "- Both sides run in the same process, against the same server, with a pool of 10 and prepared statements " +
      "(postgres.js tagged templates on the raw side; irisql prepares by default).",
    "- Epochs: every epoch opens fresh clients for every contender (new connections, new backend processes), " +
      "warms them up, and the side that connects first alternates. On a shared two-core machine one connection " +
      "can be persistently faster than another; epochs spread that over both sides.",
    "- Within an epoch the contenders take turns call by call (ABBA order), so load bursts hit all of them alike. " +
      "Each round gives each contender a median time per operation; a ratio per round is irisql median / raw median; " +
      "the reported ratio is the median over all rounds, with the 25th–75th percentile of the round ratios as its spread.",
    "- Case 2 is checked on the form a request handler writes, `engine.session(s => s.get(...))` / " +
      "`s.find(...)`: one unit of work per request. Reads before any write run on the pool without BEGIN/COMMIT " +
      "(src/session.ts). The long-lived session form is reported for information.",
    "- Case 3 wraps both sides in one transaction (insertMany is all or nothing): the raw side pipelines " +
      "`sql(rows, ...columns)` inserts of 1,000 rows inside `sql.begin`; irisql sends the same chunk size. " +
      "Rows are truncated (untimed) before every insert.",
    "- Case 5 compares `nearest()` with PGlite's own `query()` sending the identical SQL (checked before timing) " +
      "on the engine's own PGlite instance (two instances with identical data differed by a few percent between " +
      "themselves); no index, so both scan all vectors. Both hand back the same data: nearest() returns each " +
      "embedding as `number[]`, so the raw side `JSON.parse`s the 10 embeddings PGlite returns as text (without " +
      "that step the raw side was about 4% faster: parsing 3,840 numbers per call costs more than its own time " +
      "in the next query's garbage collection).",
    "- Case 7 runs 40 one-row SELECTs on a pool of 4 while a `pg_sleep(0.5)` has been running for 100 ms; " +
      "a statement pipelined behind the slow one would wait for it (ratio near 0.8).",
    "- `bench/mitata.ts` runs the same cases under mitata's own runner, and `deno task bench` runs the latency " +
      "cases under `deno bench`; bench/check uses its own alternating sampler because mitata times one function " +
      "at a time.",
    "",
  );
  return lines.join("\n");
}

function caseMarkdown(c: CaseResult): string[] {
  const out = [`### Case ${c.id}: ${c.title}`, ""];
  if (c.error) return [...out, `**Error:** ${c.error}`];
  out.push(
    `${c.plan.epochs} epoch(s) × ${c.plan.rounds} round(s) × ${c.plan.samples} turns (after ${c.plan.warmup} warm-up); ` +
      `${c.seconds.toFixed(1)} s; raw baseline spread over rounds ${(c.baselineNoise * 100).toFixed(1)}%.`,
    "",
    "| contender | median | rows/s | ratio [p25–p75] | bound |",
    "|---|---|---|---|---|",
  );
  for (const x of c.contenders) {
    out.push(
      `| ${x.checked ? "**" + code(x.label) + "**" : code(x.label)} | ${formatMs(x.medianMs)} | ${
        formatRate(x.rowsPerSecond)
      } | ${
        x.ratio ? `${x.ratio.median.toFixed(3)} [${x.ratio.p25.toFixed(3)}–${x.ratio.p75.toFixed(3)}]` : "baseline"
      } | ${x.pass === undefined ? "" : (x.pass ? "ok " : "MISSES ") + formatBound(c)} |`,
    );
  }
  return out;
}

/** A label as inline code (labels contain backticks); pipes escaped for the table. */
function code(label: string): string {
  return "`` " + label.replace(/\|/g, "\\|") + " ``";
}
