/** Column types as IRIS spells them. */
import type { ColumnSpec } from "../../schema.ts";

/** Where text must stay comparable and searchable: TEXT/CLOB are streams on IRIS. */
const LONG_VARCHAR = 65535;

/**
 * The element type keyword inside VECTOR(...) and TO_VECTOR(...), in lower
 * case: iris-pgwire turns an upper-case DOUBLE into DOUBLE PRECISION, which
 * IRIS rejects. It must match the column's type, or IRIS refuses the
 * comparison (SQLCODE -259).
 */
export function elementKeyword(spec: ColumnSpec): string {
  return spec.element === "float" ? "float" : "double";
}

export function columnType(spec: ColumnSpec): string {
  switch (spec.kind) {
    case "integer":
      return "INTEGER";
    case "bigint":
      return "BIGINT";
    case "smallint":
      return "SMALLINT";
    case "double":
      return "DOUBLE";
    case "numeric":
      return `NUMERIC(${spec.precision}, ${spec.scale})`;
    case "varchar":
      return `VARCHAR(${spec.length})`;
    case "text":
    case "json":
      return `VARCHAR(${LONG_VARCHAR})`;
    case "boolean":
      return "BIT";
    case "date":
      return "DATE";
    case "timestamp":
      return "TIMESTAMP";
    case "uuid":
      return "UNIQUEIDENTIFIER";
    case "vector":
      return `VECTOR(${elementKeyword(spec)}, ${spec.dimensions})`;
  }
}
