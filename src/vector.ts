/**
 * Vectors: validation before anything is sent, the text form servers accept
 * (`[1,2,3]`), parsing of both `[1,2,3]` and `1,2,3` back to number[], and
 * the similarity expressions used by `nearest()` and hand-written queries.
 */
import { ValidationError } from "./errors.ts";

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
  let s = raw.trim();
  if (s.startsWith("[") && s.endsWith("]")) s = s.slice(1, -1);
  if (s === "") return [];
  const parts = s.split(",");
  const out = new Array<number>(parts.length);
  for (let i = 0; i < parts.length; i++) {
    const n = Number(parts[i]);
    if (parts[i].trim() === "" || Number.isNaN(n)) throw new ValidationError(`Cannot read a vector from ${JSON.stringify(raw.slice(0, 60))}`);
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
