/** PostgreSQL, and PGlite embedded; pgvector supplies vectors. */
import { quoteIdent } from "../../sql.ts";
import type { Dialect } from "../dialect.ts";
import { alter } from "./alter.ts";
import { connectionDefaults, schemes, wire } from "./connection.ts";
import { createIndexSql, createTableSql, dropTableSql } from "./ddl.ts";
import { encode, valueSql } from "./encode.ts";
import { mapError } from "./errors.ts";
import { meansVectorMissing } from "./pgvector.ts";
import { insertMany, insertOne } from "./insert.ts";
import { alreadyExists, hasIndexSql, hasTableSql, introspectionSql, readIntrospection } from "./introspection.ts";
import { limitSql } from "./limit.ts";
import { upsertOne } from "./upsert.ts";
import { DEFAULT_SCHEMA, tableRef } from "./names.ts";
import {
  beginSql,
  releaseSavepointSql,
  rollbackToSavepointSql,
  savepointSql,
  sessionResetSql,
} from "./transactions.ts";
import { columnType } from "./types.ts";
import { vectorOrderSql, vectorScoreSql } from "./vector.ts";
import { vectorExtension } from "./pgvector.ts";

export const postgresDialect: Dialect = {
  name: "postgres",
  defaultSchema: DEFAULT_SCHEMA,
  paramStyle: "reuse",
  wire,
  schemes,
  connectionDefaults,
  transactionModes: ["server"],
  defaultTransactions: "server",

  quoteId: quoteIdent,
  tableRef,

  beginSql,
  commitSql: () => "COMMIT",
  rollbackSql: () => "ROLLBACK",
  savepointSql,
  rollbackToSavepointSql,
  releaseSavepointSql,
  sessionResetSql,

  rowCount(_command, count) {
    return count;
  },
  command: (tag) => tag,
  mapError,
  vectorMissing: (info) => meansVectorMissing(info.sqlstate, info.message),

  columnType,
  createTableSql,
  dropTableSql,
  createIndexSql,
  hasTableSql,
  hasIndexSql,
  alreadyExists,
  introspectionSql,
  readIntrospection,
  alter,

  outbound: undefined,
  encode,
  valueSql,
  // The adapters already read PostgreSQL's values by type OID (adapters/types.ts).
  decodeValue: (_spec, raw) => raw,
  supportsReturning: true,
  supportsMultiRowInsert: true,
  lastIdentitySql: () => "lastval()",
  // Through `this`: a dialect spread from this one (tests run IRIS plans on PostgreSQL) spells its own SQL.
  insertOne(table, schema, row) {
    return insertOne(this, table, schema, row);
  },
  upsertOne(table, schema, row, target) {
    return upsertOne(this, table, schema, row, target);
  },
  insertMany(table, schema, rows, chunkSize) {
    return insertMany(this, table, schema, rows, chunkSize);
  },
  ilikeSql: (column, placeholder) => `${column} ILIKE ${placeholder}`,
  limitSql,

  vectorExtension,
  vectorScoreSql,
  vectorOrderSql,
};
