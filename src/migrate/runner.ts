/**
 * engine.migrate({ folder }): apply the folder's pending migrations in name order,
 * under the lock, recording each in the history table.
 *
 * Where the server rolls DDL back (PostgreSQL, PGlite; transactions "server"), a .sql
 * migration and its history row commit together or not at all. Where it does not (IRIS;
 * any iris-pgwire in autocommit mode), the row is written first as "started", counts the
 * statements that ran, and ends "finished", or "failed" with the error and how many
 * statements stayed applied; a later migrate refuses to go on past such a row until
 * someone looks. Script migrations (`up(engine)`) manage their own transactions and
 * are always recorded that way.
 */
import { loadScript, type MigrationFile, readFolder } from "./folder.ts";
import { MigrationChecksumError, MigrationError } from "./errors.ts";
import {
  DEFAULT_HISTORY_TABLE,
  type HistoryRow,
  type HistoryTable,
  historyTable,
  readHistory,
  recordEnd,
  recordProgress,
  recordStart,
} from "./history.ts";
import type { MigrationHost, StatementRunner } from "./host.ts";
import { acquireLock } from "./lock.ts";
import { createAll } from "../metadata.ts";

/** Options of `engine.migrate()`. */
export interface MigrateOptions {
  /** The migration folder. */
  folder: string;
  /** History table name (default irisql_migrations); its lock row table adds `_lock`. */
  table?: string;
  /** Schema of the history table (default: the engine's). */
  schema?: string;
  /** Print nothing, run nothing: return the pending migrations and their SQL. */
  dryRun?: boolean;
  /** How long to wait for another migrator, in ms (default 60000). */
  lockTimeout?: number;
  /** Progress lines ("applying 20250101_x.sql (3 statements)"). */
  onProgress?: (line: string) => void;
}

/** A migration not yet applied, as `engine.migrate()` reports it. */
export interface PendingMigration {
  /** Its file name. */
  name: string;
  /** "sql" for a .sql file, "script" for a module with `up(engine)`. */
  kind: "sql" | "script";
  /** A .sql file's statements, in order (empty for a script). */
  statements: string[];
}

/** What `engine.migrate()` did, or (dryRun) would do. */
export interface MigrateResult {
  /** Migrations applied by this call (none for a dry run). */
  applied: string[];
  /** What was pending before the call, with the SQL of .sql files. */
  pending: PendingMigration[];
  /** Did the migrations run inside transactions? */
  transactional: boolean;
}

/**
 * Where one migration stands: "applied"; "pending" (in the folder, not run);
 * "started" or "failed" (ran in part on a server that cannot roll DDL back,
 * and needs looking at); "changed" (applied, but its file changed since);
 * "missing" (in the history, no longer in the folder).
 */
export type MigrationState = "applied" | "pending" | "started" | "failed" | "changed" | "missing";

/** One migration in {@linkcode migrationStatus}'s list. */
export interface MigrationStatus {
  /** Its file name. */
  name: string;
  /** Where it stands. */
  state: MigrationState;
  /** For started/failed: statements that ran, of how many, and the error. */
  detail?: string;
}

function historyOf(options: { table?: string; schema?: string }): HistoryTable {
  return historyTable(options.table ?? DEFAULT_HISTORY_TABLE, options.schema);
}

/**
 * Every migration in the folder or the history table, with its state, in name
 * order. It only reads; `table` and `schema` name the history table as in
 * `engine.migrate()`. Pass the engine as `host`.
 */
export async function migrationStatus(
  host: MigrationHost,
  options: { folder: string; table?: string; schema?: string },
): Promise<MigrationStatus[]> {
  const files = await readFolder(options.folder);
  const rows = await readHistory(host, historyOf(options));
  const byName = new Map(rows.map((r) => [r.name, r]));
  const out: MigrationStatus[] = [];
  for (const f of files) {
    const row = byName.get(f.name);
    byName.delete(f.name);
    if (!row) out.push({ name: f.name, state: "pending" });
    else if (row.state !== "finished") out.push({ name: f.name, state: row.state, detail: partialDetail(row) });
    else if (row.checksum !== f.checksum) out.push({ name: f.name, state: "changed" });
    else out.push({ name: f.name, state: "applied" });
  }
  for (const row of byName.values()) out.push({ name: row.name, state: "missing" });
  return out.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
}

function partialDetail(row: HistoryRow): string {
  const of = row.total === null ? "" : ` of ${row.total}`;
  return `${row.done}${of} statements ran${row.error ? `; error: ${row.error}` : ""}`;
}

/** Refuse to go on past a history that does not match the folder. */
function check(files: MigrationFile[], rows: HistoryRow[], table: string): MigrationFile[] {
  const byName = new Map(files.map((f) => [f.name, f]));
  for (const row of rows) {
    if (row.state !== "finished") {
      throw new MigrationError(
        `Migration ${row.name} is recorded as ${row.state} in ${table} (${partialDetail(row)}). ` +
          `It was not applied in a transaction, so part of it may be in the database. Check the database, finish ` +
          `or undo it by hand, then delete its row from ${table} (to run it again) or set its state to 'finished'.`,
      );
    }
    const file = byName.get(row.name);
    if (!file) {
      throw new MigrationError(
        `Migration ${row.name} is recorded in ${table} but its file is not in the folder. Restore the file; ` +
          `applied migrations stay in the folder.`,
      );
    }
    if (file.checksum !== row.checksum) {
      throw new MigrationChecksumError(
        `Migration ${row.name} was edited after it was applied (checksum ${file.checksum.slice(0, 12)}, applied ` +
          `${
            row.checksum.slice(0, 12)
          }). Applied migrations must not change: restore it and put the change in a new migration.`,
      );
    }
  }
  const applied = new Set(rows.map((r) => r.name));
  const pending = files.filter((f) => !applied.has(f.name));
  const last = rows.map((r) => r.name).sort().at(-1);
  const early = last === undefined ? undefined : pending.find((f) => f.name < last);
  if (early) {
    throw new MigrationError(
      `Migration ${early.name} is pending but sorts before ${last}, which is applied: rename it with a later ` +
        `timestamp so every database applies migrations in the same order.`,
    );
  }
  return pending;
}

const describe = (error: unknown) => (error instanceof Error ? `${error.name}: ${error.message}` : String(error));

export async function migrate(host: MigrationHost, options: MigrateOptions): Promise<MigrateResult> {
  const t = historyOf(options);
  const progress = options.onProgress ?? (() => {});
  const transactional = host.dialect.alter.transactionalDdl && host.config.transactions === "server";
  const files = await readFolder(options.folder);
  const plan = (pending: MigrationFile[]): PendingMigration[] =>
    pending.map((f) => ({ name: f.name, kind: f.kind, statements: f.statements }));

  if (options.dryRun) {
    return { applied: [], pending: plan(check(files, await readHistory(host, t), t.name)), transactional };
  }

  const lock = await acquireLock(host, { name: t.name, schema: t.schema }, {
    timeoutMs: options.lockTimeout ?? 60_000,
    onWait: progress,
  });
  try {
    // Everything runs on the connection holding the lock where there is one: the pool may have no other.
    const run: MigrationHost | NonNullable<typeof lock.connection> = lock.connection ?? host;
    await createAll(run, host.config.schema, [t], { checkfirst: true });
    const pending = check(files, await readHistory(host, t, run), t.name);
    if (pending.length === 0) progress("nothing to apply");
    if (!transactional && pending.length > 0) {
      progress(
        `note: ${host.dialect.name} does not roll DDL back${
          host.config.transactions === "autocommit" ? " (transactions: autocommit)" : ""
        }; each migration's progress is recorded in ${t.name} as it runs`,
      );
    }
    const schema = host.config.schema;
    const scope = schema === host.dialect.defaultSchema ? undefined : host.dialect.alter.schemaScopeSql?.(schema);
    const applied: string[] = [];
    for (const file of pending) {
      const started = Date.now();
      const what = file.kind === "sql" ? `${file.statements.length} statements` : "script";
      progress(`applying ${file.name} (${what})`);
      if (file.kind === "sql" && transactional) {
        try {
          await run.begin(async (tx) => {
            // A folder is written once for many databases: its unqualified names go to the engine's schema.
            if (scope) await tx.execute(scope);
            for (const statement of file.statements) await tx.execute(statement);
            await recordStart(tx, host, t, { ...file, total: file.statements.length }, "finished");
          });
        } catch (error) {
          throw new MigrationError(
            `Migration ${file.name} failed and was rolled back (nothing of it stays): ${describe(error)}`,
            { cause: error },
          );
        }
      } else {
        await runRecorded(run, host, t, file);
      }
      applied.push(file.name);
      progress(`applied ${file.name} in ${Date.now() - started} ms`);
    }
    return { applied, pending: plan(pending), transactional };
  } finally {
    await lock.release();
  }
}

/** started -> (count statements) -> finished | failed, each step committed as it happens. */
async function runRecorded(run: StatementRunner, host: MigrationHost, t: HistoryTable, file: MigrationFile) {
  const total = file.kind === "sql" ? file.statements.length : null;
  await recordStart(run, host, t, { ...file, total });
  let done = 0;
  try {
    if (file.kind === "sql") {
      for (const statement of file.statements) {
        await run.execute(statement);
        done++;
        await recordProgress(run, host, t, file.name, done);
      }
    } else {
      const up = await loadScript(file);
      await up(host as never);
    }
  } catch (error) {
    await recordEnd(run, host, t, file.name, { state: "failed", error: describe(error) }).catch(() => {});
    const stayed = file.kind === "sql"
      ? `${done} of ${total} statements stayed applied (${host.dialect.name} DDL is not rolled back)`
      : "whatever up() committed before it threw stays";
    throw new MigrationError(
      `Migration ${file.name} failed: ${describe(error)}. ${stayed}; ${t.name} records it as failed. ` +
        `Fix the database by hand, then delete its row from ${t.name} to run it again.`,
      { cause: error },
    );
  }
  await recordEnd(run, host, t, file.name, { state: "finished", done });
}
