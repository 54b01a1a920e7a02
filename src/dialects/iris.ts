/**
 * InterSystems IRIS reached through iris-pgwire. Every choice here answers a
 * documented quirk (see shared/reference/iris-pgwire-behaviour.md, "§" below):
 * - placeholders are renumbered per occurrence: the server rewrites `$n` to `?`
 *   positionally (§5);
 * - postgres.js must not fetch pg_type on connect (§0.3);
 * - reused connections were the unstable part, so connections are recycled and
 *   pinged before a session gets one (§6);
 * - DML command tags always say 0 rows, so counts are null (§0.9);
 * - SQLSTATE is always 42000; the class comes from the SQLCODE (§0.10);
 * - no RELEASE SAVEPOINT in IRIS SQL (iris-sql-dialect.md §4.8).
 */
import type { ServerErrorInfo } from "../adapters/adapter.ts";
import { type IrisqlError, QueryTimeoutError } from "../errors.ts";
import { quoteIdent } from "../sql.ts";
import type { BeginOptions, Dialect } from "./dialect.ts";
import { classForSqlcode, parseSqlcode } from "./iris-errors.ts";

export const irisDialect: Dialect = {
  name: "iris",
  defaultSchema: "SQLUser",
  paramStyle: "repeat",
  wire: {
    defaultPort: 5432,
    prepare: true,
    fetchTypes: false,
    ssl: false,
    // iris-pgwire runs IRIS work on 10 threads shared by all clients.
    max: 5,
    idleTimeout: 60_000,
    maxLifetime: 5 * 60_000,
    prePing: true,
    // SET/startup parameters never reach IRIS (§2): time out on the client.
    serverStatementTimeout: false,
    // Execute's max_rows is ignored (§1): results arrive whole.
    serverCursors: false,
  },

  quoteId: quoteIdent,
  tableRef(name, schema) {
    return schema.toLowerCase() === "sqluser" ? quoteIdent(name) : quoteIdent(schema) + "." + quoteIdent(name);
  },

  beginSql(options?: BeginOptions) {
    let s = "START TRANSACTION";
    const level = options?.isolationLevel;
    if (level) {
      // IRIS knows READ UNCOMMITTED, READ COMMITTED and READ VERIFIED.
      if (level !== "read uncommitted" && level !== "read committed") {
        throw new TypeError(
          `IRIS supports isolation levels "read uncommitted" and "read committed", not ${JSON.stringify(level)}`,
        );
      }
      s += " ISOLATION LEVEL " + level.toUpperCase();
    }
    if (options?.readOnly) s += level ? ", READ ONLY" : " READ ONLY";
    return s;
  },
  commitSql: () => "COMMIT",
  rollbackSql: () => "ROLLBACK",
  savepointSql: (name) => "SAVEPOINT " + savepointName(name),
  rollbackToSavepointSql: (name) => "ROLLBACK TO SAVEPOINT " + savepointName(name),
  releaseSavepointSql: () => null,

  rowCount(command, count) {
    return /^(INSERT|UPDATE|DELETE|MERGE)/i.test(command) ? null : count;
  },

  mapError(info: ServerErrorInfo, sql: string): IrisqlError {
    const sqlcode = parseSqlcode(info.message);
    if (info.sqlstate === "57014" && /timeout/i.test(info.message)) {
      return new QueryTimeoutError("The statement ran longer than statementTimeout", { cause: info.cause });
    }
    const Class = classForSqlcode(sqlcode);
    return new Class(info.message, {
      sqlstate: info.sqlstate,
      sqlcode,
      detail: info.detail,
      constraint: info.constraint,
      table: info.table,
      column: info.column,
      sql,
      cause: info.cause,
    });
  },
};

/** IRIS savepoint names: unquoted, case-insensitive, must not start with SYS. */
function savepointName(name: string): string {
  if (!/^[A-Za-z][A-Za-z0-9_]{0,30}$/.test(name) || /^sys/i.test(name)) {
    throw new TypeError(`Invalid IRIS savepoint name ${JSON.stringify(name)}`);
  }
  return name;
}
