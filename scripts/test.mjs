#!/usr/bin/env node
// Runs a test suite on Node, Bun and Deno, one runtime after the other, and ends
// with one line: "tests: N passed, M failed". Exit code 1 if anything failed.
//
//   node scripts/test.mjs [node|bun|deno ...] [--reliability] [--soak] [--replication] [--tz=Zone] [-- test files]
//
// Without flags: every *.test.ts under tests/ except tests/fixtures and
// tests/reliability (npm test).
// --reliability: tests/reliability/ (npm run test:reliability). Its files run one
// at a time (the restart test takes the server away from everyone), and besides the
// tests' own secret checks every line the runtimes print is scanned for the suite's
// password; a runtime whose output shows it counts one failed test, else one passed.
// --soak (npm run soak): the reliability suite's long version (60 s of load, three
// restarts, more rounds and inputs).
// --replication (npm run test:replication): tests/replication/, one file at a time, against
// a primary and a streaming standby that scripts/replication/cluster.sh creates as extra
// PostgreSQL 15 clusters on 127.0.0.1:54391/54392 before each runtime's pass and drops after
// it, also when the pass fails (the failover test leaves the pair unusable, so each runtime
// gets a fresh one).
// Time zones: irisql must behave the same in every zone, so by default each runtime
// runs in a different one: Node west of UTC with DST (America/New_York), Bun east of
// it at a half-hour offset (Asia/Kolkata), Deno in UTC. A value read or written as
// local time moves by hours in the first two. One pass thus covers three runtimes and
// three zones. --tz=Zone (e.g. --tz=UTC) runs every runtime in that one zone instead.
import { spawn } from "node:child_process";
import { mkdtempSync, readdirSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

const root = new URL("..", import.meta.url).pathname;
const bin = (name) => join(root, "node_modules", ".bin", name);
const args = process.argv.slice(2);
const dash = args.indexOf("--");
const flags = dash < 0 ? args : args.slice(0, dash);
const soak = flags.includes("--soak");
const reliability = soak || flags.includes("--reliability");
const replication = flags.includes("--replication");
const serial = reliability || replication;
const tzFlag = flags.find((a) => a.startsWith("--tz="));
const tz = tzFlag?.slice("--tz=".length);
const ZONES = { node: "America/New_York", bun: "Asia/Kolkata", deno: "UTC" };
if (tzFlag !== undefined) {
  // An unknown zone makes the runtimes fall back to UTC without a word: the pass would prove nothing.
  try {
    new Intl.DateTimeFormat("en", { timeZone: tz || undefined });
    if (!tz) throw new RangeError("empty");
  } catch {
    console.error(`--tz needs an IANA time zone, e.g. --tz=America/New_York; got ${JSON.stringify(tz)}`);
    process.exit(2);
  }
}
const runtimes = flags.filter((a) => a && !a.startsWith("--"));
const files = dash >= 0 ? args.slice(dash + 1) : listTests(
  join(root, reliability ? "tests/reliability" : replication ? "tests/replication" : "tests"),
  reliability || replication,
);

function listTests(dir, flat) {
  const out = [];
  for (const name of readdirSync(dir).sort()) {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) {
      if (!flat && name !== "fixtures" && name !== "reliability" && name !== "replication") {
        out.push(...listTests(p, flat));
      }
    } else if (name.endsWith(".test.ts")) out.push(p.slice(root.length));
  }
  return out;
}

// Keep in step with tests/reliability/support.ts.
const PASSWORD = "Rel!ab1e S3cr3t/pw@x";
const SECRET_FORMS = [PASSWORD, encodeURIComponent(PASSWORD), "S3cr3t"];

const RUNNERS = {
  node: {
    cmd: process.execPath,
    args: ["--import", "tsx", "--test", `--test-concurrency=${reliability || replication ? 1 : 4}`, ...files],
    parse: (out) => ({
      pass: last(out, /^# pass (\d+)/m),
      fail: last(out, /^# fail (\d+)/m) + last(out, /^# cancelled (\d+)/m),
    }),
    // TAP: "not ok 3 - name", indented by nesting depth; a failed suite repeats its failed test's line.
    failed: (out) => every(out, /^\s*not ok \d+ - (.*)$/gm),
  },
  bun: {
    cmd: bin("bun"),
    args: [
      "test",
      "--timeout",
      reliability ? "600000" : "120000",
      ...(replication ? ["--max-concurrency=1"] : []),
      ...files.map((f) => "./" + f),
    ],
    parse: (out) => ({ pass: last(out, /^\s*(\d+) pass$/m), fail: last(out, /^\s*(\d+) fail$/m) }),
    failed: (out) => every(out, /^\(fail\) (.*)$/gm),
  },
  deno: {
    cmd: bin("deno"),
    // Files run two at a time, as Node's do (--test-concurrency), except the reliability and replication
    // suites, whose files take servers away from each other.
    args: ["test", "-A", "--no-check", ...(serial ? [] : ["--parallel"]), ...files],
    parse: (out) => {
      const m = /(\d+) passed(?: \((\d+) steps?\))? \| (\d+) failed(?: \((\d+) steps?\))?/.exec(strip(out));
      if (!m) return { pass: 0, fail: 0 };
      return { pass: Number(m[2] ?? m[1]), fail: Number(m[4] ?? m[3]) };
    },
    // Deno's closing "FAILURES" block: one "name => file:line:col" per failed test or step.
    failed: (out) => {
      const block = /^ *FAILURES *\n\s*([\s\S]*?)(?:\n\s*\n|$)/m.exec(strip(out));
      return block ? block[1].split("\n").map((l) => l.trim()).filter(Boolean) : [];
    },
  },
};

function strip(s) {
  // deno-lint-ignore no-control-regex
  return s.replace(/\x1b\[[0-9;]*m/g, "");
}
function last(out, re) {
  const all = [...strip(out).matchAll(new RegExp(re.source, "gm"))];
  return all.length ? Number(all[all.length - 1][1]) : 0;
}

function every(out, re) {
  return [...strip(out).matchAll(re)].map((m) => m[1].trim());
}

// Which tests failed, gathered from every pass and printed again just above the last line, so that
// a long log cut to its tail still names them.
const failures = [];

function run(name, env) {
  const r = RUNNERS[name];
  return new Promise((resolve) => {
    const zone = tz ?? ZONES[name];
    const label = `${name}${soak ? " (soak)" : ""} (TZ=${zone})`;
    console.log(`\n=== ${label}: ${[r.cmd, ...r.args].join(" ").replace(root, "")}`);
    const started = Date.now();
    const child = spawn(r.cmd, r.args, {
      cwd: root,
      env: { ...process.env, ...env, TZ: zone, NO_COLOR: "1" },
    });
    let out = "";
    child.stdout.on("data", (d) => (out += d, process.stdout.write(d)));
    child.stderr.on("data", (d) => (out += d, process.stderr.write(d)));
    child.on("close", (code) => {
      const counts = r.parse(out);
      for (const test of new Set(r.failed(out))) failures.push(`${name}: ${test}`);
      // A runner that crashed without reporting failures still failed.
      if (code !== 0 && counts.fail === 0) counts.fail = 1;
      let note = "";
      if (reliability) {
        const leaked = out.split("\n").filter((line) => SECRET_FORMS.some((s) => line.includes(s)));
        if (leaked.length > 0) {
          console.log(
            `=== ${name}: ${leaked.length} printed line(s) show the password, e.g. ${leaked[0].slice(0, 200)}`,
          );
          counts.fail++;
        } else {
          counts.pass++;
        }
        note = "; output scan included";
      }
      const seconds = ((Date.now() - started) / 1000).toFixed(0);
      console.log(`=== ${name}: ${counts.pass} passed, ${counts.fail} failed (exit ${code}, ${seconds} s${note})`);
      resolve(counts);
    });
  });
}

/** scripts/replication/cluster.sh up, then `fn`, then down whatever happened. */
async function withCluster(fn) {
  const cluster = (...a) =>
    new Promise((resolve) => {
      const child = spawn("bash", [join(root, "scripts/replication/cluster.sh"), ...a], {
        cwd: root,
        stdio: "inherit",
      });
      child.on("close", (code) => resolve(code));
    });
  try {
    if ((await cluster("up")) !== 0) {
      console.log("=== the replication pair could not be created");
      return { pass: 0, fail: 1 };
    }
    return await fn();
  } finally {
    await cluster("down");
  }
}

const evidence = reliability ? mkdtempSync(join(tmpdir(), "irisql-reliability-")) : undefined;
let pass = 0, fail = 0;
try {
  for (const name of runtimes.length ? runtimes : ["node", "bun", "deno"]) {
    const env = evidence
      ? { IRISQL_RELIABILITY_EVIDENCE: join(evidence, `${name}.jsonl`), IRISQL_SOAK: soak ? "1" : "0" }
      : {};
    const c = replication ? await withCluster(() => run(name, env)) : await run(name, env);
    pass += c.pass;
    fail += c.fail;
  }
} finally {
  if (evidence) rmSync(evidence, { recursive: true, force: true });
}
if (failures.length > 0) {
  console.log(`\n=== failed (${failures.length} line(s) from the runners' reports):`);
  for (const line of failures.slice(0, 40)) console.log(`  ${line.slice(0, 300)}`);
  if (failures.length > 40) console.log(`  ... and ${failures.length - 40} more above`);
}
console.log(`\ntests: ${pass} passed, ${fail} failed`);
process.exit(fail > 0 || pass === 0 ? 1 : 0);
