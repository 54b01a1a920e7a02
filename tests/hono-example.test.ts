/**
 * The Hono example (examples/hono/) over real HTTP: the server runs as its
 * own process on the runtime running this file, on a free port, against
 * embedded PGlite (with pgvector), against PostgreSQL (no pgvector there,
 * so the non-vector endpoints), against iris:// through the REAL iris-pgwire
 * 1.7.3 over its PGlite + pgvector stand-in (NOT IRIS) and through the
 * emulator. Every endpoint, success and error paths.
 */
import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { connect } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { type Engine, text } from "../mod.ts";
import { hashedNgramEmbedder } from "../examples/hono/embedding.ts";
import { SEED_DOCS } from "../examples/hono/seed.ts";
import { type ExampleServer, runExample, RUNTIME, startExample } from "./fixtures/hono-server.ts";
import { engineFor, IRIS_REAL, PG_URL, uniqueName, withQuery } from "./helpers.ts";
import { type IrisEmulator, startIrisEmulator } from "./fixtures/iris-pgwire-emulator/mod.ts";
import { type IrisPgwire, startIrisPgwire } from "./fixtures/iris-pgwire-real/mod.ts";

// deno-lint-ignore no-explicit-any
type Json = any;
interface Reply {
  status: number;
  headers: Headers;
  body: Json;
  text: string;
}

async function call(
  base: string,
  method: string,
  path: string,
  body?: unknown,
  rawBody?: string,
  headers?: Record<string, string>,
): Promise<Reply> {
  const hasBody = body !== undefined || rawBody !== undefined;
  const res = await fetch(base + path, {
    method,
    headers: headers ?? (hasBody ? { "content-type": "application/json" } : {}),
    body: rawBody ?? (body === undefined ? undefined : JSON.stringify(body)),
    signal: AbortSignal.timeout(30_000),
  });
  const text = await res.text();
  let json: Json;
  try {
    json = text ? JSON.parse(text) : undefined;
  } catch {
    json = undefined;
  }
  return { status: res.status, headers: res.headers, body: json, text };
}

/** What must never reach a client: SQL, driver detail, connection URLs, the password. */
const LEAKS =
  /INSERT INTO|SELECT .* FROM|UPDATE .* SET|DELETE FROM|SQLSTATE|duplicate key|violates|pglite:|postgres:\/\//i;

function assertError(r: Reply, status: number, code: string, message: RegExp, secret?: string): void {
  assert.equal(r.status, status, `expected ${status}, got ${r.status}: ${r.text}`);
  assert.match(r.headers.get("content-type") ?? "", /application\/json/);
  assert.equal(r.body?.error?.code, code, r.text);
  assert.match(r.body.error.message, message);
  assert.doesNotMatch(r.text, LEAKS);
  if (secret) assert.ok(!r.text.includes(secret), "the password leaked: " + r.text);
}

/**
 * A raw HTTP/1.1 request with "Expect: 100-continue", sent the way curl does it:
 * headers first; the body as soon as "100 Continue" arrives (or after 1 s
 * without an answer); a final status before that means no body is sent.
 * Returns the final status line and headers, its body, and any socket error
 * (ECONNRESET is the failure this guards against).
 */
function expectContinue(
  base: string,
  path: string,
  size: number,
  json?: string,
): Promise<{ head: string; body: string; error?: string }> {
  const url = new URL(base);
  const payload = json !== undefined ? new TextEncoder().encode(json) : new Uint8Array(size).fill(0x20);
  return new Promise((resolve) => {
    const socket = connect(Number(url.port), url.hostname);
    let raw = "";
    let sent = false;
    let settled = false;
    const done = (error?: string) => {
      if (settled) return;
      settled = true;
      clearTimeout(fallback);
      socket.destroy();
      // Skip any "100 Continue" interim response: the answer is the status after it.
      const text = raw.replace(/^HTTP\/1\.1 100 [^\r]*\r\n\r\n/, "");
      const split = text.indexOf("\r\n\r\n");
      const head = split < 0 ? text : text.slice(0, split);
      resolve({ head, body: split < 0 ? "" : text.slice(split + 4), ...(error ? { error } : {}) });
    };
    const sendBody = () => {
      if (sent) return;
      sent = true;
      socket.write(payload);
    };
    const fallback = setTimeout(sendBody, 1000);
    socket.on("connect", () => {
      socket.write(
        `POST ${path} HTTP/1.1\r\nHost: ${url.host}\r\nContent-Type: application/json\r\n` +
          `Content-Length: ${payload.length}\r\nExpect: 100-continue\r\nConnection: close\r\n\r\n`,
      );
    });
    socket.on("data", (chunk) => {
      raw += chunk.toString("latin1");
      // "100 Continue" invites the body, and a client reading the stream in order sends it at once, even when the
      // final answer is already behind it; a final answer first means: no body.
      if (!sent && /^HTTP\/1\.1 100 [^\r]*\r\n\r\n/.test(raw)) sendBody();
      else if (!sent && /^HTTP\/1\.1 [2-5]/.test(raw)) sent = true;
      // A complete answer with Content-Length: stop reading.
      const text = raw.replace(/^HTTP\/1\.1 100 [^\r]*\r\n\r\n/, "");
      const split = text.indexOf("\r\n\r\n");
      const length = /\r\ncontent-length: *(\d+)/i.exec(text.slice(0, split));
      if (split >= 0 && length && text.length - split - 4 >= Number(length[1])) done();
    });
    socket.on("error", (e) => done((e as { code?: string }).code ?? String(e)));
    socket.on("close", () => done());
    socket.setTimeout(20_000, () => done("timeout"));
  });
}

const embedder = hashedNgramEmbedder(256);
const cosine = (a: number[], b: number[]) => a.reduce((s, x, i) => s + x * b[i], 0);
const slugsOf = (items: { slug: string }[]) => items.map((d) => d.slug);

/**
 * The first results for two queries on the seed, as the server must return
 * them on every runtime (PGlite + pgvector, 256-dimension hashed n-grams).
 */
const GOLDEN = [
  {
    query: "baking bread",
    slugs: ["sourdough", "embeddings", "espresso"],
    scores: [0.264466, 0.085113, 0.044896],
  },
  {
    query: "vector search database",
    slugs: ["iris-vector-search", "pgvector", "espresso"],
    scores: [0.497921, 0.198294, 0.173954],
  },
  {
    query: "mountain weather",
    slugs: ["alpine-hiking", "pglite", "embeddings"],
    scores: [0.354527, 0.14535, 0.1378],
  },
];

interface Target {
  name: string;
  /** What /health must name: the real backend, not only the SQL dialect. */
  backend: "pglite" | "postgres" | "iris";
  dialect: "postgres" | "iris";
  vectors: boolean;
  /** The password in DATABASE_URL, which must never be shown. */
  secret?: string;
  setUp(): Promise<Record<string, string>>;
  tearDown(): Promise<void>;
}

function pgliteTarget(): Target {
  return {
    name: "pglite",
    backend: "pglite",
    dialect: "postgres",
    vectors: true,
    setUp: () => Promise.resolve({ DATABASE_URL: "pglite://memory" }),
    tearDown: () => Promise.resolve(),
  };
}

/** IRIS through the iris-pgwire emulator (a test fixture over PGlite, not a real IRIS). */
function irisEmulatorTarget(): Target {
  let emulator: IrisEmulator | undefined;
  return {
    name: "iris (emulator)",
    backend: "iris",
    dialect: "iris",
    vectors: true,
    async setUp() {
      emulator = await startIrisEmulator({ backend: "pglite://memory" });
      return { DATABASE_URL: emulator.url };
    },
    tearDown: async () => await emulator?.close(),
  };
}

/**
 * iris:// through the real iris-pgwire 1.7.3 over its PGlite + pgvector stand-in (NOT IRIS; about 15 s
 * to start). External mode commits every statement, so the example is given `?transactions=autocommit`.
 */
function irisRealTarget(): Target {
  let server: IrisPgwire | undefined;
  return {
    name: IRIS_REAL,
    backend: "iris",
    dialect: "iris",
    vectors: true,
    async setUp() {
      server = await startIrisPgwire({ backend: "pglite" });
      return { DATABASE_URL: withQuery(server.url, "transactions=autocommit") };
    },
    tearDown: async () => await server?.close(),
  };
}

/** A fresh schema per run, so parallel runs never share a `docs` table. */
function postgresTarget(): Target & { schema: string; engine(): Engine; url(extra?: Record<string, string>): string } {
  const schema = uniqueName("hono");
  let engine: Engine | undefined;
  const url = new URL(PG_URL);
  // Trust auth ignores a password; one is set so the test can show it never leaks.
  if (!url.password) url.password = "not-shown-7c1f";
  const secret = decodeURIComponent(url.password);
  url.searchParams.set("schema", schema);
  return {
    name: "postgres",
    backend: "postgres",
    dialect: "postgres",
    vectors: false,
    secret,
    schema,
    engine: () => engine!,
    url(extra = {}) {
      const u = new URL(url);
      for (const [k, v] of Object.entries(extra)) u.searchParams.set(k, v);
      return u.toString();
    },
    async setUp() {
      engine = engineFor(PG_URL);
      await engine.execute(`CREATE SCHEMA "${schema}"`);
      return { DATABASE_URL: url.toString() };
    },
    async tearDown() {
      await engine?.execute(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
      await engine?.dispose();
    },
  };
}

function endpointSuite(target: Target): void {
  describe(`Hono example on ${RUNTIME}, ${target.name}: endpoints over HTTP`, () => {
    let server: ExampleServer;
    let base = "";
    const secret = target.secret;
    const req = (method: string, path: string, body?: unknown, raw?: string, headers?: Record<string, string>) =>
      call(base, method, path, body, raw, headers);
    const allDocs = async (): Promise<Json[]> => {
      const r = await req("GET", "/docs?limit=100");
      assert.equal(r.status, 200, r.text);
      return r.body.items;
    };

    // The real iris-pgwire on PGlite takes 5-20 s to start; Bun's default hook timeout is 5 s.
    before(async () => {
      server = await startExample(await target.setUp());
      base = server.url;
    }, { timeout: 240_000 });
    after(async () => {
      await server?.stop();
      await target.tearDown();
    });

    it("prints its URL once it listens, without the database password", () => {
      assert.match(server.output(), /irisql Hono example listening on http:\/\/127\.0\.0\.1:\d+/);
      assert.match(server.output(), /Seeded 12 documents/);
      if (secret) assert.ok(!server.output().includes(secret), "the password leaked into the log");
    });

    it("builds its schema with the migrations of its dialect's folder (engine.migrate), not createAll", () => {
      const out = server.output();
      assert.match(out, /applied \d+_docs\.sql/);
      if (target.dialect === "postgres") {
        // PostgreSQL without pgvector: the embedding migration cannot run and waits (rolled back, not recorded).
        if (target.vectors) assert.match(out, /applied \d+_embedding\.sql/);
        else assert.match(out, /pgvector is not installed in this database: the embedding migration waits/);
      }
    });

    it("GET /health reports the database and whether vector search is on", async () => {
      const r = await req("GET", "/health");
      assert.equal(r.status, 200, r.text);
      assert.equal(r.body.status, "ok");
      assert.equal(r.body.backend, target.backend);
      assert.equal(r.body.dialect, target.dialect);
      assert.equal(r.body.vectorSearch, target.vectors);
      assert.equal(r.body.embedder, "hashed-ngram-256");
      assert.equal(typeof r.body.latencyMs, "number");
    });

    it("GET / serves the search page", async () => {
      const r = await req("GET", "/");
      assert.equal(r.status, 200);
      assert.match(r.headers.get("content-type") ?? "", /text\/html/);
      assert.match(r.text, /<form id="search" method="get" action="\/">/);
      assert.match(r.text, /<input id="k" type="number" name="k" min="1" max="50" value="5">/);
      assert.match(r.text, /<form id="add">/);
      assert.match(r.text, /<ol id="results"><\/ol>/);
    });

    it("GET /?q=…&k=…&metric=… is a linkable search: the results are in the page the server sends", async () => {
      if (!target.vectors) {
        const r = await req("GET", "/?q=baking+bread");
        assert.equal(r.status, 501);
        assert.match(r.text, /<div id="status" role="status" class="error">This database has no vector support/);
        return;
      }
      for (const golden of GOLDEN) {
        const r = await req("GET", `/?q=${encodeURIComponent(golden.query)}&k=3&metric=cosine`);
        assert.equal(r.status, 200, r.text);
        assert.match(r.headers.get("content-type") ?? "", /text\/html/);
        assert.match(r.text, /<div id="status" role="status">3 results, best first \(cosine\)<\/div>/);
        const hrefs = [...r.text.matchAll(/<a class="title" href="\/docs\/(\d+)">/g)].map((m) => Number(m[1]));
        const slugs = await Promise.all(hrefs.map(async (id) => (await req("GET", `/docs/${id}`)).body.slug));
        assert.deepEqual(slugs, golden.slugs, golden.query);
        const scores = [...r.text.matchAll(/<span class="score">score (-?[\d.]+)<\/span>/g)].map((m) => Number(m[1]));
        scores.forEach((score, i) =>
          assert.ok(Math.abs(score - golden.scores[i]!) < 1e-4, `${golden.query}: ${score}`)
        );
        // The form shows the search it answered, so it can be changed and sent again.
        assert.ok(r.text.includes(`name="q" value="${golden.query}"`), "the query is not in the form");
        assert.match(r.text, /<option value="cosine" selected>/);
      }
      const l2 = await req("GET", "/?q=mountain+weather&k=2&metric=l2");
      assert.match(l2.text, /2 results, best first \(l2\)/);
      assert.equal([...l2.text.matchAll(/<span class="score">distance [\d.]+<\/span>/g)].length, 2);
      assert.match(l2.text, /name="k" min="1" max="50" value="2"/);
      assert.match(l2.text, /<option value="l2" selected>/);
      // Default k and metric; HTML in the query is escaped, never markup.
      const plain = await req("GET", "/?q=%3Cscript%3Ealert(1)%3C%2Fscript%3E");
      assert.equal(plain.status, 200);
      assert.match(plain.text, /5 results, best first \(cosine\)/);
      assert.ok(!plain.text.includes("<script>alert(1)"), "the query was not escaped");
      assert.ok(plain.text.includes("&lt;script&gt;alert(1)&lt;/script&gt;"));
      for (const [q, message] of [["k=0", /k: a whole number from 1 to 50/], ["metric=manhattan", /metric: one of/]]) {
        const bad = await req("GET", `/?q=bread&${q}`);
        assert.equal(bad.status, 400, bad.text);
        assert.match(bad.text, message as RegExp);
      }
    });

    it("starts with the seed documents, listed in id order, without embeddings", async () => {
      const r = await req("GET", "/docs?limit=100");
      assert.equal(r.status, 200, r.text);
      assert.deepEqual(slugsOf(r.body.items), SEED_DOCS.map((d) => d.slug));
      const ids = r.body.items.map((d: Json) => d.id);
      assert.deepEqual(ids, [...ids].sort((a, b) => a - b));
      assert.deepEqual(Object.keys(r.body.items[0]).sort(), ["body", "createdAt", "id", "slug", "title", "updatedAt"]);
      assert.equal(r.body.items[0].title, SEED_DOCS[0].title);
      assert.equal(r.body.nextOffset, null);
    });

    if (target.vectors) {
      it("POST /search returns results best first, the same on every runtime", async () => {
        for (const golden of GOLDEN) {
          const r = await req("POST", "/search", { query: golden.query, k: 3 });
          assert.equal(r.status, 200, r.text);
          assert.equal(r.body.metric, "cosine");
          assert.equal(r.body.k, 3);
          assert.deepEqual(slugsOf(r.body.results), golden.slugs, golden.query);
          r.body.results.forEach((hit: Json, i: number) => {
            assert.ok(Math.abs(hit.score - golden.scores[i]) < 1e-5, `${golden.query}: score ${hit.score}`);
            assert.deepEqual(Object.keys(hit).sort(), ["id", "score", "slug", "snippet", "title"]);
          });
        }
      });

      it("POST /search scores are the cosine similarities of the embeddings, highest first", async () => {
        const docs = await allDocs();
        const query = "a fast runtime for TypeScript servers";
        const q = (await embedder.embed([query]))[0];
        const vectors = await embedder.embed(docs.map((d) => `${d.title}\n${d.body}`));
        const expected = docs.map((d, i) => ({ slug: d.slug, score: cosine(q, vectors[i]) }))
          .sort((a, b) => b.score - a.score);
        const r = await req("POST", "/search", { query, k: docs.length });
        assert.equal(r.status, 200, r.text);
        assert.deepEqual(slugsOf(r.body.results), slugsOf(expected));
        r.body.results.forEach((hit: Json, i: number) => assert.ok(Math.abs(hit.score - expected[i].score) < 1e-5));
        const scores = r.body.results.map((h: Json) => h.score);
        assert.deepEqual(scores, [...scores].sort((a, b) => b - a));
      });

      it("POST /search with metric dot ranks like cosine (unit vectors); l2 is a distance, lowest first", async () => {
        const cos = await req("POST", "/search", { query: "coffee beans", k: 5 });
        const dot = await req("POST", "/search", { query: "coffee beans", k: 5, metric: "dot" });
        const l2 = await req("POST", "/search", { query: "coffee beans", k: 5, metric: "l2" });
        for (const r of [cos, dot, l2]) assert.equal(r.status, 200, r.text);
        assert.equal(cos.body.results[0].slug, "espresso");
        assert.deepEqual(slugsOf(dot.body.results), slugsOf(cos.body.results));
        assert.deepEqual(slugsOf(l2.body.results), slugsOf(cos.body.results));
        dot.body.results.forEach((h: Json, i: number) =>
          assert.ok(Math.abs(h.score - cos.body.results[i].score) < 1e-5)
        );
        const distances = l2.body.results.map((h: Json) => h.score);
        assert.deepEqual(distances, [...distances].sort((a, b) => a - b));
        // |a - b| = sqrt(2 - 2 cos) for unit vectors
        l2.body.results.forEach((h: Json, i: number) =>
          assert.ok(Math.abs(h.score - Math.sqrt(2 - 2 * cos.body.results[i].score)) < 1e-4)
        );
      });

      it("POST /search takes a vector instead of a query", async () => {
        const [vector] = await embedder.embed(["baking bread"]);
        const r = await req("POST", "/search", { vector, k: 3 });
        assert.equal(r.status, 200, r.text);
        assert.deepEqual(slugsOf(r.body.results), GOLDEN[0].slugs);
      });

      it("POST /search rejects bad input with a 400", async () => {
        const bad: [unknown, RegExp][] = [
          [{}, /exactly one of query \(text\) or vector/],
          [{ query: "x", vector: [1] }, /exactly one of query/],
          [{ query: "   " }, /^query: must not be empty$/],
          [{ query: 42 }, /^query: must be a string$/],
          [{ vector: [1, 2, 3] }, /^vector: an array of exactly 256 numbers$/],
          [{ vector: "[1,2]" }, /^vector: an array of exactly 256 numbers$/],
          [{ vector: Array(256).fill("1") }, /^vector: every element must be a finite number$/],
          [{ vector: Array(256).fill(0) }, /^vector: cosine needs a vector that is not all zeros$/],
          [{ query: "x", k: 0 }, /^k: a whole number from 1 to 50$/],
          [{ query: "x", k: 51 }, /^k: a whole number from 1 to 50$/],
          [{ query: "x", k: 1.5 }, /^k: a whole number from 1 to 50$/],
          [{ query: "x", metric: "manhattan" }, /^metric: one of cosine, dot, l2$/],
          [{ query: "x", limit: 3 }, /^Unknown field "limit"; allowed: query, vector, k, metric$/],
        ];
        for (const [body, message] of bad) {
          assertError(await req("POST", "/search", body), 400, "bad_request", message);
        }
      });
    } else {
      it("POST /search answers 501 when the database has no vector support", async () => {
        const r = await req("POST", "/search", { query: "baking bread" });
        assertError(r, 501, "search_unavailable", /no vector support \(PostgreSQL needs pgvector\)/, secret);
      });
    }

    it("GET /docs pages with limit and offset", async () => {
      const all = await allDocs();
      const first = await req("GET", "/docs?limit=5");
      assert.deepEqual(first.body.items, all.slice(0, 5));
      assert.equal(first.body.limit, 5);
      assert.equal(first.body.offset, 0);
      assert.equal(first.body.nextOffset, 5);
      const last = await req("GET", `/docs?limit=5&offset=${all.length - 2}`);
      if (target.dialect === "iris") {
        // irisql refuses an OFFSET on IRIS (iris-pgwire drops it and would return the first rows): a 501, not wrong rows.
        assertError(last, 501, "unsupported", /^This database cannot do that$/);
      } else {
        assert.deepEqual(last.body.items, all.slice(-2));
        assert.equal(last.body.nextOffset, null);
      }
      const byDefault = await req("GET", "/docs");
      assert.equal(byDefault.body.limit, 20);
      assert.deepEqual(byDefault.body.items, all.slice(0, 20));
    });

    it("GET /docs rejects bad paging with a 400", async () => {
      for (const q of ["limit=0", "limit=101", "limit=abc", "limit=-1"]) {
        assertError(await req("GET", `/docs?${q}`), 400, "bad_request", /^limit: a whole number from 1 to 100$/);
      }
      assertError(await req("GET", "/docs?offset=-3"), 400, "bad_request", /^offset: a whole number from 0 to/);
    });

    it("POST /docs stores a document (slug made from the title) and GET /docs/:id returns it", async () => {
      const r = await req("POST", "/docs", { title: "  Notes on Ünïcode & Slugs ", body: "Body text." });
      assert.equal(r.status, 201, r.text);
      assert.equal(r.headers.get("location"), `/docs/${r.body.id}`);
      assert.equal(r.body.title, "Notes on Ünïcode & Slugs");
      assert.equal(r.body.slug, "notes-on-unicode-slugs");
      assert.equal(r.body.body, "Body text.");
      assert.equal(r.body.updatedAt, null);
      assert.ok(Math.abs(Date.parse(r.body.createdAt) - Date.now()) < 60_000, r.body.createdAt);
      assert.ok(!("embedding" in r.body));
      const got = await req("GET", `/docs/${r.body.id}`);
      assert.equal(got.status, 200);
      assert.deepEqual(got.body, r.body);

      const own = await req("POST", "/docs", { title: "Custom", slug: "my-own-slug" });
      assert.equal(own.status, 201, own.text);
      assert.equal(own.body.slug, "my-own-slug");
      assert.equal(own.body.body, "");
    });

    it("POST /docs rejects bad input with a 400 that names the field", async () => {
      assertError(
        await req("POST", "/docs", undefined, "{not json"),
        400,
        "bad_request",
        /^Malformed JSON in request body$/,
      );
      assertError(await req("POST", "/docs", [1]), 400, "bad_request", /^The body must be a JSON object$/);
      const bad: [unknown, RegExp][] = [
        [{ body: "no title" }, /^title: required$/],
        [{ title: "  " }, /^title: must not be empty$/],
        [{ title: 7 }, /^title: must be a string$/],
        [{ title: "x".repeat(201) }, /^title: at most 200 characters$/],
        [{ title: "ok", body: 1 }, /^body: must be a string$/],
        [{ titel: "typo" }, /^Unknown field "titel"; allowed: slug, title, body$/],
        [{ title: "ok", slug: "Has Spaces" }, /^slug: lower-case letters and digits joined by single dashes$/],
        [{ title: "!!!" }, /^slug: cannot be made from the title; pass one$/],
      ];
      for (const [body, message] of bad) assertError(await req("POST", "/docs", body), 400, "bad_request", message);
    });

    it("POST /docs with a slug that is taken is a 409 that shows no SQL", async () => {
      const r = await req("POST", "/docs", { title: "Another PGlite page", slug: "pglite" });
      assertError(r, 409, "conflict", /^A document with this slug already exists$/, secret);
    });

    it("GET /docs/:id is 404 for a missing id and 400 for a malformed one", async () => {
      assertError(await req("GET", "/docs/999999"), 404, "not_found", /^No document with id 999999$/);
      for (const id of ["abc", "0", "-1", "1.5", "99999999999999999999"]) {
        assertError(await req("GET", `/docs/${id}`), 400, "bad_request", /^id: must be a positive whole number$/);
      }
    });

    it("PATCH /docs/:id changes only the given fields and stamps updatedAt", async () => {
      const created = (await req("POST", "/docs", { title: "Patch me", body: "old body" })).body;
      const r = await req("PATCH", `/docs/${created.id}`, { body: "new body" });
      assert.equal(r.status, 200, r.text);
      assert.equal(r.body.title, "Patch me");
      assert.equal(r.body.slug, "patch-me");
      assert.equal(r.body.body, "new body");
      assert.equal(r.body.createdAt, created.createdAt);
      assert.ok(Date.parse(r.body.updatedAt) >= Date.parse(created.createdAt), r.body.updatedAt);
      assert.deepEqual((await req("GET", `/docs/${created.id}`)).body, r.body);
      const renamed = await req("PATCH", `/docs/${created.id}`, { title: "Patched", slug: "patched" });
      assert.equal(renamed.body.title, "Patched");
      assert.equal(renamed.body.slug, "patched");
    });

    it("PATCH /docs/:id: 404 when absent, 400 for nothing or unknown fields, 409 for a taken slug", async () => {
      assertError(await req("PATCH", "/docs/999999", { title: "x" }), 404, "not_found", /^No document with id 999999$/);
      const doc = (await req("POST", "/docs", { title: "Patch errors" })).body;
      const path = `/docs/${doc.id}`;
      assertError(await req("PATCH", path, {}), 400, "bad_request", /^Nothing to change: send title, slug or body$/);
      assertError(await req("PATCH", path, { id: 5 }), 400, "bad_request", /^Unknown field "id"/);
      assertError(await req("PATCH", path, { title: "" }), 400, "bad_request", /^title: must not be empty$/);
      assertError(await req("PATCH", path, { slug: "hono" }), 409, "conflict", /already exists/, secret);
      assert.deepEqual((await req("GET", path)).body, doc, "a failed PATCH changes nothing");
    });

    it("DELETE /docs/:id removes the document; deleting again is 404", async () => {
      const doc = (await req("POST", "/docs", { title: "Delete me" })).body;
      const r = await req("DELETE", `/docs/${doc.id}`);
      assert.equal(r.status, 204);
      assert.equal(r.text, "");
      assertError(await req("GET", `/docs/${doc.id}`), 404, "not_found", /^No document with id/);
      assertError(
        await req("DELETE", `/docs/${doc.id}`),
        404,
        "not_found",
        new RegExp(`^No document with id ${doc.id}$`),
      );
    });

    it("POST /docs/bulk stores every document of the batch", async () => {
      const docs = [
        { title: "Bulk one", body: "first" },
        { title: "Bulk two", slug: "bulk-second" },
        { title: "Bulk three", body: "third" },
      ];
      const r = await req("POST", "/docs/bulk", { docs });
      assert.equal(r.status, 201, r.text);
      assert.deepEqual(r.body, { count: 3 });
      const stored = (await allDocs()).filter((d) => d.title.startsWith("Bulk "));
      assert.deepEqual(slugsOf(stored), ["bulk-one", "bulk-second", "bulk-three"]);
      assert.deepEqual(stored.map((d) => d.body), ["first", "", "third"]);
    });

    it("POST /docs/bulk is all or nothing: one taken slug stores none of the batch", async () => {
      const before = await allDocs();
      const clash = await req("POST", "/docs/bulk", {
        docs: [{ title: "Fresh A" }, { title: "Clash", slug: "pglite" }, { title: "Fresh B" }],
      });
      assertError(clash, 409, "conflict", /already exists/, secret);
      const twice = await req("POST", "/docs/bulk", {
        docs: [{ title: "Twice" }, { title: "Fresh C", slug: "twice" }],
      });
      assertError(twice, 409, "conflict", /already exists/, secret);
      const after = await allDocs();
      if (target.name === IRIS_REAL) {
        // transactions: "autocommit" (external mode commits every statement): insertMany writes row by row and
        // the rows before the failing one stay. The 409 is the same.
        assert.deepEqual(slugsOf(after), [...slugsOf(before), "fresh-a", "twice"]);
        for (const slug of ["fresh-a", "twice"]) {
          const id = after.find((d) => d.slug === slug).id;
          assert.equal((await req("DELETE", `/docs/${id}`)).status, 204);
        }
      } else assert.deepEqual(after, before);
    });

    it("POST /docs/bulk checks every item before storing any", async () => {
      const before = await allDocs();
      const r = await req("POST", "/docs/bulk", { docs: [{ title: "Valid" }, { body: "no title" }] });
      assertError(r, 400, "bad_request", /^docs\[1\]\.title: required$/);
      assertError(
        await req("POST", "/docs/bulk", { docs: [{ title: "ok" }, "text"] }),
        400,
        "bad_request",
        /^docs\[1\] must be a JSON object$/,
      );
      assertError(await req("POST", "/docs/bulk", { docs: [] }), 400, "bad_request", /^docs: 1 to 1000 documents$/);
      const tooMany = Array.from({ length: 1001 }, (_, i) => ({ title: `t${i}` }));
      assertError(
        await req("POST", "/docs/bulk", { docs: tooMany }),
        400,
        "bad_request",
        /^docs: 1 to 1000 documents$/,
      );
      assertError(await req("POST", "/docs/bulk", { doc: [] }), 400, "bad_request", /^Unknown field "doc"/);
      assert.deepEqual(await allDocs(), before);
    });

    it("failed requests give their connection back: later requests are answered at once", async () => {
      const failing = Array.from({ length: 8 }, () => req("POST", "/docs", { title: "x", slug: "pglite" }));
      for (const r of await Promise.all(failing)) assert.equal(r.status, 409);
      const started = performance.now();
      const [health, doc, created] = await Promise.all([
        req("GET", "/health"),
        req("GET", "/docs/1"),
        req("POST", "/docs", { title: "After the failures" }),
      ]);
      assert.deepEqual([health.status, doc.status, created.status], [200, 200, 201]);
      assert.ok(performance.now() - started < 10_000);
    });

    it("bodies over 1 MiB are refused with 413", async () => {
      const r = await req("POST", "/docs", { title: "big", body: "x".repeat(1024 * 1024 + 10) });
      assertError(r, 413, "payload_too_large", /^The body is larger than 1048576 bytes$/);
    });

    it("unknown routes are a JSON 404", async () => {
      assertError(await req("GET", "/nothing/here"), 404, "not_found", /^No route for GET \/nothing\/here$/);
      assertError(await req("PUT", "/nothing", { title: "x" }), 404, "not_found", /^No route for PUT \/nothing$/);
    });

    it("an unknown method on a known route is a JSON 405 with an Allow header", async () => {
      const cases: [string, string, string][] = [
        ["PUT", "/docs/1", "GET, HEAD, PATCH, DELETE"],
        ["POST", "/docs/1", "GET, HEAD, PATCH, DELETE"],
        ["DELETE", "/docs", "GET, HEAD, POST"],
        ["GET", "/docs/bulk", "POST"],
        ["GET", "/search", "POST"],
        ["PATCH", "/search", "POST"],
        ["POST", "/health", "GET, HEAD"],
        ["DELETE", "/", "GET, HEAD"],
      ];
      for (const [method, path, allow] of cases) {
        const body = method === "GET" || method === "DELETE" ? undefined : { title: "x" };
        const r = await req(method, path, body);
        assertError(
          r,
          405,
          "method_not_allowed",
          new RegExp(`^${method} is not allowed on ${path}`),
        );
        assert.equal(r.headers.get("allow"), allow, `${method} ${path}`);
      }
      // HEAD is answered wherever GET is.
      assert.equal((await req("HEAD", "/health")).status, 200);
    });

    it("a body that is not JSON is a 415, whatever it holds", async () => {
      const cases: [string, string, Record<string, string>][] = [
        ["POST", "/docs", {}],
        ["POST", "/docs", { "content-type": "text/plain" }],
        ["POST", "/docs", { "content-type": "application/x-www-form-urlencoded" }],
        ["POST", "/docs/bulk", { "content-type": "multipart/form-data; boundary=x" }],
        ["PATCH", "/docs/1", { "content-type": "text/json" }],
        ["POST", "/search", { "content-type": "application/jsonx" }],
      ];
      for (const [method, path, headers] of cases) {
        const r = await req(method, path, undefined, '{"title":"x","query":"x"}', headers);
        assertError(r, 415, "unsupported_media_type", /^The body must be JSON \(content-type: application\/json\)$/);
      }
      // JSON with parameters, or a +json type, is JSON.
      const ok = await req("POST", "/docs", undefined, '{"title":"Charset JSON"}', {
        "content-type": "application/json; charset=utf-8",
      });
      assert.equal(ok.status, 201, ok.text);
      const vnd = await req("POST", "/docs", undefined, '{"title":"Vendor JSON"}', {
        "content-type": "application/vnd.api+json",
      });
      assert.equal(vnd.status, 201, vnd.text);
    });

    it("an oversized body announced with Expect: 100-continue gets a 413, never a reset", async () => {
      // 20 tries: on Node the reset came only sometimes.
      for (let i = 0; i < 20; i++) {
        const r = await expectContinue(base, "/docs", 2 * 1024 * 1024);
        assert.equal(r.error, undefined, `try ${i}: ${r.error} after ${JSON.stringify(r.head)}`);
        assert.match(r.head, /^HTTP\/1\.1 413 /, `try ${i}: ${r.head}`);
        assert.match(r.body, /"code":"payload_too_large"/);
      }
      // A body within the limit still goes through after 100 Continue.
      const small = await expectContinue(base, "/docs", 0, '{"title":"After 100 Continue"}');
      assert.equal(small.error, undefined, `${small.error}`);
      assert.match(small.head, /^HTTP\/1\.1 201 /, small.head);
    });

    it("stops cleanly on SIGTERM", async () => {
      await server.stop();
      assert.match(server.output(), /^Stopped\.$/m);
      if (secret) assert.ok(!server.output().includes(secret), "the password leaked into the log");
    });
  });
}

endpointSuite(pgliteTarget());
endpointSuite(postgresTarget());
endpointSuite(irisRealTarget());
endpointSuite(irisEmulatorTarget());

describe(`Hono example on ${RUNTIME}, postgres: a busy pool`, () => {
  const target = postgresTarget();
  let server: ExampleServer;

  before(async () => {
    await target.setUp();
    // One connection, and a short wait for it.
    server = await startExample({ DATABASE_URL: target.url({ max: "1", acquireTimeout: "300" }) });
  });
  after(async () => {
    await server?.stop();
    await target.tearDown();
  });

  it("answers 503 with a JSON error when no connection frees up in time", async () => {
    const engine = target.engine();
    const table = `"${target.schema}"."docs"`;
    let blocked: Promise<Reply> | undefined;
    await engine.begin(async (tx) => {
      // Hold the table: the next INSERT waits for it, keeping the server's only connection.
      await tx.execute(`LOCK TABLE ${table} IN ACCESS EXCLUSIVE MODE`);
      blocked = call(server.url, "POST", "/docs", { title: "Waits for the lock" });
      const waiting = async () =>
        (await engine.execute(
          text("SELECT count(*)::int AS n FROM pg_stat_activity WHERE wait_event_type = 'Lock' AND query LIKE :q"),
          { q: `INSERT INTO ${table}%` },
        )).scalar();
      const deadline = Date.now() + 20_000;
      while ((await waiting()) === 0) {
        assert.ok(Date.now() < deadline, "the INSERT never started waiting for the lock");
        await new Promise((r) => setTimeout(r, 50));
      }
      const r = await call(server.url, "GET", "/docs/1");
      assertError(r, 503, "busy", /^The database is busy; try again shortly$/, target.secret);
    });
    // The lock is gone: the waiting INSERT finishes, and the pool serves again.
    const done = await blocked!;
    assert.equal(done.status, 201, done.text);
    assert.equal((await call(server.url, "GET", "/docs/1")).status, 200);
  });
});

describe(`Hono example on ${RUNTIME}: a PGlite data folder across restarts`, () => {
  const dir = mkdtempSync(join(tmpdir(), "irisql-hono-"));
  const dataDir = join(dir, "db");
  const env = { DATABASE_URL: `pglite://${dataDir}` };
  let server: ExampleServer | undefined;

  after(async () => {
    await server?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  // Three server starts, the first creating a database on disk: slower than most tests.
  it("seeds once, keeps documents, and refuses a second server on the same folder", { timeout: 120_000 }, async () => {
    server = await startExample(env);
    assert.match(server.output(), /Seeded 12 documents/);
    const added = await call(server.url, "POST", "/docs", { title: "Survives a restart" });
    assert.equal(added.status, 201, added.text);
    assert.ok(existsSync(`${dataDir}.lock`));

    const second = runExample(env);
    assert.equal(await second.exit, 1, second.output());
    assert.match(
      second.output(),
      new RegExp(`Could not start: The data folder .*db is locked by process ${server.pid}`),
    );

    await server.stop();
    assert.match(server.output(), /^Stopped\.$/m);
    assert.ok(!existsSync(`${dataDir}.lock`), "the lock file is removed on a clean stop");

    server = await startExample(env);
    assert.doesNotMatch(server.output(), /Seeded/);
    assert.match(server.output(), /nothing to apply/, "the migrations ran once, on the first start");
    const list = await call(server.url, "GET", "/docs?limit=100");
    assert.deepEqual(slugsOf(list.body.items), [...SEED_DOCS.map((d) => d.slug), "survives-a-restart"]);
    const search = await call(server.url, "POST", "/search", { query: "survives restart", k: 1 });
    assert.equal(search.body.results[0].slug, "survives-a-restart");
  });
});
