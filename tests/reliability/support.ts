/**
 * Shared by the reliability suite: the server it may restart, the password-bearing
 * URLs every engine uses, and the evidence the secrets test scans.
 *
 * Every engine here connects as a role with a password (PASSWORD); each engine.url,
 * onQuery event, caught error and log line goes through `inspectForSecrets`, which
 * counts it and records any that shows the password. Each test file appends its
 * counts to the evidence file when it ends; the last file of the suite reads them all.
 */
import { execFile } from "node:child_process";
import { appendFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { inspect } from "node:util";
import { createEngine, type Engine, type EngineOptions } from "../../mod.ts";
import { envVar } from "../../src/adapters/runtime.ts";
import { withTestDriver } from "../helpers.ts";

/** `npm run soak` sets this: longer runs, more rounds. */
export const SOAK = envVar("IRISQL_SOAK") === "1";

/** The password in every URL of the suite. It needs %-escaping, so decoding is exercised too. */
export const PASSWORD = "Rel!ab1e S3cr3t/pw@x";
export const ROLE = "irisql_reliability";
/** What the secrets scan looks for: the password raw, %-escaped, and its distinctive core. */
export const SECRET_FORMS = [PASSWORD, encodeURIComponent(PASSWORD), "S3cr3t"];

/** The server as its superuser (to create the role; never logged). */
export const ADMIN_URL = envVar("IRISQL_TEST_PG_URL") ?? "postgres://postgres@127.0.0.1:5432/test";

/** The same server as ROLE with PASSWORD. */
export const PG_URL = withCredentials(ADMIN_URL, ROLE, PASSWORD);

export function withCredentials(url: string, user: string, password: string): string {
  const u = new URL(url);
  u.username = encodeURIComponent(user);
  u.password = encodeURIComponent(password);
  return u.toString();
}

// --- evidence for the secrets scan -------------------------------------------

export type EvidenceKind = "url" | "event" | "error" | "log";

export interface Evidence {
  file: string;
  counts: Record<EvidenceKind, number>;
  leaks: string[];
}

export const EVIDENCE_FILE = envVar("IRISQL_RELIABILITY_EVIDENCE") ??
  join(tmpdir(), "irisql-reliability-evidence.jsonl");

let counts: Record<EvidenceKind, number> = { url: 0, event: 0, error: 0, log: 0 };
let leaks: string[] = [];

/** Count `text` as seen by a user; remember it if it shows the password. */
export function inspectForSecrets(kind: EvidenceKind, text: string): void {
  counts[kind]++;
  if (SECRET_FORMS.some((s) => text.includes(s))) leaks.push(`${kind}: ${text.slice(0, 300)}`);
}

/** An error as a logger would print it: message, stack, cause chain and own fields. */
export function seenError(error: unknown): unknown {
  inspectForSecrets("error", inspect(error, { depth: 6 }) + "\n" + String((error as Error)?.message));
  return error;
}

/** How long `p` took to settle, with its value or its error (the error goes through seenError). */
export async function timed<T>(p: Promise<T>): Promise<{ error?: Error; value?: T; ms: number }> {
  const started = performance.now();
  try {
    return { value: await p, ms: performance.now() - started };
  } catch (error) {
    return { error: seenError(error) as Error, ms: performance.now() - started };
  }
}

/** Print a line (figures, progress) and scan it. */
export function log(line: string): void {
  inspectForSecrets("log", line);
  console.log(line);
}

/** Append this file's counts to the evidence file (call from after()). */
export function flushEvidence(file: string): void {
  const entry: Evidence = { file, counts, leaks };
  appendFileSync(EVIDENCE_FILE, JSON.stringify(entry) + "\n");
  counts = { url: 0, event: 0, error: 0, log: 0 };
  leaks = [];
}

// --- engines -------------------------------------------------------------------

/** An engine whose url and every onQuery event are scanned; its errors go through seenError by the caller. */
export function watchedEngine(url: string, options: EngineOptions = {}): Engine {
  const user = options.onQuery;
  const engine = createEngine(url, {
    ...withTestDriver(url, options),
    onQuery: (event) => {
      inspectForSecrets("event", inspect(event, { depth: 4 }));
      user?.(event);
    },
  });
  inspectForSecrets("url", engine.url);
  inspectForSecrets("url", inspect(engine, { depth: 4 }));
  return engine;
}

/** Make sure ROLE exists with PASSWORD and may create tables in public. */
export async function ensureRole(): Promise<void> {
  const admin = createEngine(ADMIN_URL, { pool: { max: 1 } });
  try {
    const exists = await admin.execute(`SELECT 1 FROM pg_roles WHERE rolname = '${ROLE}'`);
    const literal = "'" + PASSWORD.replace(/'/g, "''") + "'";
    if (exists.rows.length === 0) {
      await admin.execute(`CREATE ROLE ${ROLE} LOGIN PASSWORD ${literal}`).catch((error) => {
        // Another runtime's run may have created it a moment ago.
        if (!/already exists/.test(String(error))) throw error;
      });
    }
    await admin.execute(`GRANT CREATE, USAGE ON SCHEMA public TO ${ROLE}`);
  } finally {
    await admin.dispose();
  }
}

// --- the server ----------------------------------------------------------------

function run(cmd: string, args: string[]): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile(cmd, args, { timeout: 60_000 }, (error, stdout, stderr) => {
      if (error) reject(new Error(`${cmd} ${args.join(" ")} failed: ${stderr || error.message}`));
      else resolve(String(stdout));
    });
  });
}

/**
 * The command that restarts the server behind ADMIN_URL: IRISQL_PG_RESTART, or
 * the Debian cluster listening on its port (pg_lsclusters / pg_ctlcluster).
 */
async function restartCommand(): Promise<string[]> {
  const custom = envVar("IRISQL_PG_RESTART");
  if (custom) return ["sh", "-c", custom];
  const port = new URL(ADMIN_URL).port || "5432";
  const list = await run("pg_lsclusters", ["--no-header"]).catch(() => "");
  for (const line of list.split("\n")) {
    const [version, name, clusterPort] = line.trim().split(/\s+/);
    if (clusterPort === port) return ["pg_ctlcluster", "--skip-systemctl-redirect", version, name, "restart"];
  }
  throw new Error(
    `No PostgreSQL cluster on port ${port} found with pg_lsclusters; set IRISQL_PG_RESTART to a command that restarts the server`,
  );
}

/** Restart the server; resolves once the restart command has returned (the server accepts connections again). */
export async function restartServer(): Promise<void> {
  const [cmd, ...args] = await restartCommand();
  await run(cmd, args);
}

/** Terminate the server backends of `applicationName`, waiting until they are gone. Returns how many. */
export async function terminateBackends(applicationName: string): Promise<number> {
  const admin = createEngine(ADMIN_URL, { pool: { max: 1 } });
  try {
    const r = await admin.execute(
      `SELECT count(*)::int AS n FROM (SELECT pg_terminate_backend(pid, 5000) FROM pg_stat_activity
        WHERE application_name = '${applicationName.replace(/'/g, "''")}' AND pid <> pg_backend_pid()) t`,
    );
    return (r.rows[0] as { n: number }).n;
  } finally {
    await admin.dispose();
  }
}

/** Wait until `applicationName` runs a statement matching `like`, then terminate that backend. */
export async function terminateWhenRunning(applicationName: string, like: string, timeoutMs = 10_000): Promise<void> {
  const admin = createEngine(ADMIN_URL, { pool: { max: 1 } });
  try {
    const started = Date.now();
    while (Date.now() - started < timeoutMs) {
      const r = await admin.execute(
        `SELECT pid FROM pg_stat_activity WHERE application_name = '${applicationName.replace(/'/g, "''")}'
          AND state = 'active' AND query LIKE '${like.replace(/'/g, "''")}' AND pid <> pg_backend_pid()`,
      );
      if (r.rows.length > 0) {
        for (const row of r.rows as { pid: number }[]) {
          await admin.execute(`SELECT pg_terminate_backend(${Number(row.pid)}, 5000)`);
        }
        return;
      }
      await sleep(10);
    }
    throw new Error(`No statement like ${like} of ${applicationName} became active within ${timeoutMs} ms`);
  } finally {
    await admin.dispose();
  }
}

// --- small things ----------------------------------------------------------------

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

export function uniqueName(prefix: string): string {
  return `${prefix}_${Date.now().toString(36)}_${Math.random().toString(36).slice(2, 8)}`;
}

export function percentile(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];
}

export function ms(n: number): string {
  return n < 10 ? n.toFixed(2) : n.toFixed(1);
}

/** Settle `promise` or reject after `limit` ms with a "hung" error naming `what`. */
export function within<T>(promise: Promise<T>, limit: number, what: string): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const hung = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new HungError(`${what} did not settle within ${limit} ms`)), limit);
  });
  return Promise.race([promise, hung]).finally(() => clearTimeout(timer));
}

export class HungError extends Error {
  override name = "HungError";
}
