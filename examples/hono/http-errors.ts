/**
 * Every failure becomes a JSON body `{ "error": { "code", "message" } }` with
 * a status that says whose fault it was. Database errors are mapped by class;
 * their messages (which can carry SQL, values and server detail) are logged
 * on the server and never sent to the client.
 */
import type { Context } from "hono";
import type { ContentfulStatusCode } from "hono/utils/http-status";
import {
  CheckViolationError,
  ConnectionError,
  ForeignKeyViolationError,
  NotNullViolationError,
  PoolTimeoutError,
  QueryCancelledError,
  QueryTimeoutError,
  UniqueViolationError,
  UnsupportedFeatureError,
  ValidationError,
} from "../../mod.ts";

export interface ErrorBody {
  error: { code: string; message: string };
}

/** An error the app raises on purpose, already in client terms. */
export class HttpError extends Error {
  constructor(readonly status: ContentfulStatusCode, readonly code: string, message: string) {
    super(message);
    this.name = "HttpError";
  }
}

export const badRequest = (message: string): HttpError => new HttpError(400, "bad_request", message);
export const notFound = (message: string): HttpError => new HttpError(404, "not_found", message);

/** Status, code and a client-safe message for any thrown value. */
export function describeError(error: unknown): { status: ContentfulStatusCode; body: ErrorBody } {
  const out = (status: ContentfulStatusCode, code: string, message: string) => ({
    status,
    body: { error: { code, message } },
  });
  if (error instanceof HttpError) return out(error.status, error.code, error.message);
  // irisql checked the input before sending anything: the message is about the input, not SQL.
  if (error instanceof ValidationError) return out(400, "bad_request", error.message);
  if (error instanceof UniqueViolationError) {
    return out(409, "conflict", "A document with this slug already exists");
  }
  if (
    error instanceof NotNullViolationError || error instanceof CheckViolationError ||
    error instanceof ForeignKeyViolationError
  ) {
    return out(400, "bad_request", "The document breaks a rule of the database");
  }
  if (error instanceof PoolTimeoutError) {
    return out(503, "busy", "The database is busy; try again shortly");
  }
  if (error instanceof ConnectionError) {
    return out(503, "unavailable", "The database is unavailable; try again shortly");
  }
  if (error instanceof QueryTimeoutError || error instanceof QueryCancelledError) {
    return out(504, "timeout", "The database took too long to answer");
  }
  if (error instanceof UnsupportedFeatureError) {
    return out(501, "unsupported", "This database cannot do that");
  }
  return out(500, "internal_error", "Something went wrong on the server");
}

/** Hono's onError: answer with JSON; server-side failures are logged in full for the operator. */
export function errorResponse(error: Error, c: Context): Response {
  const { status, body } = describeError(error);
  if (status >= 500 && !(error instanceof HttpError)) {
    console.error(`${c.req.method} ${c.req.path} -> ${status}:`, error);
  }
  // The unread rest of a too-large body is still on the wire: do not reuse this connection.
  if (status === 413) c.header("Connection", "close");
  return c.json(body, status);
}
