/** Column values as every server takes them: timestamps as ISO 8601 with Z, vectors as "[1,2,3]". */
import type { ColumnSpec } from "../schema.ts";
import { encodeVector } from "../values/vector.ts";

export function encodeCommon(spec: ColumnSpec, value: unknown): unknown {
  if (value === null) return null;
  switch (spec.kind) {
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
