/** The fields of a server error that every QueryError carries, whichever dialect classified it. */
import type { ServerErrorInfo } from "../adapters/adapter.ts";
import type { QueryErrorInfo } from "../errors.ts";

export function queryErrorInfo(info: ServerErrorInfo, sql: string, sqlcode?: number): QueryErrorInfo {
  return {
    sqlstate: info.sqlstate,
    sqlcode,
    detail: info.detail,
    constraint: info.constraint,
    table: info.table,
    column: info.column,
    sql,
    cause: info.cause,
  };
}
