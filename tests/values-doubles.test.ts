/**
 * Double precision special values on PostgreSQL, PGlite and iris:// through
 * the REAL iris-pgwire 1.7.3 over its IRIS stand-in (not IRIS). NaN, +Infinity, -Infinity and -0 cannot be
 * stored the same way on every server (IRIS stores no NaN or infinity by
 * default, iris-pgwire spells them "nan"/"inf", and the drivers send -0 as
 * "0"), so irisql refuses them before sending anything, the same everywhere.
 * Values other clients stored still read back as what they are.
 */
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { col, createEngine, table, ValidationError } from "../mod.ts";
import { decode } from "../src/codec.ts";
import { irisDialect } from "../src/dialects/iris/iris-dialect.ts";
import { parseFloat8 } from "../src/adapters/types.ts";
import { everyBackend, uniqueName } from "./helpers.ts";

const nums = table(uniqueName("values_doubles"), {
  id: col.integer().primaryKey(),
  x: col.double(),
});

const SPECIAL: [string, number][] = [["NaN", NaN], ["Infinity", Infinity], ["-Infinity", -Infinity], ["-0", -0]];
const ORDINARY = [0, 1.5, -2.25e-308, 1.7976931348623157e308, 5e-324, -1e21, 0.1 + 0.2];

const backends = everyBackend([nums]);

for (const name of backends.names) {
  describe(`doubles on ${name}`, () => {
    const engine = () => backends.engine(name);

    it("refuses NaN, ±Infinity and -0 in a row, an update and a where, naming the value", async () => {
      for (const [label, x] of SPECIAL) {
        await assert.rejects(
          engine().session((s) => s.insert(nums, { id: 1, x })),
          (e: unknown) => e instanceof ValidationError && e.message.includes(label === "-0" ? "-0" : "finite"),
          `insert ${label}`,
        );
        await assert.rejects(
          engine().session((s) => s.insertMany(nums, [{ id: 2, x: 1 }, { id: 3, x }])),
          ValidationError,
          `insertMany ${label}`,
        );
        await assert.rejects(
          engine().session((s) => s.update(nums, { id: 1 }, { x })),
          ValidationError,
          `update ${label}`,
        );
        await assert.rejects(
          engine().session((s) => s.find(nums, { where: { x } })),
          ValidationError,
          `where ${label}`,
        );
      }
      assert.equal((await engine().session((s) => s.find(nums, {}))).length, 0, "nothing was stored");
    });

    it("round-trips ordinary doubles exactly, extremes and subnormals included", async () => {
      let id = 100;
      for (const x of ORDINARY) {
        const row = await engine().session((s) => s.insert(nums, { id: ++id, x }));
        assert.equal(row.x, x, `insert ${x}`);
        assert.equal((await engine().session((s) => s.get(nums, id)))?.x, x, `get ${x}`);
      }
    });
  });
}

describe("reading special values other clients stored", () => {
  it("reads iris-pgwire's Python spellings and PostgreSQL's, not NaN for an infinity", () => {
    const spec = nums.columns.x.spec;
    assert.equal(decode(spec, "inf", false, irisDialect), Infinity);
    assert.equal(decode(spec, "-inf", false, irisDialect), -Infinity);
    assert.ok(Number.isNaN(decode(spec, "nan", false, irisDialect) as number));
    assert.equal(decode(spec, "Infinity", false, irisDialect), Infinity);
    assert.equal(decode(spec, "-Infinity", false, irisDialect), -Infinity);
    assert.ok(Object.is(decode(spec, "-0.0", false, irisDialect), -0));
    assert.equal(decode(spec, "1e+16", false, irisDialect), 1e16);
  });
});

describe("raw results read special floats the same way", () => {
  it("execute() on iris:// gives ±Infinity for what iris-pgwire sends as inf/-inf", async () => {
    const engine = createEngine(backends.irisUrl());
    const name = uniqueName("raw_inf");
    try {
      await engine.execute(`CREATE TABLE "${name}" ("id" INTEGER NOT NULL, "x" DOUBLE, PRIMARY KEY ("id"))`);
      for (const [id, v] of [[1, "Infinity"], [2, "-Infinity"], [3, "1.5"]]) {
        await engine.execute(`INSERT INTO "${name}" ("id", "x") VALUES (${id}, CAST('${v}' AS DOUBLE))`);
      }
      const r = await engine.execute(`SELECT "id", "x" FROM "${name}" ORDER BY "id"`);
      assert.deepEqual(r.rows, [{ id: 1, x: Infinity }, { id: 2, x: -Infinity }, { id: 3, x: 1.5 }]);
    } finally {
      await engine.execute(`DROP TABLE "${name}"`).catch(() => {});
      await engine.dispose();
    }
  });

  it("parseFloat8 reads both servers' spellings", () => {
    for (const [text, value] of [["inf", Infinity], ["-inf", -Infinity], ["Infinity", Infinity], ["1e+16", 1e16]]) {
      assert.equal(parseFloat8(text as string), value, text as string);
    }
    assert.ok(Number.isNaN(parseFloat8("nan")) && Number.isNaN(parseFloat8("NaN")));
  });
});
