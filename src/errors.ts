/**
 * Every error irisql throws is an `IrisqlError`. Subclasses say what kind of
 * failure it was so callers can branch with `instanceof` instead of parsing
 * messages. Messages never contain a password.
 */

/** Longest SQL text kept on a QueryError: enough to recognise, not a log flood. */
export const MAX_SQL_IN_ERROR = 500;

/**
 * The base class of every error irisql throws, so one `instanceof IrisqlError`
 * tells irisql's errors from anything else. The subclasses say what kind of
 * failure it was; `cause` holds the driver's or server's original error when
 * there is one. Messages never contain a password.
 *
 * @example Telling irisql's errors apart
 * ```ts
 * import { createEngine, IrisqlError, UniqueViolationError } from "irisql";
 *
 * const engine = createEngine("pglite://memory");
 * await engine.execute("CREATE TABLE tags (name text PRIMARY KEY)");
 * await engine.execute("INSERT INTO tags VALUES ('a')");
 * try {
 *   await engine.execute("INSERT INTO tags VALUES ('a')");
 * } catch (error) {
 *   if (error instanceof UniqueViolationError) console.log("already there:", error.constraint);
 *   else if (error instanceof IrisqlError) console.log(error.name, error.message);
 *   else throw error;
 * }
 * await engine.dispose();
 * ```
 */
export class IrisqlError extends Error {
  /** The class name, also on instances, so logs and `JSON.stringify` show it. */
  override name = "IrisqlError";
  /**
   * Set when insertMany() failed part way with transactions: "autocommit": the rows
   * before the failing one, which stay written (nothing can take them back).
   */
  declare readonly rowsWritten?: number;
  /** An error with `message`; `options.cause` is kept as the standard `cause`. */
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
  }
}

/** A URL, an option or a definition that cannot work; nothing was sent. */
export class ConfigError extends IrisqlError {
  /** The class name, also on instances. */
  override name = "ConfigError";
}

/** An optional driver package is not installed. */
export class DriverMissingError extends IrisqlError {
  /** The class name, also on instances. */
  override name = "DriverMissingError";
}

/** The server could not be reached, refused us, or dropped the connection. */
export class ConnectionError extends IrisqlError {
  /** The class name, also on instances. */
  override name = "ConnectionError";
  /** The host irisql tried to reach, when the failure concerns one. */
  readonly host?: string;
  /** The port irisql tried to reach, when the failure concerns one. */
  readonly port?: number;
  /** The driver's or system's error code (such as "ECONNREFUSED" or "CONNECTION_DESTROYED"), when there is one. */
  readonly code?: string;
  /** An error with `message` and what is known of where it happened; `info.cause` becomes `cause`. */
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
  /** The class name, also on instances. */
  override name = "PoolTimeoutError";
}

/** The server cancelled the statement because `statementTimeout` passed. */
export class QueryTimeoutError extends IrisqlError {
  /** The class name, also on instances. */
  override name = "QueryTimeoutError";
}

/** The caller's AbortSignal fired before the statement finished. */
export class QueryCancelledError extends IrisqlError {
  /** The class name, also on instances. */
  override name = "QueryCancelledError";
}

/** Input rejected before anything was sent (bad parameter, column, vector...). */
export class ValidationError extends IrisqlError {
  /** The class name, also on instances. */
  override name = "ValidationError";
}

/** The dialect cannot express what was asked (e.g. L2 HNSW on IRIS). */
export class UnsupportedFeatureError extends IrisqlError {
  /** The class name, also on instances. */
  override name = "UnsupportedFeatureError";
}

/** A session, connection or transaction was used after it finished. */
export class SessionClosedError extends IrisqlError {
  /** The class name, also on instances. */
  override name = "SessionClosedError";
}

/**
 * The engine was disposed: every use after dispose() fails with this one class,
 * whether it goes through the engine, or a session, connection or transaction
 * made before (a SessionClosedError too: what it belongs to has finished).
 */
export class EngineDisposedError extends SessionClosedError {
  /** The class name, also on instances. */
  override name = "EngineDisposedError";
  /** An error with `message`; the default one says to create a new engine. */
  constructor(message = "The engine was disposed and can no longer be used; create a new one with createEngine()") {
    super(message);
  }
}

/** What a {@linkcode QueryError} carries besides its message; every field is optional. */
export interface QueryErrorInfo {
  /** The five-character SQLSTATE the server sent. */
  sqlstate?: string;
  /** The IRIS SQLCODE (negative). */
  sqlcode?: number;
  /** The server's DETAIL text. */
  detail?: string;
  /** The name of the constraint that failed. */
  constraint?: string;
  /** The table the server named. */
  table?: string;
  /** The column the server named. */
  column?: string;
  /** The statement that failed; the error keeps at most its first 500 characters. */
  sql?: string;
  /** The driver's original error. */
  cause?: unknown;
}

/** The server rejected a statement. */
export class QueryError extends IrisqlError {
  /** The class name, also on instances. */
  override name = "QueryError";
  /** SQLSTATE as the server sent it (always "42000" on IRIS). */
  readonly sqlstate?: string;
  /** IRIS SQLCODE (negative), parsed from the message. */
  readonly sqlcode?: number;
  /** The server's DETAIL text, when it sent one. */
  readonly detail?: string;
  /** The name of the constraint that failed, when the server named it. */
  readonly constraint?: string;
  /** The table the server named, when it named one. */
  readonly table?: string;
  /** The column the server named, when it named one. */
  readonly column?: string;
  /** The statement, cut to MAX_SQL_IN_ERROR characters. */
  readonly sql?: string;
  /** An error with `message` and the server's details; `info.sql` is cut to MAX_SQL_IN_ERROR characters. */
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

/** A UNIQUE or PRIMARY KEY constraint refused the row (SQLSTATE 23505; IRIS SQLCODE -119, -120). */
export class UniqueViolationError extends QueryError {
  /** The class name, also on instances. */
  override name = "UniqueViolationError";
}
/** A FOREIGN KEY constraint refused the change (SQLSTATE 23503; IRIS SQLCODE -121 to -124). */
export class ForeignKeyViolationError extends QueryError {
  /** The class name, also on instances. */
  override name = "ForeignKeyViolationError";
}
/** A NOT NULL column got no value (SQLSTATE 23502; IRIS SQLCODE -108). */
export class NotNullViolationError extends QueryError {
  /** The class name, also on instances. */
  override name = "NotNullViolationError";
}
/** A CHECK constraint or field validation refused the value (SQLSTATE 23514; IRIS SQLCODE -104, -105). */
export class CheckViolationError extends QueryError {
  /** The class name, also on instances. */
  override name = "CheckViolationError";
}
/** The statement names a table the server does not have (SQLSTATE 42P01; IRIS SQLCODE -30). */
export class UndefinedTableError extends QueryError {
  /** The class name, also on instances. */
  override name = "UndefinedTableError";
}
/**
 * The server gave up the statement to keep concurrent transactions apart: a
 * serialization failure or deadlock (SQLSTATE 40001, 40P01), or an IRIS lock
 * conflict (SQLCODE -110, -114). Running the whole transaction again may succeed.
 */
export class SerializationError extends QueryError {
  /** The class name, also on instances. */
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
  /** The class name, also on instances. */
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
  /** The class name, also on instances. */
  override name = "TransactionRolledBackError";
  /** What was rolled back: the whole transaction, or one savepoint inside it. */
  readonly scope: "transaction" | "savepoint";
  /** An error with `message`, what was rolled back, and the first failure as `cause`. */
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
  /** The class name, also on instances. */
  override name = "RowCountError";
  /** How many rows there were instead of one. */
  readonly count: number;
  /** An error with `message` and the number of rows found. */
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
  /** The class name, also on instances. */
  override name = "TransactionsUnavailableError";
}
