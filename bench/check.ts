/**
 * bench/check: runs the benchmark suite on Node, Bun and Deno, one after the
 * other, against PostgreSQL on 127.0.0.1 and PGlite; prints the ratios per
 * runtime; writes bench/RESULTS.md and bench/ratios.svg;
 * exits 1 when a ratio misses its bound (or a runtime fails).
 *   bench/check                 full run (several minutes)
 *   bench/check --quick         smoke run: tiny sizes, nothing written, bounds not enforced
 *   bench/check --runtimes=node,bun --cases=1,2
 *   bench/check --render=test-output/bench-check-node.json,...   rewrite RESULTS.md from saved runs
 *     (several files, comma-separated, are joined: runtimes run one invocation each)
 * Results are saved to test-output/bench-check-<runtimes>.json as each runtime finishes.
 * The Python contender's venv (.venv-bench) is built or checked first by
 * scripts/bench/setup-python.sh.
 */
import { spawn, spawnSync } from "node:child_process";
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { cpus, loadavg, totalmem } from "node:os";
import { join } from "node:path";
import { CASES } from "./cases.ts";
import { ratioChart } from "./plot.ts";
import { scalingChart, scalingMarkdown } from "./scaling-report.ts";
import { SCALING_STATEMENTS } from "./scaling.ts";
import { caseRatio, formatBound, formatMs, formatRate, formatVersus, worstVersus } from "./report.ts";
import { ANCHOR_BOUND } from "./anchors.ts";
import type { RuntimeRun } from "./run.ts";
import type { CaseResult } from "./sampler.ts";

const root = new URL("..", import.meta.url).pathname;
const bin = (name: string) => join(root, "node_modules", ".bin", name);
const args = process.argv.slice(2);
let quick = args.includes("--quick");
const runtimes = (args.find((a) => a.startsWith("--runtimes="))?.slice(11) ?? "node,bun,deno").split(",");
const passOn = args.filter((a) => a === "--quick" || a.startsWith("--cases="));
const render = args.find((a) => a.startsWith("--render="))?.slice("--render=".length);
const only = args.find((a) => a.startsWith("--cases="))?.slice("--cases=".length).split(",");
const saved = join(root, "test-output", quick ? "bench-check-quick.json" : `bench-check-${runtimes.join("-")}.json`);

const ANCHOR_NAMES: Record<string, string> = {
  "drizzle": "Drizzle (query builder)",
  "drizzle-prepared": "Drizzle `.prepare()`",
  "kysely": "Kysely (pg Pool)",
  "pg": "pg (named statement)",
  "sqlalchemy": "SQLAlchemy async (asyncpg, Python)",
  "pgbench": "pgbench -S -M prepared -c 1 (floor)",
};

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
  /** How this runtime's run was made, when not one plain invocation (set in a saved file; shown in RESULTS.md). */
  note?: string;
}

// --render=a.json,b.json: runs saved by separate invocations (e.g. one runtime each), in order.
const savedRuns: { started: string; quick: boolean; commit?: string; outcomes: Outcome[] }[] =
  (render?.split(",") ?? []).map((f) => JSON.parse(readFileSync(f, "utf8")));
const started = savedRuns.length ? new Date(savedRuns[0].started) : new Date();
const outcomes: Outcome[] = savedRuns.flatMap((r) => r.outcomes);
// Read before anything is written: bench/check's own RESULTS.md and plots are not "uncommitted changes" of the code measured.
const measured = commit();
if (savedRuns.some((r) => r.quick)) quick = true;
const setupFailures: string[] = [];
if (!render && (!only || only.some((id) => ["1", "2", "3", "4"].includes(id)))) {
  // The SQLAlchemy contender's venv: seconds to build from the hash-pinned lock, instant when current.
  const setup = spawnSync("bash", [join(root, "scripts", "bench", "setup-python.sh")], {
    cwd: root,
    stdio: ["ignore", "inherit", "inherit"],
  });
  if (setup.status !== 0) setupFailures.push(`scripts/bench/setup-python.sh exited with ${setup.status}`);
}
for (const name of render ? [] : runtimes) {
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
  mkdirSync(join(root, "test-output"), { recursive: true });
  writeFileSync(saved, JSON.stringify({ started: started.toISOString(), quick, commit: measured, outcomes }));
}

const anchors = anchorTable(outcomes, !quick);

const table = summaryTable(outcomes, !quick);
const scaling = scalingMarkdown(outcomes.filter((o) => o.run).map((o) => o.run!), !quick);
console.log("\n" + table.text);
console.log("\n" + anchors.text);
if (scaling.markdown) {
  console.log("\ncase 8, irisql ÷ postgres.js statements/s (irisql / postgres.js):\n" + scaling.markdown);
}
const failures = [
  ...setupFailures,
  ...outcomes.filter((o) => o.error).map((o) => `${o.runtime}: ${o.error}`),
  ...outcomes.flatMap((o) =>
    (o.run?.cases ?? []).filter((c) => c.error).map((c) => `${o.runtime} case ${c.id}: ${c.error}`)
  ),
];
const misses = quick ? [] : [...table.misses, ...anchors.misses, ...scaling.misses];

if (!quick) {
  const runs = outcomes.filter((o) => o.run).map((o) => o.run!);
  const svg = ratioChart(
    runs,
    `irisql overhead against the raw driver (bench/check, ${started.toISOString().slice(0, 10)})`,
  );
  writeFileSync(join(root, "bench", "ratios.svg"), svg);
  const scaled = runs.some((r) => r.cases.some((c) => c.scaling));
  if (scaled) {
    writeFileSync(
      join(root, "bench", "scaling.svg"),
      scalingChart(
        runs,
        `statements per second by concurrent callers and pool size (bench/check, ${
          started.toISOString().slice(0, 10)
        })`,
      ),
    );
  }
  writeFileSync(
    join(root, "bench", "RESULTS.md"),
    resultsMarkdown(outcomes, table.markdown, anchors.markdown, scaled ? scaling.markdown : "", started),
  );
  console.log(`wrote bench/RESULTS.md and bench/ratios.svg${scaled ? " and bench/scaling.svg" : ""}`);
}
for (const f of failures) console.log("FAILED " + f);
for (const m of misses) console.log("MISSED " + m);
console.log(
  failures.length + misses.length === 0
    ? `bench/check: ${quick ? "smoke run ok (bounds not enforced in --quick)" : "every ratio within its bound"}`
    : `bench/check: ${failures.length} failure(s), ${misses.length} bound(s) missed or anchor(s) ahead of irisql`,
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
  return { ...renderTable(head, rows), misses };
}

/**
 * irisql against each anchor, per case and runtime: the worst checked irisql contender's
 * time ÷ the anchor's (case 3: rows/s ÷ rows/s). A miss when irisql falls behind by more
 * than the method's 5%; the pgbench floor is reported only.
 */
function anchorTable(list: Outcome[], enforce: boolean): { text: string; markdown: string; misses: string[] } {
  const misses: string[] = [];
  const head = ["case", "irisql vs", "bound", ...list.map((o) => o.runtime)];
  const rows: string[][] = [];
  for (const def of CASES) {
    const names = [...(def.anchors ?? []), ...(def.floors ?? [])];
    for (const anchor of names) {
      const bound = (def.floors ?? []).includes(anchor)
        ? "(floor)"
        : def.metric === "throughput"
        ? `>= ${(1 / ANCHOR_BOUND).toFixed(3)}`
        : `<= ${ANCHOR_BOUND.toFixed(3)}`;
      const cells = list.map((o) => {
        const c = o.run?.cases.find((x) => x.id === def.id);
        if (!c) return "-";
        if (c.error) return "error";
        const v = worstVersus(c).find((x) => x.anchor === anchor);
        if (!v) return "-";
        if (v.pass === false) {
          misses.push(
            `${o.runtime} case ${c.id}: irisql (${v.irisql}) behind ${anchor}: ${
              v.ratio.median.toFixed(3)
            } (bound ${bound})`,
          );
        }
        return v.ratio.median.toFixed(3) + (v.floor || !enforce ? "" : v.pass ? " ok" : " BEHIND");
      });
      if (cells.every((x) => x === "-")) continue;
      rows.push([def.id, ANCHOR_NAMES[anchor] ?? anchor, bound, ...cells]);
    }
  }
  return { ...renderTable(head, rows), misses };
}

/** A table as aligned plain text (the console) and as Markdown (RESULTS.md). */
function renderTable(head: string[], rows: string[][]): { text: string; markdown: string } {
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
  const text = [head, ...rows].map((r) => r.map((c, i) => c.padEnd(widths[i])).join("  ")).join("\n");
  const markdown = [
    "| " + head.join(" | ") + " |",
    "|" + head.map(() => "---").join("|") + "|",
    ...rows.map((r) => "| " + r.join(" | ") + " |"),
  ].join("\n");
  return { text, markdown };
}

function commit(): string {
  const r = spawnSync("git", ["rev-parse", "--short", "HEAD"], { cwd: root, encoding: "utf8" });
  const dirty = spawnSync("git", ["status", "--porcelain", "--untracked-files=no"], { cwd: root, encoding: "utf8" });
  return r.status === 0 ? ` (commit ${r.stdout.trim()}${dirty.stdout.trim() ? ", with uncommitted changes" : ""})` : "";
}

function version(pkg: string): string {
  try {
    return JSON.parse(readFileSync(join(root, "node_modules", pkg, "package.json"), "utf8")).version;
  } catch {
    return "?";
  }
}

/** A command's first output line, or "?" (versions for RESULTS.md). */
function firstLine(command: string, args: string[]): string {
  const r = spawnSync(command, args, { encoding: "utf8" });
  return r.status === 0 ? (r.stdout.trim().split("\n")[0] ?? "?") : "?";
}

function resultsMarkdown(
  list: Outcome[],
  ratioTable: string,
  anchorTable: string,
  scalingTables: string,
  when: Date,
): string {
  const runs = list.filter((o) => o.run);
  const server = runs.map((o) => o.run?.server).find((s) => s) ?? "?";
  const lines: string[] = [];
  lines.push(
    "# irisql benchmark results",
    "",
    `Written by \`bench/check\` (\`npm run bench:check\`) on ${when.toISOString().replace("T", " ").slice(0, 16)} UTC.`,
    list.some((o) => o.note)
      ? "Every number below comes from that run, made as the notes on each runtime say; rerun the command to reproduce."
      : "Every number below comes from that one run; rerun the command to reproduce.",
    "",
    `- Machine: ${cpus()[0]?.model ?? "?"}, ${cpus().length} cores, ${Math.round(totalmem() / 2 ** 30)} GiB`,
    `- PostgreSQL ${server} on 127.0.0.1 (cases 1–4, 1F, 6, 7); PGlite ${
      version("@electric-sql/pglite")
    } with pgvector (case 5)`,
    `- postgres.js ${version("postgres")} on both sides; irisql from this checkout${
      [...new Set(savedRuns.map((r) => r.commit ?? ""))].join("") || measured
    }`,
    `- Anchors (cases 1–4): Drizzle ORM ${version("drizzle-orm")} on postgres.js ${version("postgres")}, Kysely ${
      version("kysely")
    } on pg ${version("pg")}, pg ${version("pg")}; ${
      firstLine(join(root, ".venv-bench", "bin", "python"), [
        "-c",
        "import sys, importlib.metadata as m; print(f\"SQLAlchemy {m.version('sqlalchemy')} on asyncpg " +
        "{m.version('asyncpg')}, Python {sys.version.split()[0]}\")",
      ])
    }; floor: ${firstLine("pgbench", ["--version"])}`,
    `- Runtimes: ${
      runs.map((o) => `${o.runtime} ${o.run!.version}`).join(", ")
    } (Node runs the TypeScript through tsx)`,
    `- Load average (1 min) before/after each runtime: ${
      list.map((o) => `${o.runtime} ${o.load[0].toFixed(2)}/${o.load[1].toFixed(2)}`).join(", ")
    }`,
    ...list.filter((o) => o.note).map((o) => `- ${o.runtime}: ${o.note}`),
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
    "## irisql against other libraries (issue #18)",
    "",
    "irisql's time ÷ the other library's time on the same case, measured in the same run, same server, same " +
      "pool size (10), taking turns call by call with all the other contenders; for case 2 the worse of " +
      "`session.get` and `session.find`; case 3 is irisql rows/s ÷ their rows/s. bench/check fails when irisql " +
      `falls behind one of them by more than the method's 5% (time ratio > ${ANCHOR_BOUND}, rows/s ratio < ${
        (1 / ANCHOR_BOUND).toFixed(3)
      }). ` +
      "The pgbench row is the floor: what a C client (libpq) takes for a one-row SELECT one call at a time; " +
      "it is reported, not enforced. The SQLAlchemy ratio compares irisql on that runtime with SQLAlchemy on " +
      "CPython, measured alongside it in the same run.",
    "",
    anchorTable,
    "",
  );
  if (scalingTables) {
    lines.push(
      "## Concurrency scaling (case 8)",
      "",
      "Statements per second when 1, 10, 100 or 1,000 callers share one engine with a pool of 1, 4, 10 or 20 " +
        "connections, against postgres.js with the same `max` on the same server. Each caller awaits its share " +
        `of ${
          SCALING_STATEMENTS.toLocaleString("en-US")
        } one-row SELECTs (case 1's) one after another; 1,000 callers ` +
        `send ${SCALING_STATEMENTS / 1000} each. Each cell is irisql's ` +
        "rate ÷ postgres.js's (median over rounds), then both rates, irisql first. bench/check fails when irisql " +
        `falls behind postgres.js by more than the method's 5% (ratio < ${
          (1 / ANCHOR_BOUND).toFixed(3)
        }) at any point.`,
      "",
      scalingTables,
      "![statements per second by callers and pool size](scaling.svg)",
      "",
    );
  }
  for (const o of list) {
    lines.push(`## ${o.runtime}${o.run ? " " + o.run.version : ""}`, "");
    if (o.error) lines.push(`**Failed:** ${o.error}`, "");
    if (o.note) lines.push(`Note: ${o.note}`, "");
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
    "- Anchors (cases 1–4, bench/anchors.ts): Drizzle on postgres.js (the driver irisql wraps, so the " +
      "comparison is the library layer), once as its default query-builder call (SQL built per call) and once " +
      "`.prepare()`d; Kysely on a pg Pool; pg with a named (server-side prepared) statement; each with its own " +
      "pool of 10, opened fresh per epoch like the other contenders. Case 3's anchors insert the same rows in " +
      "one transaction, 1,000 per statement (Drizzle pipelines the chunks on postgres.js as the raw side does; " +
      "pg and Kysely send them one after another, as pg does not pipeline); Drizzle's `.prepare()` is not run " +
      "there (a prepared 1,000-row insert needs 3,000 named placeholders).",
    "- SQLAlchemy 2 (async, asyncpg) runs in a Python process (bench/sqlalchemy_contender.py, venv from " +
      "scripts/bench/requirements.lock, hash-pinned) that the sampler drives one operation at a time over a " +
      "pipe, so it takes its turns between the JavaScript contenders exactly like them. Python times each " +
      "operation itself (`time.perf_counter()` around the awaited work; the pipe round trip is not counted); " +
      "each epoch disposes its AsyncEngine and creates a fresh one (pool_size 10, max_overflow 0). Case 1 is " +
      "`engine.connect()` + `execute(text(...))`, case 2 an `AsyncSession` per request with `session.get`, " +
      "case 3 `engine.begin()` + `execute(insert(bulk), rows)` (executemany), case 4 `asyncio.gather` of " +
      "10,000 case-1 calls. While one process works the other waits, as for contenders within one process.",
    "- The floor (case 1F): pgbench `-S -M prepared -c 1 -t 2000` on its own scale-1 database " +
      "(irisql_bench_pgbench, created and dropped by the run) against 2,000 sequential " +
      "`engine.execute(text(...))` calls, alternating batch by batch (6 epochs × 3 turns). pgbench's time per " +
      "call is 1000 ÷ its tps without initial connection time (process start and connect are not counted); " +
      "irisql's is the batch's wall time ÷ 2,000. pgbench reads one integer from a 100,000-row table, irisql " +
      "four columns from a 1,000-row table: both are one index lookup, and the difference is the client.",
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
  const versus = (c.versus ?? []).map((v) =>
    `| ${v.irisql} | ${code(v.anchorLabel)} | ${formatVersus(v)} | ${
      v.floor ? "floor (reported)" : `${v.pass ? "ok" : "BEHIND"} ${v.bound!.op} ${v.bound!.value.toFixed(3)}`
    } |`
  );
  const tail = versus.length
    ? ["", "| irisql | against | ratio [p25–p75] | bound |", "|---|---|---|---|", ...versus]
    : [];
  for (const x of c.contenders) {
    out.push(
      `| ${x.checked ? "**" + code(x.label) + "**" : code(x.label)} | ${formatMs(x.medianMs)} | ${
        formatRate(x.rowsPerSecond)
      } | ${
        x.ratio ? `${x.ratio.median.toFixed(3)} [${x.ratio.p25.toFixed(3)}–${x.ratio.p75.toFixed(3)}]` : "baseline"
      } | ${x.pass === undefined ? "" : (x.pass ? "ok " : "MISSES ") + formatBound(c)} |`,
    );
  }
  return [...out, ...tail];
}

/** A label as inline code (labels contain backticks); pipes escaped for the table. */
function code(label: string): string {
  return "`` " + label.replace(/\|/g, "\\|") + " ``";
}
