/**
 * Vector search on real servers: nearest() against a brute force computed in
 * TypeScript, with and without HNSW indexes; the hand-written-query fragments
 * similarity() and nearestOrder(); the IRIS expression shapes run on pgvector;
 * and validation that rejects bad vectors before anything is sent. And the same search on iris://
 * through the REAL iris-pgwire 1.7.3 over its PGlite + pgvector stand-in (NOT IRIS: started once,
 * in this file's before hook, ~15 s), against a brute force and against PGlite itself.
 *
 * Precision: pgvector stores float4 and `$1::vector` rounds the query to
 * float4 too, then it sums in float4. So the reference is computed exactly
 * (in doubles) on the float32-rounded inputs, and the tolerance is the
 * worst-case error of summing n float32 products: (n + 2) * 2^-24 times the
 * sum of the magnitudes of the terms (see `tolerance`). That is what float4
 * guarantees; a flat 1e-6 relative is not (even L2 may err by 66 * 2^-24 =
 * 3.9e-6). Observed errors stay below 5e-7 relative, ~4% of the bound.
 */
import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import {
  col,
  createEngine,
  type Engine,
  index,
  nearestOrder,
  parseVector,
  QueryError,
  type QueryEvent,
  similarity,
  sql,
  table,
  UnsupportedFeatureError,
  ValidationError,
  type VectorMetric,
} from "../mod.ts";
import { BACKENDS, engineFor, PGLITE_URL, uniqueName, withIris } from "./helpers.ts";
import { nearestStatement } from "../src/statements/nearest.ts";
import { irisDialect } from "../src/dialects/iris/iris-dialect.ts";

/** The real iris-pgwire 1.7.3 over PGlite + pgvector (started in this file's before hook). */
const IRIS = withIris({ real: "pglite" }).find((b) => b.kind === "iris-real")!;

const DIMS = 64;
const ROWS = 2000;
const K = 10;
const METRICS: VectorMetric[] = ["cosine", "dot", "l2"];
const U = 2 ** -24; // float32 unit roundoff
const GAMMA = (DIMS + 2) * U;

// --- deterministic data ------------------------------------------------------

/** mulberry32: a small seeded PRNG, so every runtime sees the same vectors. */
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const rand = prng(20240611);
const randomVector = () => Array.from({ length: DIMS }, () => rand() * 2 - 1);

interface Item {
  id: number;
  bucket: number;
  embedding: number[];
}
const ITEMS: Item[] = Array.from({ length: ROWS }, (_, i) => ({ id: i + 1, bucket: i % 4, embedding: randomVector() }));
/** Queries whose elements are float32 values already, so `::vector` leaves them unchanged. */
const QUERIES = Array.from({ length: 4 }, () => randomVector().map(Math.fround));

/** Stored vectors by id, as the float32 values the server computes with. */
type Stored = Map<number, number[]>;

/**
 * What pgvector holds. Every element is a float32 near the one sent; PGlite's
 * pgvector parses text with a strtof that is sometimes one float32 step off
 * the correctly rounded value (Math.fround), so the reference is computed on
 * the vectors read back, after checking they are within that step.
 */
async function readStored(engine: Engine, docs: ReturnType<typeof vectorTable>): Promise<Stored> {
  const found = await engine.session((s) => s.find(docs, { columns: ["id", "embedding"], orderBy: { id: "asc" } }));
  assert.equal(found.length, ROWS);
  const stored: Stored = new Map();
  for (const row of found) {
    const sent = ITEMS[row.id - 1].embedding;
    const held = row.embedding.map(Math.fround);
    held.forEach((x, i) => {
      const step = Math.abs(Math.fround(sent[i]) - x);
      assert.ok(step <= 2 ** (Math.floor(Math.log2(Math.abs(x))) - 23), `id ${row.id}[${i}]: ${x} for ${sent[i]}`);
    });
    stored.set(row.id, held);
  }
  return stored;
}

// --- brute force -------------------------------------------------------------

function dot(a: readonly number[], b: readonly number[]): number {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += a[i] * b[i];
  return s;
}
function absDot(a: readonly number[], b: readonly number[]): number {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += Math.abs(a[i] * b[i]);
  return s;
}

/** The exact score of the stored vector: higher is closer for cosine/dot, lower for l2. */
function exactScore(metric: VectorMetric, e: readonly number[], q: readonly number[]): number {
  if (metric === "dot") return dot(e, q);
  if (metric === "cosine") return dot(e, q) / Math.sqrt(dot(e, e) * dot(q, q));
  let s = 0;
  for (let i = 0; i < e.length; i++) s += (e[i] - q[i]) ** 2;
  return Math.sqrt(s);
}

/**
 * The worst-case error of a float32 evaluation: summing n rounded products
 * errs by at most (n + 2)u times the sum of their magnitudes. Cosine adds
 * the same relative error from each norm; L2 is a sum of squares, so its
 * relative error is bounded directly.
 */
function tolerance(metric: VectorMetric, e: readonly number[], q: readonly number[], score: number): number {
  if (metric === "dot") return GAMMA * absDot(e, q);
  if (metric === "cosine") return GAMMA * (absDot(e, q) / Math.sqrt(dot(e, e) * dot(q, q)) + Math.abs(score));
  return GAMMA * score;
}

interface Expected {
  id: number;
  score: number;
  tol: number;
}

function bruteForce(
  stored: Stored,
  metric: VectorMetric,
  q: readonly number[],
  keep: (it: Item) => boolean = () => true,
): Expected[] {
  const all = ITEMS.filter(keep).map((it) => {
    const e = stored.get(it.id)!;
    const score = exactScore(metric, e, q);
    return { id: it.id, score, tol: tolerance(metric, e, q, score) };
  });
  all.sort((a, b) => (metric === "l2" ? a.score - b.score : b.score - a.score));
  return all;
}

/** The top k, after checking the order is well defined: neighbours differ by more than their error. */
function topK(ranked: Expected[], k = K): Expected[] {
  for (let i = 0; i < k; i++) {
    const gap = Math.abs(ranked[i].score - ranked[i + 1].score);
    assert.ok(gap > ranked[i].tol + ranked[i + 1].tol, `ranks ${i} and ${i + 1} are too close to order`);
  }
  return ranked.slice(0, k);
}

function assertSameRanking(actual: { id: number; score: number }[], expected: Expected[], label: string): void {
  assert.deepEqual(actual.map((r) => r.id), expected.map((r) => r.id), `${label}: order`);
  for (let i = 0; i < expected.length; i++) {
    const err = Math.abs(actual[i].score - expected[i].score);
    assert.ok(
      err <= expected[i].tol,
      `${label}: score of id ${expected[i].id} is ${actual[i].score}, expected ${expected[i].score} ± ${
        expected[i].tol
      }`,
    );
  }
}

function recall(actual: { id: number }[], expected: Expected[]): number {
  const want = new Set(expected.map((r) => r.id));
  return actual.filter((r) => want.has(r.id)).length / expected.length;
}

function vectorTable(name: string, indexed: boolean) {
  return table(name, {
    id: col.integer().primaryKey(),
    bucket: col.integer().notNull(),
    title: col.varchar(40),
    embedding: col.vector(DIMS).notNull(),
  }, {
    indexes: indexed
      ? METRICS.map((metric) => index(`${name}_${metric}`).on("embedding").hnsw({ metric, m: 16, efConstruction: 64 }))
      : [],
  });
}

const rows = ITEMS.map((it) => ({ ...it, title: `item ${it.id}` }));

// --- nearest() on PGlite ------------------------------------------------------

describe("nearest() on pglite (pgvector), 2,000 vectors of 64 dimensions", () => {
  let engine: Engine;
  let stored: Stored;
  const docs = vectorTable(uniqueName("vec_exact"), false);

  before(async () => {
    engine = engineFor(PGLITE_URL);
    await engine.createAll([docs]);
    const { count } = await engine.session((s) => s.insertMany(docs, rows));
    assert.equal(count, ROWS);
    stored = await readStored(engine, docs);
  });
  after(async () => {
    await engine.dropAll([docs], { checkfirst: true });
    await engine.dispose();
  });

  for (const metric of METRICS) {
    it(`${metric}: the top ${K} equal a brute force, best first, with its scores`, async () => {
      await engine.session(async (s) => {
        for (const [qi, q] of QUERIES.entries()) {
          const got = await s.nearest(docs, "embedding", q, { k: K, metric });
          assert.equal(got.length, K);
          assert.equal(typeof got[0].score, "number");
          assert.deepEqual(got[0].embedding.map(Math.fround), stored.get(got[0].id), "the row's vector comes back");
          assertSameRanking(got, topK(bruteForce(stored, metric, q)), `${metric} query ${qi}`);
        }
      });
    });

    it(`${metric}: with a where filter, only matching rows, still exact`, async () => {
      await engine.session(async (s) => {
        for (const [qi, q] of QUERIES.entries()) {
          const got = await s.nearest(docs, "embedding", q, {
            k: K,
            metric,
            where: { bucket: { in: [1, 3] }, id: { gt: 500 } },
            columns: ["id", "bucket"],
          });
          assert.deepEqual(Object.keys(got[0]).sort(), ["bucket", "id", "score"]);
          assert.ok(got.every((r) => (r.bucket === 1 || r.bucket === 3) && r.id > 500));
          const expected = topK(
            bruteForce(stored, metric, q, (it) => (it.bucket === 1 || it.bucket === 3) && it.id > 500),
          );
          assertSameRanking(got, expected, `${metric} filtered query ${qi}`);
        }
      });
    });
  }

  it("defaults to cosine and k = 10", async () => {
    const got = await engine.session((s) => s.nearest(docs, "embedding", QUERIES[0]));
    assertSameRanking(got, topK(bruteForce(stored, "cosine", QUERIES[0])), "defaults");
  });

  it("k larger than the table returns every matching row", async () => {
    const got = await engine.session((s) =>
      s.nearest(docs, "embedding", QUERIES[1], { k: 50, metric: "l2", where: { id: { lte: 7 } } })
    );
    assert.deepEqual(got.map((r) => r.id), bruteForce(stored, "l2", QUERIES[1], (it) => it.id <= 7).map((r) => r.id));
  });

  it("a stored vector is its own nearest neighbour (cosine 1, l2 0)", async () => {
    const self = stored.get(124)!;
    await engine.session(async (s) => {
      const [cos] = await s.nearest(docs, "embedding", self, { k: 1, metric: "cosine" });
      assert.equal(cos.id, 124);
      assert.ok(Math.abs(cos.score - 1) < 1e-6, `cosine ${cos.score}`);
      const [l2] = await s.nearest(docs, "embedding", self, { k: 1, metric: "l2" });
      assert.equal(l2.id, 124);
      assert.ok(Math.abs(l2.score) < 1e-6, `l2 ${l2.score}`);
    });
  });

  describe("similarity() and nearestOrder() in hand-written queries", () => {
    for (const metric of METRICS) {
      it(`${metric}: the same rows and scores as nearest()`, async () => {
        const q = QUERIES[2];
        const r = await engine.execute<{ id: number; score: number }>(
          sql`SELECT ${sql.id("id")}, ${similarity(docs, "embedding", q, metric)} AS score FROM ${sql.id(docs.name)}
              WHERE ${sql.id("bucket")} <> ${0} ORDER BY ${nearestOrder(docs, "embedding", q, { metric })} LIMIT ${K}`,
        );
        const expected = topK(bruteForce(stored, metric, q, (it) => it.bucket !== 0));
        assertSameRanking(r.rows, expected, `sql ${metric}`);
        const viaNearest = await engine.session((s) =>
          s.nearest(docs, "embedding", q, { k: K, metric, where: { bucket: { ne: 0 } } })
        );
        assert.deepEqual(r.rows.map((x) => x.id), viaNearest.map((x) => x.id));
        assert.deepEqual(r.rows.map((x) => x.score), viaNearest.map((x) => x.score));
      });
    }

    it("work with a table alias and in a join, binding the vector as a parameter", async () => {
      const q = QUERIES[3];
      const seen: { sql: string; paramCount: number }[] = [];
      const spy = createEngine(PGLITE_URL, { onQuery: (e) => seen.push(e) });
      try {
        await spy.createAll([docs]);
        await spy.session((s) => s.insertMany(docs, rows.slice(0, 200)));
        const r = await spy.execute<{ id: number; title: string; score: number }>(
          sql`SELECT d.id, o.title, ${similarity(docs, "embedding", q, { metric: "dot", alias: "d" })} AS score
              FROM ${sql.id(docs.name)} AS d JOIN ${sql.id(docs.name)} AS o ON o.id = d.id
              ORDER BY ${nearestOrder(docs, "embedding", q, { metric: "dot", alias: "d" })} LIMIT ${3}`,
        );
        const expected = topK(bruteForce(stored, "dot", q, (it) => it.id <= 200), 3);
        assertSameRanking(r.rows, expected, "join");
        assert.equal(r.rows[0].title, `item ${expected[0].id}`);
        const last = seen[seen.length - 1];
        assert.match(last.sql, /"d"\."embedding" <#> \$1::vector\) \* -1 AS score/);
        assert.match(last.sql, /ORDER BY "d"\."embedding" <#> \$2::vector LIMIT \$3/);
        assert.equal(last.paramCount, 3);
        assert.ok(!last.sql.includes("["), "the vector is bound, not spliced into the text");
      } finally {
        await spy.dispose();
      }
    });
  });

  describe("the IRIS expression shapes, run on pgvector", () => {
    // The IRIS statement, with each IRIS function spelled with the pgvector operator that
    // computes the same number: VECTOR_DOT_PRODUCT(a, b) = -(a <#> b), VECTOR_COSINE(a, b)
    // = 1 - (a <=> b). Everything else (L2 from dot products, ORDER BY, TOP) is IRIS's own.
    function irisOnPgvector(text: string): string {
      let out = text
        .replace(/TO_VECTOR\((\$\d+), (?:double|float)\)/g, "$1::vector")
        .replace(/VECTOR_DOT_PRODUCT\(([^(),]+), ([^(),]+)\)/g, "(-($1 <#> $2))")
        .replace(/VECTOR_COSINE\(([^(),]+), ([^(),]+)\)/g, "(1 - ($1 <=> $2))");
      const top = /^SELECT TOP (\d+) /.exec(out);
      assert.ok(top, "IRIS limits with TOP");
      out = out.replace(top[0], "SELECT ") + ` LIMIT ${top[1]}`;
      assert.doesNotMatch(out, /VECTOR_|TO_VECTOR/);
      return out;
    }

    for (const metric of METRICS) {
      it(`${metric}: IRIS's nearest statement ranks and scores like the brute force`, async () => {
        for (const [qi, q] of QUERIES.entries()) {
          const where = qi % 2 === 0 ? undefined : { bucket: 2 };
          const iris = nearestStatement(irisDialect, docs, "public", "embedding", q, { k: K, metric, where });
          const r = await engine.execute<{ id: number; score: number }>({
            text: irisOnPgvector(iris.text),
            params: iris.params,
          });
          const expected = topK(bruteForce(stored, metric, q, where ? (it) => it.bucket === 2 : undefined));
          if (metric !== "l2") {
            assertSameRanking(r.rows, expected, `iris ${metric} ${qi}`);
            continue;
          }
          // L2 as sqrt(|e|^2 - 2 e.q + |q|^2) cancels: its error scales with those terms, not the distance.
          const widened = expected.map((x) => {
            const e = stored.get(x.id)!;
            return { ...x, tol: GAMMA * (dot(e, e) + 2 * absDot(e, q) + dot(q, q)) / (2 * x.score) };
          });
          assertSameRanking(r.rows, widened, `iris l2 ${qi}`);
        }
      });
    }
  });
});

// --- HNSW ----------------------------------------------------------------------

describe("nearest() with HNSW indexes on pglite", () => {
  let engine: Engine;
  let stored: Stored;
  const name = uniqueName("vec_hnsw");
  const docs = vectorTable(name, true);

  before(async () => {
    engine = engineFor(PGLITE_URL);
    // Load first, then let createAll (checkfirst: the table is there) add the indexes: a bulk build.
    await engine.createAll([vectorTable(name, false)]);
    await engine.session((s) => s.insertMany(docs, rows));
    await engine.createAll([docs], { checkfirst: true });
    await engine.execute(`ANALYZE ${engine.dialect.quoteId(docs.name)}`);
    stored = await readStored(engine, docs);
  });
  after(async () => {
    await engine.dropAll([docs], { checkfirst: true });
    await engine.dispose();
  });

  it("createAll made one hnsw index per metric with its operator class and options", async () => {
    const found = await engine.execute<{ indexname: string; indexdef: string }>(
      sql`SELECT indexname, indexdef FROM pg_indexes WHERE tablename = ${docs.name} ORDER BY indexname`,
    );
    const defs = Object.fromEntries(found.rows.map((r) => [r.indexname, r.indexdef]));
    const ops = { cosine: "vector_cosine_ops", dot: "vector_ip_ops", l2: "vector_l2_ops" };
    for (const metric of METRICS) {
      assert.match(
        defs[`${docs.name}_${metric}`],
        new RegExp(`USING hnsw \\(embedding ${ops[metric]}\\) WITH \\(m='?16'?, ef_construction='?64'?\\)`),
      );
    }
  });

  for (const metric of METRICS) {
    it(`${metric}: the index serves the query, recall@${K} >= 0.9, scores stay exact`, async () => {
      const q0 = nearestStatement(engine.dialect, docs, "public", "embedding", QUERIES[0], { k: K, metric });
      const plan = await engine.execute<Record<string, string>>({ text: "EXPLAIN " + q0.text, params: q0.params });
      const planText = plan.rows.map((r) => Object.values(r)[0]).join("\n");
      assert.match(planText, new RegExp(`Index Scan using "?${docs.name}_${metric}"?`));

      const recalls: number[] = [];
      await engine.session(async (s) => {
        for (const [qi, q] of QUERIES.entries()) {
          for (const where of [undefined, { bucket: { ne: 3 } }]) {
            const got = await s.nearest(docs, "embedding", q, { k: K, metric, where });
            const ranked = bruteForce(stored, metric, q, where ? (it) => it.bucket !== 3 : undefined);
            assert.equal(got.length, K, `${metric} query ${qi}${where ? " filtered" : ""}: k rows`);
            if (where) assert.ok(got.every((r) => r.bucket !== 3));
            recalls.push(recall(got, ranked.slice(0, K)));
            // Whatever rows the index picks, each is scored exactly and listed best first.
            const byId = new Map(ranked.map((x) => [x.id, x]));
            for (const r of got) {
              const want = byId.get(r.id)!;
              assert.ok(Math.abs(r.score - want.score) <= want.tol, `score of ${r.id}`);
            }
            const scores = got.map((r) => r.score);
            const sorted = [...scores].sort((a, b) => (metric === "l2" ? a - b : b - a));
            assert.deepEqual(scores, sorted, "best first");
          }
        }
      });
      const mean = recalls.reduce((a, b) => a + b, 0) / recalls.length;
      assert.ok(mean >= 0.9, `${metric}: mean recall ${mean} (${recalls.join(", ")})`);
    });
  }
});

// --- encoding, parsing, storage --------------------------------------------------

describe("vector values", () => {
  it("parseVector reads [1,2,3], 1,2,3 and arrays; rejects junk", () => {
    assert.deepEqual(parseVector("[1,2.5,-3]"), [1, 2.5, -3]);
    assert.deepEqual(parseVector("1,2.5,-3"), [1, 2.5, -3]);
    assert.deepEqual(parseVector(" [1e-7, 2 ,3] "), [1e-7, 2, 3]);
    assert.deepEqual(parseVector(new Float32Array([0.5, 1])), [0.5, 1]);
    assert.equal(parseVector(null), null);
    assert.throws(() => parseVector("[1,,2]"), {
      name: "ValidationError",
      message: 'Cannot read a vector from "[1,,2]"',
    });
    assert.throws(() => parseVector("[1,x]"), {
      name: "ValidationError",
      message: 'Cannot read a vector from "[1,x]"',
    });
  });

  it("round-trips through pgvector as number[] (float and double elements)", async () => {
    const engine = engineFor(PGLITE_URL);
    const t = table(uniqueName("vec_rt"), {
      id: col.integer().primaryKey(),
      d: col.vector(3),
      f: col.vector(3, { element: "float" }),
    });
    try {
      await engine.createAll([t]);
      const stored = await engine.session((s) => s.insert(t, { id: 1, d: [0.5, -2, 1e-7], f: [1, 2, 3] }));
      assert.deepEqual(stored, { id: 1, d: [0.5, -2, 1e-7], f: [1, 2, 3] });
      const again = await engine.session((s) => s.get(t, 1));
      assert.deepEqual(again, stored);
      const raw = await engine.execute(`SELECT d FROM ${engine.dialect.quoteId(t.name)}`);
      assert.equal(raw.scalar(), "[0.5,-2,1e-07]");
      const nulls = await engine.session((s) => s.insert(t, { id: 2, d: null }));
      assert.equal(nulls.d, null);
    } finally {
      await engine.dropAll([t], { checkfirst: true });
      await engine.dispose();
    }
  });
});

// --- validation: nothing reaches the server -----------------------------------------

const UNREACHABLE_IRIS = "iris://_SYSTEM:secret@127.0.0.1:1/USER";

for (
  const backend of [...BACKENDS.map((b) => ({ name: b.name, url: b.url })), { name: "iris", url: UNREACHABLE_IRIS }]
) {
  describe(`vector validation on ${backend.name}: a ValidationError and nothing sent`, () => {
    const sent: string[] = [];
    let engine: Engine;
    const name = uniqueName("vec_bad");
    const docs = vectorTable(name, false);
    const good = QUERIES[0];

    before(() => {
      engine = createEngine(backend.url, { onQuery: (e) => sent.push(e.sql) });
    });
    after(async () => {
      await engine.dispose();
    });

    const bad: [string, () => Promise<unknown>, string][] = [
      ["wrong dimension", () => near([1, 2, 3]), `query vector for ${name}.embedding expects 64 dimensions, got 3`],
      ["NaN", () => near(with_(5, NaN)), `query vector for ${name}.embedding[5] must be a finite number, got NaN`],
      [
        "Infinity",
        () => near(with_(0, Infinity)),
        `query vector for ${name}.embedding[0] must be a finite number, got Infinity`,
      ],
      [
        "-Infinity",
        () => near(with_(63, -Infinity)),
        `query vector for ${name}.embedding[63] must be a finite number, got -Infinity`,
      ],
      [
        "a string element",
        () => near(with_(1, "1")),
        `query vector for ${name}.embedding[1] must be a finite number, got "1"`,
      ],
      ["empty vector", () => near([]), `query vector for ${name}.embedding must not be an empty vector`],
      [
        "not an array",
        () => near("[1,2,3]"),
        `query vector for ${name}.embedding must be an array of numbers, got "[1,2,3]"`,
      ],
      [
        "unknown column",
        () => near(good, "embeding"),
        `Unknown column "embeding" in nearest() on table ${name}. Columns: id, bucket, title, embedding`,
      ],
      [
        "non-vector column",
        () => near(good, "title"),
        `nearest() needs a vector column; ${name}.title is varchar. Vector columns: embedding`,
      ],
      [
        "unknown metric",
        () => near(good, "embedding", { metric: "euclid" }),
        `metric must be "cosine", "dot" or "l2", got "euclid"`,
      ],
      ["k = 0", () => near(good, "embedding", { k: 0 }), `k on table ${name} must be a whole number >= 1, got 0`],
      [
        "fractional k",
        () => near(good, "embedding", { k: 2.5 }),
        `k on table ${name} must be a whole number >= 1, got 2.5`,
      ],
      [
        "unknown where column",
        () => near(good, "embedding", { where: { colour: "red" } }),
        `Unknown column "colour" in where on table ${name}. Columns: id, bucket, title, embedding`,
      ],
      [
        "insert of a short vector",
        () => engine.session((s) => s.insert(docs, { id: 1, bucket: 0, embedding: [1, 2] })),
        `${name}.embedding expects 64 dimensions, got 2`,
      ],
      [
        "insertMany with a NaN in row 1",
        () =>
          engine.session((s) =>
            s.insertMany(docs, [{ id: 1, bucket: 0, embedding: good }, { id: 2, bucket: 0, embedding: with_(9, NaN) }])
          ),
        `row 1: ${name}.embedding[9] must be a finite number, got NaN`,
      ],
    ];

    function near(q: unknown, column = "embedding", options: Record<string, unknown> = {}) {
      return engine.session((s) => s.nearest(docs, column as "embedding", q as number[], options as never));
    }
    function with_(i: number, v: unknown): number[] {
      const q: unknown[] = [...good];
      q[i] = v;
      return q as number[];
    }

    for (const [label, call, message] of bad) {
      it(label, async () => {
        await assert.rejects(call(), (e: unknown) => {
          assert.ok(e instanceof ValidationError, `a ValidationError, got ${String(e)}`);
          assert.equal(e.message, message);
          return true;
        });
        assert.deepEqual(sent, []);
      });
    }

    it("similarity() and nearestOrder() check the same things when they are built", () => {
      const make = [similarity, nearestOrder] as const;
      for (const f of make) {
        const what = f === similarity ? "similarity()" : "nearestOrder()";
        assert.throws(() => f(docs, "embedding", [1, 2]), {
          name: "ValidationError",
          message: `query vector for ${name}.embedding expects 64 dimensions, got 2`,
        });
        assert.throws(() => f(docs, "embedding", with_(2, NaN)), {
          name: "ValidationError",
          message: `query vector for ${name}.embedding[2] must be a finite number, got NaN`,
        });
        assert.throws(() => f(docs, "title" as "embedding", good), {
          name: "ValidationError",
          message: `${what} needs a vector column; ${name}.title is varchar`,
        });
        assert.throws(() => f(docs, "nope" as "embedding", good), {
          name: "ValidationError",
          message: `Unknown column "nope" in ${what} on table ${name}. Columns: id, bucket, title, embedding`,
        });
        assert.throws(() => f(docs, "embedding", good, "manhattan" as VectorMetric), {
          name: "ValidationError",
          message: `metric must be "cosine", "dot" or "l2", got "manhattan"`,
        });
      }
      assert.deepEqual(sent, []);
    });

    if (backend.name !== "iris") {
      it("(control) onQuery does see a statement that is sent", async () => {
        await engine.execute("SELECT 1");
        assert.deepEqual(sent, ["SELECT 1"]);
      });
    }
  });
}

// --- iris:// through the real iris-pgwire 1.7.3 (PGlite + pgvector stand-in, NOT IRIS) ------------

/**
 * Small data (the stand-in is slow: one Python round trip per statement): 200 vectors of 16
 * dimensions, double and float elements, an HNSW index on each (cosine, dot). irisql spells
 * IRIS-native SQL there (VECTOR(double|float, n), TO_VECTOR(?, double), VECTOR_COSINE /
 * VECTOR_DOT_PRODUCT ordered by the repeated expression DESC, L2 from dot products, SELECT TOP k).
 * What this checks once covered tests/iris-vector.test.ts on the TypeScript emulator.
 */
describe(`vector search on ${IRIS.name}, against a brute force and PGlite + pgvector`, () => {
  const IDIM = 16;
  const IROWS = 200;
  let iris: Engine;
  let lite: Engine;
  const events: QueryEvent[] = [];
  const r = prng(42);
  const make = (element: "double" | "float", metric: "cosine" | "dot") =>
    table(uniqueName(`rvec_${element}`), {
      id: col.integer().primaryKey(),
      bucket: col.smallint().notNull(),
      title: col.varchar(40).notNull(),
      embedding: col.vector(IDIM, { element }),
    }, { indexes: [index(uniqueName(`rvec_${metric}`)).on("embedding").hnsw({ metric })] });
  const doubles = make("double", "cosine");
  const floats = make("float", "dot");
  const data = Array.from({ length: IROWS }, (_, i) => ({
    id: i + 1,
    bucket: i % 3,
    title: `item ${i + 1}`,
    embedding: Array.from({ length: IDIM }, () => r() * 2 - 1),
  }));
  const queries = [0, 1, 2].map(() => Array.from({ length: IDIM }, () => Math.fround(r() * 2 - 1)));
  /** The vectors as pgvector holds them (float4), read back through PGlite. */
  let held: Map<number, number[]>;

  before(async () => {
    iris = createEngine(IRIS.url, { onQuery: (e) => events.push(e) });
    lite = createEngine(PGLITE_URL);
    for (const engine of [iris, lite]) {
      await engine.createAll([doubles, floats], { checkfirst: true });
      await engine.session(async (s) => {
        await s.insertMany(doubles, data);
        await s.insertMany(floats, data);
      });
    }
    const found = await lite.session((s) => s.find(doubles, { columns: ["id", "embedding"] }));
    held = new Map(found.map((x) => [x.id, x.embedding!.map(Math.fround)]));
  }, { timeout: 120_000 });

  after(async () => {
    await iris?.dropAll([doubles, floats], { checkfirst: true }).catch(() => {});
    await iris?.dispose();
    await lite?.dispose();
  });

  /** Brute force on the held vectors: the top k, and a tolerance wide enough for float4 sums. */
  function brute(metric: VectorMetric, q: number[], keep: (id: number) => boolean, k: number) {
    const ranked = [...held].filter(([id]) => keep(id)).map(([id, e]) => ({ id, score: exactScore(metric, e, q) }));
    ranked.sort((a, b) => (metric === "l2" ? a.score - b.score : b.score - a.score));
    return ranked.slice(0, k + 1);
  }

  it("created VECTOR(double|float, n) columns and Cosine/DotProduct HNSW indexes; checkfirst again creates no table", async () => {
    const ddl = events.map((e) => e.sql).filter((x) => x.startsWith("CREATE "));
    assert.ok(ddl.some((x) => x.includes(`"embedding" VECTOR(double, ${IDIM})`)), ddl.join("\n"));
    assert.ok(ddl.some((x) => x.includes(`"embedding" VECTOR(float, ${IDIM})`)), ddl.join("\n"));
    assert.ok(ddl.some((x) => /AS HNSW\(M=16, efConstruction=64, Distance='Cosine'\)$/.test(x)), ddl.join("\n"));
    assert.ok(ddl.some((x) => /AS HNSW\(M=16, efConstruction=64, Distance='DotProduct'\)$/.test(x)), ddl.join("\n"));
    const from = events.length;
    await iris.createAll([doubles, floats], { checkfirst: true });
    assert.ok(events.slice(from).every((e) => !e.sql.startsWith("CREATE TABLE")), "no table created twice");
    // No catalog irisql can read through iris-pgwire: the second run probes each table (SELECT … WHERE 1 = 0),
    // creates no table, and tries each index, which is refused as existing (SQLCODE -324), and goes on.
    const indexes = events.slice(from).filter((e) => e.sql.startsWith("CREATE INDEX"));
    assert.equal(indexes.length, 2, "each HNSW index tried once");
    for (const e of indexes) {
      assert.ok(e.error instanceof QueryError && e.error.sqlcode === -324, `${e.sql}: ${e.error}`);
    }
    const rows = await iris.session((s) => s.find(doubles, { columns: ["id"] }));
    assert.equal(rows.length, IROWS, "the table kept its rows");
  });

  it("an L2 HNSW index is an UnsupportedFeatureError, and nothing is sent", async () => {
    const name = uniqueName("rvec_l2");
    const t = table(name, { id: col.integer().primaryKey(), embedding: col.vector(IDIM) }, {
      indexes: [index(name + "_l2").on("embedding").hnsw({ metric: "l2" })],
    });
    const from = events.length;
    await assert.rejects(iris.createAll([t]), (e: unknown) => {
      assert.ok(e instanceof UnsupportedFeatureError, `expected UnsupportedFeatureError, got ${e}`);
      assert.equal(
        e.message,
        `index ${name}_l2: IRIS HNSW indexes support Distance='Cosine' and 'DotProduct' only, not L2. ` +
          `Use metric "cosine" (or "dot" with normalised vectors).`,
      );
      return true;
    });
    assert.deepEqual(events.slice(from).filter((e) => e.sql.startsWith("CREATE")), [], "no table created");
    assert.equal(await iris.hasTable(name), false);
  });

  it("stores and reads back the same vectors as PGlite, as number[]", async () => {
    for (const t of [doubles, floats]) {
      const a = await iris.session((s) => s.find(t, { orderBy: { id: "asc" } }));
      const b = await lite.session((s) => s.find(t, { orderBy: { id: "asc" } }));
      assert.equal(a.length, IROWS);
      assert.deepEqual(a, b);
      assert.ok(Array.isArray(a[0].embedding) && a[0].embedding.length === IDIM);
    }
  });

  for (const element of ["double", "float"] as const) {
    for (const metric of METRICS) {
      it(`${element} elements, ${metric}: nearest() equals a brute force (and PGlite), best first, with its scores`, async () => {
        const t = element === "double" ? doubles : floats;
        const tol = metric === "l2" ? 1e-4 : 1e-5; // float4 sums; L2 from dot products cancels
        for (const [qi, q] of queries.entries()) {
          for (const where of [undefined, { bucket: 1 }]) {
            const label = `${element} ${metric} q${qi}${where ? " where" : ""}`;
            const got = await iris.session((s) => s.nearest(t, "embedding", q, { k: K, metric, where }));
            const want = brute(metric, q, (id) => !where || (id - 1) % 3 === 1, K);
            assert.equal(got.length, K, label);
            for (let i = 0; i < K; i++) {
              assert.ok(
                Math.abs(got[i].score - want[i].score) <= tol,
                `${label} #${i}: ${got[i].score} vs ${want[i].score}`,
              );
              // Rows may trade places only where the brute force itself cannot tell them apart.
              if (got[i].id !== want[i].id) {
                const twin = want.find((x) => x.id === got[i].id);
                assert.ok(
                  twin && Math.abs(twin.score - want[i].score) <= 2 * tol,
                  `${label} #${i}: id ${got[i].id}, not ${want[i].id}`,
                );
              }
            }
            if (where) assert.ok(got.every((x) => x.bucket === 1), label);
            const order = metric === "l2" ? 1 : -1;
            for (let i = 1; i < got.length; i++) {
              assert.ok(order * (got[i].score - got[i - 1].score) >= -1e-9, `${label}: best first`);
            }
            const viaLite = await lite.session((s) => s.nearest(t, "embedding", q, { k: K, metric, where }));
            assert.deepEqual(got[0].embedding, viaLite.find((x) => x.id === got[0].id)?.embedding, label);
          }
        }
      });
    }
  }

  it("the SQL sent: TOP k, lower-case double, ORDER BY the expression DESC, no pgvector syntax", async () => {
    const from = events.length;
    await iris.session((s) => s.nearest(doubles, "embedding", queries[0], { k: 3, metric: "cosine" }));
    const sent = events.slice(from).map((e) => e.sql);
    const stmt = sent.find((x) => x.includes("VECTOR_COSINE"));
    assert.ok(stmt, sent.join("\n"));
    assert.match(stmt, /^SELECT TOP 3 /);
    assert.match(stmt, /ORDER BY VECTOR_COSINE\("embedding", TO_VECTOR\(\$\d+, double\)\) DESC$/);
    assert.doesNotMatch(stmt, /<=>|<#>|<->|::|LIMIT|DOUBLE/);
  });

  it("a stored vector is its own nearest neighbour: cosine 1, l2 0", async () => {
    const target = data[17];
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
      const hand = await iris.execute<{ id: number; score: number }>(
        sql`SELECT ${sql.raw(`TOP ${K}`)} ${sql.id("id")}, ${similarity(doubles, "embedding", q, metric)} AS score
            FROM ${sql.id(doubles.name)} WHERE ${sql.id("bucket")} <> ${0}
            ORDER BY ${nearestOrder(doubles, "embedding", q, metric)}`,
      );
      const viaNearest = await iris.session((s) =>
        s.nearest(doubles, "embedding", q, { k: K, metric, where: { bucket: { ne: 0 } } })
      );
      assert.deepEqual(hand.rows.map((x) => Number(x.id)), viaNearest.map((x) => x.id), metric);
      assert.deepEqual(hand.rows.map((x) => Number(x.score)), viaNearest.map((x) => x.score), metric);
    }
  });

  it("a query vector of the wrong length is a ValidationError, and nothing is sent", async () => {
    const from = events.length;
    await assert.rejects(
      iris.session((s) => s.nearest(doubles, "embedding", [1, 2, 3])),
      (e: unknown) =>
        e instanceof ValidationError &&
        e.message === `query vector for ${doubles.name}.embedding expects ${IDIM} dimensions, got 3`,
    );
    assert.deepEqual(events.slice(from), []);
  });
});
