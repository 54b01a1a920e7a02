/**
 * Request checking: every body, path and query value is checked here and a
 * mistake becomes a 400 that names the field. Unknown fields are rejected,
 * so a typo ("titel") is an error instead of silently ignored.
 */
import type { VectorMetric } from "irisql";
import { badRequest } from "./http-errors.ts";
import type { DocInput, DocPatch } from "./store.ts";

export const LIMITS = {
  title: 200,
  slug: 120,
  body: 100_000,
  query: 1_000,
  bulk: 1_000,
  pageSize: 100,
  k: 50,
} as const;

const METRICS: readonly VectorMetric[] = ["cosine", "dot", "l2"];
const SLUG = /^[\p{Ll}\p{Lo}\p{N}]+(?:-[\p{Ll}\p{Lo}\p{N}]+)*$/u;

type Json = Record<string, unknown>;

function object(value: unknown, what: string): Json {
  if (typeof value !== "object" || value === null || Array.isArray(value)) {
    throw badRequest(`${what} must be a JSON object`);
  }
  return value as Json;
}

function onlyKeys(body: Json, allowed: readonly string[], at: string): void {
  for (const key of Object.keys(body)) {
    if (!allowed.includes(key)) {
      throw badRequest(`Unknown field ${JSON.stringify(at + key)}; allowed: ${allowed.join(", ")}`);
    }
  }
}

function text(body: Json, key: string, at: string, max: number, required: boolean): string | undefined {
  const v = body[key];
  if (v === undefined) {
    if (required) throw badRequest(`${at}${key}: required`);
    return undefined;
  }
  if (typeof v !== "string") throw badRequest(`${at}${key}: must be a string`);
  const trimmed = v.trim();
  if (required && trimmed === "") throw badRequest(`${at}${key}: must not be empty`);
  if (trimmed.length > max) throw badRequest(`${at}${key}: at most ${max} characters`);
  return trimmed;
}

/** "Baking Sourdough Bread!" -> "baking-sourdough-bread" */
export function slugify(title: string): string {
  return title.normalize("NFKD").replace(/\p{M}/gu, "").toLowerCase()
    .replace(/[^\p{L}\p{N}]+/gu, "-").slice(0, LIMITS.slug).replace(/^-+|-+$/g, "");
}

function slug(body: Json, at: string, title: string | undefined): string | undefined {
  const given = text(body, "slug", at, LIMITS.slug, false);
  if (given !== undefined) {
    if (!SLUG.test(given)) throw badRequest(`${at}slug: lower-case letters and digits joined by single dashes`);
    return given;
  }
  if (title === undefined) return undefined;
  const made = slugify(title);
  if (made === "") throw badRequest(`${at}slug: cannot be made from the title; pass one`);
  return made;
}

const DOC_FIELDS = ["slug", "title", "body"];

/** POST /docs and each item of /docs/bulk: title required, body defaults to "", slug from the title. */
export function docInput(value: unknown, at = ""): DocInput {
  const body = object(value, at ? at.slice(0, -1) : "The body");
  onlyKeys(body, DOC_FIELDS, at);
  const title = text(body, "title", at, LIMITS.title, true)!;
  return {
    title,
    slug: slug(body, at, title)!,
    body: text(body, "body", at, LIMITS.body, false) ?? "",
  };
}

/** PATCH /docs/:id: any of the fields, at least one. */
export function docPatch(value: unknown): DocPatch {
  const body = object(value, "The body");
  onlyKeys(body, DOC_FIELDS, "");
  const patch: DocPatch = {};
  const title = text(body, "title", "", LIMITS.title, false);
  if (title !== undefined) {
    if (title === "") throw badRequest("title: must not be empty");
    patch.title = title;
  }
  const s = slug(body, "", undefined);
  if (s !== undefined) patch.slug = s;
  const b = text(body, "body", "", LIMITS.body, false);
  if (b !== undefined) patch.body = b;
  if (Object.keys(patch).length === 0) throw badRequest("Nothing to change: send title, slug or body");
  return patch;
}

/** POST /docs/bulk: { "docs": [ ... ] }, 1 to 1000 items. */
export function bulkInput(value: unknown): DocInput[] {
  const body = object(value, "The body");
  onlyKeys(body, ["docs"], "");
  const docs = body.docs;
  if (!Array.isArray(docs)) throw badRequest("docs: must be an array of documents");
  if (docs.length === 0 || docs.length > LIMITS.bulk) throw badRequest(`docs: 1 to ${LIMITS.bulk} documents`);
  return docs.map((d, i) => docInput(d, `docs[${i}].`));
}

/** A path id: a positive whole number. */
export function docId(raw: string): number {
  if (!/^[1-9]\d{0,15}$/.test(raw) || !Number.isSafeInteger(Number(raw))) {
    throw badRequest("id: must be a positive whole number");
  }
  return Number(raw);
}

function wholeNumber(raw: string | undefined, name: string, min: number, max: number, fallback: number): number {
  if (raw === undefined) return fallback;
  const n = Number(raw);
  if (!/^\d+$/.test(raw) || n < min || n > max) throw badRequest(`${name}: a whole number from ${min} to ${max}`);
  return n;
}

/** GET /docs?limit&offset */
export function page(query: { limit?: string; offset?: string }): { limit: number; offset: number } {
  return {
    limit: wholeNumber(query.limit, "limit", 1, LIMITS.pageSize, 20),
    offset: wholeNumber(query.offset, "offset", 0, Number.MAX_SAFE_INTEGER, 0),
  };
}

/** GET /?q=…&k=…&metric=…: the page's linkable search. No q: no search. */
export interface PageQuery {
  q: string;
  k: number;
  metric: VectorMetric;
}
export function pageQuery(query: { q?: string; k?: string; metric?: string }): PageQuery {
  const metric = query.metric || "cosine";
  if (!METRICS.includes(metric as VectorMetric)) throw badRequest(`metric: one of ${METRICS.join(", ")}`);
  const q = (query.q ?? "").trim();
  if (q.length > LIMITS.query) throw badRequest(`q: at most ${LIMITS.query} characters`);
  return { q, k: wholeNumber(query.k || undefined, "k", 1, LIMITS.k, 5), metric: metric as VectorMetric };
}

export type SearchInput =
  & { k: number; metric: VectorMetric }
  & (
    | { query: string; vector?: undefined }
    | { vector: number[]; query?: undefined }
  );

/** POST /search: { query | vector, k = 5, metric = "cosine" } */
export function searchInput(value: unknown, dimensions: number): SearchInput {
  const body = object(value, "The body");
  onlyKeys(body, ["query", "vector", "k", "metric"], "");
  const k = body.k ?? 5;
  if (typeof k !== "number" || !Number.isInteger(k) || k < 1 || k > LIMITS.k) {
    throw badRequest(`k: a whole number from 1 to ${LIMITS.k}`);
  }
  const metric = body.metric ?? "cosine";
  if (!METRICS.includes(metric as VectorMetric)) throw badRequest(`metric: one of ${METRICS.join(", ")}`);
  const m = metric as VectorMetric;
  if ((body.query === undefined) === (body.vector === undefined)) {
    throw badRequest("Send exactly one of query (text) or vector (numbers)");
  }
  if (body.query !== undefined) return { query: text(body, "query", "", LIMITS.query, true)!, k, metric: m };
  const v = body.vector;
  if (!Array.isArray(v) || v.length !== dimensions) {
    throw badRequest(`vector: an array of exactly ${dimensions} numbers`);
  }
  if (!v.every((x) => typeof x === "number" && Number.isFinite(x))) {
    throw badRequest("vector: every element must be a finite number");
  }
  if (m === "cosine" && v.every((x) => x === 0)) {
    throw badRequest("vector: cosine needs a vector that is not all zeros");
  }
  return { vector: v as number[], k, metric: m };
}
