/**
 * PostgreSQL (and PGlite) spelling. pgvector supplies vectors.
 */
import type { ServerErrorInfo } from "../adapters/adapter.ts";
import { classForSqlstate, type IrisqlError, QueryTimeoutError } from "../errors.ts";
import { quoteIdent } from "../sql.ts";
import type { BeginOptions, Dialect } from "./dialect.ts";

const ISOLATION: Record<string, string> = {
  "read uncommitted": "READ UNCOMMITTED",
  "read committed": "READ COMMITTED",
  "repeatable read": "REPEATABLE READ",
  "serializable": "SERIALIZABLE",
};

export const postgresDialect: Dialect = {
  name: "postgres",
  defaultSchema: "public",
  paramStyle: "reuse",
  wire: {
    defaultPort: 5432,
    prepare: true,
    fetchTypes: false,
    ssl: false,
    max: 10,
    idleTimeout: 0,
    maxLifetime: 30 * 60_000,
    prePing: false,
    serverStatementTimeout: true,
    serverCursors: true,
  },

  quoteId: quoteIdent,
  tableRef(name, schema) {
    return schema === "public" ? quoteIdent(name) : quoteIdent(schema) + "." + quoteIdent(name);
  },

  beginSql(options?: BeginOptions) {
    let s = "BEGIN";
    if (options?.isolationLevel) s += " ISOLATION LEVEL " + isolation(options.isolationLevel);
    if (options?.readOnly) s += " READ ONLY";
    return s;
  },
  commitSql: () => "COMMIT",
  rollbackSql: () => "ROLLBACK",
  savepointSql: (name) => "SAVEPOINT " + quoteIdent(name),
  rollbackToSavepointSql: (name) => "ROLLBACK TO SAVEPOINT " + quoteIdent(name),
  releaseSavepointSql: (name) => "RELEASE SAVEPOINT " + quoteIdent(name),

  rowCount(_command, count) {
    return count;
  },

  mapError(info: ServerErrorInfo, sql: string): IrisqlError {
    if (info.sqlstate === "57014" && /statement timeout/i.test(info.message)) {
      return new QueryTimeoutError(`The statement ran longer than statementTimeout and was cancelled by the server`, {
        cause: info.cause,
      });
    }
    const Class = classForSqlstate(info.sqlstate);
    const code = info.sqlstate ? ` [SQLSTATE ${info.sqlstate}]` : "";
    return new Class(info.message + code, {
      sqlstate: info.sqlstate,
      detail: info.detail,
      constraint: info.constraint,
      table: info.table,
      column: info.column,
      sql,
      cause: info.cause,
    });
  },
};

function isolation(level: string): string {
  const s = ISOLATION[level];
  if (!s) throw new TypeError(`Unknown isolation level ${JSON.stringify(level)}`);
  return s;
}
