/**
 * iris-pgwire sends every error with SQLSTATE 42000 and IRIS's own text,
 * e.g. `[SQLCODE: <-119>:<UNIQUE or PRIMARY KEY constraint failed uniqueness
 * check upon INSERT>] ...`. The SQLCODE is what tells one failure from another.
 * Codes from the InterSystems SQL reference (INSERT/UPDATE/DELETE "SQLCODE
 * Errors" sections) and sqlalchemy-iris's IntegrityError set {108,119,121,122}.
 */
import type { ServerErrorInfo } from "../../adapters/adapter.ts";
import {
  CheckViolationError,
  ForeignKeyViolationError,
  type IrisqlError,
  NotNullViolationError,
  QueryError,
  QueryTimeoutError,
  SerializationError,
  UndefinedTableError,
  UniqueViolationError,
} from "../../errors.ts";
import { queryErrorInfo } from "../query-error.ts";

const SQLCODE = /SQLCODE:?\s*<?\s*(-?\d+)\s*>?/i;

export function parseSqlcode(message: string): number | undefined {
  const m = SQLCODE.exec(message);
  return m ? Number(m[1]) : undefined;
}

/** The error class for an IRIS SQLCODE. */
export function classForSqlcode(sqlcode: number | undefined): typeof QueryError {
  switch (sqlcode) {
    case -119: // UNIQUE or PRIMARY KEY constraint failed uniqueness check upon INSERT
    case -120: // ... upon UPDATE
      return UniqueViolationError;
    case -121: // FOREIGN KEY constraint failed referential check upon INSERT/UPDATE of referencing row
    case -122:
    case -123: // ... upon DELETE/UPDATE of a referenced row
    case -124:
      return ForeignKeyViolationError;
    case -108: // Required field missing; INSERT or UPDATE not allowed
      return NotNullViolationError;
    case -104: // Field validation failed in INSERT
    case -105: // Field validation failed in UPDATE
      return CheckViolationError;
    case -30: // Table or view not found
      return UndefinedTableError;
    case -110: // Locking conflict in filing
    case -114: // One or more matching rows is locked by another user
      return SerializationError;
    default:
      return QueryError;
  }
}

/** Classify an error iris-pgwire sent: by its SQLCODE, or a client-side timeout it reports as 57014. */
export function mapError(info: ServerErrorInfo, sql: string): IrisqlError {
  const sqlcode = parseSqlcode(info.message);
  if (info.sqlstate === "57014" && /timeout/i.test(info.message)) {
    return new QueryTimeoutError("The statement ran longer than statementTimeout", { cause: info.cause });
  }
  const Class = classForSqlcode(sqlcode);
  return new Class(info.message, queryErrorInfo(info, sql, sqlcode));
}
