/** Row limiting on IRIS: TOP n. */
import { UnsupportedFeatureError } from "../../errors.ts";
import type { ParamFn } from "../dialect.ts";

/**
 * TOP n (a checked whole number). An offset is refused: iris-pgwire (1.7.3) puts
 * the values of LIMIT ? OFFSET ? into the text and then rewrites the statement's
 * LIMIT into TOP, dropping the OFFSET, so the first rows would come back instead
 * of the asked-for page.
 */
export function limitSql(
  limit: number | undefined,
  offset: number | undefined,
  _param: ParamFn,
): { top: string; tail: string } {
  if (offset !== undefined && offset !== 0) {
    throw new UnsupportedFeatureError(
      "find({ offset }) cannot be sent to IRIS: iris-pgwire drops the OFFSET and returns the first rows. " +
        "Page by key instead (where: { id: { gt: lastId } } with orderBy and limit).",
    );
  }
  return { top: limit === undefined ? "" : `TOP ${limit} `, tail: "" };
}
