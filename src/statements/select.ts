/** SELECT for find() and get(): columns, where, orderBy, limit/offset. */
import type { Dialect } from "../dialects/dialect.ts";
import { ValidationError } from "../errors.ts";
import { type AnyTable, type ColumnName, describeValue, type InferRow } from "../schema.ts";
import { quoteIdent } from "../sql.ts";
import { checkOptions, isPlainObject, selectList, wholeNumber } from "./inputs.ts";
import { Params, type Statement } from "./params.ts";
import { walkWhere, type Where } from "./where.ts";

/** find() options; C, the names in `columns`, narrows the rows find() returns (see Selected). */
export interface FindOptions<T extends AnyTable, C extends ColumnName<T> = ColumnName<T>> {
  /** Only rows matching this (leave out for every row). */
  where?: Where<T>;
  /** Sort by these columns, in the order the keys are written. */
  orderBy?: { [K in keyof InferRow<T>]?: "asc" | "desc" };
  /** At most this many rows (a whole number >= 0). */
  limit?: number;
  /** Skip this many rows first (a whole number >= 0); use with `orderBy` for stable pages. */
  offset?: number;
  /** The columns to read (a non-empty list); leave out for every column. */
  columns?: readonly C[];
}

export const FIND_OPTIONS: readonly string[] = ["where", "orderBy", "limit", "offset", "columns"];

export function selectStatement<T extends AnyTable>(
  dialect: Dialect,
  table: T,
  schema: string,
  options?: FindOptions<T>,
): Statement {
  options = checkOptions(table, options, "find", FIND_OPTIONS);
  const params = new Params(dialect);
  const limit = wholeNumber("limit", options.limit, table);
  const offset = wholeNumber("offset", options.offset, table);
  const list = selectList(table, options.columns);
  const where = walkWhere(dialect, table, options.where, params.add, true).sql;
  const order = orderBySql(table, options.orderBy as Record<string, unknown> | undefined);
  // TOP (IRIS) is literal text and only the tail binds: asked for after the where,
  // the tail's placeholders follow the where's, as they do in the text.
  const { top, tail } = dialect.limitSql(limit, offset, params.add);
  let text = `SELECT ${top}${list} FROM ${dialect.tableRef(table.name, table.schema ?? schema)}`;
  if (where) text += " WHERE " + where;
  return { text: text + order + tail, params: params.values };
}

function orderBySql(table: AnyTable, orderBy: Record<string, unknown> | undefined): string {
  if (orderBy === undefined) return "";
  if (!isPlainObject(orderBy)) {
    throw new ValidationError(
      `orderBy on table ${table.name} must be an object of column names to "asc" or "desc", like { ${
        table.columnNames[0]
      }: "desc" }, got ${describeValue(orderBy)}. Columns: ${table.columnNames.join(", ")}`,
    );
  }
  const parts = Object.entries(orderBy).map(([key, dir]) => {
    table.column(key, `orderBy on table ${table.name}`);
    if (dir !== "asc" && dir !== "desc") {
      throw new ValidationError(`orderBy ${table.name}.${key} must be "asc" or "desc", got ${describeValue(dir)}`);
    }
    return quoteIdent(table.declaredName(key)!) + (dir === "desc" ? " DESC" : " ASC");
  });
  return parts.length > 0 ? " ORDER BY " + parts.join(", ") : "";
}
