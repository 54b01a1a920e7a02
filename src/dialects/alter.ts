/**
 * What migrations ask of a dialect (Dialect.alter): the ALTER spellings the schema
 * diff needs, how an introspected column reads back as a column type, whether DDL
 * is transactional, and which server lock keeps two migrators apart. Each dialect
 * folder has an alter.ts filling this in; src/migrate/ only asks.
 */
import type { AnyTable, ColumnSpec } from "../schema.ts";
import type { DdlSpelling } from "./ddl.ts";
import type { ColumnInfoRow } from "./introspection.ts";

/** The part of a ColumnSpec that is its type. */
export type ColumnType = Pick<
  ColumnSpec,
  "kind" | "length" | "precision" | "scale" | "dimensions" | "element" | "withTimezone"
>;

/** A table as ALTER needs it: its name and, if it has one, its own schema. */
export interface TableName {
  readonly name: string;
  readonly schema?: string;
}

export interface AlterSpelling {
  /**
   * Does the server roll DDL back with the transaction it ran in? PostgreSQL: yes. IRIS: no
   * (and through iris-pgwire outside IRIS nothing rolls back at all).
   */
  readonly transactionalDdl: boolean;
  /**
   * A lock held by one connection until unlocked or disconnected (pg_advisory_lock), or
   * undefined where the server has none irisql can reach (migrate then uses a lock row).
   */
  readonly advisoryLock: { lockSql(key: number): string; unlockSql(key: number): string } | undefined;
  /** ALTER TABLE ... ADD COLUMN with the column's type, default and NOT NULL. */
  addColumnSql(table: AnyTable, column: string, schema: string): string;
  dropColumnSql(table: TableName, column: string, schema: string): string;
  /** Change the column's type to the one in the definition. */
  alterTypeSql(table: AnyTable, column: string, schema: string): string;
  /** Make the column NOT NULL or NULL-able, as the definition says. */
  alterNullSql(table: AnyTable, column: string, schema: string): string;
  /** Set the definition's default, or drop the default where it has none. */
  alterDefaultSql(table: AnyTable, column: string, schema: string): string;
  addUniqueSql(table: AnyTable, column: string, schema: string): string;
  addForeignKeySql(table: AnyTable, column: string, schema: string): string;
  /**
   * ALTER TABLE ... DROP CONSTRAINT for a foreign key the catalog named; only dialects whose
   * introspection reports foreign keys (TableInfo.foreignKeys) need it.
   */
  dropForeignKeySql?(table: TableName, constraint: string, schema: string): string;
  dropIndexSql(index: string, table: TableName, schema: string): string;
  /** ALTER TABLE ... RENAME COLUMN, where spelled: generate never writes it, it shows it when refusing a drop + add. */
  renameColumnSql?(table: TableName, from: string, to: string, schema: string): string;
  /**
   * A statement that, run first in a migration's transaction, makes the unqualified names of
   * its SQL resolve in `schema` until the transaction ends (PostgreSQL: search_path, set
   * locally). Undefined where the server has no such setting; migrate then runs files as written.
   */
  schemaScopeSql?(schema: string): string;
  /** The column type an introspected column has; undefined where its catalog row cannot say. */
  readColumnType(info: ColumnInfoRow): ColumnType | undefined;
  /** The DEFAULT text the definition gives the column ("" for none), as createTableSql spells it. */
  defaultText(spec: ColumnSpec): string;
}

/** `"col" TYPE [GENERATED...] [DEFAULT ...] [NOT NULL]`, as CREATE TABLE spells a column. */
export function columnDefinition(d: DdlSpelling, spec: ColumnSpec, name: string): string {
  let line = d.quoteId(name) + " " + d.columnType(spec) + d.generatedSql(spec);
  const def = d.defaultSql(spec);
  if (def) line += " " + def;
  if (spec.notNull) line += " NOT NULL";
  return line;
}

/** The table's own schema, else the engine's. */
export function schemaOf(table: TableName, schema: string): string {
  return table.schema ?? schema;
}
