/**
 * upsert() on IRIS: INSERT OR UPDATE, then the row read back by its conflict key on
 * the same connection (IRIS has no RETURNING). INSERT OR UPDATE decides "the row
 * exists" by every unique key of the table (the IDKEY included), and updates every
 * column it is given. PostgreSQL's ON CONFLICT (key) looks at that one key, fails on
 * the others, and updates the columns asked for. So irisql refuses, before sending
 * anything, an upsert where the two could differ:
 * - `update` other than every given column outside the key;
 * - a table with another unique key whose values this row sets (that key could match
 *   another row, which IRIS would update where PostgreSQL raises a unique violation).
 *   A key holding a generated IDENTITY column the row leaves out cannot match.
 */
import { UnsupportedFeatureError } from "../../errors.ts";
import type { AnyTable } from "../../schema.ts";
import { insertStatement } from "../../statements/insert.ts";
import { selectStatement } from "../../statements/select.ts";
import { sameColumns, uniqueKeys, type UpsertTarget } from "../../statements/upsert.ts";
import type { Dialect, InsertPlan } from "../dialect.ts";

export function upsertOne(
  dialect: Dialect,
  table: AnyTable,
  schema: string,
  row: Map<string, unknown>,
  target: UpsertTarget,
): InsertPlan {
  const rest = [...row.keys()].filter((c) => !target.conflict.includes(c));
  if (!sameColumns(rest, target.update)) {
    throw new UnsupportedFeatureError(
      `upsert on table ${table.name}: IRIS's INSERT OR UPDATE updates every column it is given ` +
        `(${rest.join(", ") || "none besides the key"}), so update [${target.update.join(", ")}] cannot mean the ` +
        `same there. Leave update out, or give only the columns to update (plus the key). Nothing was sent.`,
    );
  }
  for (const key of uniqueKeys(table)) {
    if (sameColumns(key, target.conflict)) continue;
    const fresh = key.some((c) => table.columns[c].spec.generated && !target.given.has(c));
    if (!fresh) {
      throw new UnsupportedFeatureError(
        `upsert on table ${table.name}: IRIS's INSERT OR UPDATE matches an existing row on any unique key, ` +
          `and this table has [${key.join(", ")}] besides [${target.conflict.join(", ")}]: it could update ` +
          `another row where PostgreSQL's ON CONFLICT would fail. Nothing was sent.`,
      );
    }
  }
  const readBack = selectStatement(dialect, table, schema, {
    where: Object.fromEntries(target.conflict.map((c) => [c, row.get(c)])),
  });
  return {
    statements: [insertStatement(dialect, table, schema, row, "INSERT OR UPDATE"), readBack],
    storedRow: "readBack",
  };
}
