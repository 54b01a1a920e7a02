/**
 * Vector migrations on IRIS through the REAL iris-pgwire 1.7.3 (PyPI, unmodified) over the
 * IRIS stand-in on a fresh PGlite with pgvector: NOT IRIS (tests/fixtures/iris-pgwire-real).
 * generate writes `ADD COLUMN ... VECTOR(double, 3)` and `CREATE INDEX ... AS HNSW(...)` for a
 * new vector column and its index, migrate runs them, nearest() uses the column, and dropping
 * the index from the module writes `DROP INDEX ... ON`. What the catalog cannot say is shown
 * too: the stand-in's INFORMATION_SCHEMA reports a VECTOR column as a VARCHAR without length
 * (what IRIS reports is not documented), so its type is not compared and pull refuses it.
 */
import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { mkdtemp, rm } from "node:fs/promises";
import { join } from "node:path";
import { tmpdir } from "node:os";
import { col, createEngine, type Engine, generate, index, MigrationError, pullSchema, table } from "../mod.ts";
import { uniqueName, withQuery } from "./helpers.ts";
import { type IrisPgwire, startIrisPgwire } from "./fixtures/iris-pgwire-real/mod.ts";

const lower = (s: string) => s.toLowerCase();

describe("vector migrations through the real iris-pgwire 1.7.3 (PGlite + pgvector stand-in, not IRIS)", () => {
  let server: IrisPgwire;
  let engine: Engine;
  let dir: string;
  const p = uniqueName("mv");
  const v1 = table(`${p}_docs`, { id: col.integer().primaryKey(), title: col.varchar(80).notNull() });
  const withVector = (hnsw: boolean) =>
    table(`${p}_docs`, {
      id: col.integer().primaryKey(),
      title: col.varchar(80).notNull(),
      embedding: col.vector(3),
    }, { indexes: hnsw ? [index(`${p}_docs_hnsw`).on("embedding").hnsw({ metric: "cosine" })] : [] });

  before(async () => {
    server = await startIrisPgwire({ backend: "pglite" });
    engine = createEngine(withQuery(server.url, "transactions=autocommit"));
    dir = await mkdtemp(join(tmpdir(), "irisql-mig-iris-vec-"));
    await engine.createAll([v1]);
  }, { timeout: 240_000 });
  after(async () => {
    await engine?.dispose();
    await server?.close();
    await rm(dir, { recursive: true, force: true });
  });

  it("a new VECTOR column and its HNSW index: generate, migrate, nearest(), no diff after", async () => {
    const folder = join(dir, "m");
    const g = await generate(engine, { tables: [withVector(true)], folder, name: "embedding" });
    assert.deepEqual(g.statements, [
      `ALTER TABLE "${v1.name}" ADD COLUMN "embedding" VECTOR(double, 3)`,
      `CREATE INDEX "${p}_docs_hnsw" ON "${v1.name}" ("embedding") AS HNSW(M=16, efConstruction=64, Distance='Cosine')`,
    ]);
    await engine.migrate({ folder });
    const t = withVector(true);
    await engine.session(async (s) => {
      await s.insert(t, { id: 1, title: "x", embedding: [1, 0, 0] });
      await s.insert(t, { id: 2, title: "y", embedding: [0, 1, 0] });
      await s.insert(t, { id: 3, title: "xy", embedding: [0.7, 0.7, 0] });
    });
    const near = await engine.session((s) => s.nearest(t, "embedding", [1, 0.1, 0], { k: 2, metric: "cosine" }));
    assert.deepEqual(near.map((r) => r.id), [1, 3]);
    const info = (await engine.introspect()).tables.find((x) => lower(x.name) === lower(v1.name))!;
    assert.deepEqual(info.indexes.map((i) => [lower(i.name), i.columns.map(lower)]), [
      [lower(`${p}_docs_hnsw`), ["embedding"]],
    ]);
    const again = await generate(engine, { tables: [withVector(true)] });
    assert.deepEqual(again.statements, [], again.sql);
    assert.ok(
      again.warnings.some((w) => /embedding: the catalog type varchar is not one irisql reads/.test(w)),
      again.warnings.join("\n"),
    );
  });

  it("an HNSW index dropped from the module: DROP INDEX ... ON, and the index is gone", async () => {
    const folder = join(dir, "m");
    const g = await generate(engine, { tables: [withVector(false)], folder, name: "no_hnsw" });
    assert.deepEqual(g.statements, [`DROP INDEX "${p}_docs_hnsw" ON "${v1.name}"`]);
    await engine.migrate({ folder });
    const info = (await engine.introspect()).tables.find((x) => lower(x.name) === lower(v1.name))!;
    assert.deepEqual(info.indexes, []);
    assert.deepEqual((await generate(engine, { tables: [withVector(false)] })).statements, []);
  });

  it("pull stops on the VECTOR column: the catalog does not say its type", async () => {
    const info = (await engine.introspect()).tables.filter((x) => lower(x.name) === lower(v1.name));
    assert.throws(() => pullSchema(engine.dialect, info), (e: unknown) => {
      assert.ok(e instanceof MigrationError, String(e));
      assert.match((e as Error).message, /embedding has type varchar/);
      return true;
    });
  });
});
