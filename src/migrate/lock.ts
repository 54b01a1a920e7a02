/**
 * One migrator at a time. Within a process, a queue per database and history table.
 * Across processes, the server's lock where the dialect has one (PostgreSQL:
 * pg_advisory_lock on a held connection, which the migration then runs on; the lock
 * ends with the connection, so a crashed migrator frees it) and otherwise a lock row:
 * a table whose primary key admits one row, inserted to take the lock and deleted to
 * give it back (IRIS: iris-pgwire passes plain INSERT/DELETE through, and a UNIQUE
 * violation is the answer "taken"). A lock row outlives a crashed migrator: the error
 * says who took it and when, and how to clear it.
 * An embedded PGlite has one connection in one process: the queue suffices.
 */
import type { Connection } from "../connection.ts";
import { QueryError, UniqueViolationError } from "../errors.ts";
import { col, table } from "../schema.ts";
import { sql } from "../sql.ts";
import { MigrationLockedError } from "./errors.ts";
import type { MigrationHost } from "./host.ts";

export interface HeldLock {
  /** The connection holding a server lock; migrations run on it. */
  connection: Connection | undefined;
  release(): Promise<void>;
}

const local = new Map<string, Promise<void>>();

/** 31-bit key of a name (FNV-1a): the same on every runtime. */
export function lockKey(name: string): number {
  let h = 2166136261;
  for (let i = 0; i < name.length; i++) h = Math.imul(h ^ name.charCodeAt(i), 16777619);
  return (h >>> 0) & 0x7fffffff;
}

export function lockTable(history: string, schema: string | undefined) {
  return table(history + "_lock", {
    id: col.integer().primaryKey(),
    holder: col.varchar(200).notNull(),
    taken_at: col.timestamp().notNull(),
  }, schema === undefined ? {} : { schema });
}

export async function acquireLock(
  host: MigrationHost,
  history: { name: string; schema: string | undefined },
  options: { timeoutMs: number; onWait?: (line: string) => void },
): Promise<HeldLock> {
  const scope = `${host.config.redactedUrl}|${history.schema ?? host.config.schema}.${history.name}`;
  // In-process queue first.
  const previous = local.get(scope) ?? Promise.resolve();
  let unlockLocal!: () => void;
  const mine = new Promise<void>((resolve) => (unlockLocal = resolve));
  const chained = previous.then(() => mine);
  local.set(scope, chained);
  const releaseLocal = () => {
    unlockLocal();
    if (local.get(scope) === chained) local.delete(scope);
  };
  await waitFor(previous, options.timeoutMs, () =>
    new MigrationLockedError(
      `Another migrate in this process still holds the lock on ${history.name} after ${options.timeoutMs} ms`,
    )).catch((error) => {
      releaseLocal();
      throw error;
    });
  try {
    if (host.config.target.kind === "pglite") {
      return {
        connection: undefined,
        release: () => Promise.resolve(releaseLocal()),
      };
    }
    const advisory = host.dialect.alter.advisoryLock;
    if (advisory) {
      return await advisoryLock(
        host,
        advisory,
        lockKey("irisql:migrate:" + scope.split("|")[1]),
        releaseLocal,
        options,
      );
    }
    return await rowLock(host, history, releaseLocal, options);
  } catch (error) {
    releaseLocal();
    throw error;
  }
}

async function waitFor<T>(p: Promise<T>, ms: number, timeout: () => Error): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  try {
    return await Promise.race([
      p,
      new Promise<never>((_, reject) => (timer = setTimeout(() => reject(timeout()), ms))),
    ]);
  } finally {
    clearTimeout(timer);
  }
}

async function advisoryLock(
  host: MigrationHost,
  advisory: { lockSql(key: number): string; unlockSql(key: number): string },
  key: number,
  releaseLocal: () => void,
  options: { timeoutMs: number; onWait?: (line: string) => void },
): Promise<HeldLock> {
  const conn = await host.connect();
  try {
    const waiting = setTimeout(() => options.onWait?.("waiting for another migrate to finish (advisory lock)"), 500);
    try {
      await waitFor(conn.execute(advisory.lockSql(key)), options.timeoutMs, () =>
        new MigrationLockedError(
          `Another process has been migrating this database for over ${options.timeoutMs} ms (advisory lock ${key} held)`,
        ));
    } finally {
      clearTimeout(waiting);
    }
  } catch (error) {
    // The connection may still wait on the server: dropping it ends the wait.
    await conn.release().catch(() => {});
    throw error;
  }
  return {
    connection: conn,
    async release() {
      try {
        await conn.execute(advisory.unlockSql(key));
      } finally {
        await conn.release();
        releaseLocal();
      }
    },
  };
}

async function rowLock(
  host: MigrationHost,
  history: { name: string; schema: string | undefined },
  releaseLocal: () => void,
  options: { timeoutMs: number; onWait?: (line: string) => void },
): Promise<HeldLock> {
  const t = lockTable(history.name, history.schema);
  try {
    await host.createAll([t], { checkfirst: true });
  } catch (error) {
    // Two migrators creating it at once: the other one made it.
    if (!host.dialect.alreadyExists(error)) throw error;
  }
  const ref = sql.raw(host.dialect.tableRef(t.name, t.schema ?? host.config.schema));
  const holder = `irisql pid ${typeof process !== "undefined" ? process.pid : "?"}`;
  const deadline = Date.now() + options.timeoutMs;
  let told = false;
  for (;;) {
    try {
      await host.execute(
        sql`INSERT INTO ${ref} (${sql.id("id")}, ${sql.id("holder")}, ${
          sql.id("taken_at")
        }) VALUES (${1}, ${holder}, ${new Date()})`,
      );
      break;
    } catch (error) {
      const taken = error instanceof UniqueViolationError ||
        (error instanceof QueryError && /unique|duplicate/i.test(error.message));
      if (!taken) throw error;
      if (Date.now() >= deadline) {
        const r = await host.execute(sql`SELECT ${sql.id("holder")}, ${sql.id("taken_at")} FROM ${ref}`).catch(() =>
          undefined
        );
        const row = r?.rows[0];
        const who = row ? ` by ${row.holder ?? row.HOLDER} at ${String(row.taken_at ?? row.TAKEN_AT)}` : "";
        throw new MigrationLockedError(
          `The migration lock row in ${t.name} was taken${who} and not given back within ${options.timeoutMs} ms. ` +
            `If no migrate is running (a crashed one leaves the row), delete it: DELETE FROM ${t.name}`,
        );
      }
      if (!told) options.onWait?.(`waiting for another migrate to finish (lock row in ${t.name})`);
      told = true;
      await new Promise((r) => setTimeout(r, 200));
    }
  }
  return {
    connection: undefined,
    async release() {
      try {
        await host.execute(sql`DELETE FROM ${ref} WHERE ${sql.id("id")} = ${1}`);
      } finally {
        releaseLocal();
      }
    },
  };
}
