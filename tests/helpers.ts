/**
 * Shared test setup: the real databases every suite runs against.
 *   - postgres: PostgreSQL on 127.0.0.1:5432 (IRISQL_TEST_PG_URL to change); no pgvector there.
 *   - pglite:   embedded PGlite with pgvector, in memory.
 *   - iris (iris-pgwire 1.7.3 + stand-in): the REAL iris-pgwire server from PyPI, run unmodified,
 *     over an IRIS stand-in that executes IRIS SQL on PostgreSQL or PGlite
 *     (tests/fixtures/iris-pgwire-real). NOT IRIS. Started once per test file by `withIris()` /
 *     `everyBackend()`, in a `before` hook.
 *   - iris (emulator): our TypeScript model of iris-pgwire (tests/fixtures/iris-pgwire-emulator).
 *     NOT IRIS either, and wrong in places the real server's README lists. Used only where it adds
 *     what the real server cannot: speed, real transactions (`?transactions=server`), fault
 *     injection. Each file that uses it says why.
 * Table names get a random suffix: node --test runs files in parallel.
 */
import { after, before } from "node:test";
import * as irisql from "../mod.ts";
import { type AnyTable, createEngine, type Engine, type EngineOptions } from "../mod.ts";
import { type IrisEmulator, startIrisEmulator } from "./fixtures/iris-pgwire-emulator/mod.ts";
import { type IrisPgwire, startIrisPgwire } from "./fixtures/iris-pgwire-real/mod.ts";
import { envVar } from "../src/adapters/runtime.ts";
import postgres from "postgres";

export const PG_URL = envVar("IRISQL_TEST_PG_URL") ?? "postgres://postgres@127.0.0.1:5432/test";
export const PGLITE_URL = "pglite://memory";

/** How the real server appears in test names: never "IRIS" alone. */
export const IRIS_REAL = "iris (iris-pgwire 1.7.3 + stand-in)";
/** How the TypeScript emulator appears in test names. */
export const IRIS_EMULATOR = "iris (emulator)";

export type BackendKind = "postgres" | "pglite" | "iris-real" | "iris-emulator";

export interface Backend {
  /** For test names: "postgres", "pglite", IRIS_REAL or IRIS_EMULATOR. */
  name: string;
  kind: BackendKind;
  /** The dialect irisql picks for the URL. */
  dialect: "postgres" | "iris";
  /** Valid in hooks and tests; for the iris backends only after the file's `before` started the server. */
  url: string;
  /** Does this backend have pgvector (or IRIS vectors)? */
  vectors: boolean;
  /**
   * Can a transaction undo anything? False through the real iris-pgwire 1.7.3 in external mode
   * (it commits every statement), where engines run with `transactions: "autocommit"`.
   */
  transactions: boolean;
  /** Does the server report how many rows INSERT/UPDATE/DELETE touched? (iris-pgwire: no, rowCount null) */
  rowCounts: boolean;
}

export const POSTGRES: Backend = {
  name: "postgres",
  kind: "postgres",
  dialect: "postgres",
  url: PG_URL,
  vectors: false,
  transactions: true,
  rowCounts: true,
};
export const PGLITE: Backend = {
  name: "pglite",
  kind: "pglite",
  dialect: "postgres",
  url: PGLITE_URL,
  vectors: true,
  transactions: true,
  rowCounts: true,
};

/** PostgreSQL and PGlite: the backends that need no server started by the file. */
export const BACKENDS: Backend[] = [POSTGRES, PGLITE];

/** A table name no other test run uses. */
export function uniqueName(prefix: string): string {
  return `${prefix}_${Date.now().toString(36)}_${Math.random().toString(36).slice(2, 8)}`;
}

export function engineFor(backend: Backend | string, options?: EngineOptions): Engine {
  const url = typeof backend === "string" ? backend : backend.url;
  return createEngine(url, withTestDriver(url, options));
}

/**
 * IRISQL_TEST_DRIVER=bun-sql (on Bun): engines made here for postgres:// URLs use Bun's built-in
 * SQL client instead of postgres.js, so the same suites run on it. Unset: options unchanged.
 */
/** True when IRISQL_TEST_DRIVER=bun-sql moves this run's postgres:// engines to Bun's SQL client. */
export const ON_BUN_SQL = envVar("IRISQL_TEST_DRIVER") === "bun-sql";

export function withTestDriver(url: string, options?: EngineOptions): EngineOptions | undefined {
  if (!ON_BUN_SQL || !/^postgres(ql)?:/i.test(url) || options?.driver !== undefined) return options;
  return { ...options, driver: "bun-sql" };
}

/**
 * A PostgreSQL schema of a test file's own on PG_URL: its name, an engine URL that works in it
 * (`?schema=`), and `create`/`drop` for the file's hooks (drop takes everything in it along).
 */
export function ownPgSchema(prefix: string): {
  name: string;
  url: string;
  create: () => Promise<void>;
  drop: () => Promise<void>;
} {
  const name = uniqueName(prefix);
  const admin = async (text: string) => {
    const e = createEngine(PG_URL);
    try {
      await e.execute(text);
    } finally {
      await e.dispose();
    }
  };
  return {
    name,
    url: `${PG_URL}?schema=${name}`,
    create: () => admin(`CREATE SCHEMA "${name}"`),
    drop: () => admin(`DROP SCHEMA "${name}" CASCADE`),
  };
}

/** Appends a query-string option to a URL that may already have some. */
export function withQuery(url: string, query: string): string {
  return url + (url.includes("?") ? "&" : "?") + query;
}

export interface IrisBackendOptions {
  /**
   * The database under the real server's stand-in: "postgres" (default; about 3 s to start) or
   * "pglite" (PGlite + pgvector + citext through pglite-socket, 5-20 s to start), where vectors are
   * needed. `false`: no real server in this file.
   */
  real?: "postgres" | "pglite" | false;
  /**
   * Also the TypeScript emulator, as a separate backend (`?transactions=server`: it models real
   * transactions). "pglite" (default when true) or "postgres" for the database behind it.
   */
  emulator?: boolean | "pglite" | "postgres";
}

/**
 * The PostgreSQL database under the stand-in and the emulator: not PG_URL's own, where the same
 * table names are created by the postgres backend of the same file.
 */
export const IRIS_PG_DB = "irisql_iris";

async function irisDatabase(): Promise<string> {
  const url = new URL(PG_URL);
  const admin = postgres(PG_URL, { max: 1, onnotice: () => {} });
  try {
    const found = await admin`SELECT 1 FROM pg_database WHERE datname = ${IRIS_PG_DB}`;
    if (found.length === 0) {
      // Test files start in parallel: another may create it first (42P04, or 23505 on pg_database).
      await admin.unsafe(`CREATE DATABASE ${IRIS_PG_DB}`).catch((e: { code?: string }) => {
        if (e.code !== "42P04" && e.code !== "23505") throw e;
      });
    }
  } finally {
    await admin.end();
  }
  url.pathname = "/" + IRIS_PG_DB;
  return url.toString();
}

// Server start-up (PGlite plus Python) takes 5-20 s, and on a heavily loaded machine over 30 s per server
// (the fixture allows each 90 s); Bun's default hook timeout is 5 s.
const START_TIMEOUT = { timeout: 240_000 };

/**
 * [postgres, pglite] plus the iris backends asked for. Registers the file's `before` (start the
 * servers, once per file) and `after` (stop them): call it at the top level of a test file, once.
 * Describe-level hooks run after it; Node runs several top-level hooks of one file concurrently,
 * so a second top-level hook that needs the servers must go through `everyBackend()` instead.
 */
export function withIris(opts: IrisBackendOptions = {}): Backend[] {
  const { list, start, stop } = irisBackends(opts);
  before(start, START_TIMEOUT);
  after(stop);
  return list;
}

function irisBackends(opts: IrisBackendOptions): {
  list: Backend[];
  start(): Promise<void>;
  stop(): Promise<void>;
} {
  const real = opts.real ?? "postgres";
  const emulator = opts.emulator === true ? "pglite" : opts.emulator || undefined;
  let server: IrisPgwire | undefined;
  let emu: IrisEmulator | undefined;
  const list: Backend[] = [...BACKENDS];
  const notStarted = (what: string) =>
    new Error(`${what} is started in the file's before hook: read backend.url inside hooks and tests`);
  if (real) {
    list.push({
      name: IRIS_REAL,
      kind: "iris-real",
      dialect: "iris",
      get url() {
        if (!server) throw notStarted("iris-pgwire");
        // External mode commits every statement: nothing could be rolled back (fixture README, finding 5).
        return withQuery(server.url, "transactions=autocommit");
      },
      vectors: real === "pglite",
      transactions: false,
      rowCounts: false,
    });
  }
  if (emulator) {
    list.push({
      name: IRIS_EMULATOR,
      kind: "iris-emulator",
      dialect: "iris",
      get url() {
        if (!emu) throw notStarted("the iris-pgwire emulator");
        return withQuery(emu.url, "transactions=server");
      },
      vectors: emulator === "pglite",
      transactions: true,
      rowCounts: false,
    });
  }
  return {
    list,
    async start() {
      const db = real === "postgres" || emulator === "postgres" ? await irisDatabase() : PG_URL;
      const [s, e] = await Promise.all([
        real ? startIrisPgwire({ backend: real === "pglite" ? "pglite" : db }) : undefined,
        emulator ? startIrisEmulator({ backend: emulator === "postgres" ? db : PGLITE_URL }) : undefined,
      ]);
      server = s;
      emu = e;
    },
    async stop() {
      await server?.close();
      await emu?.close();
    },
  };
}

/** The raw iris:// URL of the real server started by `withIris()` (no query string), for tests of the option. */
export function irisBase(backend: Backend): string {
  return backend.url.replace(/\?.*$/, "");
}

/**
 * One engine per backend (PostgreSQL, PGlite, iris:// through the REAL iris-pgwire 1.7.3 over the
 * stand-in, and the emulator if asked) with `tables` created, registered on the calling file's
 * before/after hooks. `engine(name)` is valid inside tests; `irisUrl()` too (the real server's,
 * with `?transactions=autocommit`).
 */
export function everyBackend(tables: AnyTable[], opts: IrisBackendOptions = {}): {
  names: readonly string[];
  backends: readonly Backend[];
  backend(name: string): Backend;
  engine(name: string): Engine;
  irisUrl(): string;
} {
  const { list, start, stop } = irisBackends(opts);
  const engines = new Map<string, Engine>();
  before(async () => {
    await start();
    for (const b of list) engines.set(b.name, createEngine(b.url, withTestDriver(b.url)));
    for (const engine of engines.values()) await engine.createAll(tables);
  }, START_TIMEOUT);
  after(async () => {
    for (const engine of engines.values()) {
      await engine.dropAll(tables).catch(() => {});
      await engine.dispose();
    }
    await stop();
  });
  return {
    names: list.map((b) => b.name),
    backends: list,
    backend: (name) => list.find((b) => b.name === name)!,
    engine: (name) => engines.get(name)!,
    irisUrl: () => list.find((b) => b.kind === "iris-real")!.url,
  };
}

/**
 * `TransactionsUnavailableError` (issue #15: an IrisqlError that src/ is adding). Read through
 * the module namespace so this file still loads while mod.ts does not export it yet: tests that
 * expect it then fail on their own instead of the whole file failing to link.
 */
export const TransactionsUnavailableError = (irisql as unknown as Record<string, unknown>)
  .TransactionsUnavailableError as (abstract new (...args: never[]) => Error) | undefined;

/** An assert.rejects validator: a TransactionsUnavailableError (an IrisqlError) whose message matches. */
export function transactionsUnavailable(message?: RegExp): (e: unknown) => boolean {
  return (e: unknown) => {
    if (!TransactionsUnavailableError) {
      throw new Error(`mod.ts does not export TransactionsUnavailableError yet; got ${e}`);
    }
    if (!(e instanceof TransactionsUnavailableError)) {
      throw new Error(`expected TransactionsUnavailableError, got ${e}`);
    }
    if (!(e instanceof irisql.IrisqlError)) throw new Error("TransactionsUnavailableError must be an IrisqlError");
    if (message && !message.test(e.message)) throw new Error(`message ${JSON.stringify(e.message)} !~ ${message}`);
    return true;
  };
}
