/**
 * Shared test setup: the real databases every suite runs against.
 *   - postgres: PostgreSQL on 127.0.0.1:5432 (IRISQL_TEST_PG_URL to change); no pgvector there.
 *   - pglite:   embedded PGlite with pgvector, in memory.
 * Table names get a random suffix: node --test runs files in parallel.
 */
import { createEngine, type Engine, type EngineOptions } from "../mod.ts";
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
