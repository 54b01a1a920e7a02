/** Identifiers on PostgreSQL: generic double-quoting; tables in "public" go unqualified. */
import { quoteIdent } from "../../sql.ts";

export const DEFAULT_SCHEMA = "public";

export function tableRef(name: string, schema: string): string {
  return schema === DEFAULT_SCHEMA ? quoteIdent(name) : quoteIdent(schema) + "." + quoteIdent(name);
}
