/**
 * Vector scoring on IRIS. VECTOR_COSINE and VECTOR_DOT_PRODUCT are
 * similarities (higher is closer). ORDER BY repeats the expression (never an
 * alias: iris-pgwire mangles it), DESC, which is the shape an IRIS HNSW index
 * serves. IRIS has no L2 function: ||e-q||^2 is dot(e,e) - 2 dot(e,q) + dot(q,q),
 * with dot(q,q) computed here; ABS absorbs rounding below zero for identical vectors.
 */
import { UnsupportedFeatureError } from "../../errors.ts";
import type { ColumnSpec, VectorMetric } from "../../schema.ts";
import { checkCosineQuery, encodeVector } from "../../values/vector.ts";
import type { Dialect, ParamFn } from "../dialect.ts";
import { elementKeyword } from "./types.ts";

/** The shape of Dialect.vectorScoreSql and vectorOrderSql. */
type VectorSql = Dialect["vectorScoreSql"];

function queryVector(spec: ColumnSpec, metric: VectorMetric, query: readonly number[], param: ParamFn): string {
  checkCosineQuery(metric, query, spec.element === "float");
  return `TO_VECTOR(${param(encodeVector(query))}, ${elementKeyword(spec)})`;
}

export const vectorScoreSql: VectorSql = (columnSql, spec, metric, query, param) => {
  const vec = queryVector(spec, metric, query, param);
  if (metric === "cosine") return `VECTOR_COSINE(${columnSql}, ${vec})`;
  if (metric === "dot") return `VECTOR_DOT_PRODUCT(${columnSql}, ${vec})`;
  if (metric === "l2") {
    const self = `VECTOR_DOT_PRODUCT(${columnSql}, ${columnSql})`;
    return `SQRT(ABS(${self} - 2 * VECTOR_DOT_PRODUCT(${columnSql}, ${vec}) + ${param(squaredNorm(query))}))`;
  }
  throw new UnsupportedFeatureError(`Unknown vector metric ${JSON.stringify(metric)}`);
};

export const vectorOrderSql: VectorSql = (columnSql, spec, metric, query, param) => {
  const vec = queryVector(spec, metric, query, param);
  if (metric === "cosine") return `VECTOR_COSINE(${columnSql}, ${vec}) DESC`;
  if (metric === "dot") return `VECTOR_DOT_PRODUCT(${columnSql}, ${vec}) DESC`;
  // Same order as the distance: dot(q,q) is a constant and the square root is monotonic.
  if (metric === "l2") {
    return `VECTOR_DOT_PRODUCT(${columnSql}, ${columnSql}) - 2 * VECTOR_DOT_PRODUCT(${columnSql}, ${vec}) ASC`;
  }
  throw new UnsupportedFeatureError(`Unknown vector metric ${JSON.stringify(metric)}`);
};

function squaredNorm(v: readonly number[]): number {
  let s = 0;
  for (const x of v) s += x * x;
  return s;
}
