/** UPDATE and DELETE: both need a where, and refuse one that would silently hit every row. */
import type { Dialect } from "../dialects/dialect.ts";
import { ValidationError } from "../errors.ts";
import type { AnyTable } from "../schema.ts";
import { quoteIdent } from "../sql.ts";
import { isPlainObject, selectList } from "./inputs.ts";
import { Params, type Statement } from "./params.ts";
import { walkWhere } from "./where.ts";

/**
 * `values`: a row from normalizeRow (update). `returning`: every column of the rows
 * changed, as stored, where the dialect has RETURNING (else the caller reads them).
 */
export function updateStatement(
  dialect: Dialect,
  table: AnyTable,
  schema: string,
  where: unknown,
  values: Map<string, unknown>,
  returning = false,
): Statement {
  if (values.size === 0) throw new ValidationError(`update on table ${table.name} needs at least one column value`);
  if (where === undefined || where === null) {
    throw new ValidationError(`update on table ${table.name} needs a where; pass {} to update every row`);
  }
  const params = new Params(dialect);
  const sets: string[] = [];
  for (const [name, value] of values) {
    const spec = table.columns[name].spec;
    sets.push(`${quoteIdent(name)} = ${dialect.valueSql(spec, params.add(dialect.encode(spec, value)))}`);
  }
  let text = `UPDATE ${dialect.tableRef(table.name, table.schema ?? schema)} SET ${sets.join(", ")}`;
  const w = walkWhere(dialect, table, where, params.add, true).sql;
  if (w) text += " WHERE " + w;
  else refuseUndefinedOnly(where, "update", table);
  if (returning && dialect.supportsReturning) text += " RETURNING " + selectList(table);
  return { text, params: params.values };
}

export function deleteStatement(
  dialect: Dialect,
  table: AnyTable,
  schema: string,
  where: unknown,
  returning = false,
): Statement {
  if (where === undefined || where === null) {
    throw new ValidationError(`delete on table ${table.name} needs a where; pass {} to delete every row`);
  }
  const params = new Params(dialect);
  let text = `DELETE FROM ${dialect.tableRef(table.name, table.schema ?? schema)}`;
  const w = walkWhere(dialect, table, where, params.add, true).sql;
  if (w) text += " WHERE " + w;
  else refuseUndefinedOnly(where, "delete", table);
  if (returning && dialect.supportsReturning) text += " RETURNING " + selectList(table);
  return { text, params: params.values };
}

/**
 * `{ id: undefined }` compiles to no condition at all; for UPDATE and DELETE
 * that would hit every row, which is never what `{ id: maybeUndefined }` meant.
 */
function refuseUndefinedOnly(where: unknown, verb: "update" | "delete", table: AnyTable): void {
  if (isPlainObject(where) && Object.keys(where).length > 0) {
    throw new ValidationError(
      `${verb} on table ${table.name}: every value in where is undefined, so it would ${verb} every row; ` +
        `pass {} to ${verb} every row`,
    );
  }
}
