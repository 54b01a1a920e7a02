/** Row limiting on IRIS: TOP n, or LIMIT/OFFSET as bound parameters. */
import type { ParamFn } from "../dialect.ts";

/** OFFSET without LIMIT is buggy on IRIS 2025.1: always pair it with a limit. */
const NO_LIMIT = 2147483647;

/**
 * TOP n (a checked whole number) when there is no offset; LIMIT/OFFSET as bound
 * parameters otherwise, since a literal LIMIT n OFFSET m loses its OFFSET in
 * iris-pgwire. LIMIT/OFFSET needs IRIS 2025.1 or later.
 */
export function limitSql(
  limit: number | undefined,
  offset: number | undefined,
  param: ParamFn,
): { top: string; tail: string } {
  if (offset === undefined || offset === 0) {
    return { top: limit === undefined ? "" : `TOP ${limit} `, tail: "" };
  }
  return { top: "", tail: ` LIMIT ${param(limit ?? NO_LIMIT)} OFFSET ${param(offset)}` };
}
