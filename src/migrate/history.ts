/**
 * The history table: one row per migration that began, with its checksum and its
 * state. "finished": all of it ran. "started": it is running, or the process died
 * while it ran. "failed": a statement failed where the server could not roll the
 * migration back (IRIS DDL, autocommit): `done` of `total` statements stayed applied.
 * A migration that failed inside a rolled-back transaction leaves no row: none of it stays.
 */
import { col, table } from "../schema.ts";
import { sql } from "../sql.ts";
import type { Executor } from "../executor.ts";
import { hasTable } from "../metadata.ts";
import type { MigrationHost, StatementRunner } from "./host.ts";

export const DEFAULT_HISTORY_TABLE = "irisql_migrations";

export type HistoryState = "started" | "finished" | "failed";

export interface HistoryRow {
  name: string;
  checksum: string;
  state: HistoryState;
  done: number;
  total: number | null;
  error: string | null;
}

export function historyTable(name: string, schema: string | undefined) {
  return table(name, {
    name: col.varchar(255).primaryKey(),
    checksum: col.varchar(64).notNull(),
    state: col.varchar(16).notNull(),
    done: col.integer().notNull(),
    total: col.integer(),
    started_at: col.timestamp().notNull(),
    finished_at: col.timestamp(),
    error: col.varchar(2000),
  }, schema === undefined ? {} : { schema });
}

export type HistoryTable = ReturnType<typeof historyTable>;

const ref = (t: HistoryTable, host: MigrationHost) =>
  sql.raw(host.dialect.tableRef(t.name, t.schema ?? host.config.schema));

/**
 * Rows by migration name; an empty list where the table does not exist yet. `exec` runs the
 * queries (the connection holding the migration lock, so a pool of one is enough).
 */
export async function readHistory(host: MigrationHost, t: HistoryTable, exec: Executor = host): Promise<HistoryRow[]> {
  if (!(await hasTable(exec, t.schema ?? host.config.schema, t.name))) return [];
  const r = await exec.execute(
    sql`SELECT ${
      sql.raw(["name", "checksum", "state", "done", "total", "error"].map((c) => host.dialect.quoteId(c)).join(", "))
    } FROM ${ref(t, host)} ORDER BY ${sql.id("name")}`,
  );
  return r.rows.map((row) => {
    const get = (k: string) => row[k] ?? row[k.toUpperCase()];
    return {
      name: String(get("name")),
      checksum: String(get("checksum")),
      state: String(get("state")) as HistoryState,
      done: Number(get("done")),
      total: get("total") === null || get("total") === undefined ? null : Number(get("total")),
      error: (get("error") ?? null) as string | null,
    };
  });
}

export function recordStart(
  run: StatementRunner,
  host: MigrationHost,
  t: HistoryTable,
  m: { name: string; checksum: string; total: number | null },
  state: HistoryState = "started",
) {
  const now = new Date();
  return run.execute(
    sql`INSERT INTO ${ref(t, host)} (${sql.id("name")}, ${sql.id("checksum")}, ${sql.id("state")}, ${sql.id("done")}, ${
      sql.id("total")
    }, ${sql.id("started_at")}, ${sql.id("finished_at")}) VALUES (${m.name}, ${m.checksum}, ${state}, ${
      state === "finished" ? (m.total ?? 0) : 0
    }, ${m.total}, ${now}, ${state === "finished" ? now : null})`,
  );
}

export function recordProgress(run: StatementRunner, host: MigrationHost, t: HistoryTable, name: string, done: number) {
  return run.execute(sql`UPDATE ${ref(t, host)} SET ${sql.id("done")} = ${done} WHERE ${sql.id("name")} = ${name}`);
}

export function recordEnd(
  run: StatementRunner,
  host: MigrationHost,
  t: HistoryTable,
  name: string,
  outcome: { state: "finished" | "failed"; done?: number; error?: string },
) {
  const error = outcome.error === undefined ? null : outcome.error.slice(0, 2000);
  const finished = outcome.state === "finished" ? new Date() : null;
  return run.execute(
    sql`UPDATE ${ref(t, host)} SET ${sql.id("state")} = ${outcome.state}, ${sql.id("finished_at")} = ${finished}, ${
      sql.id("error")
    } = ${error}${outcome.done === undefined ? sql`` : sql`, ${sql.id("done")} = ${outcome.done}`} WHERE ${
      sql.id("name")
    } = ${name}`,
  );
}
