/**
 * Inserts on PostgreSQL: one row with RETURNING; many rows as multi-row
 * INSERTs, each sent as soon as it is built.
 */
import type { AnyTable } from "../../schema.ts";
import { batchInserts, insertStatement } from "../../statements/insert.ts";
import { normalizeRows } from "../../statements/rows.ts";
import type { Dialect, InsertManyPlan, InsertPlan } from "../dialect.ts";

export function insertOne(dialect: Dialect, table: AnyTable, schema: string, row: Map<string, unknown>): InsertPlan {
  return { statements: [insertStatement(dialect, table, schema, row)], storedRow: "returned" };
}

export function insertMany(
  dialect: Dialect,
  table: AnyTable,
  schema: string,
  rows: readonly unknown[],
  chunkSize: number,
): InsertManyPlan {
  // Every row is checked here; each chunk's statement is built as it is sent.
  const batch = normalizeRows(table, rows, "insertMany");
  return {
    count: batch.count,
    statements: batchInserts(dialect, table, schema, batch, chunkSize),
    pipelineGroup: undefined,
  };
}
