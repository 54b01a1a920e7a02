/**
 * The same expectations as infer.ts, without `@ts-expect-error`: each line
 * below must be a type error, or the directives in infer.ts prove nothing.
 * tests/types/infer.test.ts runs `deno check` on this file and expects exactly
 * these errors. Keep the line numbers in that test in step with this file.
 */
import type { InferInsert, InferRow, Session } from "../../mod.ts";
import type { docs } from "./infer.ts";

type NewDoc = InferInsert<typeof docs>;
declare const row: InferRow<typeof docs>;
declare const s: Session;
declare const table: typeof docs;

export const noTitle: NewDoc = { small: 1, slug: "s" };
export const nullTitle: NewDoc = { small: 1, title: null, slug: "s" };
export const body: string = row.body;
export const badWhere = s.find(table, { where: { nope: 1 } });
