/**
 * How raw result values are parsed, by PostgreSQL type OID, identically for
 * every adapter: a query gives the same JavaScript values on postgres.js and
 * on PGlite. Chosen so that nothing is silently wrong:
 *   int8       -> number when it is a safe integer, bigint beyond that
 *   numeric    -> string (exact)
 *   date       -> "YYYY-MM-DD" string (a calendar day has no time zone)
 *   timestamp  -> Date, read as UTC (sessions run with TimeZone=UTC)
 *   timestamptz-> Date
 * The rest keeps each driver's standard parsing (int4/float -> number,
 * bool -> boolean, json -> value, text -> string).
 */
import { OID } from "../values/oid.ts";
import { parseTimestamp } from "../values/timestamp.ts";

export function parseInt8(text: string): number | bigint {
  const n = Number(text);
  return Number.isSafeInteger(n) ? n : BigInt(text);
}

/**
 * Float text as a number. PostgreSQL spells the special values Infinity/-Infinity/NaN;
 * iris-pgwire sends Python's inf/-inf/nan, which Number() would read as NaN.
 */
export function parseFloat8(text: string): number {
  const n = Number(text);
  if (n === n) return n;
  const t = text.toLowerCase();
  return t === "inf" || t === "+inf" ? Infinity : t === "-inf" ? -Infinity : NaN;
}

const identity = (text: string) => text;

/** Parsers both adapters install, keyed by OID. */
export const PARSERS: Record<number, (text: string) => unknown> = {
  [OID.int8]: parseInt8,
  [OID.float4]: parseFloat8,
  [OID.float8]: parseFloat8,
  [OID.numeric]: identity,
  [OID.date]: identity,
  [OID.timestamp]: parseTimestamp,
  [OID.timestamptz]: parseTimestamp,
};
