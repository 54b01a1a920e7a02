/**
 * PostgreSQL timestamp text to a Date: what the adapters install for the
 * timestamp types and what codec.ts uses on text iris-pgwire sends.
 */

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
