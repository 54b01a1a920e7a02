#!/usr/bin/env node
// Runs the whole suite on Node, Bun and Deno, one after the other, and ends
// with one line: "tests: N passed, M failed". Exit code 1 if anything failed.
// Usage: node scripts/test.mjs [node|bun|deno ...] [-- test files]
import { spawn } from "node:child_process";
import { readdirSync, statSync } from "node:fs";
import { join } from "node:path";

const root = new URL("..", import.meta.url).pathname;
const bin = (name) => join(root, "node_modules", ".bin", name);
const args = process.argv.slice(2);
const dash = args.indexOf("--");
const runtimes = (dash < 0 ? args : args.slice(0, dash)).filter(Boolean);
const files = dash < 0 ? listTests(join(root, "tests")) : args.slice(dash + 1);

function listTests(dir) {
  const out = [];
  for (const name of readdirSync(dir).sort()) {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) {
      if (name !== "fixtures" && name !== "reliability") out.push(...listTests(p));
    } else if (name.endsWith(".test.ts")) out.push(p.slice(root.length));
  }
  return out;
}

const RUNNERS = {
  node: {
    cmd: process.execPath,
    args: ["--import", "tsx", "--test", "--test-concurrency=4", ...files],
    parse: (out) => ({
      pass: last(out, /^# pass (\d+)/m),
      fail: last(out, /^# fail (\d+)/m) + last(out, /^# cancelled (\d+)/m),
    }),
  },
  bun: {
    cmd: bin("bun"),
    args: ["test", "--timeout", "120000", ...files.map((f) => "./" + f)],
    parse: (out) => ({ pass: last(out, /^\s*(\d+) pass$/m), fail: last(out, /^\s*(\d+) fail$/m) }),
  },
  deno: {
    cmd: bin("deno"),
    args: ["test", "-A", "--no-check", ...files],
    parse: (out) => {
      const m = /(\d+) passed(?: \((\d+) steps?\))? \| (\d+) failed(?: \((\d+) steps?\))?/.exec(strip(out));
      if (!m) return { pass: 0, fail: 0 };
      return { pass: Number(m[2] ?? m[1]), fail: Number(m[4] ?? m[3]) };
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

function run(name) {
  const r = RUNNERS[name];
  return new Promise((resolve) => {
    console.log(`\n=== ${name}: ${[r.cmd, ...r.args].join(" ").replace(root, "")}`);
    const child = spawn(r.cmd, r.args, { cwd: root, env: { ...process.env, NO_COLOR: "1" } });
    let out = "";
    child.stdout.on("data", (d) => (out += d, process.stdout.write(d)));
    child.stderr.on("data", (d) => (out += d, process.stderr.write(d)));
    child.on("close", (code) => {
      const counts = r.parse(out);
      // A runner that crashed without reporting failures still failed.
      if (code !== 0 && counts.fail === 0) counts.fail = 1;
      console.log(`=== ${name}: ${counts.pass} passed, ${counts.fail} failed (exit ${code})`);
      resolve(counts);
    });
  });
}

let pass = 0, fail = 0;
for (const name of runtimes.length ? runtimes : ["node", "bun", "deno"]) {
  const c = await run(name);
  pass += c.pass;
  fail += c.fail;
}
console.log(`\ntests: ${pass} passed, ${fail} failed`);
process.exit(fail > 0 || pass === 0 ? 1 : 0);
