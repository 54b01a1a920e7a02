/**
 * What iris-pgwire (1.7.3) does to a statement and its values before IRIS sees
 * them, and how irisql keeps that from changing data:
 *
 * - Every text parameter that Python's int() accepts becomes an integer, and one
 *   that float() accepts (when it holds "." or "e") a float: "00123" arrives as
 *   123, "+5" as 5, " 42" as 42, "1_000" as 1000, "\u0663" as 3, "1.50" as 1.5. No
 *   declared type, cast or format keeps the text, so such strings are refused.
 *   A canonical integer ("123", "-5") arrives as the same digits and passes.
 * - An integer between 5e14 and 1.5e15 (exclusive) is taken for a PostgreSQL
 *   timestamp in microseconds and sent as a date-time string: refused.
 * - A string shaped like an ISO timestamp loses its "T" and zone (converted to
 *   UTC): refused unless it is already in the form the server leaves alone,
 *   "YYYY-MM-DD HH:MM:SS.fff", the UTC date-time IRIS stores. A Date is sent in
 *   that form: the server declares every plain parameter of unknown type, and
 *   the driver would send a Date as its local-time toString().
 * - An INSERT/UPDATE/DELETE/MERGE sent with parameters is buffered, answered
 *   "done" at once and run later, and a failure is then counted as success. A
 *   statement that does not start with those words runs at once and reports its
 *   real outcome, so DML goes out behind a comment.
 */
import { ValidationError } from "../../errors.ts";
import type { Outbound } from "../dialect.ts";

/** Python's str.strip() whitespace: Unicode White_Space and the separators \x1c-\x1f. */
const WS = "[\\s\\x1c-\\x1f\\x85]*";
/** Digits as Python's int()/float() read them: any Unicode decimal digit, "_" between two. */
const DIGITS = "\\p{Nd}(?:_?\\p{Nd})*";
const PY_INT = new RegExp(`^${WS}[+-]?${DIGITS}${WS}$`, "u");
const PY_FLOAT = new RegExp(
  `^${WS}[+-]?(?:${DIGITS}(?:\\.(?:${DIGITS})?)?|\\.${DIGITS})(?:[eE][+-]?${DIGITS})?${WS}$`,
  "u",
);
/** The server's ISO timestamp pattern; Python's "$" also matches before a final "\n". */
const ISO_TIMESTAMP =
  /^\p{Nd}{4}-\p{Nd}{2}-\p{Nd}{2}([T ])\p{Nd}{2}:\p{Nd}{2}:\p{Nd}{2}(?:\.\p{Nd}+)?(Z|[+-]\p{Nd}{2}:?\p{Nd}{2})?\n?$/u;
const CANONICAL_INT = /^(?:0|-?[1-9][0-9]*)$/;
const TIMESTAMP_LOW = 500_000_000_000_000;
const TIMESTAMP_HIGH = 1_500_000_000_000_000;
const DML = /^\s*(?:INSERT|UPDATE|DELETE|MERGE)\b/i;

/** Why iris-pgwire would not pass `value` to IRIS unchanged, or undefined. */
export function changedOnTheWay(value: unknown): string | undefined {
  if (typeof value === "string") return changedText(value);
  if (typeof value === "number" && Number.isInteger(value)) return changedInteger(value);
  if (typeof value === "bigint") return changedInteger(Number(value));
  return undefined;
}

function changedText(text: string): string | undefined {
  const lower = text.toLowerCase();
  if (!text.includes(".") && !lower.includes("e")) {
    if (PY_INT.test(text)) {
      if (!CANONICAL_INT.test(text)) {
        return 'it reads as a whole number, and the server would send IRIS that number instead ("00123" arrives as 123)';
      }
      return changedInteger(Number(text));
    }
  } else if (PY_FLOAT.test(text)) {
    return 'it reads as a decimal number, and the server would send IRIS that number instead ("1.50" arrives as 1.5)';
  }
  const iso = ISO_TIMESTAMP.exec(text);
  if (iso && (iso[1] === "T" || iso[2] !== undefined || text.endsWith("\n"))) {
    return 'it would arrive as a UTC date-time without its "T" or zone (pass a Date for a timestamp)';
  }
  return undefined;
}

function changedInteger(n: number): string | undefined {
  return n > TIMESTAMP_LOW && n < TIMESTAMP_HIGH
    ? "an integer between 5e14 and 1.5e15 would arrive as a timestamp"
    : undefined;
}

/**
 * The IRIS dialect's outbound step: refuse values the server would change,
 * and put DML behind a comment so the server runs it at once and reports
 * its real outcome.
 */
export function outbound(statement: Outbound): Outbound {
  const { text, params } = statement;
  let sent = params;
  for (let i = 0; i < params.length; i++) {
    const value = params[i];
    if (value instanceof Date) {
      if (sent === params) sent = [...params];
      (sent as unknown[])[i] = utcDateTime(value);
      continue;
    }
    const why = changedOnTheWay(value);
    if (why !== undefined) {
      throw new ValidationError(
        `Parameter ${i + 1} cannot be sent to IRIS through iris-pgwire unchanged: ${why}. irisql refuses it ` +
          `rather than store another value. Store such text with a non-numeric marker, or use a number column.`,
      );
    }
  }
  return DML.test(text)
    ? { text: "/* irisql */ " + text, params: sent }
    : sent === params
    ? statement
    : { text, params: sent };
}

/** A Date as the UTC date-time text IRIS stores ("2024-01-02 03:04:05.678"), years 0001-9999 as four digits. */
export function utcDateTime(d: Date): string {
  if (Number.isNaN(d.getTime())) throw new ValidationError("An invalid Date cannot be sent");
  return d.toISOString().replace("T", " ").replace("Z", "");
}
