/**
 * Every error irisql throws is an `IrisqlError`. Subclasses say what kind of
 * failure it was so callers can branch with `instanceof` instead of parsing
 * messages. Messages never contain a password.
 */

/** Longest SQL text kept on a QueryError: enough to recognise, not a log flood. */
export const MAX_SQL_IN_ERROR = 500;

export class IrisqlError extends Error {
  override name = "IrisqlError";
  /**
   * Set when insertMany() failed part way with transactions: "autocommit": the rows
   * before the failing one, which stay written (nothing can take them back).
   */
  declare readonly rowsWritten?: number;
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
  }
}

/** A URL, an option or a definition that cannot work; nothing was sent. */
export class ConfigError extends IrisqlError {
  override name = "ConfigError";
}

/** An optional driver package is not installed. */
export class DriverMissingError extends IrisqlError {
  override name = "DriverMissingError";
}

/** The server could not be reached, refused us, or dropped the connection. */
export class ConnectionError extends IrisqlError {
  override name = "ConnectionError";
  readonly host?: string;
  readonly port?: number;
  readonly code?: string;
  constructor(
    message: string,
    info: { host?: string; port?: number; code?: string; cause?: unknown } = {},
  ) {
    super(message, { cause: info.cause });
    this.host = info.host;
    this.port = info.port;
    this.code = info.code;
  }
}

/** No connection became free within `pool.acquireTimeout`. */
export class PoolTimeoutError extends IrisqlError {
  override name = "PoolTimeoutError";
}

/** The server cancelled the statement because `statementTimeout` passed. */
export class QueryTimeoutError extends IrisqlError {
  override name = "QueryTimeoutError";
}

/** The caller's AbortSignal fired before the statement finished. */
export class QueryCancelledError extends IrisqlError {
  override name = "QueryCancelledError";
}

/** Input rejected before anything was sent (bad parameter, column, vector...). */
export class ValidationError extends IrisqlError {
  override name = "ValidationError";
}

/** The dialect cannot express what was asked (e.g. L2 HNSW on IRIS). */
export class UnsupportedFeatureError extends IrisqlError {
  override name = "UnsupportedFeatureError";
}

/** A session, connection or transaction was used after it finished. */
export class SessionClosedError extends IrisqlError {
  override name = "SessionClosedError";
}

/**
 * The engine was disposed: every use after dispose() fails with this one class,
 * whether it goes through the engine, or a session, connection or transaction
 * made before (a SessionClosedError too: what it belongs to has finished).
 */
export class EngineDisposedError extends SessionClosedError {
  override name = "EngineDisposedError";
  constructor(message = "The engine was disposed and can no longer be used; create a new one with createEngine()") {
    super(message);
  }
}

export interface QueryErrorInfo {
  sqlstate?: string;
  sqlcode?: number;
  detail?: string;
  constraint?: string;
  table?: string;
  column?: string;
  sql?: string;
  cause?: unknown;
}

/** The server rejected a statement. */
export class QueryError extends IrisqlError {
  override name = "QueryError";
  /** SQLSTATE as the server sent it (always "42000" on IRIS). */
  readonly sqlstate?: string;
  /** IRIS SQLCODE (negative), parsed from the message. */
  readonly sqlcode?: number;
  readonly detail?: string;
  readonly constraint?: string;
  readonly table?: string;
  readonly column?: string;
  /** The statement, cut to MAX_SQL_IN_ERROR characters. */
  readonly sql?: string;
  constructor(message: string, info: QueryErrorInfo = {}) {
    super(message, { cause: info.cause });
    this.sqlstate = info.sqlstate;
    this.sqlcode = info.sqlcode;
    this.detail = info.detail;
    this.constraint = info.constraint;
    this.table = info.table;
    this.column = info.column;
    this.sql = info.sql === undefined ? undefined : cutSql(info.sql);
  }
}

export class UniqueViolationError extends QueryError {
  override name = "UniqueViolationError";
}
export class ForeignKeyViolationError extends QueryError {
  override name = "ForeignKeyViolationError";
}
export class NotNullViolationError extends QueryError {
  override name = "NotNullViolationError";
}
export class CheckViolationError extends QueryError {
  override name = "CheckViolationError";
}
export class UndefinedTableError extends QueryError {
  override name = "UndefinedTableError";
}
export class SerializationError extends QueryError {
  override name = "SerializationError";
}

export function cutSql(sql: string): string {
  return sql.length <= MAX_SQL_IN_ERROR ? sql : sql.slice(0, MAX_SQL_IN_ERROR) + " …";
}

/**
 * A statement was sent into a PostgreSQL transaction that an earlier error had
 * aborted (SQLSTATE 25P02): the server ignores everything until the transaction
 * ends. Catching an error does not undo it on the server; to go on after a
 * statement that may fail, run it inside `savepoint()`.
 */
export class TransactionAbortedError extends QueryError {
  override name = "TransactionAbortedError";
}

/**
 * What was meant to be committed was rolled back instead: a statement inside
 * the transaction (or savepoint) failed, and its error was caught while the work
 * went on. `cause` is that first failure. Nothing the transaction (or savepoint)
 * did is stored. On every server irisql refuses such a commit the same way, even
 * where the server itself would keep the statements that succeeded (IRIS).
 */
export class TransactionRolledBackError extends IrisqlError {
  override name = "TransactionRolledBackError";
  /** What was rolled back: the whole transaction, or one savepoint inside it. */
  readonly scope: "transaction" | "savepoint";
  constructor(message: string, info: { scope: "transaction" | "savepoint"; cause?: unknown }) {
    super(message, { cause: info.cause });
    this.scope = info.scope;
  }
}

/**
 * A statement that must find exactly one row found none or several:
 * `Result.one()`, or reading back a row just inserted where the server has no
 * RETURNING (IRIS).
 */
export class RowCountError extends IrisqlError {
  override name = "RowCountError";
  readonly count: number;
  constructor(message: string, count: number) {
    super(message);
    this.count = count;
  }
}

/**
 * The server cannot undo work, so irisql refuses what would promise it could:
 * `begin()`, a savepoint, or a session write where nobody said how the server
 * commits (iris-pgwire outside IRIS commits every statement at once), and
 * `rollback()` after writes in `transactions: "autocommit"` mode. Nothing was
 * sent when it is thrown before a write.
 */
export class TransactionsUnavailableError extends IrisqlError {
  override name = "TransactionsUnavailableError";
}
