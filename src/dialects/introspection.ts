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
  /**
   * A vector column's dimensions, where the dialect's catalog query reports them
   * (PostgreSQL: the pgvector type modifier); undefined where it does not say.
   */
  dimensions?: number | null;
  /** An IDENTITY column, where the dialect's catalog query says; undefined where it does not. */
  identity?: boolean;
}

/** One index of a table, as `engine.introspect()` read it. */
export interface IndexInfo {
  /** The index's name. */
  name: string;
  /** The columns it covers, in index order. */
  columns: string[];
  /** It is a unique index. */
  unique: boolean;
  /** An HNSW vector index's settings as the catalog holds them (pgvector's defaults filled in), where reported. */
  hnsw?: { metric: "cosine" | "dot" | "l2"; m: number; efConstruction: number };
  /**
   * What index() cannot say about it (an expression, a partial index's WHERE, an operator
   * class, DESC, INCLUDE, another access method), where reported. generate never drops or
   * rebuilds such an index unless the module names it.
   */
  custom?: string;
}

/** One foreign key, as `engine.introspect()` read it (only where the dialect reports foreign keys). */
export interface ForeignKeyInfo {
  /** The constraint's name. */
  name: string;
  /** The referencing columns, in key order. */
  columns: string[];
  /** The referenced table's schema. */
  refSchema: string;
  /** The referenced table. */
  refTable: string;
  /** The referenced columns, in key order. */
  refColumns: string[];
  /** "NO ACTION", "RESTRICT", "CASCADE", "SET NULL" or "SET DEFAULT". */
  onDelete: string;
  /** As onDelete, for updates of the referenced key. */
  onUpdate: string;
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
  /**
   * True where the dialect reads index settings back (`hnsw`, `custom`: PostgreSQL, PGlite);
   * elsewhere generate compares an index's columns and uniqueness only.
   */
  indexSettings?: boolean;
  /**
   * Its foreign keys, where the dialect's introspection reads them (PostgreSQL and PGlite);
   * undefined where it does not, and then generate compares foreign keys of new columns only.
   */
  foreignKeys?: ForeignKeyInfo[];
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
      ...optionalColumnFields(row),
    });
  }
  for (const row of rows.primaryKeys) find(row)?.primaryKey.push(str(pick(row, "column_name")));
  return { tables: [...byName.values()], find };
}

/** The optional ColumnInfoRow fields, from the columns a dialect's query may add (vector_dimensions, is_identity). */
function optionalColumnFields(row: Row): Partial<ColumnInfoRow> {
  const out: Partial<ColumnInfoRow> = {};
  const dims = pick(row, "vector_dimensions");
  if (dims !== undefined) out.dimensions = num(dims);
  const identity = pick(row, "is_identity");
  if (identity !== undefined && identity !== null) out.identity = /^(yes|1|true)$/i.test(str(identity));
  return out;
}
