/**
 * Vector SQL: the checks a vector query needs on its table (a vector column,
 * a known metric, a valid query vector) and the similarity / nearestOrder
 * fragments for hand-written queries. nearest() (statements/nearest.ts) uses
 * the same checks. Vector values themselves live in values/vector.ts.
 */
import type { Dialect, ParamFn } from "./dialects/dialect.ts";
import { ValidationError } from "./errors.ts";
import type { AnyTable, ColumnSpec, InferRow, VectorMetric } from "./schema.ts";
import { type Compilable, DialectFragment, quoteIdent, SqlFragment } from "./sql.ts";
import { checkCosineQuery, validateVector } from "./values/vector.ts";

/** What a similarity or ordering expression works on. */
export interface VectorExpressionOptions {
  /** Default "cosine". */
  metric?: VectorMetric;
  /** The table's alias in the FROM clause (`docs AS d`): the column is written `"d"."embedding"`. */
  alias?: string;
}

/** Names of a table's vector columns (for the type checker; checked at run time too). */
export type VectorColumnName<T extends AnyTable> = {
  [K in keyof InferRow<T> & string]: NonNullable<InferRow<T>[K]> extends readonly number[] ? K : never;
}[keyof InferRow<T> & string];

/** A query on a vector column, checked: what nearest() and the fragments below compile. */
export interface VectorQuery {
  /** The column's declared name. */
  name: string;
  spec: ColumnSpec;
  /** Frozen, so its text form is built once however often the statement spells it. */
  vector: readonly number[];
  metric: VectorMetric;
}

/**
 * Check a vector query, in this order: the column (a vector column of the table), the query vector, the metric.
 * `what` names the caller in errors; `listVectorColumns` adds the table's vector columns to a wrong-kind error.
 */
export function vectorQuery(
  what: string,
  table: AnyTable,
  column: string,
  query: unknown,
  metric: unknown,
  options: { listVectorColumns?: boolean } = {},
): VectorQuery {
  const spec = table.column(column, `${what} on table ${table.name}`).spec;
  const name = table.declaredName(column)!;
  if (spec.kind !== "vector") {
    const vectors = table.columnNames.filter((n) => table.columns[n].spec.kind === "vector");
    throw new ValidationError(
      `${what} needs a vector column; ${table.name}.${name} is ${spec.kind}` +
        (options.listVectorColumns ? `. Vector columns: ${vectors.join(", ") || "none"}` : ""),
    );
  }
  const vector = Object.freeze(validateVector(query, spec.dimensions, `query vector for ${table.name}.${name}`));
  if (metric !== "cosine" && metric !== "dot" && metric !== "l2") {
    throw new ValidationError(`metric must be "cosine", "dot" or "l2", got ${JSON.stringify(metric)}`);
  }
  return { name, spec, vector, metric };
}

/**
 * The score `nearest()` reports, as a fragment for `sql\`...\``: cosine
 * similarity or inner product (higher is closer), or Euclidean distance for
 * "l2" (lower is closer), spelled for the engine's dialect. The column and
 * query vector are checked now, before anything is sent. On IRIS, limit
 * with `SELECT TOP k`: the form an HNSW index serves.
 *
 * @example Vector search in raw SQL, with {@linkcode nearestOrder}
 * ```ts
 * import { col, createEngine, nearestOrder, similarity, sql, table } from "irisql";
 *
 * const docs = table("docs", { id: col.integer().primaryKey(), lang: col.text(), embedding: col.vector(3) });
 * await using engine = createEngine("pglite://memory");
 * await engine.createAll([docs]);
 * await engine.execute("INSERT INTO docs VALUES (1, 'en', '[1,0,0]'), (2, 'en', '[0,1,0]'), (3, 'de', '[1,0,0]')");
 * const q = [1, 0.2, 0];
 * const r = await engine.execute(sql`SELECT id, ${similarity(docs, "embedding", q)} AS score FROM docs
 *   WHERE lang = ${"en"} ORDER BY ${nearestOrder(docs, "embedding", q)} LIMIT 5`);
 * console.log(r.rows.map((row) => row.id)); // [ 1, 2 ]
 * ```
 */
export function similarity<T extends AnyTable>(
  table: T,
  column: VectorColumnName<T>,
  query: ArrayLike<number>,
  options: VectorMetric | VectorExpressionOptions = "cosine",
): Compilable {
  const e = vectorExpression("similarity()", table, column, query, options);
  return dialectSql((d, param) => d.vectorScoreSql(e.columnSql(d), e.spec, e.metric, e.vector, param));
}

/**
 * ORDER BY text, direction included, that puts the closest rows first for a
 * metric, in the form an HNSW index serves (a pgvector distance ascending;
 * on IRIS the similarity function descending). Use it after `ORDER BY`.
 */
export function nearestOrder<T extends AnyTable>(
  table: T,
  column: VectorColumnName<T>,
  query: ArrayLike<number>,
  options: VectorMetric | VectorExpressionOptions = "cosine",
): Compilable {
  const e = vectorExpression("nearestOrder()", table, column, query, options);
  return dialectSql((d, param) => d.vectorOrderSql(e.columnSql(d), e.spec, e.metric, e.vector, param));
}

function vectorExpression(
  what: string,
  table: AnyTable,
  column: string,
  query: ArrayLike<number>,
  options: VectorMetric | VectorExpressionOptions,
) {
  const opts = typeof options === "string" ? { metric: options } : options ?? {};
  const q = vectorQuery(what, table, column, query, opts.metric ?? "cosine");
  // Exact zeros now; the dialect checks again in the precision its server uses.
  checkCosineQuery(q.metric, q.vector, false, `query vector for ${table.name}.${q.name}`);
  // Names are checked now too, and quoted by the dialect that compiles the fragment (IRIS refuses more).
  quoteIdent(q.name);
  if (opts.alias !== undefined) quoteIdent(opts.alias);
  const columnSql = (d: Dialect) => (opts.alias === undefined ? "" : d.quoteId(opts.alias) + ".") + d.quoteId(q.name);
  return { ...q, columnSql };
}

/**
 * A fragment spelled by the dialect's vector hooks. The hooks bind values
 * through a ParamFn, in text order; each becomes a NUL marker (NUL appears in
 * no identifier), and the text split at the markers is an sql`...` fragment,
 * which numbers the placeholders wherever it lands in the query.
 */
function dialectSql(spell: (dialect: Dialect, param: ParamFn) => string): Compilable {
  return new DialectFragment((target) => {
    const dialect = target as Partial<Dialect>;
    if (typeof dialect.vectorScoreSql !== "function") {
      throw new ValidationError("Vector expressions compile only for an engine's dialect");
    }
    const values: unknown[] = [];
    const text = spell(dialect as Dialect, (value) => {
      values.push(value);
      return MARK;
    });
    return new SqlFragment(text.split(MARK), values);
  });
}

const MARK = "\u0000";
