/**
 * What a column is, as plain data: the value checks (codec), the dialects and the
 * schema module all read it. Kept apart from schema.ts, which builds it, so that
 * the code checking values does not import the code defining tables.
 */

/** The table a foreign key points at (a Table; schema.ts checks it is one). */
export interface ReferencedTable {
  /** The referenced table's name. */
  readonly name: string;
  /** Its schema, when its definition names one; otherwise the engine's. */
  readonly schema?: string;
}

/** The column types `col.*` can declare; each dialect spells each one in its own DDL. */
export type ColumnKind =
  | "integer"
  | "bigint"
  | "smallint"
  | "double"
  | "numeric"
  | "varchar"
  | "text"
  | "boolean"
  | "date"
  | "timestamp"
  | "json"
  | "uuid"
  | "vector";

/** The number type of a vector's elements on IRIS (`VECTOR(DOUBLE, n)` or `VECTOR(FLOAT, n)`); pgvector always stores 32-bit floats. */
export type VectorElement = "double" | "float";

/** Everything a dialect needs to know about a column. */
export interface ColumnSpec {
  /** The column type. */
  kind: ColumnKind;
  /** Maximum length of a varchar column. */
  length?: number;
  /** Total digits of a numeric column. */
  precision?: number;
  /** Digits after the decimal point of a numeric column. */
  scale?: number;
  /** Number of elements of a vector column. */
  dimensions?: number;
  /** Element type of a vector column (IRIS). */
  element?: VectorElement;
  /** A timestamp column stored as timestamptz on PostgreSQL. */
  withTimezone?: boolean;
  /** How a bigint column is read: as a number (exact to 2^53) or as a bigint. */
  bigintMode?: "number" | "bigint";
  /** Part of the primary key. */
  primaryKey: boolean;
  /** Filled in by the server (or by irisql, for uuid) when an insert leaves it out. */
  generated: boolean;
  /** NULL is refused. */
  notNull: boolean;
  /** Carries a UNIQUE constraint. */
  unique: boolean;
  /** Has a constant default (`defaultValue`), written into the DDL. */
  hasDefault: boolean;
  /** The constant default, already converted to the form the column stores. */
  defaultValue?: unknown;
  /** Defaults to the current date or time. */
  defaultNow: boolean;
  /** A foreign key: the referenced table (a function, so tables can refer to each other) and its column. */
  references?: { table: () => ReferencedTable; column: string };
}
