/**
 * Runs the benchmark cases on the current runtime and prints a table; with
 * --json, also one line `IRISQL_BENCH_JSON <json>` for bench/check.
 *   node --import tsx bench/run.ts [--quick] [--cases=1,2,8] [--json]
 *   bun bench/run.ts …          deno run -A bench/run.ts …
 */
import { runtime } from "../src/adapters/runtime.ts";
import { CASES, FULL, QUICK } from "./cases.ts";
import { SCALING } from "./scaling.ts";
import { createPostgresTables, dropPostgresTables, rawPostgres } from "./fixtures.ts";
import { type CaseResult, quickPlan, sampleCase } from "./sampler.ts";
import { formatCaseTable } from "./report.ts";
import { stopPython } from "./python.ts";

export interface RuntimeRun {
  runtime: string;
  version: string;
  /** PostgreSQL's server_version, when a PostgreSQL case ran. */
  server?: string;
  quick: boolean;
  startedAt: string;
  cases: CaseResult[];
}

const args = scriptArgs();
const quick = args.includes("--quick");
const json = args.includes("--json");
const only = args.find((a) => a.startsWith("--cases="))?.slice("--cases=".length).split(",");
// --cases=8 selects every point of case 8 ("8:c10p4"), or name one.
const selected = [...CASES, ...SCALING].filter((c) =>
  !only || only.includes(c.id) || only.includes(c.id.split(":")[0])
);
const sizes = quick ? QUICK : FULL;

const run: RuntimeRun = {
  runtime: runtime.name,
  version: runtime.version,
  quick,
  startedAt: new Date().toISOString(),
  cases: [],
};

let failed = false;
const usesPostgres = selected.some((c) => c.id !== "5");
if (usesPostgres) {
  await createPostgresTables();
  const sql = rawPostgres();
  run.server = (await sql`SHOW server_version`)[0].server_version;
  await sql.end();
}
try {
  for (const c of selected) {
    const plan = quick ? quickPlan(c.plan) : c.plan;
    log(
      `case ${c.id}: ${c.title} (${plan.epochs} epochs × ${plan.rounds} rounds × ${plan.samples} turns, ${plan.warmup} warm-up)`,
    );
    try {
      const result = await sampleCase(c, sizes, plan);
      run.cases.push(result);
      log(formatCaseTable(result));
    } catch (error) {
      failed = true;
      const message = error instanceof Error ? `${error.name}: ${error.message}` : String(error);
      log(`case ${c.id} failed: ${message}`);
      run.cases.push({
        id: c.id,
        title: c.title,
        metric: c.metric,
        bound: c.bound,
        plan,
        contenders: [],
        baselineNoise: NaN,
        seconds: 0,
        pass: false,
        error: message,
      });
    }
  }
} finally {
  await stopPython();
  if (usesPostgres) await dropPostgresTables();
}

finish(json ? "IRISQL_BENCH_JSON " + JSON.stringify(run) + "\n" : "", failed ? 1 : 0);

function log(line: string): void {
  // Progress goes to stderr so stdout stays parseable.
  console.error(line);
}

function scriptArgs(): string[] {
  const g = globalThis as unknown as { Deno?: { args: string[] }; process?: { argv: string[] } };
  return g.Deno ? g.Deno.args : g.process?.argv.slice(2) ?? [];
}

/** Write the last output, then exit even if a driver left a handle open. */
function finish(output: string, code: number): void {
  const g = globalThis as unknown as {
    Deno?: { exit(c: number): never; stdout: { writeSync(b: Uint8Array): number } };
    process?: { exit(c: number): never; stdout: { write(s: string, cb: () => void): void } };
  };
  if (g.Deno) {
    const bytes = new TextEncoder().encode(output);
    for (let at = 0; at < bytes.length;) at += g.Deno.stdout.writeSync(bytes.subarray(at));
    g.Deno.exit(code);
  }
  g.process!.stdout.write(output, () => g.process!.exit(code));
}
