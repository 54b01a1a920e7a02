/**
 * Vector scoring with pgvector, which stores and compares float4. Its HNSW
 * indexes serve ORDER BY <column> <op> <query> ascending (a distance).
 */
import { UnsupportedFeatureError } from "../../errors.ts";
import type { ColumnSpec, VectorMetric } from "../../schema.ts";
import { checkCosineQuery, encodeVector } from "../../values/vector.ts";
import type { ParamFn } from "../dialect.ts";

const DISTANCE = { cosine: "<=>", dot: "<#>", l2: "<->" } as const;

function operator(metric: VectorMetric): string {
  const op = Object.hasOwn(DISTANCE, metric) ? DISTANCE[metric] : undefined;
  if (!op) throw new UnsupportedFeatureError(`Unknown vector metric ${JSON.stringify(metric)}`);
  return op;
}

export function vectorScoreSql(
  columnSql: string,
  _spec: ColumnSpec,
  metric: VectorMetric,
  query: readonly number[],
  param: ParamFn,
): string {
  checkCosineQuery(metric, query, true);
  const q = param(encodeVector(query), "query") + "::vector";
  if (metric === "cosine") return `1 - (${columnSql} <=> ${q})`;
  if (metric === "dot") return `(${columnSql} <#> ${q}) * -1`;
  if (metric === "l2") return `${columnSql} <-> ${q}`;
  throw new UnsupportedFeatureError(`Unknown vector metric ${JSON.stringify(metric)}`);
}

export function vectorOrderSql(
  columnSql: string,
  _spec: ColumnSpec,
  metric: VectorMetric,
  query: readonly number[],
  param: ParamFn,
): string {
  checkCosineQuery(metric, query, true);
  const op = operator(metric);
  return `${columnSql} ${op} ${param(encodeVector(query), "query")}::vector`;
}
