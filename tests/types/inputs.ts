/**
 * Type-level expectations for the result of find()/nearest() with `columns`,
 * and for nearest()'s column argument. Nothing here runs: `deno check
 * tests/types/inputs.ts` must pass, and every `@ts-expect-error` line must be
 * a real error (an unused directive is itself an error).
 * tests/inputs-types.test.ts runs it.
 */
import { col, type InferRow, type Session, table } from "../../mod.ts";

type Equal<A, B> = (<T>() => T extends A ? 1 : 2) extends (<T>() => T extends B ? 1 : 2) ? true : false;
function expectType<T extends true>(_proof?: T): void {}

const items = table("items", {
  id: col.integer().primaryKey(),
  name: col.text().notNull(),
  note: col.varchar(20),
  embedding: col.vector(3),
  other: col.vector(3, { element: "float" }).notNull(),
  // number[] held as JSON: not a vector column.
  weights: col.json<number[]>(),
});
type Item = InferRow<typeof items>;

declare const s: Session;
export async function checks(): Promise<void> {
  // --- find(): the result has the chosen columns, or every column ---
  const all = await s.find(items);
  expectType<Equal<typeof all, Item[]>>(true);
  const filtered = await s.find(items, { where: { id: 1 }, orderBy: { name: "asc" }, limit: 1 });
  expectType<Equal<typeof filtered, Item[]>>(true);
  const ids = await s.find(items, { columns: ["id"] });
  expectType<Equal<typeof ids, { id: number }[]>>(true);
  const two = await s.find(items, { columns: ["id", "note"], where: { name: "x" } });
  expectType<Equal<typeof two, { id: number; note: string | null }[]>>(true);
  // @ts-expect-error a column left out of `columns` is not in the row
  ids[0].name;
  // @ts-expect-error columns names columns of the table
  await s.find(items, { columns: ["nope"] });
  // @ts-expect-error columns is an array
  await s.find(items, { columns: "id" });

  // like takes a pattern on text columns only
  await s.find(items, { where: { name: { like: "a%" }, note: { like: "%b" } } });
  // @ts-expect-error like does not apply to a number column
  await s.find(items, { where: { id: { like: "1%" } } });

  // --- nearest(): vector columns only; the result follows `columns` too ---
  const near = await s.nearest(items, "embedding", [1, 2, 3]);
  expectType<Equal<typeof near, (Item & { score: number })[]>>(true);
  await s.nearest(items, "other", [1, 2, 3], { k: 2 });
  const nearIds = await s.nearest(items, "embedding", [1, 2, 3], { columns: ["id"] });
  expectType<Equal<typeof nearIds, ({ id: number } & { score: number })[]>>(true);
  // @ts-expect-error a text column is not a vector column
  await s.nearest(items, "name", [1, 2, 3]);
  // @ts-expect-error a json column holding numbers is not a vector column
  await s.nearest(items, "weights", [1, 2, 3]);
  // @ts-expect-error nearest names a column of the table
  await s.nearest(items, "nope", [1, 2, 3]);
}
