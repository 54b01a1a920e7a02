/** upsert() on PostgreSQL: INSERT ... ON CONFLICT (key) DO UPDATE ... RETURNING, one statement. */
import type { AnyTable } from "../../schema.ts";
import { quoteIdent } from "../../sql.ts";
import { insertStatement } from "../../statements/insert.ts";
import type { UpsertTarget } from "../../statements/upsert.ts";
import type { Dialect, InsertPlan } from "../dialect.ts";

export function upsertOne(
  dialect: Dialect,
  table: AnyTable,
  schema: string,
  row: Map<string, unknown>,
  target: UpsertTarget,
): InsertPlan {
  // Nothing to update: set a key column to itself, so the existing row is still returned (DO NOTHING returns none).
  const set = (target.update.length > 0 ? target.update : target.conflict.slice(0, 1))
    .map((c) => `${quoteIdent(c)} = EXCLUDED.${quoteIdent(c)}`);
  const tail = ` ON CONFLICT (${target.conflict.map(quoteIdent).join(", ")}) DO UPDATE SET ${set.join(", ")}`;
  return { statements: [insertStatement(dialect, table, schema, row, "INSERT INTO", tail)], storedRow: "returned" };
}
