/** Column values as PostgreSQL takes them. */
import type { ColumnSpec } from "../../schema.ts";
import { encodeCommon } from "../encode.ts";

export const encode = encodeCommon;

/**
 * JSON values arrive as JSON text. Bound straight to a jsonb parameter, postgres.js would
 * JSON.stringify that text again and store a JSON string; as text, the server parses it once.
 */
export function valueSql(spec: ColumnSpec, placeholder: string): string {
  return spec.kind === "json" ? `${placeholder}::text::jsonb` : placeholder;
}
