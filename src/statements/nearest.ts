/** nearest(): the k rows closest to a query vector, with their score. */
import type { Dialect } from "../dialects/dialect.ts";
import type { AnyTable, ColumnName, VectorMetric } from "../schema.ts";
import { quoteIdent } from "../sql.ts";
import { vectorQuery } from "../vector.ts";
import { checkOptions, selectList, wholeNumber } from "./inputs.ts";
import { Params, type Statement } from "./params.ts";
import { walkWhere, type Where } from "./where.ts";

/** Options of `session.nearest()`; C, the names in `columns`, narrows the rows it returns. */
export interface NearestOptions<T extends AnyTable, C extends ColumnName<T> = ColumnName<T>> {
  /** How many rows (default 10). */
  k?: number;
  /** How closeness is measured and scored: "cosine" (default), "dot" or "l2". */
  metric?: VectorMetric;
  /** Only rows matching this are candidates (the filter applies before the k are chosen). */
  where?: Where<T>;
  /** The columns to read besides `score` (a non-empty list); leave out for every column. */
  columns?: readonly C[];
}

const NEAREST_OPTIONS = ["k", "metric", "where", "columns"] as const;

export function nearestStatement<T extends AnyTable>(
  dialect: Dialect,
  table: T,
  schema: string,
  column: string,
  query: unknown,
  options?: NearestOptions<T>,
): Statement {
  options = checkOptions(table, options, "nearest()", NEAREST_OPTIONS);
  const q = vectorQuery("nearest()", table, column, query, options.metric ?? "cosine", { listVectorColumns: true });
  const k = wholeNumber("k", options.k ?? 10, table, 1)!;
  const params = new Params(dialect);
  const ref = quoteIdent(q.name);
  const list = selectList(table, options.columns);
  // Placeholders in text order: score, where, ORDER BY, then the limit's tail (TOP binds nothing).
  const score = dialect.vectorScoreSql(ref, q.spec, q.metric, q.vector, params.add);
  const where = walkWhere(dialect, table, options.where, params.add, true).sql;
  const order = dialect.vectorOrderSql(ref, q.spec, q.metric, q.vector, params.add);
  const { top, tail } = dialect.limitSql(k, undefined, params.add);
  let text = `SELECT ${top}${list}, ${score} AS ${quoteIdent("score")} FROM ${
    dialect.tableRef(table.name, table.schema ?? schema)
  }`;
  if (where) text += " WHERE " + where;
  return { text: text + " ORDER BY " + order + tail, params: params.values };
}
