/**
 * What iris-pgwire sends for column values, brought to the forms codec's
 * decode() reads. The wire server sends text: an empty string as NULL, BIT as
 * 1/0, dates as a count of days since 2000-01-01, doubles as Python prints
 * them ("inf", "-inf", "nan"). Values already in a common form pass through.
 */
import type { ColumnSpec } from "../../values/column-spec.ts";

const MS_PER_DAY = 86_400_000;
const Y2K = Date.UTC(2000, 0, 1);
const DAY_COUNT = /^-?\d+$/;
const SHORT_YEAR = /^\d{1,3}-\d\d-\d\d[ T]/;

export function decodeIrisValue(spec: ColumnSpec, raw: unknown): unknown {
  if (raw === null || raw === undefined) {
    // A NOT NULL text column cannot hold NULL, so that NULL was an empty string.
    return spec.notNull && (spec.kind === "varchar" || spec.kind === "text") ? "" : raw;
  }
  switch (spec.kind) {
    case "double":
      return typeof raw === "string" ? readPythonFloat(raw) : raw;
    case "boolean":
      return raw === 1 || raw === "1" ? true : raw === 0 || raw === "0" ? false : raw;
    case "timestamp":
      // Python's strftime("%Y") does not pad years below 1000: iris-pgwire sends year 50 as "50-06-15 ...".
      return typeof raw === "string" && SHORT_YEAR.test(raw) ? "0".repeat(4 - raw.indexOf("-")) + raw : raw;
    case "date":
      return typeof raw === "number" || (typeof raw === "string" && DAY_COUNT.test(raw))
        ? new Date(Y2K + Number(raw) * MS_PER_DAY).toISOString().slice(0, 10)
        : raw;
    default:
      return raw;
  }
}

/** Float text, including Python's "inf", "-inf" and "nan", which Number() reads as NaN. */
function readPythonFloat(text: string): number {
  const n = Number(text);
  if (!Number.isNaN(n)) return n;
  const t = text.trim().toLowerCase();
  return t === "inf" || t === "+inf" || t === "infinity"
    ? Infinity
    : t === "-inf" || t === "-infinity"
    ? -Infinity
    : NaN;
}
