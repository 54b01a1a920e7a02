/** Transaction control and connection clean-up on PostgreSQL. */
import { ValidationError } from "../../errors.ts";
import { quoteIdent } from "../../sql.ts";
import type { BeginOptions } from "../dialect.ts";

const ISOLATION: Record<string, string> = {
  "read uncommitted": "READ UNCOMMITTED",
  "read committed": "READ COMMITTED",
  "repeatable read": "REPEATABLE READ",
  "serializable": "SERIALIZABLE",
};

export function beginSql(options?: BeginOptions): string {
  let s = "BEGIN";
  if (options?.isolationLevel) s += " ISOLATION LEVEL " + isolation(options.isolationLevel);
  if (options?.readOnly) s += " READ ONLY";
  return s;
}

function isolation(level: string): string {
  const s = ISOLATION[level];
  if (!s) {
    throw new ValidationError(
      `Unknown isolation level ${
        JSON.stringify(level)
      }: use "read uncommitted", "read committed", "repeatable read" or "serializable"`,
    );
  }
  return s;
}

export const savepointSql = (name: string): string => "SAVEPOINT " + quoteIdent(name);
export const rollbackToSavepointSql = (name: string): string => "ROLLBACK TO SAVEPOINT " + quoteIdent(name);
export const releaseSavepointSql = (name: string): string => "RELEASE SAVEPOINT " + quoteIdent(name);

/**
 * DISCARD ALL without DEALLOCATE ALL (and DISCARD PLANS): the driver's prepared statements stay valid.
 * RESET ALL returns settings to the connection's startup values (TimeZone=UTC...). It starts by
 * lifting statement_timeout: the user's `SET statement_timeout = 1` would otherwise cancel the reset
 * itself on a busy machine, and the connection would be dropped instead of reused.
 */
export const sessionResetSql = "SET statement_timeout = 0; SET SESSION AUTHORIZATION DEFAULT; RESET ALL; " +
  "CLOSE ALL; UNLISTEN *; SELECT pg_advisory_unlock_all(); DISCARD TEMP; DISCARD SEQUENCES";
