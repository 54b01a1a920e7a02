/**
 * What a column is, as plain data: the value checks (codec), the dialects and the
 * schema module all read it. Kept apart from schema.ts, which builds it, so that
 * the code checking values does not import the code defining tables.
 */

/** The table a foreign key points at (a Table; schema.ts checks it is one). */
export interface ReferencedTable {
  readonly name: string;
  readonly schema?: string;
}

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

export type VectorElement = "double" | "float";

/** Everything a dialect needs to know about a column. */
export interface ColumnSpec {
  kind: ColumnKind;
  length?: number;
  precision?: number;
  scale?: number;
  dimensions?: number;
  element?: VectorElement;
  withTimezone?: boolean;
  bigintMode?: "number" | "bigint";
  primaryKey: boolean;
  generated: boolean;
  notNull: boolean;
  unique: boolean;
  hasDefault: boolean;
  defaultValue?: unknown;
  defaultNow: boolean;
  references?: { table: () => ReferencedTable; column: string };
}
