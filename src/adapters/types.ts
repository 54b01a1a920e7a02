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

export const OID = {
  bool: 16,
  int8: 20,
  int2: 21,
  int4: 23,
  text: 25,
  json: 114,
  float4: 700,
  float8: 701,
  varchar: 1043,
  date: 1082,
  timestamp: 1114,
  timestamptz: 1184,
  numeric: 1700,
  uuid: 2950,
  jsonb: 3802,
} as const;

export function parseInt8(text: string): number | bigint {
  const n = Number(text);
  return Number.isSafeInteger(n) ? n : BigInt(text);
}

const TIMESTAMP =
  /^(\d{4,})-(\d\d)-(\d\d)[ T](\d\d):(\d\d):(\d\d)(?:\.(\d{1,9}))?\s*(Z|[+-]\d\d(?::?\d\d)?(?::?\d\d)?)?( BC)?$/;

/**
 * Parse PostgreSQL timestamp text. Without a zone the value is taken as UTC.
 * Engines disagree on `new Date("2024-01-02 03:04:05+00")`, so this does not
 * rely on Date parsing. 'infinity' and unparseable text stay strings.
 */
export function parseTimestamp(text: string): Date | string {
  const m = TIMESTAMP.exec(text);
  if (!m) return text;
  let year = Number(m[1]);
  if (m[9]) year = 1 - year;
  const ms = m[7] ? Number((m[7] + "00").slice(0, 3)) : 0;
  let t = Date.UTC(year, Number(m[2]) - 1, Number(m[3]), Number(m[4]), Number(m[5]), Number(m[6]), ms);
  if (year >= 0 && year < 100) {
    const d = new Date(t);
    d.setUTCFullYear(year);
    t = d.getTime();
  }
  const zone = m[8];
  if (zone && zone !== "Z") {
    const sign = zone[0] === "-" ? -1 : 1;
    const digits = zone.slice(1).replace(/:/g, "");
    const offset = Number(digits.slice(0, 2)) * 3600 + Number(digits.slice(2, 4) || 0) * 60 +
      Number(digits.slice(4, 6) || 0);
    t -= sign * offset * 1000;
  }
  return new Date(t);
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
