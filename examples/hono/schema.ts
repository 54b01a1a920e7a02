/**
 * The database schema of the example: the `docs` table, as the migrations in
 * `migrations/` build it. This is the schema module `irisql generate` compares
 * with a database (see README.md, "Schema changes"); the store uses the same
 * definition for its typed queries.
 */
import { col, index, table } from "irisql";

/** The size of the `embedding` column; the embedder must produce vectors of this size. */
export const EMBEDDING_DIMENSIONS = 256;

/** Every column but the embedding (a PostgreSQL without pgvector has only these). */
export const docColumns = {
  id: col.bigint().primaryKey().generated(),
  slug: col.varchar(120).notNull().unique(),
  title: col.varchar(200).notNull(),
  body: col.text().notNull(),
  createdAt: col.timestamp().defaultNow(),
  updatedAt: col.timestamp(),
};

export const docs = table("docs", { ...docColumns, embedding: col.vector(EMBEDDING_DIMENSIONS) }, {
  indexes: [index("docs_embedding_hnsw").on("embedding").hnsw({ metric: "cosine" })],
});
