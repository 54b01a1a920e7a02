/**
 * The document store: the `docs` table and every database operation the
 * routes use, each run on the Session the request already holds.
 *
 * The table itself is made by the migrations (bootstrap.ts runs them); its
 * definition is in schema.ts. Vector search needs pgvector (or IRIS): on a
 * PostgreSQL without pgvector the migration that adds `embedding` cannot run,
 * the table lacks that column, and everything but /search still works;
 * `store.search` says which case we are in.
 */
import { type Engine, type InferInsert, type InferRow, type Session, table, type VectorMetric } from "irisql";
import type { Embedder } from "./embedding.ts";
import { docColumns, docs, EMBEDDING_DIMENSIONS } from "./schema.ts";
import { SEED_DOCS } from "./seed.ts";

/** The same table as the database has it without pgvector: no `embedding` column. */
const docsWithoutEmbedding = table(docs.name, docColumns);

type DocsTable = typeof docs;
type DocRow = InferRow<DocsTable>;

/** A document as the API returns it (no embedding: 256 numbers help nobody reading JSON). */
export type Doc = Omit<DocRow, "embedding">;
export interface DocInput {
  slug: string;
  title: string;
  body: string;
}
export type DocPatch = Partial<DocInput>;
export interface SearchHit {
  id: number;
  slug: string;
  title: string;
  snippet: string;
  score: number;
}

const DOC_FIELDS = ["id", "slug", "title", "body", "createdAt", "updatedAt"] as const;
const SNIPPET_LENGTH = 160;

export class Store {
  readonly #table: DocsTable;
  readonly #embedder: Embedder;
  /** Can this database rank by vector similarity? */
  readonly search: boolean;

  constructor(table: DocsTable, embedder: Embedder, search: boolean) {
    this.#table = table;
    this.#embedder = embedder;
    this.search = search;
  }

  get embedder(): Embedder {
    return this.#embedder;
  }

  async list(s: Session, page: { limit: number; offset: number }): Promise<Doc[]> {
    const rows = await s.find(this.#table, { columns: DOC_FIELDS, orderBy: { id: "asc" }, ...page });
    return rows.map(toDoc);
  }

  async get(s: Session, id: number): Promise<Doc | undefined> {
    const [row] = await s.find(this.#table, { where: { id }, columns: DOC_FIELDS });
    return row && toDoc(row);
  }

  async create(s: Session, input: DocInput): Promise<Doc> {
    const [row] = await this.#withEmbeddings([input]);
    return toDoc(await s.insert(this.#table, row!));
  }

  /** All rows or none: insertMany runs in one savepoint of the request's transaction. */
  async createMany(s: Session, inputs: readonly DocInput[]): Promise<number> {
    const { count } = await s.insertMany(this.#table, await this.#withEmbeddings(inputs));
    return count;
  }

  /** The updated document, or undefined when there is no such id. */
  async update(s: Session, id: number, patch: DocPatch): Promise<Doc | undefined> {
    const current = await this.get(s, id);
    if (!current) return undefined;
    const values: Partial<InferInsert<DocsTable>> = { ...patch, updatedAt: new Date() };
    if (this.search && (patch.title !== undefined || patch.body !== undefined)) {
      values.embedding = await this.#embedOne(embeddingText({ ...current, ...patch }));
    }
    await s.update(this.#table, { id }, values);
    return await this.get(s, id);
  }

  /** false when there was nothing to delete. */
  async remove(s: Session, id: number): Promise<boolean> {
    // Look first: on IRIS the server does not report how many rows a DELETE removed.
    if (!(await this.get(s, id))) return false;
    await s.delete(this.#table, { id });
    return true;
  }

  /** The query text as a vector, for /search { query }. */
  async embedQuery(text: string): Promise<number[]> {
    return await this.#embedOne(text);
  }

  async #embedOne(text: string): Promise<number[]> {
    const [vector] = await this.#embedder.embed([text]);
    if (!vector) throw new Error(`The embedder ${this.#embedder.name} returned no vector`);
    return vector;
  }

  /** Best first: highest score for cosine and dot, lowest distance for l2. */
  async nearest(s: Session, vector: number[], k: number, metric: VectorMetric): Promise<SearchHit[]> {
    const rows = await s.nearest(this.#table, "embedding", vector, {
      k,
      metric,
      columns: ["id", "slug", "title", "body"],
    });
    return rows.map((r) => ({
      id: r.id,
      slug: r.slug,
      title: r.title,
      snippet: snippet(r.body ?? ""),
      score: r.score,
    }));
  }

  /** Insert the seed documents if the table is empty; returns how many were added. */
  async seedIfEmpty(engine: Engine): Promise<number> {
    return await engine.session(async (s) => {
      const any = await s.find(this.#table, { columns: ["id"], limit: 1 });
      return any.length > 0 ? 0 : await this.createMany(s, SEED_DOCS);
    });
  }

  async #withEmbeddings(inputs: readonly DocInput[]): Promise<InferInsert<DocsTable>[]> {
    const rows = inputs.map((d) => ({ slug: d.slug, title: d.title, body: d.body }));
    if (!this.search) return rows;
    const vectors = await this.#embedder.embed(inputs.map(embeddingText));
    if (vectors.length !== rows.length) {
      throw new Error(
        `The embedder ${this.#embedder.name} returned ${vectors.length} vectors for ${rows.length} texts`,
      );
    }
    return rows.map((row, i) => ({ ...row, embedding: vectors[i]! }));
  }
}

/**
 * The store over the migrated `docs` table; `search` says whether the migrations
 * could add its `embedding` column (bootstrap.ts). The embedder must fill that column.
 */
export function openStore(embedder: Embedder, search: boolean): Store {
  if (search && embedder.dimensions !== EMBEDDING_DIMENSIONS) {
    throw new Error(
      `The embedder ${embedder.name} makes vectors of ${embedder.dimensions} numbers, but the migrations give ` +
        `docs.embedding ${EMBEDDING_DIMENSIONS}: change EMBEDDING_DIMENSIONS in schema.ts and generate a migration ` +
        `(see README.md, "Schema changes")`,
    );
  }
  // Without vectors the table simply lacks `embedding`; the store never touches it then.
  return new Store(search ? docs : (docsWithoutEmbedding as unknown as DocsTable), embedder, search);
}

function embeddingText(d: { title: string; body: string }): string {
  return `${d.title}\n${d.body}`;
}

/**
 * A row as the API shows it. iris-pgwire sends an empty string as NULL; `body`
 * is NOT NULL, so a NULL there can only have been "".
 */
function toDoc(row: Doc): Doc {
  const { id, slug, title, body, createdAt, updatedAt } = row;
  return { id, slug, title, body: body ?? "", createdAt, updatedAt };
}

function snippet(body: string): string {
  return body.length <= SNIPPET_LENGTH ? body : body.slice(0, SNIPPET_LENGTH - 1).trimEnd() + "…";
}
