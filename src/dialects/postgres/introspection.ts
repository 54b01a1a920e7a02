/**
 * Catalog questions on PostgreSQL: information_schema, and pg_indexes for
 * indexes (information_schema has none; pg_indexes is a plain view).
 */
import { QueryError } from "../../errors.ts";
import type { CompiledQuery } from "../../sql.ts";
import type { IntrospectionSql } from "../dialect.ts";
import { type IntrospectionRows, pick, readTables, str, type TableInfo } from "../introspection.ts";

export function hasTableSql(schema: string, name: string): CompiledQuery {
  return {
    text: "SELECT table_name FROM information_schema.tables WHERE table_schema = $1 AND table_name = $2",
    params: [schema, name],
  };
}

export function hasIndexSql(schema: string, table: string, index: string): CompiledQuery {
  return {
    text: "SELECT indexname FROM pg_indexes WHERE schemaname = $1 AND tablename = $2 AND indexname = $3",
    params: [schema, table, index],
  };
}

/** 42P07 duplicate_table: a table or an index (a relation too) of that name exists. */
export function alreadyExists(error: unknown): boolean {
  return error instanceof QueryError && error.sqlstate === "42P07";
}

export function introspectionSql(schema: string): IntrospectionSql {
  return {
    tables: {
      text:
        "SELECT table_name FROM information_schema.tables WHERE table_schema = $1 AND table_type = 'BASE TABLE' ORDER BY table_name",
      params: [schema],
    },
    columns: {
      text: "SELECT table_name, column_name, data_type, udt_name, is_nullable, character_maximum_length, " +
        "numeric_precision, numeric_scale, column_default FROM information_schema.columns " +
        "WHERE table_schema = $1 ORDER BY table_name, ordinal_position",
      params: [schema],
    },
    primaryKeys: {
      text: "SELECT k.table_name, k.column_name FROM information_schema.table_constraints c " +
        "JOIN information_schema.key_column_usage k ON k.constraint_name = c.constraint_name " +
        "AND k.table_schema = c.table_schema AND k.table_name = c.table_name " +
        "WHERE c.table_schema = $1 AND c.constraint_type = 'PRIMARY KEY' ORDER BY k.table_name, k.ordinal_position",
      params: [schema],
    },
    indexes: {
      text: "SELECT tablename AS table_name, indexname AS index_name, indexdef FROM pg_indexes " +
        "WHERE schemaname = $1 ORDER BY tablename, indexname",
      params: [schema],
    },
  };
}

/** Extension types such as vector are USER-DEFINED; the udt name says which. */
function dataType(row: Record<string, unknown>): string {
  const type = str(pick(row, "data_type"));
  const udt = str(pick(row, "udt_name"));
  return type === "USER-DEFINED" && udt ? udt : type.toLowerCase();
}

/** An index's columns and uniqueness come from its definition text (pg_indexes.indexdef). */
export function readIntrospection(schema: string, rows: IntrospectionRows): TableInfo[] {
  const { tables, find } = readTables(schema, rows, dataType);
  for (const row of rows.indexes) {
    const t = find(row);
    if (!t) continue;
    const def = str(pick(row, "indexdef"));
    const m = /USING \w+ \((.*?)\)(?: WITH | WHERE |$)/.exec(def);
    const columns = m ? m[1].split(",").map((c) => c.trim().split(/\s+/)[0].replace(/^"|"$/g, "")) : [];
    t.indexes.push({ name: str(pick(row, "index_name")), columns, unique: /CREATE UNIQUE INDEX/i.test(def) });
  }
  return tables;
}
