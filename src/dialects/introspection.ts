/**
 * What introspect() returns, and the part of reading introspection rows that
 * is the same on every server: tables by name, their columns and primary keys.
 * Each dialect adds its own column types and indexes.
 */

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

type Row = Record<string, unknown>;

/** The rows of the four queries of Dialect.introspectionSql. */
export interface IntrospectionRows {
  tables: Row[];
  columns: Row[];
  primaryKeys: Row[];
  indexes: Row[];
}

/** A field by its lower-case name, whichever case the server used. */
export const pick = (row: Row, key: string): unknown => row[key] ?? row[key.toUpperCase()] ?? row[key.toLowerCase()];
export const str = (v: unknown): string => (v === null || v === undefined ? "" : String(v));
const num = (v: unknown): number | null => (v === null || v === undefined || v === "" ? null : Number(v));

/**
 * Tables with their columns and primary keys; `dataType` names a column's type
 * from its row. `find` gives the table a row (of any of the queries) belongs to.
 */
export function readTables(
  schema: string,
  rows: IntrospectionRows,
  dataType: (row: Row) => string,
): { tables: TableInfo[]; find(row: Row): TableInfo | undefined } {
  const byName = new Map<string, TableInfo>();
  for (const row of rows.tables) {
    const name = str(pick(row, "table_name"));
    byName.set(name.toLowerCase(), { schema, name, columns: [], primaryKey: [], indexes: [] });
  }
  const find = (row: Row) => byName.get(str(pick(row, "table_name")).toLowerCase());
  for (const row of rows.columns) {
    find(row)?.columns.push({
      name: str(pick(row, "column_name")),
      dataType: dataType(row),
      nullable: /^(yes|1|true)$/i.test(str(pick(row, "is_nullable"))),
      maxLength: num(pick(row, "character_maximum_length")),
      precision: num(pick(row, "numeric_precision")),
      scale: num(pick(row, "numeric_scale")),
      default: (pick(row, "column_default") ?? null) as string | null,
    });
  }
  for (const row of rows.primaryKeys) find(row)?.primaryKey.push(str(pick(row, "column_name")));
  return { tables: [...byName.values()], find };
}
