/**
 * The vector SQL irisql sends to IRIS through iris-pgwire, as text: nearest()
 * for every metric, the similarity()/nearestOrder() fragments, and HNSW DDL.
 * Each expectation answers a documented behaviour of IRIS SQL or iris-pgwire:
 *   - VECTOR_COSINE / VECTOR_DOT_PRODUCT are
 *     similarities (higher is closer); no L2 function; TO_VECTOR's type is a
 *     bare keyword ('FLOAT' in quotes fails) and must match the column (-259).
 *   - never emit
 *     pgvector operators or ::vector; iris-pgwire rewrites them wrongly.
 *   - iris-pgwire turns an upper-case DOUBLE into DOUBLE
 *     PRECISION, which IRIS rejects: type keywords go in lower case.
 *   - iris-pgwire mangles ORDER BY <alias>: ORDER BY repeats the expression.
 *   - TOP k (the HNSW index is used only with TOP and ORDER BY
 *     <vector fn> DESC); a trailing literal LIMIT is rewritten.
 *   - iris-pgwire rewrites $n to ? positionally: every placeholder appears once, in order.
 *   - IRIS's HNSW index syntax: AS HNSW(M=, efConstruction=, Distance='Cosine'|'DotProduct').
 * The numbers these expressions give are checked in vector.test.ts, where the
 * same statements run on pgvector against a brute force.
 */
import { after, describe, it } from "node:test";
import assert from "node:assert/strict";
import {
  col,
  createEngine,
  type Dialect,
  index,
  nearestOrder,
  similarity,
  sql,
  table,
  UnsupportedFeatureError,
  type VectorMetric,
} from "../mod.ts";
import { nearestStatement } from "../src/statements/nearest.ts";
import { compile } from "../src/sql.ts";

const sent: string[] = [];
// Nothing listens on port 1: anything that reached the network would fail with a ConnectionError.
const engine = createEngine("iris://_SYSTEM:secret@127.0.0.1:1/USER", { onQuery: (e) => sent.push(e.sql) });
const iris: Dialect = engine.dialect;
const pgEngine = createEngine("postgres://u:p@127.0.0.1:1/db");
const pg: Dialect = pgEngine.dialect;

after(async () => {
  await engine.dispose();
  await pgEngine.dispose();
});

const docs = table("docs", {
  id: col.integer().primaryKey(),
  lang: col.varchar(8),
  embedding: col.vector(3),
  small: col.vector(3, { element: "float" }),
});
const Q = [1, 2, 3];
const QTEXT = "[1,2,3]";
const ALL = `"id", "lang", "embedding", "small"`;

/** Placeholders are $1..$n, each once, in text order (iris-pgwire makes them positional `?`). */
function assertPositional(text: string, params: readonly unknown[]): void {
  const seen = [...text.matchAll(/\$(\d+)/g)].map((m) => Number(m[1]));
  assert.deepEqual(seen, params.map((_, i) => i + 1));
}

/** What must never reach iris-pgwire in vector SQL. */
function assertIrisSafe(text: string): void {
  assert.doesNotMatch(text, /<=>|<#>|<->|::vector/, "no pgvector syntax");
  assert.doesNotMatch(text, /TO_VECTOR\([^)]*(DOUBLE|FLOAT|'[a-z]+')\)/, "lower-case, unquoted type keyword");
  assert.doesNotMatch(text, /ORDER BY "?score"?/i, "ORDER BY repeats the expression, not the alias");
  assert.doesNotMatch(text, /\bLIMIT\b/, "TOP, not LIMIT");
}

describe("nearest() SQL on IRIS", () => {
  it("the engine for an iris:// URL uses the IRIS dialect", () => {
    assert.equal(iris.name, "iris");
  });

  it("cosine: VECTOR_COSINE as the score, the same expression DESC in ORDER BY, TOP k", () => {
    const s = nearestStatement(iris, docs, "SQLUser", "embedding", Q, { k: 5, metric: "cosine" });
    assert.equal(
      s.text,
      `SELECT TOP 5 ${ALL}, VECTOR_COSINE("embedding", TO_VECTOR($1, double)) AS "score" FROM "docs" ` +
        `ORDER BY VECTOR_COSINE("embedding", TO_VECTOR($2, double)) DESC`,
    );
    assert.deepEqual(s.params, [QTEXT, QTEXT]);
    assertPositional(s.text, s.params);
    assertIrisSafe(s.text);
  });

  it("dot: VECTOR_DOT_PRODUCT, DESC, with the where placeholders between the two vectors", () => {
    const s = nearestStatement(iris, docs, "SQLUser", "embedding", Q, {
      k: 3,
      metric: "dot",
      where: { lang: "en", id: { gt: 10 } },
      columns: ["id"],
    });
    assert.equal(
      s.text,
      `SELECT TOP 3 "id", VECTOR_DOT_PRODUCT("embedding", TO_VECTOR($1, double)) AS "score" FROM "docs" ` +
        `WHERE "lang" = $2 AND "id" > $3 ORDER BY VECTOR_DOT_PRODUCT("embedding", TO_VECTOR($4, double)) DESC`,
    );
    assert.deepEqual(s.params, [QTEXT, "en", 10, QTEXT]);
    assertPositional(s.text, s.params);
    assertIrisSafe(s.text);
  });

  it("l2: the distance from dot products, sqrt(|e|^2 - 2 e.q + |q|^2), ordered ascending without the constant", () => {
    const s = nearestStatement(iris, docs, "SQLUser", "embedding", Q, { k: 4, metric: "l2" });
    assert.equal(
      s.text,
      `SELECT TOP 4 ${ALL}, SQRT(ABS(VECTOR_DOT_PRODUCT("embedding", "embedding") - 2 * ` +
        `VECTOR_DOT_PRODUCT("embedding", TO_VECTOR($1, double)) + $2)) AS "score" FROM "docs" ` +
        `ORDER BY VECTOR_DOT_PRODUCT("embedding", "embedding") - 2 * VECTOR_DOT_PRODUCT("embedding", TO_VECTOR($3, double)) ASC`,
    );
    assert.deepEqual(s.params, [QTEXT, 14, QTEXT], "|q|^2 = 1 + 4 + 9 is computed here and bound");
    assertPositional(s.text, s.params);
    assertIrisSafe(s.text);
    assert.doesNotMatch(s.text, /VECTOR_L2|VECTOR_DISTANCE/, "IRIS has no L2 function");
  });

  it("a float column gets TO_VECTOR(..., float): the type must match the column's", () => {
    for (const metric of ["cosine", "dot", "l2"] as VectorMetric[]) {
      const s = nearestStatement(iris, docs, "SQLUser", "small", Q, { k: 2, metric, columns: ["id"] });
      assert.match(s.text, /TO_VECTOR\(\$1, float\)/);
      assert.doesNotMatch(s.text, /double/);
      assertPositional(s.text, s.params);
      assertIrisSafe(s.text);
    }
  });

  it("a table in another schema is qualified; the default SQLUser is not", () => {
    const other = table("items", { id: col.integer().primaryKey(), v: col.vector(3) }, { schema: "App" });
    const s = nearestStatement(iris, other, "SQLUser", "v", Q, { k: 1 });
    assert.match(s.text, / FROM "App"\."items" ORDER BY /);
    const here = nearestStatement(iris, docs, "SQLUser", "embedding", Q, { k: 1 });
    assert.match(here.text, / FROM "docs" ORDER BY /);
  });

  it("k defaults to 10 and is written as a literal TOP (iris-pgwire cannot bind TOP)", () => {
    const s = nearestStatement(iris, docs, "SQLUser", "embedding", Q);
    assert.match(s.text, /^SELECT TOP 10 /);
    assert.ok(!s.params.includes(10));
  });
});

describe("similarity() and nearestOrder() spelled for IRIS", () => {
  it("cosine in a hand-written query: placeholders numbered where the fragments land", () => {
    const c = compile(
      sql`SELECT TOP 5 id, ${similarity(docs, "embedding", Q)} AS score FROM docs WHERE lang = ${"en"} ORDER BY ${
        nearestOrder(docs, "embedding", Q)
      }`,
      undefined,
      iris,
    );
    assert.equal(
      c.text,
      `SELECT TOP 5 id, VECTOR_COSINE("embedding", TO_VECTOR($1, double)) AS score FROM docs WHERE lang = $2 ` +
        `ORDER BY VECTOR_COSINE("embedding", TO_VECTOR($3, double)) DESC`,
    );
    assert.deepEqual(c.params, [QTEXT, "en", QTEXT]);
    assertIrisSafe(c.text);
  });

  it("every metric, with a table alias and a float column", () => {
    const expect: Record<VectorMetric, [string, string]> = {
      cosine: [
        `VECTOR_COSINE("d"."small", TO_VECTOR($1, float))`,
        `VECTOR_COSINE("d"."small", TO_VECTOR($2, float)) DESC`,
      ],
      dot: [
        `VECTOR_DOT_PRODUCT("d"."small", TO_VECTOR($1, float))`,
        `VECTOR_DOT_PRODUCT("d"."small", TO_VECTOR($2, float)) DESC`,
      ],
      l2: [
        `SQRT(ABS(VECTOR_DOT_PRODUCT("d"."small", "d"."small") - 2 * VECTOR_DOT_PRODUCT("d"."small", TO_VECTOR($1, float)) + $2))`,
        `VECTOR_DOT_PRODUCT("d"."small", "d"."small") - 2 * VECTOR_DOT_PRODUCT("d"."small", TO_VECTOR($3, float)) ASC`,
      ],
    };
    for (const metric of ["cosine", "dot", "l2"] as VectorMetric[]) {
      const opts = { metric, alias: "d" };
      const c = compile(
        sql`SELECT TOP 3 d.id, ${similarity(docs, "small", Q, opts)} AS score FROM docs d ORDER BY ${
          nearestOrder(docs, "small", Q, opts)
        }`,
        undefined,
        iris,
      );
      assert.equal(
        c.text,
        `SELECT TOP 3 d.id, ${expect[metric][0]} AS score FROM docs d ORDER BY ${expect[metric][1]}`,
      );
      assert.deepEqual(c.params, metric === "l2" ? [QTEXT, 14, QTEXT] : [QTEXT, QTEXT]);
      assertPositional(c.text, c.params);
      assertIrisSafe(c.text);
    }
  });

  it("the same fragments spell pgvector operators for PostgreSQL", () => {
    const expect: Record<VectorMetric, [string, string]> = {
      cosine: [`1 - ("embedding" <=> $1::vector)`, `"embedding" <=> $2::vector`],
      dot: [`("embedding" <#> $1::vector) * -1`, `"embedding" <#> $2::vector`],
      l2: [`"embedding" <-> $1::vector`, `"embedding" <-> $2::vector`],
    };
    for (const metric of ["cosine", "dot", "l2"] as VectorMetric[]) {
      const c = compile(
        sql`${similarity(docs, "embedding", Q, metric)} ORDER BY ${nearestOrder(docs, "embedding", Q, metric)}`,
        undefined,
        pg,
      );
      assert.equal(c.text, `${expect[metric][0]} ORDER BY ${expect[metric][1]}`);
      assert.deepEqual(c.params, [QTEXT, QTEXT]);
    }
  });

  it("compiling for something that is not a dialect is a clear error", () => {
    assert.throws(() => compile(sql`${similarity(docs, "embedding", Q)}`, undefined, { paramStyle: "reuse" }), {
      name: "ValidationError",
      message: "Vector expressions compile only for an engine's dialect",
    });
  });
});

describe("vector DDL on IRIS", () => {
  const withIndexes = (...ix: ReturnType<typeof index>[]) =>
    table("docs", {
      id: col.integer().primaryKey(),
      embedding: col.vector(384),
      small: col.vector(8, { element: "float" }),
    }, {
      indexes: ix,
    });

  it("columns are VECTOR(double|float, n), the type keyword in lower case", () => {
    const ddl = iris.createTableSql(withIndexes(), "SQLUser", false);
    assert.match(ddl, /"embedding" VECTOR\(double, 384\)/);
    assert.match(ddl, /"small" VECTOR\(float, 8\)/);
  });

  it("HNSW: AS HNSW(M=…, efConstruction=…, Distance='Cosine'|'DotProduct')", () => {
    const cos = index("docs_emb_cos").on("embedding").hnsw({ metric: "cosine", m: 24, efConstruction: 100 });
    const dot = index("docs_emb_dot").on("embedding").hnsw({ metric: "dot" });
    const t = withIndexes(cos, dot);
    assert.equal(
      iris.createIndexSql(t.indexes[0], t, "SQLUser"),
      `CREATE INDEX "docs_emb_cos" ON "docs" ("embedding") AS HNSW(M=24, efConstruction=100, Distance='Cosine')`,
    );
    assert.equal(
      iris.createIndexSql(t.indexes[1], t, "SQLUser"),
      `CREATE INDEX "docs_emb_dot" ON "docs" ("embedding") AS HNSW(M=16, efConstruction=64, Distance='DotProduct')`,
    );
    const app = table("docs", { v: col.vector(4) }, { schema: "App", indexes: [cos.on("v")] });
    assert.equal(
      iris.createIndexSql(app.indexes[0], app, "SQLUser"),
      `CREATE INDEX "docs_emb_cos" ON "App"."docs" ("v") AS HNSW(M=24, efConstruction=100, Distance='Cosine')`,
    );
  });

  it("HNSW with L2 is an UnsupportedFeatureError that says what to use instead", () => {
    const t = withIndexes(index("docs_emb_l2").on("embedding").hnsw({ metric: "l2" }));
    assert.throws(() => iris.createIndexSql(t.indexes[0], t, "SQLUser"), (e: unknown) => {
      assert.ok(e instanceof UnsupportedFeatureError);
      assert.equal(
        e.message,
        `index docs_emb_l2: IRIS HNSW indexes support Distance='Cosine' and 'DotProduct' only, not L2. ` +
          `Use metric "cosine" (or "dot" with normalised vectors).`,
      );
      return true;
    });
  });

  it("createAll refuses an L2 HNSW index before it sends anything (no half-made schema)", async () => {
    const t = withIndexes(
      index("docs_emb_cos").on("embedding").hnsw({ metric: "cosine" }),
      index("docs_emb_l2").on("embedding").hnsw({ metric: "l2" }),
    );
    await assert.rejects(engine.createAll([t]), UnsupportedFeatureError);
    await assert.rejects(engine.createAll([t], { checkfirst: true }), UnsupportedFeatureError);
    assert.deepEqual(sent, []);
  });

  it("PostgreSQL spells the same indexes USING hnsw with an operator class, L2 included", () => {
    const t = withIndexes(
      index("a").on("embedding").hnsw({ metric: "cosine", m: 24, efConstruction: 100 }),
      index("b").on("embedding").hnsw({ metric: "dot" }),
      index("c").on("embedding").hnsw({ metric: "l2" }),
    );
    assert.deepEqual(t.indexes.map((ix) => pg.createIndexSql(ix, t, "public")), [
      `CREATE INDEX "a" ON "docs" USING hnsw ("embedding" vector_cosine_ops) WITH (m = 24, ef_construction = 100)`,
      `CREATE INDEX "b" ON "docs" USING hnsw ("embedding" vector_ip_ops) WITH (m = 16, ef_construction = 64)`,
      `CREATE INDEX "c" ON "docs" USING hnsw ("embedding" vector_l2_ops) WITH (m = 16, ef_construction = 64)`,
    ]);
  });
});
