/**
 * The latency cases (1, 2, 6 and the A/A control) under `deno bench`, the raw
 * driver as each group's baseline:
 *   deno task bench      (deno bench -A bench/latency.bench.ts)
 * The tables are dropped by the last, untimed entry.
 */
import { type CaseInstance, CASES, FULL } from "./cases.ts";
import { createPostgresTables, dropPostgresTables } from "./fixtures.ts";
import { stopPython } from "./python.ts";

const LATENCY = ["A/A", "1", "2", "6"];

await createPostgresTables();
const instances: CaseInstance[] = [];
for (const c of CASES.filter((x) => LATENCY.includes(x.id))) {
  const inst = await c.open(FULL);
  instances.push(inst);
  inst.contenders.forEach((x, i) => {
    Deno.bench({
      name: x.label,
      group: `case ${c.id}: ${c.title}`,
      baseline: i === 0,
      async fn() {
        await x.run();
      },
    });
  });
}

let cleanup: Promise<void> | undefined;
Deno.bench({
  // In a group of its own, registered last: deno bench runs ungrouped entries first.
  group: "cleanup",
  name: "close clients, drop tables (not a measurement)",
  n: 1,
  warmup: 0,
  // deno bench may call an entry more than once even with n: 1; the clean-up runs once.
  fn: () =>
    cleanup ??= (async () => {
      for (const inst of instances) await inst.close();
      await stopPython();
      await dropPostgresTables();
    })(),
});
