/**
 * Catalog questions on IRIS. iris-pgwire (1.7.3) answers every statement that
 * names INFORMATION_SCHEMA or a pg_ table itself, and where it has no answer it
 * invents an empty one with no columns: through it, "is there such a table?"
 * asked of INFORMATION_SCHEMA is always no. The table itself is asked instead
 * (IRIS answers SQLCODE -30 when it is missing), and index existence cannot be
 * asked at all: createAll({ checkfirst }) creates the index and takes SQLCODE
 * -324 ("already defined") for "it exists". introspect() reads
 * INFORMATION_SCHEMA, which works where the server passes it to IRIS, and
 * metadata.ts refuses an invented answer rather than report an empty schema.
 */
import { QueryError } from "../../errors.ts";
import type { CompiledQuery } from "../../sql.ts";
import type { IntrospectionSql } from "../dialect.ts";
import { type IntrospectionRows, pick, readTables, str, type TableInfo } from "../introspection.ts";
import { tableRef } from "./names.ts";

export function hasTableSql(schema: string, name: string): CompiledQuery {
  return { text: `SELECT COUNT(*) AS N FROM ${tableRef(name, schema)} WHERE 1 = 0`, params: [] };
}

export function hasIndexSql(): undefined {
  return undefined;
}

/** SQLCODE -201: table name not unique; -324: index name already defined for the table. */
export function alreadyExists(error: unknown): boolean {
  return error instanceof QueryError && (error.sqlcode === -201 || error.sqlcode === -324);
}

export function introspectionSql(schema: string): IntrospectionSql {
  return {
    tables: {
      text: "SELECT TABLE_NAME FROM INFORMATION_SCHEMA.TABLES WHERE TABLE_SCHEMA = $1 AND TABLE_TYPE = 'BASE TABLE' " +
        "ORDER BY TABLE_NAME",
      params: [schema],
    },
    columns: {
      text: "SELECT TABLE_NAME, COLUMN_NAME, DATA_TYPE, IS_NULLABLE, CHARACTER_MAXIMUM_LENGTH, NUMERIC_PRECISION, " +
        "NUMERIC_SCALE, COLUMN_DEFAULT FROM INFORMATION_SCHEMA.COLUMNS WHERE TABLE_SCHEMA = $1 " +
        "ORDER BY TABLE_NAME, ORDINAL_POSITION",
      params: [schema],
    },
    primaryKeys: {
      text: "SELECT K.TABLE_NAME, K.COLUMN_NAME FROM INFORMATION_SCHEMA.TABLE_CONSTRAINTS C " +
        "JOIN INFORMATION_SCHEMA.KEY_COLUMN_USAGE K ON K.CONSTRAINT_NAME = C.CONSTRAINT_NAME " +
        "AND K.TABLE_SCHEMA = C.TABLE_SCHEMA AND K.TABLE_NAME = C.TABLE_NAME " +
        "WHERE C.TABLE_SCHEMA = $1 AND C.CONSTRAINT_TYPE = 'PRIMARY KEY' ORDER BY K.TABLE_NAME, K.ORDINAL_POSITION",
      params: [schema],
    },
    indexes: {
      text: "SELECT TABLE_NAME, INDEX_NAME, COLUMN_NAME, NON_UNIQUE, PRIMARY_KEY FROM INFORMATION_SCHEMA.INDEXES " +
        "WHERE TABLE_SCHEMA = $1 ORDER BY TABLE_NAME, INDEX_NAME, ORDINAL_POSITION",
      params: [schema],
    },
  };
}

/** INFORMATION_SCHEMA.INDEXES has a row per index column; the primary key's index is left out. */
export function readIntrospection(schema: string, rows: IntrospectionRows): TableInfo[] {
  const { tables, find } = readTables(schema, rows, (row) => str(pick(row, "data_type")).toLowerCase());
  for (const row of rows.indexes) {
    const t = find(row);
    if (!t || /^(1|true)$/i.test(str(pick(row, "primary_key")))) continue;
    const name = str(pick(row, "index_name"));
    let ix = t.indexes.find((i) => i.name === name);
    if (!ix) {
      ix = { name, columns: [], unique: /^(0|false)$/i.test(str(pick(row, "non_unique"))) };
      t.indexes.push(ix);
    }
    ix.columns.push(str(pick(row, "column_name")));
  }
  return tables;
}
