/** Column values as IRIS takes them: booleans as 1/0, vectors as text inside TO_VECTOR(). */
import type { ColumnSpec } from "../../schema.ts";
import { encodeVector } from "../../values/vector.ts";
import { elementKeyword } from "./types.ts";

export function encode(spec: ColumnSpec, value: unknown): unknown {
  if (value === null) return null;
  switch (spec.kind) {
    case "boolean":
      return value ? 1 : 0;
    case "timestamp":
      // With its zone: where the server declares the parameter a timestamp, the driver re-reads
      // the string with new Date(), which takes zone-less text as the machine's local time.
      return (value as Date).toISOString();
    case "vector":
      return encodeVector(value as number[]);
    default:
      return value;
  }
}

export function valueSql(spec: ColumnSpec, placeholder: string): string {
  return spec.kind === "vector" ? `TO_VECTOR(${placeholder}, ${elementKeyword(spec)})` : placeholder;
}
