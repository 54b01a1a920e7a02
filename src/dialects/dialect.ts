/**
 * A dialect is data and pure functions: how one server family spells SQL and
 * which quirks it has. Nothing here does I/O. The engine, session and schema
 * layers ask the dialect instead of spelling server-specific SQL themselves.
 */
import type { ServerErrorInfo } from "../adapters/adapter.ts";
import type { IrisqlError } from "../errors.ts";
import type { CompileTarget } from "../sql.ts";

export type DialectName = "iris" | "postgres";

export type IsolationLevel =
  | "read uncommitted"
  | "read committed"
  | "repeatable read"
  | "serializable";

export interface BeginOptions {
  isolationLevel?: IsolationLevel;
  readOnly?: boolean;
}

/** Defaults a dialect chooses for the network adapter. */
export interface WireProfile {
  defaultPort: number;
  prepare: boolean;
  fetchTypes: boolean;
  ssl: false;
  max: number;
  idleTimeout: number;
  maxLifetime: number;
  prePing: boolean;
  /** Does the server honour the statement_timeout startup parameter? */
  serverStatementTimeout: boolean;
  /** Does the server stream with portals (Execute max_rows)? */
  serverCursors: boolean;
}

export interface Dialect extends CompileTarget {
  readonly name: DialectName;
  readonly defaultSchema: string;
  readonly wire: WireProfile;

  /** Quote one identifier. */
  quoteId(name: string): string;
  /** A table reference, schema-qualified unless it is the default schema. */
  tableRef(name: string, schema: string): string;

  beginSql(options?: BeginOptions): string;
  commitSql(): string;
  rollbackSql(): string;
  savepointSql(name: string): string;
  rollbackToSavepointSql(name: string): string;
  /** null where the server has no RELEASE SAVEPOINT (IRIS). */
  releaseSavepointSql(name: string): string | null;

  /** Rows affected by a DML command, or null where the server cannot say. */
  rowCount(command: string, count: number | null): number | null;

  /** Classify a server error. */
  mapError(info: ServerErrorInfo, sql: string): IrisqlError;
}
