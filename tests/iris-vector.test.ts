/**
 * Vector search on `iris://`, end to end through the iris-pgwire EMULATOR
 * (tests/fixtures/iris-pgwire-emulator; NOT IRIS), compared with PGlite +
 * pgvector holding the same data. irisql spells IRIS-native SQL there —
 * VECTOR(double|float, n), TO_VECTOR(?, double) in lower case, VECTOR_COSINE /
 * VECTOR_DOT_PRODUCT ordered by the repeated expression DESC, L2 from dot
 * products, SELECT TOP k — and nearest() must return the same rows, best
 * first, with the same scores, for every metric and both element types.
 */
import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import {
  col,
  createEngine,
  type Engine,
  index,
  nearestOrder,
  QueryError,
  type QueryEvent,
  similarity,
  sql,
  table,
  ValidationError,
  type VectorMetric,
} from "../mod.ts";
import { type IrisEmulator, startIrisEmulator } from "./fixtures/iris-pgwire-emulator/mod.ts";
import { PGLITE_URL, uniqueName } from "./helpers.ts";

const DIM = 16;
const ROWS = 200;
const K = 10;
const METRICS: VectorMetric[] = ["cosine", "dot", "l2"];

/** Deterministic pseudo-random numbers in [-1, 1). */
function random(seed: number): () => number {
  let s = seed;
  return () => {
    s = (s * 16807) % 2147483647;
    return (s / 2147483647) * 2 - 1;
  };
}

function vectorTable(element: "double" | "float", metric: "cosine" | "dot") {
  return table(uniqueName(`iris_vec_${element}`), {
    id: col.integer().primaryKey(),
    bucket: col.smallint().notNull(),
    title: col.varchar(40).notNull(),
    embedding: col.vector(DIM, { element }),
  }, { indexes: [index(uniqueName(`iris_vec_${metric}`)).on("embedding").hnsw({ metric })] });
}

type Scored = { id: number; score: number };

/**
 * Same rows in the same order, scores within `tol`. Two rows may trade places
 * only when their scores tie within `tol` (IRIS computes L2 from dot products).
 */
function assertSameRanking(actual: Scored[], expected: Scored[], tol: number, label: string): void {
  assert.equal(actual.length, expected.length, `${label}: row count`);
  for (let i = 0; i < expected.length; i++) {
    const a = actual[i];
    const e = expected[i];
    const within = Math.abs(a.score - e.score) <= tol * Math.max(1, Math.abs(e.score));
    assert.ok(within, `${label} #${i}: score ${a.score} (id ${a.id}) vs ${e.score} (id ${e.id})`);
    if (a.id !== e.id) {
      const twin = expected.find((x) => x.id === a.id);
      assert.ok(twin && Math.abs(twin.score - a.score) <= tol, `${label} #${i}: id ${a.id} instead of ${e.id}`);
    }
  }
  assert.deepEqual(actual.map((r) => r.id).sort(), expected.map((r) => r.id).sort(), `${label}: same rows`);
}

describe("vector search on iris:// (iris-pgwire emulator, not IRIS) against PGlite + pgvector", () => {
  let emu: IrisEmulator;
  let iris: Engine;
  let lite: Engine;
  const events: QueryEvent[] = [];
  const doubles = vectorTable("double", "cosine");
  const floats = vectorTable("float", "dot");
  const next = random(42);
  const rows = Array.from({ length: ROWS }, (_, i) => ({
    id: i + 1,
    bucket: i % 3,
    title: `item ${i + 1}`,
    embedding: Array.from({ length: DIM }, next),
  }));
  const queries = [0, 1, 2].map(() => Array.from({ length: DIM }, next));

  before(async () => {
    emu = await startIrisEmulator();
    iris = createEngine(emu.url, { onQuery: (e) => events.push(e) });
    lite = createEngine(PGLITE_URL);
    for (const engine of [iris, lite]) {
      await engine.createAll([doubles, floats], { checkfirst: true });
      await engine.session(async (s) => {
        await s.insertMany(doubles, rows);
        await s.insertMany(floats, rows);
      });
    }
  });

  after(async () => {
    await iris?.dispose();
    await lite?.dispose();
    await emu?.close();
  });

  it("creates VECTOR(double|float, n) columns and HNSW indexes, idempotently with checkfirst", async () => {
    const from = events.length;
    await iris.createAll([doubles, floats], { checkfirst: true });
    // IRIS has no catalog irisql can read through iris-pgwire: the second run probes each table
    // (SELECT … WHERE 1 = 0), creates no table, and tries each index, which IRIS refuses as
    // existing (SQLCODE -324, "Index with this name already defined for this table").
    const again = events.slice(from);
    assert.ok(again.every((e) => !e.sql.startsWith("CREATE TABLE")), "no table created twice");
    const indexes = again.filter((e) => e.sql.startsWith("CREATE INDEX"));
    assert.equal(indexes.length, 2, "each HNSW index tried once");
    for (const e of indexes) {
      assert.ok(e.error instanceof QueryError && e.error.sqlcode === -324, `${e.sql}: ${e.error}`);
    }
    const rows = await iris.session((s) => s.find(doubles, { columns: ["id"] }));
    assert.equal(rows.length, ROWS, "the table kept its rows");
    const ddl = events.map((e) => e.sql).filter((s) => s.startsWith("CREATE "));
    assert.ok(ddl.some((s) => s.includes(`"embedding" VECTOR(double, ${DIM})`)), ddl.join("\n"));
    assert.ok(ddl.some((s) => s.includes(`"embedding" VECTOR(float, ${DIM})`)), ddl.join("\n"));
    assert.ok(ddl.some((s) => /AS HNSW\(M=16, efConstruction=64, Distance='DotProduct'\)$/.test(s)), ddl.join("\n"));
  });

  it("stores and reads back the same vectors as PGlite, as number[]", async () => {
    for (const t of [doubles, floats]) {
      const a = await iris.session((s) => s.find(t, { orderBy: { id: "asc" } }));
      const b = await lite.session((s) => s.find(t, { orderBy: { id: "asc" } }));
      assert.equal(a.length, ROWS);
      assert.deepEqual(a, b);
      assert.ok(Array.isArray(a[0].embedding) && a[0].embedding.length === DIM);
    }
  });

  for (const element of ["double", "float"] as const) {
    for (const metric of METRICS) {
      it(`${element} elements, ${metric}: nearest() gives PGlite's rows, best first, with its scores`, async () => {
        const t = element === "double" ? doubles : floats;
        for (const [qi, q] of queries.entries()) {
          for (const where of [undefined, { bucket: 1 }]) {
            const label = `${element} ${metric} q${qi}${where ? " where" : ""}`;
            const a = await iris.session((s) => s.nearest(t, "embedding", q, { k: K, metric, where }));
            const b = await lite.session((s) => s.nearest(t, "embedding", q, { k: K, metric, where }));
            assertSameRanking(a, b, metric === "l2" ? 1e-4 : 1e-6, label);
            if (where) assert.ok(a.every((r) => r.bucket === 1), label);
            assert.equal(typeof a[0].score, "number");
            const order = metric === "l2" ? 1 : -1;
            for (let i = 1; i < a.length; i++) {
              assert.ok(order * (a[i].score - a[i - 1].score) >= -1e-9, `${label}: best first`);
            }
            assert.deepEqual(a[0].embedding, b.find((r) => r.id === a[0].id)?.embedding);
          }
        }
      });
    }
  }

  it("the SQL sent to IRIS: TOP k, lower-case double, ORDER BY the expression DESC, no pgvector syntax", async () => {
    const from = events.length;
    await iris.session((s) => s.nearest(doubles, "embedding", queries[0], { k: 3, metric: "cosine" }));
    const sent = events.slice(from).map((e) => e.sql);
    const stmt = sent.find((s) => s.includes("VECTOR_COSINE"));
    assert.ok(stmt, sent.join("\n"));
    assert.match(stmt, /^SELECT TOP 3 /);
    assert.match(stmt, /ORDER BY VECTOR_COSINE\("embedding", TO_VECTOR\(\$\d+, double\)\) DESC$/);
    assert.doesNotMatch(stmt, /<=>|<#>|<->|::|LIMIT|DOUBLE/);
  });

  it("a stored vector is its own nearest neighbour: cosine 1, l2 0", async () => {
    const target = rows[17];
    const [cos] = await iris.session((s) => s.nearest(doubles, "embedding", target.embedding, { k: 1 }));
    assert.equal(cos.id, target.id);
    assert.ok(Math.abs(cos.score - 1) < 1e-6, String(cos.score));
    const [l2] = await iris.session((s) => s.nearest(doubles, "embedding", target.embedding, { k: 1, metric: "l2" }));
    assert.equal(l2.id, target.id);
    assert.ok(Math.abs(l2.score) < 1e-3, String(l2.score));
  });

  it("columns narrows the row; k larger than the matches returns every match", async () => {
    const few = await iris.session((s) =>
      s.nearest(floats, "embedding", queries[1], { k: 1000, metric: "dot", where: { id: { lte: 5 } }, columns: ["id"] })
    );
    assert.equal(few.length, 5);
    assert.deepEqual(Object.keys(few[0]).sort(), ["id", "score"]);
  });

  it("similarity() and nearestOrder() in a hand-written query give nearest()'s rows and scores", async () => {
    for (const metric of METRICS) {
      const q = queries[2];
      const r = await iris.execute<Scored>(
        sql`SELECT ${sql.raw(`TOP ${K}`)} ${sql.id("id")}, ${similarity(doubles, "embedding", q, metric)} AS score
            FROM ${sql.id(doubles.name)} WHERE ${sql.id("bucket")} <> ${0}
            ORDER BY ${nearestOrder(doubles, "embedding", q, metric)}`,
      );
      const viaNearest = await iris.session((s) =>
        s.nearest(doubles, "embedding", q, { k: K, metric, where: { bucket: { ne: 0 } } })
      );
      assert.deepEqual(r.rows.map((x) => x.id), viaNearest.map((x) => x.id), metric);
      assert.deepEqual(r.rows.map((x) => Number(x.score)), viaNearest.map((x) => x.score), metric);
    }
  });

  it("a query vector of the wrong length is a ValidationError, and nothing is sent", async () => {
    const from = events.length;
    await assert.rejects(
      iris.session((s) => s.nearest(doubles, "embedding", [1, 2, 3])),
      (e: unknown) =>
        e instanceof ValidationError &&
        e.message === `query vector for ${doubles.name}.embedding expects ${DIM} dimensions, got 3`,
    );
    assert.deepEqual(events.slice(from), []);
  });
});
