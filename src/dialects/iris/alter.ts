/**
 * ALTER spellings for migrations on IRIS (InterSystems SQL ALTER TABLE: `ALTER COLUMN c
 * <type>`, `ALTER COLUMN c NOT NULL | NULL`, `ALTER COLUMN c DEFAULT x | DROP DEFAULT`,
 * `DROP INDEX ix ON t`). IRIS does not roll DDL back with a transaction, and through
 * iris-pgwire outside IRIS nothing rolls back at all, so migrations record their progress
 * instead (src/migrate/). No advisory lock reaches IRIS through the wire server: migrate
 * takes a lock row (a table with a primary key) instead.
 * Each has run through the real iris-pgwire 1.7.3 over the stand-in's model of IRIS's ALTER TABLE
 * grammar (tests/migrate-iris.test.ts), which refuses PostgreSQL-only spellings; not against IRIS.
 */
import type { AnyTable, ColumnSpec } from "../../schema.ts";
import { type AlterSpelling, columnDefinition, type ColumnType, schemaOf, type TableName } from "../alter.ts";
import { constraintName } from "../ddl.ts";
import type { ColumnInfoRow } from "../introspection.ts";
import { spelling } from "./ddl.ts";
import { quoteId, tableRef } from "./names.ts";
import { columnType } from "./types.ts";

const alterTable = (table: TableName, schema: string) => "ALTER TABLE " + tableRef(table.name, schemaOf(table, schema));
const spec = (table: AnyTable, column: string): ColumnSpec => table.column(column).spec;

/** Where irisql's text and json columns live: VARCHAR(65535) (types.ts). */
const LONG_VARCHAR = 65535;

/**
 * IRIS INFORMATION_SCHEMA.COLUMNS.DATA_TYPE holds ODBC type names. The names read here are those
 * iris-pgwire 1.7.3's own pg_catalog views map from that column (catalog/views/definitions.py,
 * PG_ATTRIBUTE: INTEGER, INT, BIGINT, SMALLINT, VARCHAR, CHARACTER VARYING, LONGVARCHAR, NUMERIC,
 * DECIMAL, DOUBLE, FLOAT, BIT, DATE, TIMESTAMP, POSIXTIME), compared in any case, plus GUID.
 */
function readColumnType(info: ColumnInfoRow): ColumnType | undefined {
  switch (info.dataType.toLowerCase()) {
    case "integer":
    case "int":
      return { kind: "integer" };
    case "bigint":
    case "smallint":
    case "date":
      return { kind: info.dataType.toLowerCase() } as ColumnType;
    case "double":
    case "float":
      return { kind: "double" };
    case "timestamp":
    case "posixtime":
      return { kind: "timestamp" };
    case "bit":
      return { kind: "boolean" };
    case "numeric":
    case "decimal":
      return info.precision === null
        ? undefined
        : { kind: "numeric", precision: info.precision, scale: info.scale ?? 0 };
    case "varchar":
    case "character varying":
      // A VECTOR column may show as a VARCHAR without length (the stand-in's catalog does): say nothing then.
      if (info.maxLength === null || info.maxLength <= 0) return undefined;
      return info.maxLength === LONG_VARCHAR ? { kind: "text" } : { kind: "varchar", length: info.maxLength };
    case "longvarchar":
      return { kind: "text" };
    case "guid":
    case "uniqueidentifier":
      return { kind: "uuid" };
    case "vector":
      return { kind: "vector" };
  }
  return undefined;
}

export const alter: AlterSpelling = {
  transactionalDdl: false,
  advisoryLock: undefined,
  addColumnSql: (table, column, schema) =>
    alterTable(table, schema) + " ADD COLUMN " + columnDefinition(spelling, spec(table, column), column),
  dropColumnSql: (table, column, schema) => alterTable(table, schema) + " DROP COLUMN " + quoteId(column),
  // The type alone: IRIS's alter-column-action is one of datatype, [SET] DEFAULT, DROP DEFAULT,
  // NULL, NOT NULL, COLLATE; "VARCHAR(n) COLLATE %EXACT" is two of them and does not parse.
  alterTypeSql: (table, column, schema) =>
    alterTable(table, schema) + " ALTER COLUMN " + quoteId(column) + " " + columnType(spec(table, column)),
  alterNullSql: (table, column, schema) =>
    alterTable(table, schema) + " ALTER COLUMN " + quoteId(column) +
    (spec(table, column).notNull ? " NOT NULL" : " NULL"),
  alterDefaultSql(table, column, schema) {
    const def = spelling.defaultSql(spec(table, column));
    return alterTable(table, schema) + " ALTER COLUMN " + quoteId(column) + (def ? " " + def : " DROP DEFAULT");
  },
  addUniqueSql: (table, column, schema) =>
    alterTable(table, schema) + " ADD CONSTRAINT " + quoteId(constraintName(table.name, column, "key")) + " UNIQUE (" +
    quoteId(column) + ")",
  addForeignKeySql(table, column, schema) {
    const ref = spec(table, column).references!;
    const target = ref.table();
    return alterTable(table, schema) + " ADD CONSTRAINT " + quoteId(constraintName(table.name, column, "fkey")) +
      " FOREIGN KEY (" + quoteId(column) + ") REFERENCES " + tableRef(target.name, target.schema ?? schema) + " (" +
      quoteId(ref.column) + ")";
  },
  dropIndexSql: (index, table, schema) =>
    "DROP INDEX " + quoteId(index) + " ON " + tableRef(table.name, schemaOf(table, schema)),
  readColumnType,
  defaultText: (s) => spelling.defaultSql(s).replace(/^DEFAULT /, ""),
};
