/**
 * Bad input: the text() parameter parser under fuzzing (quotes, comments, casts,
 * dollar quotes, unicode), names that try injection, values that try injection,
 * malformed URLs and options. (Oversized vectors and strings: 07-pglite.test.ts.)
 */
import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import {
  col,
  ConfigError,
  createEngine,
  type Engine,
  QueryError,
  sql,
  table,
  text,
  ValidationError,
} from "../../mod.ts";
import { OptionFuzzer, type OptionTarget, showOptions, SqlFuzzer } from "./sql-fuzz.ts";
import { postgresDialect } from "../../src/dialects/postgres/postgres-dialect.ts";
import { irisDialect } from "../../src/dialects/iris/iris-dialect.ts";
import { nearestStatement } from "../../src/statements/nearest.ts";
import {
  ensureRole,
  flushEvidence,
  log,
  PASSWORD,
  PG_URL,
  SECRET_FORMS,
  seenError,
  SOAK,
  uniqueName,
  watchedEngine,
} from "./support.ts";

const SCALE = SOAK ? 10 : 1;
const SEED = 20_240_601;

function caught(fn: () => unknown): Error {
  try {
    fn();
  } catch (error) {
    return seenError(error) as Error;
  }
  throw new assert.AssertionError({ message: "expected an error" });
}

async function rejected(p: Promise<unknown>): Promise<Error> {
  try {
    await p;
  } catch (error) {
    return seenError(error) as Error;
  }
  throw new assert.AssertionError({ message: "expected a rejection" });
}

describe("reliability: the text() parameter parser under fuzzing", () => {
  let engine: Engine;

  before(async () => {
    await ensureRole();
    engine = watchedEngine(PG_URL, { pool: { max: 4 } });
  });

  after(async () => {
    await engine.dispose();
    flushEvidence("06-input-fuzz");
  });

  it(`finds exactly the real parameters in ${12_000 * SCALE} generated statements, none inside a literal`, () => {
    const fuzz = new SqlFuzzer(SEED);
    let checked = 0;
    let slowest = 0;
    for (let i = 0; i < 10_000 * SCALE; i++) {
      const g = i % 5 === 0 ? fuzz.select() : fuzz.statement();
      const started = performance.now();
      const q = text(g.source);
      slowest = Math.max(slowest, performance.now() - started);
      const expectedNames = [...new Set(g.params)];
      if (
        q.names.join(",") !== expectedNames.join(",") || q.layout("repeat").text !== g.repeat ||
        q.layout("reuse").text !== g.reuse
      ) {
        assert.deepEqual({
          source: g.source,
          names: q.names,
          repeat: q.layout("repeat").text,
          reuse: q.layout("reuse").text,
        }, {
          source: g.source,
          names: expectedNames,
          repeat: g.repeat,
          reuse: g.reuse,
        });
      }
      checked++;
    }
    for (let i = 0; i < 2_000 * SCALE; i++) {
      const source = fuzz.garbage();
      const started = performance.now();
      const q = text(source);
      slowest = Math.max(slowest, performance.now() - started);
      for (const name of q.names) assert.match(name, /^[A-Za-z_][A-Za-z0-9_]*$/, JSON.stringify(source));
      q.layout("repeat");
      checked++;
    }
    log(
      `  text() fuzz: ${checked} inputs (seed ${SEED}), all parameters found, none inside a literal; slowest parse ${
        slowest.toFixed(2)
      } ms`,
    );
    // A guard against runaway (quadratic or backtracking) parsing, not a timing: on a busy
    // 2-core machine a GC pause alone took 142 ms, while a runaway parse takes seconds.
    assert.ok(slowest < 1000, `a parse took ${slowest.toFixed(1)} ms`);
  });

  it(`agrees with PostgreSQL on ${300 * SCALE} generated SELECTs: literals come back untouched, parameters bound`, {
    timeout: 120_000,
  }, async () => {
    const fuzz = new SqlFuzzer(SEED + 1);
    for (let i = 0; i < 300 * SCALE; i++) {
      const g = fuzz.select();
      const result = await engine.execute(text(g.source), g.values).catch((error) => {
        throw new Error(`${String(seenError(error))}\n${g.source}`);
      });
      const row = result.rows[0];
      const got = result.columns.map((c) => row[c.name]);
      const want = g.expected.map((v, k) => v === undefined ? got[k] : v);
      assert.deepEqual(got, want, g.source);
    }
  });
});

describe("reliability: typed-call options under fuzzing", () => {
  let engine: Engine;
  const events: string[] = [];
  const items = table(uniqueName("rel_options"), {
    id: col.integer().primaryKey(),
    title: col.text(),
    n: col.integer(),
  });
  // nearest() is checked without a server: PostgreSQL here has no pgvector.
  const docs = table("rel_options_docs", {
    id: col.integer().primaryKey(),
    title: col.text(),
    embedding: col.vector(3),
  });

  before(async () => {
    await ensureRole();
    engine = watchedEngine(PG_URL, { pool: { max: 2 }, onQuery: (e) => events.push(e.sql) });
    await engine.createAll([items]);
    await engine.session(async (s) => {
      await s.insertMany(items, [{ id: 1, title: "a", n: 1 }, { id: 2, title: "b", n: 2 }, { id: 3, title: null }]);
    });
  });

  after(async () => {
    await engine.dropAll([items], { checkfirst: true });
    await engine.dispose();
  });

  /** "ok", or the error; anything but a ValidationError is recorded as a failure. */
  const classify = (target: OptionTarget, options: unknown, error: unknown, failures: string[]) => {
    if (error instanceof ValidationError) return `refused: ${error.message}`;
    failures.push(`${target} ${showOptions(options)}: ${String(seenError(error))}`);
    return `failed: ${String(error)}`;
  };

  it(`find, update, delete: each of ${1_500 * SCALE} option objects is a ValidationError or SQL the server runs`, {
    timeout: 300_000,
  }, async () => {
    const fuzz = new OptionFuzzer(SEED + 2, items.columnNames);
    const failures: string[] = [];
    const counts = { accepted: 0, refused: 0 };
    for (let i = 0; i < 1_000 * SCALE; i++) {
      const options = fuzz.options("find");
      const outcomes: string[] = [];
      // Twice: the second call may take find()'s cached path and must end the same way.
      for (let round = 0; round < 2; round++) {
        const sent = events.length;
        const outcome = await engine.session((s) => s.find(items, options as never)).then(
          () => "ok",
          (error) => classify("find", options, error, failures),
        );
        const sentNow = events.length - sent;
        if (outcome === "ok" ? sentNow !== 1 : sentNow !== 0) {
          failures.push(`find ${showOptions(options)}: ${outcome}, but ${sentNow} statements were sent`);
        }
        outcomes.push(outcome);
      }
      if (outcomes[0] !== outcomes[1]) failures.push(`find ${showOptions(options)}: ${outcomes.join(" then ")}`);
      counts[outcomes[0] === "ok" ? "accepted" : "refused"]++;
    }
    for (const verb of ["update", "delete"] as const) {
      const s = engine.session();
      try {
        for (let i = 0; i < 250 * SCALE; i++) {
          const where = fuzz.options(verb);
          const sent = events.filter((e) => e.startsWith(verb.toUpperCase())).length;
          const outcome =
            await (verb === "update" ? s.update(items, where as never, { n: 9 }) : s.delete(items, where as never))
              .then(() => "ok", (error) => classify(verb, where, error, failures));
          const sentNow = events.filter((e) => e.startsWith(verb.toUpperCase())).length - sent;
          if (outcome !== "ok" && sentNow !== 0) failures.push(`${verb} ${showOptions(where)}: refused, yet sent`);
          counts[outcome === "ok" ? "accepted" : "refused"]++;
        }
      } finally {
        await s.rollback();
        await s.close();
      }
    }
    log(
      `  option fuzz (seed ${SEED + 2}): ${counts.accepted} option objects ran as SQL, ${counts.refused} were ` +
        `ValidationErrors, ${failures.length} anything else`,
    );
    assert.deepEqual(failures.slice(0, 5), []);
    assert.ok(counts.accepted > 100 && counts.refused > 100, JSON.stringify(counts));
  });

  it(`nearest: each of ${1_000 * SCALE} option objects is a ValidationError or a statement (both dialects)`, () => {
    const fuzz = new OptionFuzzer(SEED + 3, docs.columnNames);
    const failures: string[] = [];
    let accepted = 0;
    for (let i = 0; i < 1_000 * SCALE; i++) {
      const options = fuzz.options("nearest");
      const column = i % 4 === 0 ? (fuzz.columns() as string[])?.[0] ?? "embedding" : "embedding";
      for (const dialect of [postgresDialect, irisDialect]) {
        try {
          const stmt = nearestStatement(dialect, docs, "public", column, [1, 0, 0], options as never);
          assert.equal(typeof stmt.text, "string");
          accepted++;
        } catch (error) {
          classify("nearest", { column, options }, error, failures);
        }
      }
    }
    assert.deepEqual(failures.slice(0, 5), []);
    assert.ok(accepted > 50, `accepted ${accepted}`);
  });
});

describe("reliability: names and values that try injection", () => {
  let engine: Engine;
  const victim = uniqueName("rel_victim");
  const events: string[] = [];

  before(async () => {
    await ensureRole();
    engine = watchedEngine(PG_URL, { pool: { max: 2 }, onQuery: (e) => events.push(e.sql) });
    await engine.execute(`CREATE TABLE ${victim} (id integer PRIMARY KEY, note text)`);
  });

  after(async () => {
    await engine.execute(`DROP TABLE IF EXISTS ${victim}`);
    await engine.dispose();
    flushEvidence("06-input-injection");
  });

  const victimStands = async () => assert.equal(await engine.hasTable(victim), true, "the victim table still exists");

  it("rejects identifiers that could break out of their quotes", () => {
    const bad = `users"; DROP TABLE ${victim}; --`;
    const e1 = caught(() => sql.id(bad));
    assert.ok(e1 instanceof ValidationError);
    assert.equal(e1.message, `Invalid identifier ${JSON.stringify(bad)}: 1-128 characters, no double quotes or NUL`);
    assert.ok(caught(() => sql.id("a\u0000b")) instanceof ValidationError);
    assert.ok(caught(() => sql.id("")) instanceof ValidationError);
    assert.ok(caught(() => sql.id("x".repeat(129))) instanceof ValidationError);
    const e2 = caught(() => table(bad, { id: col.integer() }));
    assert.ok(e2 instanceof ConfigError);
    assert.equal(e2.message, `Invalid table name ${JSON.stringify(bad)}: 1-128 characters, no double quotes`);
    const e3 = caught(() => table("ok", { [bad]: col.integer() }));
    assert.ok(e3 instanceof ConfigError);
    assert.equal(e3.message, `Table ok: invalid column name ${JSON.stringify(bad)}`);
    const e4 = caught(() => createEngine(PG_URL, { schema: `public; DROP TABLE ${victim}` }));
    assert.ok(e4 instanceof ConfigError);
  });

  it("quotes odd but legal names, so they stay names", async () => {
    const odd = table(`${victim} x; DROP TABLE ${victim}; --`, {
      id: col.integer().primaryKey(),
      "note'); DROP TABLE x; --": col.text(),
    });
    await engine.createAll([odd]);
    try {
      await engine.session(async (s) => {
        await s.insert(odd, { id: 1, "note'); DROP TABLE x; --": "kept" });
        const rows = await s.find(odd, { where: { "note'); DROP TABLE x; --": "kept" } });
        assert.deepEqual(rows, [{ id: 1, "note'); DROP TABLE x; --": "kept" }]);
      });
      assert.equal(await engine.hasTable(odd.name), true);
    } finally {
      await engine.dropAll([odd]);
    }
    await victimStands();
  });

  it("refuses unknown column names in where, orderBy and columns instead of splicing them", async () => {
    const t = table(victim, { id: col.integer().primaryKey(), note: col.text() });
    await engine.session(async (s) => {
      const where = await rejected(s.find(t, { where: { "id = id OR 1=1 --": 1 } as never }));
      assert.ok(where instanceof ValidationError, String(where));
      assert.match(where.message, /id = id OR 1=1 --/);
      const order = await rejected(s.find(t, { orderBy: { "id; DROP TABLE x": "asc" } as never }));
      assert.ok(order instanceof ValidationError, String(order));
      const dir = await rejected(s.find(t, { orderBy: { id: "asc; DROP TABLE x" } as never }));
      assert.ok(dir instanceof ValidationError, String(dir));
      assert.equal(dir.message, `orderBy ${victim}.id must be "asc" or "desc", got "asc; DROP TABLE x"`);
      const cols = await rejected(s.find(t, { columns: ["id, (SELECT 1)"] as never }));
      assert.ok(cols instanceof ValidationError, String(cols));
    });
    await victimStands();
  });

  it("binds values that look like SQL, and never puts them in the statement text", async () => {
    const payloads = [
      `'; DROP TABLE ${victim}; --`,
      `\\'; DROP TABLE ${victim}; --`,
      `$$; DROP TABLE ${victim}; $$`,
      `Robert'); DROP TABLE ${victim};--`,
      ":id",
      "$1",
      "/* */ OR 1=1",
      "名前 🦀 \u200d Ω",
    ];
    const t = table(victim, { id: col.integer().primaryKey(), note: col.text() });
    let id = 100;
    for (const p of payloads) {
      await engine.execute(text(`INSERT INTO ${victim} (id, note) VALUES (:id, :note)`), { id: ++id, note: p });
      await engine.execute(sql`INSERT INTO ${sql.id(victim)} (id, note) VALUES (${++id}, ${p})`);
      await engine.session((s) => s.insert(t, { id: ++id, note: p }));
      const back = await engine.execute(text(`SELECT note FROM ${victim} WHERE note = :p`), { p });
      assert.deepEqual(back.rows.map((r) => r.note), [p, p, p]);
    }
    await victimStands();
    // (":id" and "$1" are spelled in statements anyway.)
    for (const p of payloads.filter((p) => p.length > 3)) {
      assert.ok(!events.some((e) => e.includes(p)), `a value reached the statement text: ${p}`);
    }
  });

  it("gives clear errors for values the server cannot take", async () => {
    const nul = await rejected(engine.execute(text("SELECT :v::text AS v"), { v: "a\u0000b" }));
    assert.ok(nul instanceof QueryError, String(nul));
    assert.equal(nul.sqlstate, "22021");
    assert.match(nul.message, /invalid byte sequence for encoding "UTF8": 0x00/);
    const many = await rejected(engine.execute(sql`SELECT ${sql.join(Array.from({ length: 70_000 }, (_, i) => i))}`));
    assert.ok(many instanceof QueryError, String(many));
    // irisql's own words on every network driver (postgres.js and Bun's client each word it differently).
    assert.match(
      many.message,
      /^Too many parameters: this statement has 70,000, the wire protocol allows at most 65,533/,
    );
    assert.equal((await engine.execute("SELECT 1 AS still_fine")).rows[0].still_fine, 1);
  });
});

describe("reliability: malformed URLs and options", () => {
  after(() => flushEvidence("06-input-config"));

  const secret = encodeURIComponent(PASSWORD);
  const urls: [string, RegExp][] = [
    [`postgres://u:${secret}@127.0.0.1:99999/db`, /port/],
    [`postgres://u:${secret}@127.0.0.1:abc/db`, /port "abc" is not a number/],
    [`postgres://u:${secret}@:5432/db`, /not a valid URL|no host/],
    // The raw password holds "/" and "@": the URL would name another host, so it is refused, quoting none of it.
    [`postgres://u:${PASSWORD}@127.0.0.1/db`, /Cannot read this postgres:\/\/ URL: .*percent-encode/],
    [`postgres://u:p%zz${secret}@127.0.0.1/db`, /the password has a malformed %-escape/],
    [`mysql://u:${secret}@127.0.0.1/db`, /Unknown URL scheme "mysql:"/],
    [`127.0.0.1:5432/db`, /Unknown URL scheme/],
    ["", /needs a URL string/],
    [`postgres://u:${secret}@127.0.0.1/db?max=abc`, /Option max .* must be a whole number/],
    [`postgres://u:${secret}@127.0.0.1/db?bogus=1`, /Unknown option "bogus"/],
    [`postgres://u:${secret}@127.0.0.1/db?prePing=maybe`, /must be true or false/],
    [`postgres://u:${secret}@127.0.0.1/db?sslmode=sometimes`, /must be disable, prefer or require/],
    ["pglite://", /say where the data lives/],
    ["pglite://memory?max=3", /Unknown option "max"/],
  ];
  for (const [url, message] of urls) {
    it(`refuses ${url.replace(secret, "<password>").replace(PASSWORD, "<password>") || '""'} with ConfigError`, () => {
      const error = caught(() => createEngine(url));
      assert.ok(error instanceof ConfigError, String(error));
      assert.match(error.message, message);
      for (const s of SECRET_FORMS) assert.ok(!error.message.includes(s), "the password is not shown");
    });
  }

  const options: [unknown, RegExp][] = [
    [{ pool: { max: 0 } }, /pool.max must be at least 1/],
    [{ pool: { acquireTimeout: -1 } }, /pool.acquireTimeout must be a whole number >= 0/],
    [{ statementTimeout: 1.5 }, /statementTimeout must be a whole number >= 0/],
    [{ pool: { bogus: 1 } }, /Unknown pool option "bogus"/],
    [{ bogus: 1 }, /Unknown option "bogus"/],
    [{ onQuery: "log" }, /onQuery must be a function/],
    [{ prepare: "yes" }, /prepare must be true or false/],
    [null, /options must be an object/],
  ];
  for (const [opts, message] of options) {
    it(`refuses options ${JSON.stringify(opts)} with ConfigError`, () => {
      const error = caught(() => createEngine(PG_URL, opts as never));
      assert.ok(error instanceof ConfigError, String(error));
      assert.match(error.message, message);
      for (const s of SECRET_FORMS) assert.ok(!error.message.includes(s), "the password is not shown");
    });
  }
});
