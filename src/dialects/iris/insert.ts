/**
 * Inserts on IRIS, which has neither RETURNING nor multi-row VALUES. One row
 * is read back on the same connection, in the same transaction, right after
 * its INSERT: by the key that was sent, or by LAST_IDENTITY(), which IRIS
 * keeps per process, so concurrent sessions cannot see each other's. Many
 * rows go as single-row INSERTs, pipelined.
 */
import { ValidationError } from "../../errors.ts";
import type { AnyTable } from "../../schema.ts";
import { quoteIdent } from "../../sql.ts";
import { insertStatement } from "../../statements/insert.ts";
import type { Statement } from "../../statements/params.ts";
import { normalizeRow } from "../../statements/rows.ts";
import { selectStatement } from "../../statements/select.ts";
import type { Dialect, InsertManyPlan, InsertPlan } from "../dialect.ts";

/** Single-row INSERTs are pipelined in groups of this many. */
const PIPELINE_GROUP = 1000;

export function insertOne(dialect: Dialect, table: AnyTable, schema: string, row: Map<string, unknown>): InsertPlan {
  const insert = insertStatement(dialect, table, schema, row);
  const readBack = readBackStatement(dialect, table, schema, row);
  return readBack
    ? { statements: [insert, readBack], storedRow: "readBack" }
    : { statements: [insert], storedRow: "sent" };
}

/** A SELECT of the row just inserted, or undefined where nothing identifies it (no primary key). */
function readBackStatement(
  dialect: Dialect,
  table: AnyTable,
  schema: string,
  row: Map<string, unknown>,
): Statement | undefined {
  const pk = table.primaryKey;
  if (pk.length > 0 && pk.every((k) => row.has(k))) {
    return selectStatement(dialect, table, schema, { where: Object.fromEntries(pk.map((k) => [k, row.get(k)])) });
  }
  const generated = pk.filter((k) => table.columns[k].spec.generated);
  if (pk.length === 1 && generated.length === 1) {
    const s = selectStatement(dialect, table, schema, {});
    return { text: `${s.text} WHERE ${quoteIdent(pk[0])} = ${dialect.lastIdentitySql()}`, params: [] };
  }
  return undefined;
}

export function insertMany(
  dialect: Dialect,
  table: AnyTable,
  schema: string,
  rows: readonly unknown[],
): InsertManyPlan {
  const checked = rows.map((r, i) => {
    try {
      return normalizeRow(table, r, "insertMany", true);
    } catch (error) {
      if (error instanceof ValidationError) throw new ValidationError(`row ${i}: ${error.message}`, { cause: error });
      throw error;
    }
  });
  return {
    count: checked.length,
    statements: inserts(dialect, table, schema, checked),
    pipelineGroup: PIPELINE_GROUP,
  };
}

/** Built one at a time, as they are sent. */
function* inserts(
  dialect: Dialect,
  table: AnyTable,
  schema: string,
  rows: Map<string, unknown>[],
): Generator<Statement> {
  for (const row of rows) yield insertStatement(dialect, table, schema, row);
}
