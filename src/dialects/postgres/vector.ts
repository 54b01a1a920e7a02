/**
 * Vector scoring with pgvector, which stores and compares float4. Its HNSW
 * indexes serve ORDER BY <column> <op> <query> ascending (a distance).
 */
import { UnsupportedFeatureError } from "../../errors.ts";
import type { VectorMetric } from "../../schema.ts";
import { checkCosineQuery, encodeVector } from "../../values/vector.ts";
import type { Dialect } from "../dialect.ts";

const DISTANCE = { cosine: "<=>", dot: "<#>", l2: "<->" } as const;

/** The shape of Dialect.vectorScoreSql and vectorOrderSql. */
type VectorSql = Dialect["vectorScoreSql"];

function operator(metric: VectorMetric): string {
  const op = Object.hasOwn(DISTANCE, metric) ? DISTANCE[metric] : undefined;
  if (!op) throw new UnsupportedFeatureError(`Unknown vector metric ${JSON.stringify(metric)}`);
  return op;
}

export const vectorScoreSql: VectorSql = (columnSql, _spec, metric, query, param) => {
  checkCosineQuery(metric, query, true);
  const q = param(encodeVector(query), "query") + "::vector";
  if (metric === "cosine") return `1 - (${columnSql} <=> ${q})`;
  if (metric === "dot") return `(${columnSql} <#> ${q}) * -1`;
  if (metric === "l2") return `${columnSql} <-> ${q}`;
  throw new UnsupportedFeatureError(`Unknown vector metric ${JSON.stringify(metric)}`);
};

export const vectorOrderSql: VectorSql = (columnSql, _spec, metric, query, param) => {
  checkCosineQuery(metric, query, true);
  const op = operator(metric);
  return `${columnSql} ${op} ${param(encodeVector(query), "query")}::vector`;
};
