/** Row limiting on PostgreSQL. */
import type { ParamFn } from "../dialect.ts";

/** LIMIT and OFFSET as bound parameters, after the rest of the statement. */
export function limitSql(
  limit: number | undefined,
  offset: number | undefined,
  param: ParamFn,
): { top: string; tail: string } {
  let tail = "";
  if (limit !== undefined) tail += " LIMIT " + param(limit);
  if (offset !== undefined && offset > 0) tail += " OFFSET " + param(offset);
  return { top: "", tail };
}
