/** Column values as PostgreSQL takes them. */
import type { ColumnSpec } from "../../schema.ts";
import { encodeVector } from "../../values/vector.ts";

export function encode(spec: ColumnSpec, value: unknown): unknown {
  if (value === null) return null;
  switch (spec.kind) {
    case "timestamp":
      return (value as Date).toISOString();
    case "vector":
      return encodeVector(value as number[]);
    default:
      return value;
  }
}

/**
 * JSON values arrive as JSON text. Bound straight to a jsonb parameter, postgres.js would
 * JSON.stringify that text again and store a JSON string; as text, the server parses it once.
 */
export function valueSql(spec: ColumnSpec, placeholder: string): string {
  return spec.kind === "json" ? `${placeholder}::text::jsonb` : placeholder;
}
