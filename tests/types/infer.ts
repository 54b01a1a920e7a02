/**
 * Type-level expectations for InferRow / InferInsert and the Session's typed
 * CRUD. Nothing here runs: `deno check tests/types/infer.ts` must pass, and it
 * passes only if every `@ts-expect-error` line really is a type error (an
 * unused directive is itself an error). tests/types/infer.test.ts runs it.
 */
import { col, type InferInsert, type InferRow, type Session, table } from "../../mod.ts";

type Equal<A, B> = (<T>() => T extends A ? 1 : 2) extends (<T>() => T extends B ? 1 : 2) ? true : false;
function expectType<T extends true>(_proof?: T): void {}

interface Meta {
  tags: string[];
}

export const authors = table("authors", {
  id: col.integer().primaryKey().generated(),
  name: col.varchar(100).notNull(),
});

export const docs = table("docs", {
  id: col.bigint().primaryKey().generated(),
  big: col.bigint({ mode: "bigint" }),
  small: col.smallint().notNull(),
  ratio: col.double(),
  price: col.numeric(12, 2),
  title: col.varchar(200).notNull(),
  body: col.text(),
  published: col.boolean().notNull().default(false),
  day: col.date(),
  createdAt: col.timestamp().defaultNow(),
  meta: col.json<Meta>(),
  ref: col.uuid().generated(),
  embedding: col.vector(3),
  authorId: col.integer().references(() => authors, "id"),
  slug: col.varchar(50).notNull().unique(),
});

// --- InferRow: every column present; NULL-able unless NOT NULL or primary key ---
type Doc = InferRow<typeof docs>;
expectType<
  Equal<Doc, {
    id: number;
    big: bigint | null;
    small: number;
    ratio: number | null;
    price: string | null;
    title: string;
    body: string | null;
    published: boolean;
    day: string | null;
    createdAt: Date | null;
    meta: Meta | null;
    ref: string | null;
    embedding: number[] | null;
    authorId: number | null;
    slug: string;
  }>
>(true);

// --- InferInsert: generated, defaulted and NULL-able columns are optional ---
type NewDoc = InferInsert<typeof docs>;
expectType<
  Equal<NewDoc, {
    small: number;
    title: string;
    slug: string;
    id?: number;
    big?: bigint | null;
    ratio?: number | null;
    price?: string | null;
    body?: string | null;
    published?: boolean;
    day?: string | null;
    createdAt?: Date | null;
    meta?: Meta | null;
    ref?: string | null;
    embedding?: number[] | null;
    authorId?: number | null;
  }>
>(true);

// The least an insert needs: the NOT NULL columns without a default.
export const minimal: NewDoc = { small: 1, title: "t", slug: "s" };
export const full: NewDoc = {
  id: 1,
  big: 2n ** 62n,
  small: 1,
  ratio: 0.5,
  price: "12.50",
  title: "t",
  body: null,
  published: true,
  day: "2024-03-10",
  createdAt: new Date(),
  meta: { tags: ["a"] },
  ref: "3f2504e0-4f89-11d3-9a0c-0305e82c3301",
  embedding: [1, 2, 3],
  authorId: 7,
  slug: "s",
};

// @ts-expect-error title is NOT NULL without a default: required on insert
export const noTitle: NewDoc = { small: 1, slug: "s" };
// @ts-expect-error a NOT NULL column cannot take null
export const nullTitle: NewDoc = { small: 1, title: null, slug: "s" };
// @ts-expect-error a varchar column takes a string
export const numberTitle: NewDoc = { small: 1, title: 5, slug: "s" };
// @ts-expect-error unknown column
export const extra: NewDoc = { small: 1, title: "t", slug: "s", nope: 1 };
// @ts-expect-error a defaulted NOT NULL column may be left out, but not set to null
export const nullPublished: NewDoc = { small: 1, title: "t", slug: "s", published: null };
// @ts-expect-error bigint({ mode: "bigint" }) takes a bigint
export const numberBig: NewDoc = { small: 1, title: "t", slug: "s", big: 1 };
// @ts-expect-error a vector is number[]
export const stringVector: NewDoc = { small: 1, title: "t", slug: "s", embedding: "[1,2,3]" };
// @ts-expect-error json<Meta> checks the shape
export const badMeta: NewDoc = { small: 1, title: "t", slug: "s", meta: { tags: "a" } };

declare const row: Doc;
// @ts-expect-error body may be NULL
export const body: string = row.body;
export const title: string = row.title;
// @ts-expect-error timestamps are Dates
export const created: string | null = row.createdAt;

// --- the Session's typed CRUD uses these types ---
declare const s: Session;
export async function crud(): Promise<void> {
  const inserted = await s.insert(docs, { small: 1, title: "t", slug: "s" });
  expectType<Equal<typeof inserted, Doc>>(true);
  const found = await s.find(docs, {
    where: { title: { like: "t%" }, or: [{ small: { gt: 1 } }, { body: null }] },
    orderBy: { createdAt: "desc" },
    limit: 5,
  });
  expectType<Equal<typeof found, Doc[]>>(true);
  const one = await s.get(docs, 1);
  expectType<Equal<typeof one, Doc | undefined>>(true);
  await s.update(docs, { id: 1 }, { title: "new" });
  await s.insertMany(docs, [{ small: 1, title: "a", slug: "a" }]);

  // @ts-expect-error insert checks the row against the table
  await s.insert(docs, { small: 1, slug: "s" });
  // @ts-expect-error where only names columns of the table
  await s.find(docs, { where: { nope: 1 } });
  // @ts-expect-error where values have the column's type
  await s.find(docs, { where: { small: "one" } });
  // @ts-expect-error operator operands have the column's type
  await s.find(docs, { where: { small: { gt: "1" } } });
  // @ts-expect-error orderBy takes "asc" or "desc"
  await s.find(docs, { orderBy: { title: "up" } });
  // @ts-expect-error update values have the column's type
  await s.update(docs, { id: 1 }, { small: "x" });
  // @ts-expect-error insertMany checks every row
  await s.insertMany(docs, [{ small: 1, title: "a", slug: "a" }, { small: 2, slug: "b" }]);
  // @ts-expect-error nearest names a column of the table
  await s.nearest(docs, "nope", [1, 2, 3]);
}
