/**
 * What introspect() returns, and the part of reading introspection rows that
 * is the same on every server: tables by name, their columns and primary keys.
 * Each dialect adds its own column types and indexes.
 */

/** One column of a table, as `engine.introspect()` read it from the server. */
export interface ColumnInfoRow {
  /** The column's name as the server reports it. */
  name: string;
  /** The column's type as the server names it (such as "integer", "character varying", "vector"). */
  dataType: string;
  /** The column accepts NULL. */
  nullable: boolean;
  /** Longest string the column holds; null for types without a length. */
  maxLength: number | null;
  /** Numeric precision; null for non-numeric types. */
  precision: number | null;
  /** Numeric scale; null for non-numeric types. */
  scale: number | null;
  /** The default as SQL text, or null when there is none. */
  default: string | null;
}

/** One index of a table, as `engine.introspect()` read it. */
export interface IndexInfo {
  /** The index's name. */
  name: string;
  /** The columns it covers, in index order. */
  columns: string[];
  /** It is a unique index. */
  unique: boolean;
}

/** One table, as `engine.introspect()` read it. */
export interface TableInfo {
  /** The schema the table is in. */
  schema: string;
  /** The table's name as the server reports it. */
  name: string;
  /** Its columns, in table order. */
  columns: ColumnInfoRow[];
  /** The primary key's columns, in key order (empty when there is none). */
  primaryKey: string[];
  /** Its indexes. */
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
