/**
 * Vectors: validation before anything is sent, the text form servers accept
 * (`[1,2,3]`), parsing of both `[1,2,3]` and `1,2,3` back to number[], and
 * the similarity expressions used by `nearest()` and hand-written queries.
 */
import type { Dialect, ParamFn } from "./dialects/dialect.ts";
import { ValidationError } from "./errors.ts";
import type { AnyTable, ColumnSpec, InferRow, VectorMetric } from "./schema.ts";
import { type Compilable, DialectFragment, quoteIdent, SqlFragment } from "./sql.ts";

/**
 * Check a vector for a column: an array of finite numbers of the right length.
 * `where` names the column in the error ("docs.embedding").
 */
export function validateVector(value: unknown, dimensions: number | undefined, where: string): number[] {
  if (!Array.isArray(value) && !(ArrayBuffer.isView(value) && !(value instanceof DataView))) {
    throw new ValidationError(`${where} must be an array of numbers, got ${describe(value)}`);
  }
  const arr = value as ArrayLike<unknown>;
  if (arr.length === 0) throw new ValidationError(`${where} must not be an empty vector`);
  if (dimensions !== undefined && arr.length !== dimensions) {
    throw new ValidationError(`${where} expects ${dimensions} dimensions, got ${arr.length}`);
  }
  const out = new Array<number>(arr.length);
  for (let i = 0; i < arr.length; i++) {
    const x = arr[i];
    if (typeof x !== "number" || !Number.isFinite(x)) {
      throw new ValidationError(`${where}[${i}] must be a finite number, got ${describe(x)}`);
    }
    out[i] = x;
  }
  return out;
}

/**
 * Refuse a cosine query without a direction: cosine divides by the query's length, so
 * a vector the server sees as all zeros scores every row NaN (or NULL). `float32`: the
 * server rounds elements to float4 first (pgvector; IRIS VECTOR(float, n)), which turns
 * a tiny element into 0. `what` names the vector in the message.
 */
export function checkCosineQuery(
  metric: VectorMetric,
  query: readonly number[],
  float32: boolean,
  what = "query vector",
): void {
  if (metric !== "cosine") return;
  for (const x of query) if ((float32 ? Math.fround(x) : x) !== 0) return;
  throw new ValidationError(
    `A cosine ${what} must not be all zeros${float32 ? " (as float4)" : ""}: it has no direction, so every ` +
      `score would be NaN. Use metric "dot" or "l2", or a vector with a non-zero element`,
  );
}

/** The text form both pgvector and IRIS TO_VECTOR accept. */
export function encodeVector(v: readonly number[]): string {
  return "[" + v.join(",") + "]";
}

/** Read a vector the server sent: `[1,2,3]`, `1,2,3`, or already an array. */
export function parseVector(raw: unknown): number[] | null {
  if (raw === null || raw === undefined) return null;
  if (Array.isArray(raw)) return raw.map(Number);
  if (ArrayBuffer.isView(raw) && !(raw instanceof DataView)) return Array.from(raw as unknown as ArrayLike<number>);
  if (typeof raw !== "string") throw new ValidationError(`Cannot read a vector from ${describe(raw)}`);
  // pgvector's text form is a JSON array of numbers, which JSON.parse reads about twice as
  // fast as splitting (bench/ case 5); anything else takes the general path below.
  if (raw.charCodeAt(0) === 91 /* [ */) {
    try {
      const parsed: unknown = JSON.parse(raw);
      if (Array.isArray(parsed) && parsed.every((n) => typeof n === "number")) return parsed;
    } catch {
      // not JSON: e.g. `[1,,2]` or `[01]`, read (or rejected) below
    }
  }
  let s = raw.trim();
  if (s.startsWith("[") && s.endsWith("]")) s = s.slice(1, -1);
  if (s === "") return [];
  const parts = s.split(",");
  const out = new Array<number>(parts.length);
  for (let i = 0; i < parts.length; i++) {
    const n = Number(parts[i]);
    if (parts[i].trim() === "" || Number.isNaN(n)) {
      throw new ValidationError(`Cannot read a vector from ${JSON.stringify(raw.slice(0, 60))}`);
    }
    out[i] = n;
  }
  return out;
}

function describe(x: unknown): string {
  if (x === null) return "null";
  if (typeof x === "number") return String(x);
  if (typeof x === "string") return JSON.stringify(x.length > 40 ? x.slice(0, 40) + "…" : x);
  return Array.isArray(x) ? "an array" : typeof x;
}

// ---------------------------------------------------------------------------
// Vector expressions for hand-written queries

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

/** A vector column by name, or a ValidationError saying why it cannot be used. */
export function vectorColumn(table: AnyTable, column: string, context: string): { name: string; spec: ColumnSpec } {
  const spec = table.column(column, `${context} on table ${table.name}`).spec;
  const name = table.declaredName(column)!;
  if (spec.kind !== "vector") {
    throw new ValidationError(`${context} needs a vector column; ${table.name}.${name} is ${spec.kind}`);
  }
  return { name, spec };
}

/** "cosine", "dot" or "l2", or a ValidationError. */
export function checkMetric(metric: unknown): VectorMetric {
  if (metric !== "cosine" && metric !== "dot" && metric !== "l2") {
    throw new ValidationError(`metric must be "cosine", "dot" or "l2", got ${JSON.stringify(metric)}`);
  }
  return metric;
}

/**
 * The score `nearest()` reports, as a fragment for `sql\`...\``: cosine
 * similarity or inner product (higher is closer), or Euclidean distance for
 * "l2" (lower is closer), spelled for the engine's dialect. The column and
 * query vector are checked now, before anything is sent. On IRIS, limit
 * with `SELECT TOP k`: the form an HNSW index serves.
 *
 * ```ts
 * const q = await embed("tea");
 * await engine.execute(sql`SELECT id, ${similarity(docs, "embedding", q)} AS score FROM docs
 *   WHERE lang = ${"en"} ORDER BY ${nearestOrder(docs, "embedding", q)} LIMIT 5`);
 * ```
 */
export function similarity<T extends AnyTable>(
  table: T,
  column: VectorColumnName<T>,
  query: ArrayLike<number>,
  options: VectorMetric | VectorExpressionOptions = "cosine",
): Compilable {
  const e = vectorExpression("similarity()", table, column, query, options);
  return dialectSql((d, param) => d.vectorScoreSql(e.columnSql(d), e.spec, e.metric, e.query, param));
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
  return dialectSql((d, param) => d.vectorOrderSql(e.columnSql(d), e.spec, e.metric, e.query, param));
}

function vectorExpression(
  what: string,
  table: AnyTable,
  column: string,
  query: ArrayLike<number>,
  options: VectorMetric | VectorExpressionOptions,
) {
  const opts = typeof options === "string" ? { metric: options } : options ?? {};
  const { name, spec } = vectorColumn(table, column, what);
  const label = `query vector for ${table.name}.${name}`;
  const vector = validateVector(query, spec.dimensions, label);
  const metric = checkMetric(opts.metric ?? "cosine");
  // Exact zeros now; the dialect checks again in the precision its server uses.
  checkCosineQuery(metric, vector, false, label);
  // Names are checked now too, and quoted by the dialect that compiles the fragment (IRIS refuses more).
  quoteIdent(name);
  if (opts.alias !== undefined) quoteIdent(opts.alias);
  const columnSql = (d: Dialect) => (opts.alias === undefined ? "" : d.quoteId(opts.alias) + ".") + d.quoteId(name);
  return { spec, metric, query: vector, columnSql };
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
