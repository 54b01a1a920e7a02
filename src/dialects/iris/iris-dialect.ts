/**
 * InterSystems IRIS reached through iris-pgwire. Every choice in this folder
 * answers a known behaviour of the wire server or of IRIS SQL
 * (docs/ARCHITECTURE.md has the decisions):
 * - placeholders are renumbered per occurrence: the server rewrites `$n` to `?`
 *   positionally (paramStyle "repeat");
 * - DML command tags always say 0 rows (or the command is UNKNOWN), so counts are null;
 * - SQLSTATE is always 42000; the class comes from the SQLCODE (errors.ts);
 * - no RETURNING, no multi-row VALUES (insert.ts), no RELEASE SAVEPOINT.
 */
import type { Dialect } from "../dialect.ts";
import { alter } from "./alter.ts";
import { connectionDefaults, schemes, wire } from "./connection.ts";
import { createIndexSql, createTableSql, dropTableSql } from "./ddl.ts";
import { decodeIrisValue } from "./decode.ts";
import { encode, valueSql } from "./encode.ts";
import { mapError } from "./errors.ts";
import { insertMany, insertOne } from "./insert.ts";
import { alreadyExists, hasIndexSql, hasTableSql, introspectionSql, readIntrospection } from "./introspection.ts";
import { limitSql } from "./limit.ts";
import { upsertOne } from "./upsert.ts";
import { outbound } from "./outbound.ts";
import { DEFAULT_SCHEMA, quoteId, tableRef } from "./names.ts";
import { beginSql, rollbackToSavepointSql, savepointSql } from "./transactions.ts";
import { columnType } from "./types.ts";
import { vectorOrderSql, vectorScoreSql } from "./vector.ts";

export const irisDialect: Dialect = {
  name: "iris",
  defaultSchema: DEFAULT_SCHEMA,
  paramStyle: "repeat",
  wire,
  schemes,
  connectionDefaults,
  // iris-pgwire embedded in IRIS runs BEGIN/COMMIT/ROLLBACK; outside IRIS (pip install) it answers
  // them and commits every statement. The wire does not say which: the user must.
  transactionModes: ["server", "autocommit"],
  defaultTransactions: undefined,

  quoteId,
  tableRef,

  beginSql,
  commitSql: () => "COMMIT",
  rollbackSql: () => "ROLLBACK",
  savepointSql,
  rollbackToSavepointSql,
  releaseSavepointSql: () => null,
  // iris-pgwire acknowledges SET/RESET without passing them to IRIS, and IRIS work runs on
  // processes shared by all its clients: a wire connection holds no settings to undo.
  sessionResetSql: null,

  // DML tags say 0 rows (or, for DML behind irisql's comment, the command is UNKNOWN): no count.
  rowCount(command, count) {
    return /^(INSERT|UPDATE|DELETE|MERGE|UNKNOWN)/i.test(command) ? null : count;
  },
  // iris-pgwire cannot name the command of DML behind irisql's comment (UNKNOWN): the statement's first word does.
  command(tag, text) {
    return tag === "UNKNOWN" ? /^\s*([A-Za-z]+)/.exec(text)?.[1]?.toUpperCase() ?? "" : tag;
  },
  mapError,
  // IRIS has VECTOR built in.
  vectorMissing: () => false,

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

  outbound,
  encode,
  valueSql,
  decodeValue: decodeIrisValue,
  supportsReturning: false,
  supportsMultiRowInsert: false,
  lastIdentitySql: () => "LAST_IDENTITY()",
  // Through `this`: a dialect spread from this one (tests run IRIS plans on PostgreSQL) spells its own SQL.
  insertOne(table, schema, row) {
    return insertOne(this, table, schema, row);
  },
  upsertOne(table, schema, row, target) {
    return upsertOne(this, table, schema, row, target);
  },
  insertMany(table, schema, rows) {
    return insertMany(this, table, schema, rows);
  },
  // IRIS has no ILIKE; irisql's string columns are COLLATE %EXACT, so LIKE alone is case-sensitive.
  ilikeSql: (column, placeholder) => `LOWER(${column}) LIKE LOWER(${placeholder})`,
  limitSql,

  vectorScoreSql,
  vectorOrderSql,
};
