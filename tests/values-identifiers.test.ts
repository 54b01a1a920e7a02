/**
 * Identifiers iris-pgwire would corrupt. It splits a simple-protocol query at
 * every ";" and rewrites every "$<digits>" to "?", even inside quotes, so on
 * IRIS a name like `x; DROP TABLE victim --` could run a second statement
 * (DDL and parameterless statements go by the simple protocol). The IRIS
 * dialect refuses such names before anything is sent; PostgreSQL quotes them
 * and stores them as given. The iris:// half runs through the iris-pgwire
 * EMULATOR (not IRIS), which rejects a ";" in a simple query outright.
 */
import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { col, createEngine, type Engine, index, sql, table, ValidationError } from "../mod.ts";
import { irisDialect } from "../src/dialects/iris/iris-dialect.ts";
import { postgresDialect } from "../src/dialects/postgres/postgres-dialect.ts";
import { type IrisEmulator, startIrisEmulator } from "./fixtures/iris-pgwire-emulator/mod.ts";
import { PG_URL, uniqueName } from "./helpers.ts";

const BAD = ["x; DROP TABLE victim --", "a;b", "col$1", "t$12x"];
const S = irisDialect.defaultSchema;

function refused(fn: () => unknown, what: string): void {
  assert.throws(fn, (e: unknown) => {
    assert.ok(e instanceof ValidationError, `${what}: ${e}`);
    assert.match((e as Error).message, /IRIS/, what);
    return true;
  });
}

describe("IRIS dialect: identifiers with ';' or '$<digits>'", () => {
  it("refuses them as table, schema, column, index and constraint names", () => {
    for (const bad of BAD) {
      refused(() => irisDialect.quoteId(bad), `quoteId ${bad}`);
      refused(() => irisDialect.tableRef(bad, S), `table ${bad}`);
      refused(() => irisDialect.tableRef("t", bad), `schema ${bad}`);
      const named = table(bad, { id: col.integer().primaryKey() });
      refused(() => irisDialect.createTableSql(named, S, true), `CREATE TABLE ${bad}`);
      refused(() => irisDialect.dropTableSql(named, S, true), `DROP TABLE ${bad}`);
      const column = table("plain", { [bad]: col.integer() });
      refused(() => irisDialect.createTableSql(column, S, false), `column ${bad}`);
      const withIndex = table("plain", { a: col.integer() }, { indexes: [index(bad).on("a")] });
      refused(() => irisDialect.createIndexSql(withIndex.indexes[0], withIndex, S), `index ${bad}`);
      const target = table(bad, { id: col.integer().primaryKey() });
      const child = table("child", { ref: col.integer().references(() => target, "id") });
      refused(() => irisDialect.createTableSql(child, S, false), `foreign key to ${bad}`);
    }
  });

  it("still quotes ordinary names, '$' without a digit included", () => {
    assert.equal(irisDialect.quoteId("price$"), `"price$"`);
    assert.equal(irisDialect.tableRef("a b", "App"), `"App"."a b"`);
  });

  it("leaves PostgreSQL alone: a quoted ';' is just a character there", () => {
    for (const bad of BAD) assert.equal(postgresDialect.quoteId(bad), `"${bad}"`);
  });
});

describe("identifiers with ';' end to end", () => {
  let emu: IrisEmulator;
  let iris: Engine;
  let pg: Engine;

  before(async () => {
    emu = await startIrisEmulator();
    iris = createEngine(emu.url);
    pg = createEngine(PG_URL);
  });

  after(async () => {
    await iris?.dispose();
    await pg?.dispose();
    await emu?.close();
  });

  it("iris:// refuses createAll, dropAll and typed calls on such a table before sending anything", async () => {
    const sent: string[] = [];
    const watched = createEngine(emu.url, { onQuery: (e) => sent.push(e.sql) });
    try {
      const victim = table(uniqueName("victim"), { id: col.integer().primaryKey() });
      await watched.createAll([victim]);
      const evil = table(`${victim.name}_x; DROP TABLE ${victim.name} --`, { id: col.integer().primaryKey() });
      const from = sent.length;
      await assert.rejects(watched.createAll([evil]), ValidationError);
      await assert.rejects(watched.dropAll([evil]), ValidationError);
      await assert.rejects(watched.session((s) => s.delete(evil, { id: 1 })), ValidationError);
      await assert.rejects(watched.session((s) => s.find(evil, {})), ValidationError);
      assert.deepEqual(sent.slice(from), [], "nothing reached the server");
      assert.equal(await watched.hasTable(victim.name), true, "the victim table is still there");
      await watched.dropAll([victim]);
    } finally {
      await watched.dispose();
    }
  });

  it("sql.id() follows the dialect: refused on iris:// before sending, quoted as given on postgres://", async () => {
    const sent: string[] = [];
    const watched = createEngine(emu.url, { onQuery: (e) => sent.push(e.sql) });
    try {
      const victim = table(uniqueName("victim_id"), { id: col.integer().primaryKey() });
      await watched.createAll([victim]);
      const from = sent.length;
      const evil = `${victim.name}_x; DROP TABLE ${victim.name} --`;
      for (const name of [evil, "col$1"]) {
        await assert.rejects(watched.execute(sql`DROP TABLE IF EXISTS ${sql.id(name)}`), ValidationError, name);
      }
      assert.deepEqual(sent.slice(from), [], "nothing reached the server");
      assert.equal(await watched.hasTable(victim.name), true, "the victim table is still there");
      await watched.dropAll([victim]);
    } finally {
      await watched.dispose();
    }
    const r = await pg.execute(sql`SELECT 1 AS ${sql.id("a;b")}`);
    assert.deepEqual(r.rows, [{ "a;b": 1 }]);
  });

  it("postgres:// stores a table and column named with ';' as given", async () => {
    const t = table(uniqueName("semi") + "; x", { "a;b": col.integer().primaryKey() });
    await pg.createAll([t]);
    try {
      await pg.session((s) => s.insert(t, { "a;b": 7 }));
      assert.deepEqual(await pg.session((s) => s.find(t, {})), [{ "a;b": 7 }]);
    } finally {
      await pg.dropAll([t]);
    }
  });
});
