/**
 * Catalog questions on IRIS. iris-pgwire (1.7.3) answers a statement that names
 * INFORMATION_SCHEMA or a pg_ table itself, and where it has no answer it
 * invents an empty one with no columns (catalog/catalog_router.py,
 * handle_catalog_query: "Fabricating empty catalog result"). Its router first
 * declines statements holding an expression it cannot evaluate, `EXISTS (`
 * among them (UNEVALUABLE_EXPRESSIONS), and those go to IRIS unchanged. So
 * introspect()'s four queries each carry an `EXISTS (...)` that also says what
 * they mean: rows of base tables of the schema. "Is there such a table?" is
 * asked of the table itself (IRIS answers SQLCODE -30 when it is missing), and
 * index existence is not asked: createAll({ checkfirst }) creates the index and
 * takes SQLCODE -324 ("already defined") for "it exists". metadata.ts still
 * refuses a column-less answer rather than report an empty schema.
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

/**
 * Rows of `alias` that belong to a base table of the same schema. The EXISTS is what makes
 * iris-pgwire 1.7.3 pass the statement to IRIS instead of inventing an empty answer (see above).
 */
const ofBaseTable = (alias: string) =>
  `EXISTS (SELECT 1 FROM INFORMATION_SCHEMA.TABLES BT WHERE BT.TABLE_SCHEMA = ${alias}.TABLE_SCHEMA ` +
  `AND BT.TABLE_NAME = ${alias}.TABLE_NAME AND BT.TABLE_TYPE = 'BASE TABLE')`;

export function introspectionSql(schema: string): IntrospectionSql {
  return {
    tables: {
      text: "SELECT T.TABLE_NAME FROM INFORMATION_SCHEMA.TABLES T WHERE T.TABLE_SCHEMA = $1 AND " +
        ofBaseTable("T") + " ORDER BY T.TABLE_NAME",
      params: [schema],
    },
    columns: {
      text: "SELECT C.TABLE_NAME, C.COLUMN_NAME, C.DATA_TYPE, C.IS_NULLABLE, C.CHARACTER_MAXIMUM_LENGTH, " +
        "C.NUMERIC_PRECISION, C.NUMERIC_SCALE, C.COLUMN_DEFAULT FROM INFORMATION_SCHEMA.COLUMNS C " +
        "WHERE C.TABLE_SCHEMA = $1 AND " + ofBaseTable("C") + " ORDER BY C.TABLE_NAME, C.ORDINAL_POSITION",
      params: [schema],
    },
    primaryKeys: {
      text: "SELECT K.TABLE_NAME, K.COLUMN_NAME FROM INFORMATION_SCHEMA.TABLE_CONSTRAINTS C " +
        "JOIN INFORMATION_SCHEMA.KEY_COLUMN_USAGE K ON K.CONSTRAINT_NAME = C.CONSTRAINT_NAME " +
        "AND K.TABLE_SCHEMA = C.TABLE_SCHEMA AND K.TABLE_NAME = C.TABLE_NAME " +
        "WHERE C.TABLE_SCHEMA = $1 AND C.CONSTRAINT_TYPE = 'PRIMARY KEY' AND " + ofBaseTable("C") +
        " ORDER BY K.TABLE_NAME, K.ORDINAL_POSITION",
      params: [schema],
    },
    indexes: {
      text: "SELECT I.TABLE_NAME, I.INDEX_NAME, I.COLUMN_NAME, I.NON_UNIQUE, I.PRIMARY_KEY " +
        "FROM INFORMATION_SCHEMA.INDEXES I WHERE I.TABLE_SCHEMA = $1 AND " + ofBaseTable("I") +
        " ORDER BY I.TABLE_NAME, I.INDEX_NAME, I.ORDINAL_POSITION",
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
