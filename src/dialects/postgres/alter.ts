/**
 * ALTER spellings for migrations on PostgreSQL and PGlite: DDL is transactional, and
 * pg_advisory_lock keeps two migrators apart (held by the migrating connection).
 */
import type { AnyTable, ColumnSpec } from "../../schema.ts";
import { quoteIdent } from "../../sql.ts";
import { type AlterSpelling, columnDefinition, type ColumnType, schemaOf, type TableName } from "../alter.ts";
import { constraintName, stringLiteral } from "../ddl.ts";
import type { ColumnInfoRow } from "../introspection.ts";
import { spelling } from "./ddl.ts";
import { tableRef } from "./names.ts";
import { columnType } from "./types.ts";

const alterTable = (table: TableName, schema: string) => "ALTER TABLE " + tableRef(table.name, schemaOf(table, schema));
const spec = (table: AnyTable, column: string): ColumnSpec => table.column(column).spec;

function readColumnType(info: ColumnInfoRow): ColumnType | undefined {
  switch (info.dataType) {
    case "integer":
    case "bigint":
    case "smallint":
    case "date":
    case "text":
    case "boolean":
    case "uuid":
      return { kind: info.dataType };
    case "double precision":
      return { kind: "double" };
    case "numeric":
      return info.precision === null
        ? undefined
        : { kind: "numeric", precision: info.precision, scale: info.scale ?? 0 };
    case "character varying":
      return info.maxLength === null ? { kind: "text" } : { kind: "varchar", length: info.maxLength };
    case "timestamp without time zone":
      return { kind: "timestamp", withTimezone: false };
    case "timestamp with time zone":
      return { kind: "timestamp", withTimezone: true };
    case "jsonb":
      return { kind: "json" };
    case "vector":
      // information_schema does not give pgvector's dimensions; the type modifier does (introspection.ts).
      // pgvector stores 4-byte floats whatever col.vector's element says, so the element is not read back.
      return info.dimensions ? { kind: "vector", dimensions: info.dimensions } : { kind: "vector" };
  }
  return undefined;
}

export const alter: AlterSpelling = {
  transactionalDdl: true,
  advisoryLock: {
    lockSql: (key) => `SELECT pg_advisory_lock(${key})`,
    unlockSql: (key) => `SELECT pg_advisory_unlock(${key})`,
  },
  addColumnSql: (table, column, schema) =>
    alterTable(table, schema) + " ADD COLUMN " + columnDefinition(spelling, spec(table, column), column),
  dropColumnSql: (table, column, schema) => alterTable(table, schema) + " DROP COLUMN " + quoteIdent(column),
  alterTypeSql: (table, column, schema) =>
    alterTable(table, schema) + " ALTER COLUMN " + quoteIdent(column) + " TYPE " + columnType(spec(table, column)),
  alterNullSql: (table, column, schema) =>
    alterTable(table, schema) + " ALTER COLUMN " + quoteIdent(column) +
    (spec(table, column).notNull ? " SET NOT NULL" : " DROP NOT NULL"),
  alterDefaultSql(table, column, schema) {
    const def = spelling.defaultSql(spec(table, column));
    return alterTable(table, schema) + " ALTER COLUMN " + quoteIdent(column) + (def ? " SET " + def : " DROP DEFAULT");
  },
  addUniqueSql: (table, column, schema) =>
    alterTable(table, schema) + " ADD CONSTRAINT " + quoteIdent(constraintName(table.name, column, "key")) +
    " UNIQUE (" + quoteIdent(column) + ")",
  addForeignKeySql(table, column, schema) {
    const ref = spec(table, column).references!;
    const target = ref.table();
    return alterTable(table, schema) + " ADD CONSTRAINT " + quoteIdent(constraintName(table.name, column, "fkey")) +
      " FOREIGN KEY (" + quoteIdent(column) + ") REFERENCES " + tableRef(target.name, target.schema ?? schema) + " (" +
      quoteIdent(ref.column) + ")";
  },
  dropForeignKeySql: (table, constraint, schema) =>
    alterTable(table, schema) + " DROP CONSTRAINT " + quoteIdent(constraint),
  renameColumnSql: (table, from, to, schema) =>
    alterTable(table, schema) + " RENAME COLUMN " + quoteIdent(from) + " TO " + quoteIdent(to),
  // Index names live in the table's schema.
  dropIndexSql: (index, table, schema) => {
    const s = schemaOf(table, schema);
    return "DROP INDEX " + (s === "public" ? quoteIdent(index) : quoteIdent(s) + "." + quoteIdent(index));
  },
  // The schema first, the session's own path after it (pgvector's type is usually in public).
  schemaScopeSql: (schema) =>
    `SELECT set_config('search_path', quote_ident(${
      stringLiteral(schema)
    }) || ', ' || current_setting('search_path'), true)`,
  readColumnType,
  defaultText: (s) => spelling.defaultSql(s).replace(/^DEFAULT /, ""),
};
