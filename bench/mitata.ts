/**
 * The benchmark cases under mitata's own runner: one group per case, the raw
 * driver as baseline, mitata's summary giving each irisql form relative to it.
 * mitata times one function at a time; bench/check, which enforces the
 * bounds, alternates the contenders call by call instead (bench/sampler.ts).
 *   node --import tsx bench/mitata.ts [--quick] [--cases=1,2]     (npm run bench)
 *   bun bench/mitata.ts …          deno run -A bench/mitata.ts …
 */
import { bench, group, run, summary } from "mitata";
import { type CaseInstance, CASES, FULL, QUICK } from "./cases.ts";
import { createPostgresTables, dropPostgresTables } from "./fixtures.ts";
import { stopPython } from "./python.ts";

const args = scriptArgs();
const sizes = args.includes("--quick") ? QUICK : FULL;
const only = args.find((a) => a.startsWith("--cases="))?.slice("--cases=".length).split(",");
const selected = CASES.filter((c) => !only || only.includes(c.id));

const usesPostgres = selected.some((c) => c.id !== "5");
if (usesPostgres) await createPostgresTables();
const open: CaseInstance[] = [];
try {
  for (const c of selected) {
    const inst = await c.open(sizes);
    open.push(inst);
    summary(() => {
      group(`case ${c.id}: ${c.title}`, () => {
        inst.contenders.forEach((x, i) => {
          const before = x.before;
          const b = before
            // mitata runs parameter [0] untimed before each timed call.
            ? bench(x.label, function* () {
              yield { [0]: before, bench: (_ready: unknown) => x.run() };
            })
            : bench(x.label, () => x.run());
          if (i === 0) b.baseline(true);
        });
      });
    });
  }
  await run();
} finally {
  for (const inst of open) await inst.close();
  for (const c of selected) await c.teardown?.();
  await stopPython();
  if (usesPostgres) await dropPostgresTables();
}

function scriptArgs(): string[] {
  const g = globalThis as unknown as { Deno?: { args: string[] }; process?: { argv: string[] } };
  return g.Deno ? g.Deno.args : g.process?.argv.slice(2) ?? [];
}
