import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { sql, text, ValidationError } from "../mod.ts";
import { compile } from "../src/sql.ts";

const pg = { paramStyle: "reuse" as const };
const iris = { paramStyle: "repeat" as const };

describe("text(): named parameters", () => {
  it("compiles :names to $1..$n in order", () => {
    const q = compile(text("SELECT * FROM t WHERE a = :a AND b = :b"), { a: 1, b: "x" }, pg);
    assert.equal(q.text, "SELECT * FROM t WHERE a = $1 AND b = $2");
    assert.deepEqual(q.params, [1, "x"]);
  });

  it("reuses a repeated name on PostgreSQL and repeats it on IRIS", () => {
    const t = text("SELECT :a + :b + :a");
    assert.deepEqual(compile(t, { a: 1, b: 2 }, pg), { text: "SELECT $1 + $2 + $1", params: [1, 2] });
    // iris-pgwire rewrites $n to ? positionally: every occurrence needs its own number, in order.
    assert.deepEqual(compile(t, { a: 1, b: 2 }, iris), { text: "SELECT $1 + $2 + $3", params: [1, 2, 1] });
  });

  it("leaves ::casts, literals, quoted identifiers, comments and dollar quotes alone", () => {
    const source = [
      "SELECT :a::int, ':nope', 'it''s :nope', E'\\':nope', \":nope\"",
      "-- a comment with :nope",
      "/* block :nope /* nested :nope */ still :nope */ , $$ :nope $$, $tag$ :nope $tag$, :b",
    ].join("\n");
    const q = compile(text(source), { a: 1, b: 2 }, pg);
    assert.deepEqual(q.params, [1, 2]);
    assert.equal((q.text.match(/\$\d/g) ?? []).length, 2);
    assert.ok(q.text.includes("$1::int"));
    assert.ok(q.text.endsWith("$tag$ :nope $tag$, $2"));
    assert.equal(text(source).names.join(","), "a,b");
  });

  it("names a missing parameter in a ValidationError", () => {
    assert.throws(() => compile(text("SELECT :id, :name"), { id: 1 }, pg), (e: unknown) => {
      assert.ok(e instanceof ValidationError);
      assert.equal((e as Error).message, "Missing value for parameter :name");
      return true;
    });
  });

  it("rejects positional arrays for named parameters", () => {
    assert.throws(() => compile(text("SELECT :a"), [1], pg), /must be an object keyed by name \(:a\)/);
  });

  it("parses once and caches the compiled text per numbering style", () => {
    const t = text("SELECT :x");
    assert.equal(t.layout("reuse"), t.layout("reuse"));
  });
});

describe("sql`...`", () => {
  it("binds every interpolated value", () => {
    const id = 7;
    const name = "O'Reilly; DROP TABLE users";
    const q = compile(sql`SELECT * FROM t WHERE id = ${id} AND name = ${name}`, undefined, pg);
    assert.equal(q.text, "SELECT * FROM t WHERE id = $1 AND name = $2");
    assert.deepEqual(q.params, [7, name]);
  });

  it("nests fragments, identifiers and joins with continuous numbering", () => {
    const cond = sql`a = ${1} AND b = ${2}`;
    const cols = sql.join([sql.id("x"), sql.id("app", "y")]);
    const q = compile(sql`SELECT ${cols} FROM t WHERE ${cond} AND c = ${3}`, undefined, pg);
    assert.equal(q.text, 'SELECT "x", "app"."y" FROM t WHERE a = $1 AND b = $2 AND c = $3');
    assert.deepEqual(q.params, [1, 2, 3]);
  });

  it("nests a bound text() query inside sql`` and renumbers it", () => {
    const inner = text("SELECT :v::int WHERE ':v' <> $$:v$$").bind({ v: 5 });
    const q = compile(sql`SELECT ${1}, (${inner}), ${2}`, undefined, pg);
    assert.equal(q.text, "SELECT $1, (SELECT $2::int WHERE ':v' <> $$:v$$), $3");
    assert.deepEqual(q.params, [1, 5, 2]);
  });

  it("rejects identifiers that could break out of quoting", () => {
    assert.throws(() => sql.id('x" OR 1=1 --'), ValidationError);
    assert.throws(() => sql.id(""), /Invalid identifier/);
  });
});

describe("plain strings", () => {
  it("take no parameters", () => {
    assert.throws(() => compile("SELECT 1", { a: 1 }, pg), /A plain string query takes no parameters/);
  });
});
