/**
 * Column values as IRIS takes them through iris-pgwire: booleans as 1/0, vectors as
 * text inside TO_VECTOR(), timestamps as the UTC date-time text IRIS stores (IRIS has
 * no time zones; the server leaves that form alone, see outbound.ts), and decimals in a
 * form the server's number conversion keeps: a canonical integer, or a double that
 * holds every digit.
 */
import { ValidationError } from "../../errors.ts";
import type { ColumnSpec } from "../../schema.ts";
import { encodeCommon } from "../encode.ts";
import { utcDateTime } from "./outbound.ts";
import { elementKeyword } from "./types.ts";

/** Significant digits a double carries exactly through decimal text and back. */
const DOUBLE_DIGITS = 15;

export function encode(spec: ColumnSpec, value: unknown): unknown {
  if (value === null) return null;
  switch (spec.kind) {
    case "boolean":
      return value ? 1 : 0;
    case "timestamp":
      return utcDateTime(value as Date);
    case "numeric":
      return encodeNumeric(String(value));
    default:
      return encodeCommon(spec, value);
  }
}

/**
 * iris-pgwire reads a decimal parameter with Python's float() when it holds "." or
 * "e", and int() otherwise: "1.50" reaches IRIS as the double 1.5 (the column's scale
 * puts the zero back), and 20 significant digits would lose five.
 */
function encodeNumeric(text: string): string | number {
  if (!/[.eE]/.test(text)) return BigInt(text).toString();
  const mantissa = text.replace(/[eE].*$/, "").replace(/[-+.]/g, "").replace(/^0+/, "").replace(/0+$/, "");
  if (mantissa.length > DOUBLE_DIGITS) {
    throw new ValidationError(
      `A numeric value with ${mantissa.length} significant digits cannot reach IRIS through iris-pgwire ` +
        `unchanged: the server reads decimals as doubles, which keep ${DOUBLE_DIGITS}. Round it, or store ` +
        `it as a whole number of the smallest unit.`,
    );
  }
  return Number(text);
}

export function valueSql(spec: ColumnSpec, placeholder: string): string {
  return spec.kind === "vector" ? `TO_VECTOR(${placeholder}, ${elementKeyword(spec)})` : placeholder;
}
