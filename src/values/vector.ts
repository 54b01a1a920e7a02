/**
 * Vector values: validation before anything is sent, the text form servers
 * accept (`[1,2,3]`), and parsing of both `[1,2,3]` and `1,2,3` back to
 * number[]. Nothing here knows tables, dialects or SQL (src/vector.ts builds
 * the SQL fragments), so codec, schema and dialects can all use it.
 */
import { ValidationError } from "../errors.ts";

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
  metric: string,
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

/**
 * Text forms of frozen vectors, which cannot change: a query vector is frozen
 * once checked, and its statement spells it more than once (score and ORDER BY).
 */
const encoded = new WeakMap<readonly number[], string>();

/** The text form both pgvector and IRIS TO_VECTOR accept. */
export function encodeVector(v: readonly number[]): string {
  let text = encoded.get(v);
  if (text === undefined) {
    text = "[" + v.join(",") + "]";
    if (Object.isFrozen(v)) encoded.set(v, text);
  }
  return text;
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
