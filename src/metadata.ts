/**
 * DDL and introspection against a live database: createAll / dropAll with
 * checkfirst, hasTable, introspect. Existence checks ask INFORMATION_SCHEMA,
 * and a server that answers a question about a missing table with an error
 * (iris-pgwire) counts as "no such table" — the failure
 * that blocked checkfirst in the async SQLAlchemy work.
 */
import { QueryError, UndefinedTableError } from "./errors.ts";
import type { Executor } from "./executor.ts";
import type { AnyTable } from "./schema.ts";
import { sortByDependencies } from "./schema.ts";

export interface CreateOptions {
  /** Skip tables (and indexes) that already exist instead of failing. */
  checkfirst?: boolean;
}

export interface ColumnInfoRow {
  name: string;
  dataType: string;
  nullable: boolean;
  maxLength: number | null;
  precision: number | null;
  scale: number | null;
  default: string | null;
}

export interface IndexInfo {
  name: string;
  columns: string[];
  unique: boolean;
}

export interface TableInfo {
  schema: string;
  name: string;
  columns: ColumnInfoRow[];
  primaryKey: string[];
  indexes: IndexInfo[];
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

export function hasIndex(exec: Executor, schema: string, table: string, index: string): Promise<boolean> {
  return exists(exec, exec.dialect.hasIndexSql(schema, table, index));
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
  for (const table of sortByDependencies(tables)) {
    const s = table.schema ?? schema;
    const exists = options.checkfirst ? await hasTable(exec, s, table.name) : false;
    if (!exists) await exec.run(d.createTableSql(table, schema, !!options.checkfirst), []);
    for (const index of table.indexes) {
      // Check even for a new table: IF NOT EXISTS is not on IRIS's CREATE INDEX.
      if (options.checkfirst && await hasIndex(exec, s, table.name, index.name)) continue;
      await exec.run(d.createIndexSql(index, table, schema), []);
    }
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

const pick = (row: Record<string, unknown>, key: string): unknown =>
  row[key] ?? row[key.toUpperCase()] ?? row[key.toLowerCase()];
const str = (v: unknown): string => (v === null || v === undefined ? "" : String(v));
const num = (v: unknown): number | null => (v === null || v === undefined || v === "" ? null : Number(v));

/** Tables, columns, primary keys and indexes of one schema. */
export async function introspect(exec: Executor, schema: string): Promise<{ tables: TableInfo[] }> {
  const q = exec.dialect.introspectionSql(schema);
  const [tables, columns, keys, indexes] = [
    await exec.run(q.tables.text, q.tables.params),
    await exec.run(q.columns.text, q.columns.params),
    await exec.run(q.primaryKeys.text, q.primaryKeys.params),
    await exec.run(q.indexes.text, q.indexes.params),
  ];
  const byName = new Map<string, TableInfo>();
  for (const row of tables.rows) {
    const name = str(pick(row, "table_name"));
    byName.set(name.toLowerCase(), { schema, name, columns: [], primaryKey: [], indexes: [] });
  }
  const find = (row: Record<string, unknown>) => byName.get(str(pick(row, "table_name")).toLowerCase());
  for (const row of columns.rows) {
    const t = find(row);
    if (!t) continue;
    const udt = str(pick(row, "udt_name"));
    const dataType = str(pick(row, "data_type"));
    t.columns.push({
      name: str(pick(row, "column_name")),
      // PostgreSQL reports extension types such as vector as USER-DEFINED; the udt name says which.
      dataType: dataType === "USER-DEFINED" && udt ? udt : dataType.toLowerCase(),
      nullable: /^(yes|1|true)$/i.test(str(pick(row, "is_nullable"))),
      maxLength: num(pick(row, "character_maximum_length")),
      precision: num(pick(row, "numeric_precision")),
      scale: num(pick(row, "numeric_scale")),
      default: (pick(row, "column_default") ?? null) as string | null,
    });
  }
  for (const row of keys.rows) find(row)?.primaryKey.push(str(pick(row, "column_name")));
  for (const row of indexes.rows) {
    const t = find(row);
    if (!t) continue;
    const name = str(pick(row, "index_name"));
    const def = pick(row, "indexdef");
    if (def !== undefined) {
      // PostgreSQL: columns from the index definition text.
      const m = /USING \w+ \((.*?)\)(?: WITH | WHERE |$)/.exec(str(def));
      const columns = m ? m[1].split(",").map((c) => c.trim().split(/\s+/)[0].replace(/^"|"$/g, "")) : [];
      t.indexes.push({ name, columns, unique: /CREATE UNIQUE INDEX/i.test(str(def)) });
    } else {
      if (/^(1|true)$/i.test(str(pick(row, "primary_key")))) continue;
      let ix = t.indexes.find((i) => i.name === name);
      if (!ix) {
        ix = { name, columns: [], unique: /^(0|false)$/i.test(str(pick(row, "non_unique"))) };
        t.indexes.push(ix);
      }
      ix.columns.push(str(pick(row, "column_name")));
    }
  }
  return { tables: [...byName.values()] };
}
