/**
 * The error texts both network adapters (postgres.js, Bun.SQL) give for the same
 * events of irisql's pool: a statement past its deadline, a connection given up, no
 * connection free in time, a cancelled statement, a failed login.
 */
import { ConnectionError, PoolTimeoutError, QueryCancelledError, QueryError, QueryTimeoutError } from "../errors.ts";
import type { LinkPoolOptions } from "./postgresjs-pool.ts";
import { MAX_PARAMS } from "./adapter.ts";

/** SQLSTATEs that mean we could not log in or the session was killed. */
export const CONNECTION_SQLSTATES: Record<string, string> = {
  "28P01": "authentication failed",
  "28000": "authentication rejected",
  "3D000": "database does not exist",
  "57P01": "the server terminated the connection",
  "57P02": "the server terminated the connection",
  "57P03": "the server is not accepting connections yet",
  "53300": "too many connections for the server",
};

/**
 * The pool's statement deadline and its two errors. Without a statementTimeout nothing is
 * given up. Where the server enforces it, the client waits a margin longer for the server's
 * own error (it reports the timeout better); beyond that the server or the network is not
 * answering. Where it does not (IRIS), the client ends it. `where` names the server now.
 */
export function deadlineOptions(
  config: { statementTimeout: number; serverTimeout: boolean },
  where: () => { label: string; host: string; port: number },
): Pick<LinkPoolOptions, "deadline" | "deadlineError" | "abandonedError"> {
  const timeout = config.statementTimeout;
  const margin = config.serverTimeout ? Math.max(1000, Math.round(timeout / 2)) : 0;
  const deadline = timeout > 0 ? timeout + margin : 0;
  return {
    deadline,
    deadlineError: () =>
      new QueryTimeoutError(
        config.serverTimeout
          ? `No answer from the server at ${where().label} within ${deadline} ms (statementTimeout ${timeout} ms plus ` +
            `${margin} ms for the server's own timeout to arrive); the statement's connection was closed`
          : `The statement ran longer than statementTimeout (${timeout} ms); it was cancelled and its connection closed`,
      ),
    abandonedError: () => {
      const at = where();
      return new ConnectionError(
        `Could not use the database connection to ${at.label}: closed because a statement on it got no answer ` +
          `within ${deadline} ms [CONNECTION_DESTROYED]`,
        { host: at.host, port: at.port, code: "CONNECTION_DESTROYED" },
      );
    },
  };
}

/** The error for a statement with more than MAX_PARAMS parameters, else undefined. */
export function tooManyParams(params: readonly unknown[], text: string): QueryError | undefined {
  if (params.length <= MAX_PARAMS) return undefined;
  return new QueryError(
    `Too many parameters: this statement has ${params.length.toLocaleString("en-US")}, the wire protocol ` +
      `allows at most ${MAX_PARAMS.toLocaleString("en-US")} per statement; send the values in parts ` +
      "(insertMany does, by chunkSize)",
    { sql: text },
  );
}

export function poolTimeout(ms: number, max: number, held: number): PoolTimeoutError {
  return new PoolTimeoutError(
    `No connection became free within ${ms} ms (pool max ${max}, ${held} held by sessions/transactions). ` +
      "Release sessions sooner, raise pool.max, or raise pool.acquireTimeout.",
  );
}

export function cancelled(signal: AbortSignal, cause?: unknown): QueryCancelledError {
  const reason = signal.reason instanceof Error ? `: ${signal.reason.message}` : "";
  return new QueryCancelledError(`The query was cancelled by its AbortSignal${reason}`, {
    cause: cause ?? signal.reason,
  });
}

/** Remove a password from text, in case a server ever echoes one. */
export function redact(text: string, password: string): string {
  return password ? text.split(password).join("***") : text;
}
