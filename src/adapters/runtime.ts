/**
 * The few things that differ between Deno, Bun and Node, in one place.
 * Everything else uses `node:` modules, which all three provide.
 */
import { DriverMissingError } from "../errors.ts";

export type RuntimeName = "deno" | "bun" | "node" | "unknown";

interface RuntimeGlobals {
  Deno?: { version?: { deno?: string } };
  Bun?: { version?: string };
  process?: { versions?: { node?: string } };
}

/** Which runtime this is, and its version. */
export function detectRuntime(): { name: RuntimeName; version: string } {
  const g = globalThis as unknown as RuntimeGlobals;
  if (g.Deno?.version?.deno) return { name: "deno", version: g.Deno.version.deno };
  if (g.Bun?.version) return { name: "bun", version: g.Bun.version };
  if (g.process?.versions?.node) return { name: "node", version: g.process.versions.node };
  return { name: "unknown", version: "" };
}

export const runtime: { name: RuntimeName; version: string } = detectRuntime();

/**
 * Import an optional driver package, or explain how to install it. The
 * install line names the runtime the user is on. `load` is a literal
 * `() => import("pkg")` so bundlers and `deno publish` can see the import.
 * `install` lists what to install, pinned where versions must match (the
 * PGlite packages: an unpinned install of one takes its newest release, which
 * the other may refuse with ERESOLVE), and why, when it is more than the package.
 */
export async function importOptional<T>(
  specifier: string,
  purpose: string,
  load: () => Promise<unknown>,
  install: { packages: readonly string[]; note?: string } = { packages: [specifier] },
): Promise<T> {
  try {
    return (await load()) as T;
  } catch (error) {
    if (!isModuleNotFound(error)) throw error;
    const note = install.note ? ` ${install.note}` : "";
    throw new DriverMissingError(
      `${purpose} needs the package "${specifier}", which is not installed.${note} ` +
        `Install it with: ${installCommand(install.packages)}`,
      { cause: error },
    );
  }
}

/** The command that adds `packages` (name or name@version) on this runtime, on one line. */
export function installCommand(packages: readonly string[]): string {
  return runtime.name === "deno"
    ? `deno add ${packages.map((p) => `npm:${p}`).join(" ")}`
    : runtime.name === "bun"
    ? `bun add ${packages.join(" ")}`
    : `npm install ${packages.join(" ")}`;
}

function isModuleNotFound(error: unknown): boolean {
  const e = error as { code?: string; message?: string } | null;
  if (!e) return false;
  if (e.code === "ERR_MODULE_NOT_FOUND" || e.code === "MODULE_NOT_FOUND") return true;
  return /cannot find (module|package)|module not found|could not resolve|not found in import map|Relative import path .* not prefixed/i
    .test(e.message ?? "");
}

/** Milliseconds with sub-millisecond precision where the runtime has it. */
export const now: () => number = typeof performance !== "undefined" && performance.now
  ? () => performance.now()
  : () => Date.now();

/**
 * Run `fn` after the event loop has turned once (timers and I/O that are due run first).
 * setImmediate where the runtime has it (Node, Bun, Deno): setTimeout(fn, 0) waits at least
 * 1 ms on Node, which a caller yielding after every 10 ms of work pays as 10% more time.
 */
const immediate = (globalThis as { setImmediate?: (fn: () => void) => unknown }).setImmediate;
export const afterEventLoopTurn: (fn: () => void) => void = immediate
  ? (fn) => void immediate(fn)
  : (fn) => void setTimeout(fn, 0);

/** An environment variable on any runtime; undefined when unset or not permitted (Deno without --allow-env). */
export function envVar(name: string): string | undefined {
  const g = globalThis as unknown as {
    Deno?: { env: { get(n: string): string | undefined } };
    process?: { env: Record<string, string | undefined> };
  };
  try {
    return g.Deno ? g.Deno.env.get(name) : g.process?.env[name];
  } catch {
    return undefined;
  }
}
