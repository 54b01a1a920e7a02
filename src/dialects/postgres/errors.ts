/** PostgreSQL errors are classified by SQLSTATE. */
import type { ServerErrorInfo } from "../../adapters/adapter.ts";
import {
  CheckViolationError,
  ForeignKeyViolationError,
  type IrisqlError,
  NotNullViolationError,
  QueryError,
  QueryTimeoutError,
  SerializationError,
  TransactionAbortedError,
  UndefinedTableError,
  UniqueViolationError,
} from "../../errors.ts";
import { queryErrorInfo } from "../query-error.ts";
import { meansVectorMissing, VECTOR_ADVICE } from "./pgvector.ts";

/** QueryError subclass for a PostgreSQL SQLSTATE. */
export function classForSqlstate(sqlstate: string | undefined): typeof QueryError {
  switch (sqlstate) {
    case "23505":
      return UniqueViolationError;
    case "23503":
      return ForeignKeyViolationError;
    case "23502":
      return NotNullViolationError;
    case "23514":
      return CheckViolationError;
    case "42P01":
      return UndefinedTableError;
    case "40001":
    case "40P01":
      return SerializationError;
    case "25P02":
      return TransactionAbortedError;
    default:
      return QueryError;
  }
}

export function mapError(info: ServerErrorInfo, sql: string): IrisqlError {
  if (info.sqlstate === "57014" && /statement timeout/i.test(info.message)) {
    return new QueryTimeoutError(`The statement ran longer than statementTimeout and was cancelled by the server`, {
      cause: info.cause,
    });
  }
  const Class = classForSqlstate(info.sqlstate);
  if (info.sqlstate === "25P02") {
    return new Class(
      "The transaction was aborted by an earlier error in it, and the server ignores every statement until it ends. " +
        "Catching an error does not undo it on the server: run statements that may fail inside savepoint() " +
        "to go on after an error [SQLSTATE 25P02]",
      queryErrorInfo(info, sql),
    );
  }
  const code = info.sqlstate ? ` [SQLSTATE ${info.sqlstate}]` : "";
  const detail = info.detail ? ` (${info.detail})` : "";
  // `type "vector" does not exist` alone does not say that an extension is missing, nor which.
  const advice = meansVectorMissing(info.sqlstate, info.message) ? `. ${VECTOR_ADVICE}` : "";
  return new Class(info.message + detail + advice + code, queryErrorInfo(info, sql));
}
