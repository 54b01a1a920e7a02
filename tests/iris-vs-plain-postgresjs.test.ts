/**
 * Why irisql has an IRIS profile: a plain postgres.js client with its default
 * options, writing the SQL a PostgreSQL user would write, fails against
 * iris-pgwire where irisql succeeds on the same data. Run against the
 * iris-pgwire EMULATOR (tests/fixtures/iris-pgwire-emulator; NOT IRIS), which
 * reproduces what iris-pgwire is documented to do: it has no pg_type catalog, so
 * postgres.js's type fetch on connect fails; it rewrites ORDER BY <alias> by text,
 * mangling an aliased expression with commas; it drops the OFFSET of a literal
 * LIMIT n OFFSET m; it does not take upper-case DOUBLE in TO_VECTOR; and IRIS has
 * neither multi-row VALUES nor pgvector operators.
 *
 * The plain client runs in a child Node process: postgres.js leaves its failed
 * type fetch as an unhandled rejection, which would crash the test runner.
 */
import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { fileURLToPath } from "node:url";
import { col, createEngine, type Engine, table, UnsupportedFeatureError } from "../mod.ts";
import { type IrisEmulator, startIrisEmulator } from "./fixtures/iris-pgwire-emulator/mod.ts";
import { uniqueName } from "./helpers.ts";

const ROOT = fileURLToPath(new URL("..", import.meta.url));

type Outcome = { ok: true; rows: Record<string, unknown>[] } | { ok: false; code: string; message: string };

/**
 * What a default `postgres(url)` client gets for each statement, in order, on
 * one connection. The statements are what a PostgreSQL user writes.
 */
const PLAIN_CLIENT = `
  import postgres from "postgres";
  process.on("unhandledRejection", () => {});
  const [url, name, query, newRows] = process.argv.slice(1);
  const sql = postgres(url, { max: 1, connect_timeout: 10 });
  const out = {};
  async function attempt(label, run) {
    try {
      const rows = await run();
      out[label] = { ok: true, rows: rows.map((r) => ({ ...r })) };
    } catch (e) {
      out[label] = { ok: false, code: e.code, message: e.message };
    }
  }
  const t = sql(name);
  await attempt("first", () => sql\`SELECT 1 AS x\`);
  await attempt("alias", () =>
    sql\`SELECT id, title, VECTOR_COSINE(embedding, TO_VECTOR(\${query}, double)) AS score
        FROM \${t} ORDER BY score DESC LIMIT 3\`);
  await attempt("multirow", () => sql\`INSERT INTO \${t} \${sql(JSON.parse(newRows), "id", "title", "embedding")}\`);
  await attempt("offset", () => sql\`SELECT id FROM \${t} ORDER BY id LIMIT 2 OFFSET 2\`);
  await attempt("upperDouble", () =>
    sql\`SELECT TOP 3 id FROM \${t} ORDER BY VECTOR_COSINE(embedding, TO_VECTOR(\${query}, DOUBLE)) DESC\`);
  await attempt("pgvector", () => sql\`SELECT id FROM \${t} ORDER BY embedding <=> \${query}::vector LIMIT 3\`);
  console.log(JSON.stringify(out));
  await sql.end({ timeout: 0 });
`;

function runPlainClient(args: string[]): Promise<Record<string, Outcome>> {
  return new Promise((resolve, reject) => {
    const child = spawn("node", ["--input-type=module", "-e", PLAIN_CLIENT, ...args], {
      cwd: ROOT,
      stdio: ["ignore", "pipe", "pipe"],
    });
    let stdout = "";
    let stderr = "";
    child.stdout!.on("data", (d) => (stdout += d));
    child.stderr!.on("data", (d) => (stderr += d));
    child.once("error", reject);
    child.once("exit", (code) => {
      try {
        resolve(JSON.parse(stdout.trim().split("\n").pop() ?? ""));
      } catch {
        reject(new Error(`plain postgres.js client exited ${code}: ${stdout}\n${stderr}`));
      }
    });
  });
}

function failed(o: Outcome | undefined): { code: string; message: string } {
  assert.ok(o && !o.ok, `expected a failure, got ${JSON.stringify(o)}`);
  return o;
}

const cosine = (a: number[], b: number[]) => {
  let ab = 0, aa = 0, bb = 0;
  for (let i = 0; i < a.length; i++) [ab, aa, bb] = [ab + a[i] * b[i], aa + a[i] * a[i], bb + b[i] * b[i]];
  return ab / Math.sqrt(aa * bb);
};

describe("a plain postgres.js client vs irisql on iris:// (iris-pgwire emulator, not IRIS)", () => {
  let emu: IrisEmulator;
  let engine: Engine;
  let plain: Record<string, Outcome>;
  const docs = table(uniqueName("iris_plain"), {
    id: col.integer().primaryKey(),
    title: col.varchar(40).notNull(),
    embedding: col.vector(3),
  });
  const stored = [
    { id: 1, title: "x axis", embedding: [1, 0, 0] },
    { id: 2, title: "y axis", embedding: [0, 1, 0] },
    { id: 3, title: "xy", embedding: [0.7, 0.7, 0] },
    { id: 4, title: "z axis", embedding: [0, 0, 1] },
  ];
  const more = [
    { id: 5, title: "xz", embedding: [0.6, 0, 0.8] },
    { id: 6, title: "yz", embedding: [0, 0.8, 0.6] },
    { id: 7, title: "all", embedding: [0.5, 0.5, 0.5] },
  ];
  const query = [0.9, 0.2, 0.1];

  before(async () => {
    emu = await startIrisEmulator();
    engine = createEngine(emu.url);
    await engine.createAll([docs]);
    await engine.session((s) => s.insertMany(docs, stored));
    const asPlainRows = more.map((r) => ({ ...r, embedding: JSON.stringify(r.embedding) }));
    plain = await runPlainClient([emu.url, docs.name, JSON.stringify(query), JSON.stringify(asPlainRows)]);
  });

  after(async () => {
    await engine?.dispose();
    await emu?.close();
  });

  it("type fetch on connect: the default client's first query fails; irisql's first query works", async () => {
    const first = failed(plain.first);
    assert.equal(first.code, "42000");
    assert.equal(first.message, "[SQLCODE: <-30>:<Table or view not found>] Table 'PG_CATALOG.PG_TYPE' not found");
    const fresh = createEngine(emu.url);
    try {
      assert.deepEqual((await fresh.execute("SELECT 1 AS x")).rows, [{ x: 1 }]);
    } finally {
      await fresh.dispose();
    }
  });

  it("ORDER BY an alias of an expression with commas is mangled; irisql's nearest() orders by the expression", async () => {
    const alias = failed(plain.alias);
    assert.equal(alias.code, "42000");
    assert.match(alias.message, /^\[SQLCODE: <-1>:<Invalid SQL statement>\] ORDER BY double\)\) DESC/);
    const expected = stored.map((r) => ({ id: r.id, score: cosine(r.embedding, query) }))
      .sort((a, b) => b.score - a.score).slice(0, 3);
    const got = await engine.session((s) => s.nearest(docs, "embedding", query, { k: 3, metric: "cosine" }));
    assert.deepEqual(got.map((r) => r.id), expected.map((r) => r.id));
    got.forEach((r, i) =>
      assert.ok(Math.abs(r.score - expected[i].score) < 1e-6, `${r.score} vs ${expected[i].score}`)
    );
  });

  it("multi-row INSERT is refused and inserts nothing; irisql's insertMany inserts the same rows", async () => {
    const multi = failed(plain.multirow);
    assert.equal(multi.code, "42000");
    assert.match(multi.message, /^\[SQLCODE: <-25>:<Input encountered after end of query>\] ',' after VALUES/);
    assert.deepEqual(await engine.session((s) => s.find(docs, { where: { id: { gte: 5 } } })), []);
    assert.deepEqual(await engine.session((s) => s.insertMany(docs, more)), { count: 3 });
    const back = await engine.session((s) => s.find(docs, { where: { id: { gte: 5 } }, orderBy: { id: "asc" } }));
    assert.deepEqual(back, more);
  });

  it("a literal LIMIT 2 OFFSET 2 silently loses its OFFSET; irisql refuses an offset and pages by key", async () => {
    assert.deepEqual(plain.offset, { ok: true, rows: [{ id: 1 }, { id: 2 }] }, "the wrong rows, and no error");
    await assert.rejects(
      engine.session((s) => s.find(docs, { orderBy: { id: "asc" }, limit: 2, offset: 2 })),
      (e: unknown) => e instanceof UnsupportedFeatureError && /offset/i.test((e as Error).message),
    );
    const page = await engine.session((s) =>
      s.find(docs, { where: { id: { gt: 2 } }, orderBy: { id: "asc" }, limit: 2 })
    );
    assert.deepEqual(page.map((r) => r.id), [3, 4]);
  });

  it("upper-case DOUBLE in TO_VECTOR and pgvector operators are refused; irisql spells IRIS SQL", async () => {
    const upper = failed(plain.upperDouble);
    assert.match(upper.message, /^\[SQLCODE: <-1>:<Invalid SQL statement>\] PRECISION not recognized as keyword/);
    const pgvector = failed(plain.pgvector);
    assert.match(pgvector.message, /^\[SQLCODE: <-1>:<Invalid SQL statement>\] operator <=> is pgvector syntax/);
    const top = await engine.session((s) => s.nearest(docs, "embedding", query, { k: 1, metric: "dot" }));
    assert.equal(top[0].id, 1);
  });
});
