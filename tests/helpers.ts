/**
 * Shared test setup: the real databases every suite runs against.
 *   - postgres: PostgreSQL on 127.0.0.1:5432 (IRISQL_TEST_PG_URL to change); no pgvector there.
 *   - pglite:   embedded PGlite with pgvector, in memory.
 * Table names get a random suffix: node --test runs files in parallel.
 */
import { after, before } from "node:test";
import { type AnyTable, createEngine, type Engine, type EngineOptions } from "../mod.ts";
import { type IrisEmulator, startIrisEmulator } from "./fixtures/iris-pgwire-emulator/mod.ts";
import { envVar } from "../src/adapters/runtime.ts";

export const PG_URL = envVar("IRISQL_TEST_PG_URL") ?? "postgres://postgres@127.0.0.1:5432/test";
export const PGLITE_URL = "pglite://memory";

export interface Backend {
  name: "postgres" | "pglite" | "iris";
  url: string;
  /** Does this backend have pgvector (or IRIS vectors)? */
  vectors: boolean;
}

export const BACKENDS: Backend[] = [
  { name: "postgres", url: PG_URL, vectors: false },
  { name: "pglite", url: PGLITE_URL, vectors: true },
];

/** A table name no other test run uses. */
export function uniqueName(prefix: string): string {
  return `${prefix}_${Date.now().toString(36)}_${Math.random().toString(36).slice(2, 8)}`;
}

export function engineFor(backend: Backend | string, options?: EngineOptions): Engine {
  return createEngine(typeof backend === "string" ? backend : backend.url, options);
}

/**
 * One engine per backend (PostgreSQL, PGlite, and iris:// through the iris-pgwire
 * EMULATOR, not IRIS) with `tables` created, registered on the calling file's
 * before/after hooks. `engine(name)` is valid inside tests; `irisUrl()` too.
 */
export function everyBackend(tables: AnyTable[]): {
  names: readonly ("postgres" | "pglite" | "iris")[];
  engine(name: string): Engine;
  irisUrl(): string;
} {
  let emu: IrisEmulator | undefined;
  const engines = new Map<string, Engine>();
  before(async () => {
    emu = await startIrisEmulator();
    engines.set("postgres", createEngine(PG_URL)).set("pglite", createEngine(PGLITE_URL)).set(
      "iris",
      createEngine(emu.url),
    );
    for (const engine of engines.values()) await engine.createAll(tables);
  });
  after(async () => {
    for (const engine of engines.values()) {
      await engine.dropAll(tables).catch(() => {});
      await engine.dispose();
    }
    await emu?.close();
  });
  return {
    names: ["postgres", "pglite", "iris"],
    engine: (name) => engines.get(name)!,
    irisUrl: () => emu!.url,
  };
}
