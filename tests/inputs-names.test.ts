/**
 * Names and option shapes in typed calls are checked against the table
 * before anything is built or sent:
 *   - a column name must be an own column of the table: names inherited from
 *     Object.prototype (constructor, toString, hasOwnProperty, __proto__ as an
 *     own JSON key) are unknown columns in where, orderBy, columns and
 *     nearest's column;
 *   - each option has its shape (where/orderBy objects, columns a non-empty
 *     array of names, limit/offset/k whole numbers), and unknown option keys
 *     are refused;
 *   - every refusal is a ValidationError naming the table, the option and what
 *     is accepted; find()'s statement cache never serves a refused shape.
 */
import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { col, type Engine, type QueryEvent, table, UnsupportedFeatureError, ValidationError } from "../mod.ts";
import { postgresDialect } from "../src/dialects/postgres/postgres-dialect.ts";
import { irisDialect } from "../src/dialects/iris/iris-dialect.ts";
import { nearestStatement } from "../src/statements/nearest.ts";
import { selectStatement } from "../src/statements/select.ts";
import { cachedSelectStatement } from "../src/statements/select-cache.ts";
import { deleteStatement, updateStatement } from "../src/statements/update-delete.ts";
import { engineFor, PG_URL, uniqueName } from "./helpers.ts";

const docs = table("inputs_docs", {
  id: col.integer().primaryKey(),
  title: col.varchar(40).notNull(),
  embedding: col.vector(3),
});

// deno-lint-ignore no-explicit-any
type Any = any;
const PROTO_NAMES = ["constructor", "toString", "hasOwnProperty", "valueOf", "__proto__", "isPrototypeOf"];
const own = (key: string, value: unknown) => JSON.parse(JSON.stringify({ [key]: value === undefined ? 1 : value }));

function refused(fn: () => unknown, ...messages: RegExp[]): void {
  assert.throws(fn, (e: unknown) => {
    assert.ok(e instanceof ValidationError, `expected ValidationError, got ${e instanceof Error ? e.stack : e}`);
    for (const m of messages) assert.match((e as Error).message, m);
    return true;
  });
}

const COLUMNS = /Columns: id, title, embedding/;

for (const dialect of [postgresDialect, irisDialect]) {
  const find = (options: unknown) => selectStatement(dialect, docs, "public", options as Any);
  const cached = (options: unknown) => cachedSelectStatement(dialect, docs, "public", options as Any);
  const near = (column: string, options?: unknown) =>
    nearestStatement(dialect, docs, "public", column, [1, 0, 0], options as Any);

  describe(`${dialect.name}: names inherited from Object.prototype are unknown columns`, () => {
    for (const name of PROTO_NAMES) {
      it(name, () => {
        for (const build of [find, cached]) {
          refused(() => build({ where: own(name, 1) }), new RegExp(`Unknown column "${name}" in where`), COLUMNS);
          refused(() => build({ where: { or: [own(name, 1)] } }), /Unknown column/, /inputs_docs/);
          refused(() => build({ columns: [name] }), /Unknown column/, /columns/, /inputs_docs/, COLUMNS);
          refused(() => build({ orderBy: own(name, "desc") }), /Unknown column/, /orderBy/, /inputs_docs/, COLUMNS);
        }
        refused(() => updateStatement(dialect, docs, "public", own(name, 1), new Map([["title", "x"]])), /Unknown/);
        refused(() => deleteStatement(dialect, docs, "public", own(name, 1)), /Unknown column/, COLUMNS);
        refused(() => near(name), /Unknown column/, /nearest/, COLUMNS);
        refused(() => near("embedding", { columns: [name] }), /Unknown column/, /columns/);
        refused(() => near("embedding", { where: own(name, 1) }), /Unknown column/, /where/);
      });
    }
    it("table.column and table.declaredName know only own columns", () => {
      for (const name of PROTO_NAMES) {
        assert.equal(docs.declaredName(name), undefined);
        refused(() => docs.column(name), /Unknown column/);
      }
    });
  });

  describe(`${dialect.name}: option shapes`, () => {
    const cases: [string, unknown, RegExp[]][] = [
      ["columns as a string", { columns: "id" }, [/columns/, /array of column names/, /inputs_docs/, COLUMNS]],
      ["columns as an object", { columns: { id: true } }, [/columns/, /array/]],
      ["an empty columns list", { columns: [] }, [/columns/, /leave it out/]],
      ["a column name that is not a string", { columns: [1] }, [/columns\[0\]/, /column name/]],
      ["orderBy as a string", { orderBy: "id" }, [/orderBy/, /inputs_docs/, /"asc" or "desc"/]],
      ["orderBy as an array", { orderBy: ["id"] }, [/orderBy/]],
      ["an orderBy direction", { orderBy: { id: "up" } }, [/orderBy/, /"asc" or "desc"/]],
      ["where as a string", { where: "id = 1" }, [/where/, /inputs_docs/, /\{ column: value \}/]],
      ["where as an array", { where: [{ id: 1 }] }, [/where/, /object/]],
      ["limit as a string", { limit: "10" }, [/limit/, /inputs_docs/, /whole number/]],
      ["a negative limit", { limit: -1 }, [/limit/, /whole number/]],
      ["a fractional offset", { offset: 1.5 }, [/offset/, /inputs_docs/]],
      ["limit NaN", { limit: NaN }, [/limit/]],
      ["an unknown option", { wher: { id: 1 } }, [/Unknown option "wher"/, /inputs_docs/, /where, orderBy/]],
      ["an inherited option name", own("constructor", 1), [/Unknown option "constructor"/]],
      ["options as a string", "id = 1", [/options/, /object/]],
      ["options as null", null, [/options/, /object/]],
    ];
    for (const [what, options, messages] of cases) {
      it(`find: ${what}`, () => {
        refused(() => find(options), ...messages);
        refused(() => cached(options), ...messages);
      });
    }
    it("like on a column that is not varchar or text", () => {
      for (const build of [find, cached]) {
        refused(() => build({ where: { id: { like: "1%" } } }), /inputs_docs\.id\.like works on varchar and text/);
        refused(() => build({ where: { ID: { like: "1%" } } }), /is integer/);
      }
      assert.match(find({ where: { title: { like: "a%" } } }).text, /"title" LIKE \$1/);
    });
    it("update and delete: where shapes", () => {
      for (const where of ["x", [], 1, own("constructor", 1)]) {
        refused(() => updateStatement(dialect, docs, "public", where, new Map([["title", "x"]])), /inputs_docs/);
        refused(() => deleteStatement(dialect, docs, "public", where), /inputs_docs/, /where/);
      }
    });
    it("nearest: option shapes", () => {
      refused(() => near("embedding", { k: "3" }), /k/, /inputs_docs/, /whole number/);
      refused(() => near("embedding", { columns: "id" }), /columns/, /array of column names/);
      refused(() => near("embedding", { kk: 3 }), /Unknown option "kk"/, /k, metric, where, columns/);
      refused(() => near("embedding", "x"), /options/, /object/);
      refused(() => near("title"), /vector column/, /embedding/);
    });
    it("valid shapes still build", () => {
      const shape = { columns: ["id"], orderBy: { title: "desc" }, where: { id: 1 }, limit: 2, offset: 1 };
      if (dialect === irisDialect) {
        // A valid offset is still refused on IRIS, where iris-pgwire would drop it: not a shape error.
        for (const build of [find, cached]) {
          assert.throws(
            () => build(shape),
            (e: unknown) => e instanceof UnsupportedFeatureError && /offset/i.test(`${e}`),
          );
        }
        shape.offset = 0;
      }
      const s = find(shape);
      assert.match(s.text, /SELECT .*"id".* FROM .*WHERE "id" = \$1 ORDER BY "title" DESC/);
      assert.deepEqual(cached(shape), s);
      assert.match(near("embedding", { columns: ["id"], k: 2 }).text, /"id"/);
      assert.ok(find(undefined).text.startsWith("SELECT"));
    });
  });

  describe(`${dialect.name}: find()'s cache never serves a refused shape`, () => {
    it("an unknown option next to a cached where is still refused", () => {
      const t = table("inputs_cache_" + dialect.name, { id: col.integer().primaryKey(), n: col.integer() });
      const c = (o: unknown) => cachedSelectStatement(dialect, t, "public", o as Any);
      c({ where: { id: 1 } });
      c({ where: { id: 1 } });
      refused(() => c({ where: { id: 1 }, orderByy: { n: "asc" } }), /Unknown option "orderByy"/);
      c({ where: { id: 1 }, columns: ["id"] });
      refused(() => c({ where: { id: 1 }, columns: ["id", "constructor"] }), /Unknown column "constructor"/);
      c({ where: { id: 1 }, orderBy: { n: "asc" } });
      refused(() => c({ where: { id: 1 }, orderBy: { n: "asc", toString: "asc" } }), /Unknown column "toString"/);
      refused(() => c({ where: { id: 1 }, limit: 1.5 }), /limit/);
    });
  });
}

describe("through a session: refused before sending", () => {
  let engine: Engine;
  const events: QueryEvent[] = [];
  const t = table(uniqueName("inputs_names"), { id: col.integer().primaryKey(), title: col.varchar(20) });
  before(async () => {
    engine = engineFor(PG_URL, { onQuery: (e) => events.push(e) });
    await engine.createAll([t]);
    await engine.session(async (s) => {
      await s.insert(t, { id: 1, title: "a" });
    });
  });
  after(async () => {
    await engine.dropAll([t], { checkfirst: true });
    await engine.dispose();
  });

  it("find, update, delete and nearest", async () => {
    const sent = events.length;
    await engine.session(async (s) => {
      await assert.rejects(s.find(t, { where: { constructor: 1 } as Any }), ValidationError);
      await assert.rejects(s.find(t, { columns: ["constructor"] as Any }), ValidationError);
      await assert.rejects(s.find(t, { orderBy: { hasOwnProperty: "desc" } as Any }), ValidationError);
      await assert.rejects(s.find(t, { columns: "id" as Any }), ValidationError);
      await assert.rejects(s.update(t, { toString: 1 } as Any, { title: "b" }), ValidationError);
      await assert.rejects(s.delete(t, { valueOf: 1 } as Any), ValidationError);
      await assert.rejects(s.nearest(t, "constructor" as never, [1]), ValidationError);
    });
    assert.equal(events.length, sent, "nothing was sent");
    const rows = await engine.session((s) => s.find(t, { columns: ["id"] }));
    assert.deepEqual(rows, [{ id: 1 }]);
  });
});
