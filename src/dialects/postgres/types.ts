/** Column types as PostgreSQL (with pgvector) spells them. */
import type { ColumnSpec } from "../../schema.ts";

export function columnType(spec: ColumnSpec): string {
  switch (spec.kind) {
    case "integer":
      return "integer";
    case "bigint":
      return "bigint";
    case "smallint":
      return "smallint";
    case "double":
      return "double precision";
    case "numeric":
      return `numeric(${spec.precision}, ${spec.scale})`;
    case "varchar":
      return `varchar(${spec.length})`;
    case "text":
      return "text";
    case "boolean":
      return "boolean";
    case "date":
      return "date";
    case "timestamp":
      return spec.withTimezone ? "timestamptz" : "timestamp";
    case "json":
      return "jsonb";
    case "uuid":
      return "uuid";
    case "vector":
      return `vector(${spec.dimensions})`;
  }
}
