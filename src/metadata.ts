/**
 * DDL and introspection against a live database: createAll / dropAll with
 * checkfirst, hasTable, introspect. Existence checks ask INFORMATION_SCHEMA,
 * and a server that answers a question about a missing table with an error
 * (iris-pgwire) counts as "no such table" — the failure
 * that blocked checkfirst in the async SQLAlchemy work.
 */
import { QueryError, UndefinedTableError, UnsupportedFeatureError } from "./errors.ts";
import type { Executor } from "./executor.ts";
import type { AnyTable } from "./schema.ts";
import { sortByDependencies } from "./schema.ts";
import type { TableInfo } from "./dialects/introspection.ts";
import type { VectorExtensionCheck } from "./dialects/dialect.ts";

export type { ColumnInfoRow, ForeignKeyInfo, IndexInfo, TableInfo } from "./dialects/introspection.ts";

/** Options of `engine.createAll()` and `engine.dropAll()`. */
export interface CreateOptions {
  /** Skip tables (and indexes) that already exist instead of failing. */
  checkfirst?: boolean;
}

/** Is this error the server's way of saying "no such table"? */
function meansMissing(error: unknown): boolean {
  return error instanceof UndefinedTableError ||
    (error instanceof QueryError && /does not exist|not found/i.test(error.message));
}

/** Does the existence query return a row? An error that means "missing" is a no. */
async function exists(exec: Executor, q: { text: string; params: readonly unknown[] }): Promise<boolean> {
  try {
    const r = await exec.run(q.text, q.params);
    return r.rows.length > 0;
  } catch (error) {
    if (meansMissing(error)) return false;
    throw error;
  }
}

export function hasTable(exec: Executor, schema: string, name: string): Promise<boolean> {
  return exists(exec, exec.dialect.hasTableSql(schema, name));
}

/** Does the index exist? undefined where the server cannot be asked (IRIS through iris-pgwire). */
export function hasIndex(exec: Executor, schema: string, table: string, index: string): Promise<boolean | undefined> {
  const q = exec.dialect.hasIndexSql(schema, table, index);
  return q ? exists(exec, q) : Promise.resolve(undefined);
}

export async function createAll(
  exec: Executor,
  schema: string,
  tables: readonly AnyTable[],
  options: CreateOptions = {},
): Promise<void> {
  const d = exec.dialect;
  // Spell every index first: one the server cannot make (L2 HNSW on IRIS) must fail
  // before any table is created, not leave a half-made schema behind.
  for (const table of tables) for (const index of table.indexes) d.createIndexSql(index, table, schema);
  // Likewise vector columns where the vector type needs an extension (pgvector): without it the
  // first table with one would fail after the tables before it were made.
  if (d.vectorExtension && tables.some(usesVectors)) await checkVectorExtension(exec, d.vectorExtension);
  for (const table of sortByDependencies(tables)) {
    const s = table.schema ?? schema;
    const exists = options.checkfirst ? await hasTable(exec, s, table.name) : false;
    if (!exists) {
      try {
        await exec.run(d.createTableSql(table, schema, !!options.checkfirst), []);
      } catch (error) {
        // Made by someone else since we asked (IRIS writes no IF NOT EXISTS: see its ddl.ts).
        if (!(options.checkfirst && d.alreadyExists(error))) throw error;
      }
    }
    for (const index of table.indexes) {
      // Check even for a new table: IF NOT EXISTS is not on IRIS's CREATE INDEX.
      const known = options.checkfirst ? await hasIndex(exec, s, table.name, index.name) : false;
      if (known) continue;
      try {
        await exec.run(d.createIndexSql(index, table, schema), []);
      } catch (error) {
        // Where existence cannot be asked, "already there" is the answer.
        if (known === undefined && d.alreadyExists(error)) continue;
        throw error;
      }
    }
  }
}

function usesVectors(table: AnyTable): boolean {
  return table.columnNames.some((name) => table.columns[name].spec.kind === "vector");
}

/** The probe runs; if it fails with a server error, diagnose and say what to do about it. */
async function checkVectorExtension(exec: Executor, check: VectorExtensionCheck): Promise<void> {
  try {
    await exec.run(check.probe.text, check.probe.params);
  } catch (error) {
    // Anything but a server error (PGlite's DriverMissingError, a lost connection) is already the answer.
    if (!(error instanceof QueryError)) throw error;
    const row = await exec.run(check.diagnose.text, check.diagnose.params).then((r) => r.rows[0], () => undefined);
    throw check.missing(row, error);
  }
}

export async function dropAll(
  exec: Executor,
  schema: string,
  tables: readonly AnyTable[],
  options: CreateOptions = {},
): Promise<void> {
  const d = exec.dialect;
  for (const table of sortByDependencies(tables).reverse()) {
    if (options.checkfirst && !(await hasTable(exec, table.schema ?? schema, table.name))) continue;
    await exec.run(d.dropTableSql(table, schema, !!options.checkfirst), []);
  }
}

/** Tables, columns, primary keys and indexes of one schema. */
export async function introspect(exec: Executor, schema: string): Promise<{ tables: TableInfo[] }> {
  const q = exec.dialect.introspectionSql(schema);
  const rows = {
    tables: await catalogRows(exec, q.tables),
    columns: await catalogRows(exec, q.columns),
    primaryKeys: await catalogRows(exec, q.primaryKeys),
    indexes: await catalogRows(exec, q.indexes),
  };
  return { tables: exec.dialect.readIntrospection(schema, rows) };
}

/**
 * The rows of a catalog query. A real answer names its columns even when it has no
 * rows; an answer without columns was made up by the server in between (iris-pgwire
 * 1.7.3 answers INFORMATION_SCHEMA questions it cannot route with an empty result),
 * and reporting an empty schema from it would be a lie.
 */
async function catalogRows(exec: Executor, q: { text: string; params: readonly unknown[] }) {
  const r = await exec.run(q.text, q.params);
  if (r.columns.length === 0) {
    throw new UnsupportedFeatureError(
      "introspect() cannot read this server's catalog: it answered a catalog query with an invented empty " +
        "result (iris-pgwire 1.7.3 does this for INFORMATION_SCHEMA). Nothing can be said about its tables.",
    );
  }
  return r.rows;
}
