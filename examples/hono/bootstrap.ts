/**
 * Everything the three entry points share: read the environment, open the
 * database, bring its schema up to date with the migrations in migrations/
 * (engine.migrate, as a deployed app would at startup), add the seed, build
 * the app. The entry points only listen and stop, each the way its runtime does it.
 *
 *   DATABASE_URL  default: PGlite in examples/hono/.data/db (embedded, no server)
 *                 also postgres://user:pass@host:5432/db and iris://user:pass@host:5432/USER
 *   PORT          default 8787 (0 picks a free port)
 *   HOST          default 127.0.0.1
 */
import { join, resolve } from "node:path";
import process from "node:process";
import { fileURLToPath } from "node:url";
import type { Hono } from "hono";
import { createEngine, type Engine, QueryError } from "irisql";
import { createApp } from "./app.ts";
import { lockDataDir } from "./data-lock.ts";
import { type Embedder, hashedNgramEmbedder } from "./embedding.ts";
import type { SessionEnv } from "./session-middleware.ts";
import { EMBEDDING_DIMENSIONS } from "./schema.ts";
import { openStore, type Store } from "./store.ts";

export const DEFAULT_DATA_DIR = fileURLToPath(new URL("./.data/db", import.meta.url));
/** One migration folder per dialect: migrations/postgres (PostgreSQL, PGlite) and migrations/iris. */
export const MIGRATIONS_DIR = fileURLToPath(new URL("./migrations", import.meta.url));
export const DEFAULT_PORT = 8787;

export interface Example {
  app: Hono<SessionEnv>;
  engine: Engine;
  store: Store;
  port: number;
  hostname: string;
  /** Print the address once the server listens. */
  announce(url: string): void;
  /** Close the database (and unlock its folder). Safe to call twice. */
  close(): Promise<void>;
}

export async function startExample(options: { embedder?: Embedder } = {}): Promise<Example> {
  const env = process.env;
  const databaseUrl = env.DATABASE_URL || `pglite://${DEFAULT_DATA_DIR}`;
  const port = readPort(env.PORT);
  const hostname = env.HOST || "127.0.0.1";
  const engine = createEngine(databaseUrl);
  const target = engine.config.target;
  const unlock = target.kind === "pglite" && target.dataDir ? lockDataDir(resolve(target.dataDir)) : () => {};
  let closing: Promise<void> | undefined;
  const close = () => (closing ??= engine.dispose().finally(unlock));
  try {
    const embedder = options.embedder ?? hashedNgramEmbedder(EMBEDDING_DIMENSIONS);
    const vectors = await migrate(engine);
    const store = openStore(embedder, vectors);
    const seeded = await store.seedIfEmpty(engine);
    if (seeded > 0) console.log(`Seeded ${seeded} documents.`);
    const search = store.search ? `vector search on (${embedder.name})` : "vector search off: no pgvector";
    return {
      app: createApp(engine, store),
      engine,
      store,
      port,
      hostname,
      announce: (url) => console.log(`irisql Hono example listening on ${url}  [${engine.url}, ${search}]`),
      close,
    };
  } catch (error) {
    await close();
    throw error;
  }
}

/**
 * Apply the pending migrations of the engine's dialect; true when the `embedding` column is there.
 * On PostgreSQL without pgvector the migration that adds it fails (and is rolled back, so a later
 * start, once pgvector is installed, applies it): the example then runs without vector search.
 */
async function migrate(engine: Engine): Promise<boolean> {
  const folder = join(MIGRATIONS_DIR, engine.dialect.name);
  try {
    await engine.migrate({ folder, onProgress: (line) => console.log(line) });
    return true;
  } catch (error) {
    if (!vectorMissing(error)) throw error;
    console.log("pgvector is not installed in this database: the embedding migration waits, vector search is off");
    return false;
  }
}

/** PostgreSQL without pgvector: SQLSTATE 42704 (undefined object) naming vector, anywhere in the causes. */
function vectorMissing(error: unknown): boolean {
  for (let e = error; e instanceof Error; e = e.cause) {
    if (e instanceof QueryError && e.sqlstate === "42704" && /\bvector\b/i.test(e.message)) return true;
  }
  return false;
}

function readPort(raw: string | undefined): number {
  if (raw === undefined || raw === "") return DEFAULT_PORT;
  const port = Number(raw);
  if (!/^\d+$/.test(raw) || port > 65535) throw new Error(`PORT must be a number from 0 to 65535, got ${raw}`);
  return port;
}
