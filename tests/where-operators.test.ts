/**
 * where's notIn, between and ilike (issue #16), on PostgreSQL, PGlite and iris:// through the
 * REAL iris-pgwire 1.7.3 over its IRIS stand-in (not IRIS): the same rows on every dialect.
 * - notIn: NOT IN; like SQL, a NULL value never matches, so `notIn: []` (which SQL cannot
 *   spell) matches every non-NULL value;
 * - between: inclusive on both ends;
 * - ilike: LIKE ignoring case (ILIKE on PostgreSQL, LOWER() on both sides on IRIS, whose
 *   irisql-made string columns are COLLATE %EXACT, so plain LIKE is case-sensitive there too).
 * find() caches statement texts by the where's shape: each operator is run twice with other
 * values, so a cached text binds them right.
 */
import { before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { col, table, ValidationError } from "../mod.ts";
import { everyBackend, uniqueName } from "./helpers.ts";

const items = table(uniqueName("where_ops"), {
  id: col.integer().primaryKey(),
  title: col.varchar(60),
  qty: col.integer(),
  day: col.date(),
  meta: col.json(),
});

const ROWS = [
  { id: 1, title: "Apple Pie", qty: 5, day: "2024-01-10" },
  { id: 2, title: "apple juice", qty: 10, day: "2024-02-01" },
  { id: 3, title: "Banana APPLE", qty: 15, day: "2024-03-15" },
  { id: 4, title: "cherry", qty: 20, day: "2024-04-01" },
  { id: 5, title: null, qty: null, day: null },
];

const backends = everyBackend([items]);

for (const name of backends.names) {
  describe(`where operators on ${name}`, () => {
    const engine = () => backends.engine(name);
    const ids = async (where: object) =>
      // deno-lint-ignore no-explicit-any
      (await engine().session((s) => s.find(items, { where: where as any, orderBy: { id: "asc" }, columns: ["id"] })))
        .map((r) => r.id);

    before(async () => {
      await engine().session((s) => s.insertMany(items, ROWS));
    });

    it("notIn excludes the values and NULLs; notIn: [] matches every non-NULL value", async () => {
      assert.deepEqual(await ids({ qty: { notIn: [5, 15] } }), [2, 4]);
      assert.deepEqual(await ids({ qty: { notIn: [10] } }), [1, 3, 4]);
      assert.deepEqual(await ids({ title: { notIn: ["cherry", "Apple Pie"] } }), [2, 3]);
      assert.deepEqual(await ids({ qty: { notIn: [] } }), [1, 2, 3, 4]);
      assert.deepEqual(await ids({ or: [{ qty: { notIn: [] } }, { id: 5 }] }), [1, 2, 3, 4, 5]);
      // The mirror image: in: [] matches nothing.
      assert.deepEqual(await ids({ qty: { in: [] } }), []);
    });

    it("between is inclusive on both ends, for numbers, text and dates", async () => {
      assert.deepEqual(await ids({ qty: { between: [10, 20] } }), [2, 3, 4]);
      assert.deepEqual(await ids({ qty: { between: [6, 9] } }), []);
      assert.deepEqual(await ids({ day: { between: ["2024-02-01", "2024-03-15"] } }), [2, 3]);
      assert.deepEqual(await ids({ title: { between: ["c", "d"] } }), [4]);
      assert.deepEqual(await ids({ qty: { between: [5, 5] }, id: { between: [1, 4] } }), [1]);
    });

    it("ilike ignores case on every dialect; like does not", async () => {
      assert.deepEqual(await ids({ title: { ilike: "%apple%" } }), [1, 2, 3]);
      assert.deepEqual(await ids({ title: { ilike: "APPLE%" } }), [1, 2]);
      assert.deepEqual(await ids({ title: { ilike: "CHERRY" } }), [4]);
      assert.deepEqual(await ids({ title: { like: "%apple%" } }), [2]);
      assert.deepEqual(await ids({ title: { like: "%APPLE" } }), [3]);
      assert.deepEqual(await ids({ title: { ilike: "%pie", notIn: ["x"] } }), [1]);
    });

    it("update and delete take the new operators too", async () => {
      await engine().session((s) => s.insert(items, { id: 9, title: "Zed", qty: 99 }));
      await engine().session((s) => s.update(items, { id: { between: [9, 9] }, title: { ilike: "zED" } }, { qty: 98 }));
      assert.equal((await engine().session((s) => s.get(items, 9)))?.qty, 98);
      await engine().session((s) => s.delete(items, { id: { notIn: [1, 2, 3, 4, 5] } }));
      assert.deepEqual(await ids({}), [1, 2, 3, 4, 5]);
    });

    it("refuses malformed operands before sending anything", async () => {
      const refused = (where: object, re: RegExp) =>
        assert.rejects(ids(where), (e: unknown) => e instanceof ValidationError && re.test(e.message));
      await refused({ qty: { notIn: 5 } }, /notIn must be an array/);
      await refused({ qty: { between: [1] } }, /between must be \[low, high\]/);
      await refused({ qty: { between: [1, 2, 3] } }, /between must be \[low, high\]/);
      await refused({ qty: { between: [1, null] } }, /null/);
      await refused({ meta: { between: [1, 2] } }, /ordered column/);
      await refused({ qty: { ilike: "1%" } }, /ilike works on varchar and text/);
      await refused({ title: { ilike: 5 } }, /ilike must be a string pattern/);
      await refused({ qty: { notIn: ["many"] } }, /qty/);
    });
  });
}
