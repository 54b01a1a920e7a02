/**
 * Column values in and out. `normalize` checks a value against its column and
 * brings it to one canonical JavaScript form before anything is sent (the
 * dialect then spells it for its server). `decode` brings what the server sent
 * back to the column's type: the dialect first reads its server's own forms
 * (Dialect.decodeValue), then decode reads typed values or plain text ('1',
 * '0.5', 't', '[1,2]', an ISO date).
 */
import { ValidationError } from "./errors.ts";
import type { ColumnSpec } from "./values/column-spec.ts";
import { parseVector, validateVector } from "./values/vector.ts";
import { parseTimestamp } from "./values/timestamp.ts";

/** The part of a dialect decode() asks (Dialect.decodeValue). */
export interface ServerValues {
  decodeValue(spec: ColumnSpec, raw: unknown): unknown;
}

const INT_RANGE: Record<string, [number, number]> = {
  smallint: [-32768, 32767],
  integer: [-2147483648, 2147483647],
};
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const NUMERIC = /^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/;
const DATE = /^(\d{4})-(\d\d)-(\d\d)/;
const DATE_ONLY = /^(\d{4})-(\d\d)-(\d\d)$/;
/** ISO 8601 date, optional time (minutes at least), optional zone; a space may stand for the T. */
const INSTANT =
  /^(\d{4})-(\d\d)-(\d\d)(?:[Tt ](\d\d):(\d\d)(?::(\d\d)(?:\.(\d{1,9}))?)?)?\s*([Zz]|[+-]\d\d(?::?\d\d)?)?$/;
const MS_PER_DAY = 86_400_000;
const MONTH_DAYS = [31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];
const MIN_TIME = calendarTime(1, 1, 1)!;
const MAX_TIME = calendarTime(9999, 12, 31)! + MS_PER_DAY - 1;

/** Canonical value for a column, or a ValidationError naming `where` ("docs.title"). */
export function normalize(spec: ColumnSpec, value: unknown, where: string): unknown {
  if (value === null || value === undefined) {
    if (spec.notNull && !(spec.generated || spec.hasDefault || spec.defaultNow)) {
      throw new ValidationError(`${where} must not be null`);
    }
    return null;
  }
  switch (spec.kind) {
    case "integer":
    case "smallint": {
      const [lo, hi] = INT_RANGE[spec.kind];
      if (typeof value !== "number" || !Number.isInteger(value) || value < lo || value > hi) {
        throw new ValidationError(`${where} must be a whole number from ${lo} to ${hi}, got ${show(value)}`);
      }
      return value;
    }
    case "bigint": {
      if (typeof value === "bigint") {
        if (value < -(2n ** 63n) || value >= 2n ** 63n) {
          throw new ValidationError(`${where} is out of the 64-bit range`);
        }
        return value.toString();
      }
      if (typeof value !== "number" || !Number.isSafeInteger(value)) {
        throw new ValidationError(`${where} must be a whole number (a bigint beyond 2^53), got ${show(value)}`);
      }
      return value;
    }
    case "double":
      // NaN and the infinities have no common spelling (IRIS stores none by default, and iris-pgwire
      // reads "Infinity" back as text it cannot parse); the drivers send -0 as "0". All are refused,
      // the same on every server, rather than stored as something else.
      if (typeof value !== "number" || !Number.isFinite(value)) {
        throw new ValidationError(`${where} must be a finite number (not NaN or ±Infinity), got ${show(value)}`);
      }
      if (Object.is(value, -0)) {
        throw new ValidationError(`${where} is -0, which is stored as 0 on some servers; pass 0`);
      }
      return value;
    case "numeric": {
      const s = typeof value === "number" || typeof value === "bigint" ? String(value) : value;
      if (typeof s !== "string" || !NUMERIC.test(s) || (typeof value === "number" && !Number.isFinite(value))) {
        throw new ValidationError(`${where} must be a decimal number (string or number), got ${show(value)}`);
      }
      return s;
    }
    case "varchar":
    case "text":
      if (typeof value !== "string") throw new ValidationError(`${where} must be a string, got ${show(value)}`);
      if (spec.length !== undefined && value.length > spec.length) {
        throw new ValidationError(
          `${where} is ${value.length} characters long; the column holds at most ${spec.length}`,
        );
      }
      return value;
    case "boolean":
      if (typeof value !== "boolean") throw new ValidationError(`${where} must be true or false, got ${show(value)}`);
      return value;
    case "date": {
      if (value instanceof Date) {
        if (!inRange(value)) {
          throw new ValidationError(`${where} must be a Date in years 0001-9999, got ${show(value)}`);
        }
        return value.toISOString().slice(0, 10);
      }
      const m = typeof value === "string" ? DATE_ONLY.exec(value) : null;
      if (!m || calendarTime(+m[1], +m[2], +m[3]) === undefined) {
        throw new ValidationError(
          `${where} must be a calendar day as "YYYY-MM-DD" (years 0001-9999) or a Date, got ${show(value)}`,
        );
      }
      return value;
    }
    case "timestamp": {
      const d = value instanceof Date
        ? value
        : typeof value === "number"
        ? new Date(value)
        : typeof value === "string"
        ? parseInstant(value)
        : undefined;
      if (!d || !inRange(d)) {
        throw new ValidationError(
          `${where} must be a Date or an ISO 8601 string (without a zone it is UTC) in years 0001-9999, ` +
            `got ${show(value)}`,
        );
      }
      return d;
    }
    case "json": {
      let text: string | undefined;
      try {
        text = JSON.stringify(value);
      } catch (error) {
        throw new ValidationError(`${where} cannot be stored as JSON: ${(error as Error).message}`);
      }
      if (text === undefined) throw new ValidationError(`${where} cannot be stored as JSON (got ${typeof value})`);
      return text;
    }
    case "uuid":
      if (typeof value !== "string" || !UUID.test(value)) {
        throw new ValidationError(`${where} must be a UUID string, got ${show(value)}`);
      }
      return value.toLowerCase();
    case "vector":
      return validateVector(value, spec.dimensions, where);
  }
}

/**
 * A server value back to the column's JavaScript type. `jsonParsed`: the driver
 * already parsed JSON. `server`: the dialect that sent it.
 */
export function decode(
  spec: ColumnSpec,
  raw: unknown,
  jsonParsed: boolean,
  server: ServerValues,
): unknown {
  const value = server.decodeValue(spec, raw);
  if (value === null || value === undefined) return null;
  switch (spec.kind) {
    case "integer":
    case "smallint":
    case "double":
      return typeof value === "number" ? value : Number(value);
    case "bigint": {
      if (spec.bigintMode === "bigint") {
        return typeof value === "bigint" ? value : BigInt(String(value).replace(/\.0+$/, ""));
      }
      const n = typeof value === "number" ? value : Number(value);
      if (!Number.isSafeInteger(n)) {
        throw new ValidationError(
          `A bigint column holds ${
            String(value)
          }, beyond the exact range of a JavaScript number; declare it col.bigint({ mode: "bigint" })`,
        );
      }
      return n;
    }
    case "numeric":
    case "varchar":
    case "text":
    case "uuid":
      return String(value);
    case "boolean":
      if (typeof value === "boolean") return value;
      if (value === "t" || value === "true" || value === "TRUE") return true;
      if (value === "f" || value === "false" || value === "FALSE") return false;
      return Boolean(value);
    case "date":
      return decodeDate(value);
    case "timestamp": {
      if (value instanceof Date) return value;
      if (typeof value === "number") return new Date(value);
      const d = parseTimestamp(String(value));
      return typeof d === "string" ? new Date(d) : d;
    }
    case "json":
      return jsonParsed || typeof value !== "string" ? value : JSON.parse(value);
    case "vector":
      return parseVector(value);
  }
}

/** Dates arrive as "YYYY-MM-DD" (perhaps with a time after it) or a Date. */
function decodeDate(raw: unknown): string {
  if (raw instanceof Date) return raw.toISOString().slice(0, 10);
  const m = DATE.exec(String(raw));
  return m ? m[0] : String(raw);
}

/**
 * Milliseconds since the epoch of a UTC wall-clock time, or undefined when it is
 * not on the calendar (Feb 29 of a common year, 24:00, month 13, year 0). Date.parse
 * rolls "2023-02-31" over into March, and Date.UTC maps years 0-99 to 1900-1999.
 */
function calendarTime(y: number, mo: number, d: number, h = 0, mi = 0, s = 0, ms = 0): number | undefined {
  const leap = y % 4 === 0 && (y % 100 !== 0 || y % 400 === 0);
  const monthDays = mo === 2 && leap ? 29 : MONTH_DAYS[mo - 1];
  if (y < 1 || y > 9999 || !monthDays || d < 1 || d > monthDays || h > 23 || mi > 59 || s > 59) return undefined;
  const t = new Date(0);
  t.setUTCFullYear(y, mo - 1, d);
  t.setUTCHours(h, mi, s, ms);
  return t.getTime();
}

/**
 * An ISO 8601 timestamp string as an instant. Without a zone it is UTC, the way
 * irisql reads timestamps back, so the machine's time zone never matters.
 */
function parseInstant(text: string): Date | undefined {
  const m = INSTANT.exec(text.trim());
  if (!m) return undefined;
  const ms = m[7] ? Number((m[7] + "00").slice(0, 3)) : 0;
  let t = calendarTime(+m[1], +m[2], +m[3], +(m[4] ?? 0), +(m[5] ?? 0), +(m[6] ?? 0), ms);
  if (t === undefined) return undefined;
  const zone = m[8];
  if (zone && zone !== "Z" && zone !== "z") {
    const digits = zone.slice(1).replace(":", "");
    const hours = Number(digits.slice(0, 2)), minutes = Number(digits.slice(2) || 0);
    if (hours > 23 || minutes > 59) return undefined;
    t -= (zone[0] === "-" ? -1 : 1) * (hours * 60 + minutes) * 60_000;
  }
  return new Date(t);
}

/** Years 0001-9999: what both servers store and ISO text spells with four digits. */
function inRange(d: Date): boolean {
  const t = d.getTime();
  return t >= MIN_TIME && t <= MAX_TIME;
}

function show(x: unknown): string {
  if (typeof x === "string") return JSON.stringify(x.length > 40 ? x.slice(0, 40) + "…" : x);
  if (typeof x === "bigint") return x + "n";
  if (x instanceof Date) return "Date";
  if (Array.isArray(x)) return "an array";
  return x === null ? "null" : typeof x === "object" ? "an object" : String(x);
}
