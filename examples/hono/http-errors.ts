/**
 * Every failure becomes a JSON body `{ "error": { "code", "message" } }` with
 * a status that says whose fault it was. Database errors are mapped by class;
 * their messages (which can carry SQL, values and server detail) are logged
 * on the server and never sent to the client.
 */
import type { Context } from "hono";
import { HTTPException } from "hono/http-exception";
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
} from "irisql";

export interface ErrorBody {
  error: { code: string; message: string };
}

/** An error the app raises on purpose, already in client terms: Hono's HTTPException with a code for the body. */
export class HttpError extends HTTPException {
  constructor(override readonly status: ContentfulStatusCode, readonly code: string, message: string) {
    super(status, { message });
    this.name = "HttpError";
  }
  /** For 405: the methods the route has. */
  allow?: string;
}

/** Codes for the HTTPExceptions Hono raises itself (its validator's malformed JSON, for one). */
const CODES: Record<number, string> = {
  400: "bad_request",
  404: "not_found",
  405: "method_not_allowed",
  413: "payload_too_large",
  415: "unsupported_media_type",
};

export const badRequest = (message: string): HttpError => new HttpError(400, "bad_request", message);
export const notFound = (message: string): HttpError => new HttpError(404, "not_found", message);
export function methodNotAllowed(method: string, path: string, allow: readonly string[]): HttpError {
  const error = new HttpError(
    405,
    "method_not_allowed",
    `${method} is not allowed on ${path}; allowed: ${allow.join(", ")}`,
  );
  error.allow = allow.join(", ");
  return error;
}

/** Status, code and a client-safe message for any thrown value. */
export function describeError(error: unknown): { status: ContentfulStatusCode; body: ErrorBody } {
  const out = (status: ContentfulStatusCode, code: string, message: string) => ({
    status,
    body: { error: { code, message } },
  });
  if (error instanceof HttpError) return out(error.status, error.code, error.message);
  if (error instanceof HTTPException) {
    const status = error.status as ContentfulStatusCode;
    return out(status, CODES[status] ?? (status < 500 ? "bad_request" : "internal_error"), error.message);
  }
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
  if (status >= 500 && !(error instanceof HTTPException)) {
    console.error(`${c.req.method} ${c.req.path} -> ${status}:`, error);
  }
  // The unread rest of a too-large body is still on the wire: do not reuse this connection.
  if (status === 413) c.header("Connection", "close");
  if (error instanceof HttpError && error.allow) c.header("Allow", error.allow);
  return c.json(body, status);
}
