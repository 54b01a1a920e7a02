/**
 * Raw parameters and raw statements are checked before anything is sent.
 *   - text() reads a parameter only from the caller's own properties
 *     (`:constructor` with `{}` is missing, not Object's constructor), and a
 *     parameter the statement does not use is a ValidationError naming it.
 *   - text() and sql`...` bind only values with an SQL meaning: string, finite
 *     number, bigint, boolean, null, valid Date, Uint8Array, and arrays of
 *     those. Functions, symbols, undefined, plain objects, NaN/Infinity and
 *     invalid Dates are a ValidationError.
 *   - An empty statement ("", blanks, only comments or semicolons) is a
 *     ValidationError on every dialect (iris-pgwire never answers one).
 */
import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { type Engine, QueryError, type QueryEvent, sql, text, ValidationError } from "../mod.ts";
import { compile } from "../src/sql.ts";
import { type IrisEmulator, startIrisEmulator } from "./fixtures/iris-pgwire-emulator/mod.ts";
import { BACKENDS, engineFor } from "./helpers.ts";

const pg = { paramStyle: "reuse" as const };

function refused(fn: () => unknown, message: RegExp): void {
  assert.throws(fn, (e: unknown) => {
    assert.ok(e instanceof ValidationError, `expected ValidationError, got ${String(e)}`);
    assert.match((e as Error).message, message);
    return true;
  });
}

describe("text(): names are looked up as the caller's own properties", () => {
  for (const name of ["constructor", "toString", "valueOf", "hasOwnProperty", "__proto__"]) {
    it(`:${name} with {} is a missing value`, () => {
      refused(() => compile(text(`SELECT :${name}`), {}, pg), new RegExp(`Missing value for parameter :${name}$`));
    });
  }

  it("an own property of that name binds", () => {
    const q = compile(text("SELECT :constructor, :toString"), { constructor: 1, toString: "x" }, pg);
    assert.deepEqual(q.params, [1, "x"]);
  });

  it("a params object without a prototype works", () => {
    const params = Object.assign(Object.create(null), { a: 1 });
    assert.deepEqual(compile(text("SELECT :a"), params, pg).params, [1]);
  });
});

describe("text(): a parameter the statement does not use is refused", () => {
  it("names the unused keys and the ones the statement uses", () => {
    refused(() => compile(text("SELECT :id"), { id: 1, idd: 2 }, pg), /not used by the statement: idd\b.*:id/);
    refused(() => compile(text("SELECT :a, :b"), { a: 1, b: 2, c: 3, d: 4 }, pg), /c, d/);
  });
  it("also when the statement has no parameters at all", () => {
    refused(() => compile(text("SELECT 1"), { id: 1 }, pg), /not used by the statement: id\b/);
  });
  it("through bind() too", () => {
    refused(() => compile(sql`SELECT ${text("SELECT :a").bind({ a: 1, b: 2 })}`, undefined, pg), /: b\b/);
  });
  it("an empty object, undefined or null for a statement without parameters is fine", () => {
    for (const p of [{}, undefined, null]) assert.equal(compile(text("SELECT 1"), p, pg).text, "SELECT 1");
  });
});

describe("raw values must have an SQL meaning", () => {
  const ok: [string, unknown][] = [
    ["a string", "x"],
    ["a number", 1.5],
    ["a negative zero", -0],
    ["a bigint", 2n ** 63n - 1n],
    ["a boolean", false],
    ["null", null],
    ["a Date", new Date(0)],
    ["a Uint8Array", new Uint8Array([1, 2])],
    ["an array of numbers", [1, 2, 3]],
    ["an array of strings and nulls", ["a", null]],
    ["a nested array", [[1, 2], [3, 4]]],
    ["an empty array", []],
  ];
  for (const [what, value] of ok) {
    it(`binds ${what}`, () => {
      assert.deepEqual(compile(sql`SELECT ${value}`, undefined, pg).params, [value]);
      assert.deepEqual(compile(text("SELECT :v"), { v: value }, pg).params, [value]);
    });
  }

  class Point {
    x = 1;
  }
  const bad: [string, unknown, RegExp][] = [
    ["a function", () => 1, /a function/],
    ["a symbol", Symbol("s"), /a symbol/],
    ["a plain object", { a: 1 }, /an object.*JSON\.stringify/],
    ["a class instance", new Point(), /an object/],
    ["a Map", new Map(), /an object/],
    ["NaN", NaN, /NaN/],
    ["Infinity", Infinity, /Infinity/],
    ["-Infinity", -Infinity, /-Infinity/],
    ["an invalid Date", new Date("nope"), /invalid Date/],
    ["undefined (sql``)", undefined, /undefined/],
    ["an array holding a function", [1, () => 2], /\[1\].*a function/],
    ["an array holding an object", [[{}]], /\[0\]\[0\].*an object/],
    ["a boxed string", new String("x"), /an object/],
  ];
  for (const [what, value, message] of bad) {
    it(`refuses ${what} in sql\`\``, () => {
      refused(() => compile(sql`SELECT ${1}, ${value}`, undefined, pg), message);
      refused(() => compile(sql`SELECT ${1}, ${value}`, undefined, pg), /parameter \$2/);
    });
    it(`refuses ${what} in { text, params }`, () => {
      refused(() => compile({ text: "SELECT $1, $2", params: [1, value] }, undefined, pg), message);
      refused(() => compile({ text: "SELECT $1, $2", params: [1, value] }, undefined, pg), /parameter \$2/);
    });
    if (value !== undefined) {
      it(`refuses ${what} in text()`, () => {
        refused(() => compile(text("SELECT :v"), { v: value }, pg), message);
        refused(() => compile(text("SELECT :v"), { v: value }, pg), /parameter :v/);
      });
    }
  }
});

describe("empty statements are refused before sending", () => {
  const EMPTY = [
    "",
    "   ",
    "\n\t ",
    "-- note",
    "-- note\n  -- another",
    "/* x */",
    "/* a /* nested */ */ ;",
    ";",
    " ; ;",
  ];
  const NOT_EMPTY = ["SELECT 1", "  SELECT 1", "-- note\nSELECT 1", "/* x */ SELECT 1", "SELECT 1;"];

  it("compile() refuses them in every form", () => {
    for (const s of EMPTY) {
      refused(() => compile(s, undefined, pg), /empty statement/);
      refused(() => compile(text(s), {}, pg), /empty statement/);
      refused(() => compile({ text: s, params: [] }, undefined, pg), /empty statement/);
    }
    refused(() => compile(sql``, undefined, pg), /empty statement/);
    refused(() => compile(sql`${sql.raw(" -- x")}`, undefined, pg), /empty statement/);
    for (const s of NOT_EMPTY) assert.equal(compile(s, undefined, pg).text, s);
  });

  const targets: { name: string; url?: string }[] = [...BACKENDS, { name: "iris" }];
  for (const target of targets) {
    describe(target.name, () => {
      let emu: IrisEmulator | undefined;
      let engine: Engine;
      const events: QueryEvent[] = [];
      before(async () => {
        if (!target.url) emu = await startIrisEmulator();
        engine = engineFor(target.url ?? emu!.url, { onQuery: (e) => events.push(e) });
        await engine.execute("SELECT 1");
      });
      after(async () => {
        await engine.dispose();
        await emu?.close();
      });

      it("execute(), stream() and sessions refuse them without sending", async () => {
        for (const s of ["", "   ", "-- note", "/* x */"]) {
          await assert.rejects(engine.execute(s), ValidationError);
          await assert.rejects(engine.execute(text(s), {}), ValidationError);
          await assert.rejects(async () => {
            for await (const _ of engine.stream(s)) { /* nothing */ }
          }, ValidationError);
          await engine.session(async (session) => {
            await assert.rejects(session.execute(s), ValidationError);
          });
        }
        assert.equal(events.filter((e) => e.sql.trim() === "" || /^(--|\/\*)/.test(e.sql)).length, 0);
        assert.equal((await engine.execute("SELECT 1 AS n")).rows[0].n, 1, "the engine still works");
      });
    });
  }
});

describe("the wire protocol's parameter limit (postgres): refused by irisql, in its own words, on every path", () => {
  let engine: Engine;
  before(() => {
    engine = engineFor(BACKENDS[0], { pool: { max: 1 } });
  });
  after(() => engine.dispose());
  /** One statement with `n` parameters: the length of an array built from them. */
  const statement = (n: number) =>
    sql`SELECT array_length(ARRAY[${sql.join(Array.from({ length: n }, (_, i) => i))}]::int[], 1) AS n`;
  const tooMany = (e: unknown) => {
    assert.ok(e instanceof QueryError, String(e));
    assert.match((e as Error).message, /^Too many parameters: this statement has 65,534, .* at most 65,533 /);
    return true;
  };

  it("65,533 parameters run; 65,534 are refused on the pool, a held connection, a stream and a transaction", async () => {
    const pid = async () => (await engine.execute("SELECT pg_backend_pid() AS pid")).scalar();
    const before = await pid();
    assert.equal((await engine.execute(statement(65_533))).scalar(), 65_533);
    await assert.rejects(engine.execute(statement(65_534)), tooMany);
    await assert.rejects(async () => {
      for await (const _ of engine.stream(statement(65_534))) { /* nothing */ }
    }, tooMany);
    const c = await engine.connect();
    try {
      await assert.rejects(c.execute(statement(65_534)), tooMany);
      assert.equal((await c.execute(statement(3))).scalar(), 3, "the held connection goes on");
    } finally {
      await c.release();
    }
    await assert.rejects(engine.begin((tx) => tx.execute(statement(65_534))), tooMany);
    assert.equal(await pid(), before, "the one connection was never dropped");
  });
});
