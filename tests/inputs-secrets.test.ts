/**
 * URLs and the password:
 *   - a user name or password holding a raw "/", "?" or "#" makes the URL
 *     mean something else (the rest spills into the path, query or port).
 *     Such a URL is a ConfigError that quotes no part of the user-info and
 *     says to percent-encode; the encoded forms work;
 *   - errors about the query string never echo a value, and name a key only
 *     when it is a plain word;
 *   - engine.url shows the host, port and database the engine really uses;
 *   - the password is kept where no property walk reaches it:
 *     inspect(..., { showHidden: true }) of the engine, its config and its
 *     errors never shows it.
 */
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { inspect } from "node:util";
import { ConfigError, ConnectionError, createEngine, QueryError, sql } from "../mod.ts";
import { PG_URL } from "./helpers.ts";
import { passwordOf, resolveConfig } from "../src/config.ts";

const deep = (x: unknown) => inspect(x, { showHidden: true, depth: 10, getters: true });

function configError(url: string, secrets: string[], message: RegExp): void {
  assert.throws(() => createEngine(url), (e: unknown) => {
    assert.ok(e instanceof ConfigError, `expected ConfigError for ${url}, got ${String(e)}`);
    assert.match((e as Error).message, message);
    for (const shown of [(e as Error).message, String(e), deep(e)]) {
      for (const s of secrets) assert.ok(!shown.includes(s), `${JSON.stringify(s)} shows in: ${shown.slice(0, 300)}`);
    }
    return true;
  });
}

describe("a raw reserved character in the user-info is refused, never misread", () => {
  const cases: [string, string, string[]][] = [
    ["? in the password", "postgres://app:?Secret1@db:5432/prod", ["Secret1"]],
    ["/ in the password", "postgres://app:/Secret2@db:5432/prod", ["Secret2"]],
    ["# in the password", "postgres://app:#Secret3@db:5432/prod", ["Secret3"]],
    ["/ in the middle of the password", "iris://_SYSTEM:Sec/ret4@db:1972/USER", ["Sec/ret4", "ret4"]],
    ["? and @ in the password", "postgres://app:a?b@Secret5@db/prod", ["Secret5", "a?b"]],
    ["/ in the user name", "postgres://ap/p:Secret6@db/prod", ["Secret6", "ap/p"]],
    ["a password that looks like a port", "postgres://app:5432/Secret7@db/prod", ["Secret7"]],
  ];
  for (const [what, url, secrets] of cases) {
    it(what, () => configError(url, secrets, /percent-encode.*encodeURIComponent/));
  }

  it("the percent-encoded forms connect where they say", () => {
    const cases: [string, string, string, number, string][] = [
      ["postgres://app:%3FSecret1@db:5432/prod", "?Secret1", "db", 5432, "prod"],
      ["postgres://app:%2FSecret2@db:5432/prod", "/Secret2", "db", 5432, "prod"],
      ["postgres://app:%23Secret3@db:5432/prod", "#Secret3", "db", 5432, "prod"],
      ["postgres://app:p@ss@db/prod", "p@ss", "db", 5432, "prod"],
    ];
    for (const [url, password, host, port, database] of cases) {
      const c = resolveConfig(url);
      assert.ok(c.target.kind === "network");
      assert.deepEqual(
        { host: c.target.host, port: c.target.port, database: c.target.database, password: passwordOf(c.target) },
        { host, port, database, password },
      );
      assert.equal(c.redactedUrl, `postgres://app:***@${host}${url.includes(":5432") ? ":5432" : ""}/${database}`);
    }
  });
});

describe("query-string errors never echo a value, and a key only when it is a plain word", () => {
  it("values", () => {
    configError("postgres://db/prod?max=Secret8", ["Secret8"], /max .*must be a whole number/);
    configError("postgres://db/prod?sslmode=Secret9", ["Secret9"], /ssl.*disable, prefer or require/);
    configError("postgres://db/prod?password=Secret10", ["Secret10"], /Unknown option "password"/);
  });
  it("keys", () => {
    configError("postgres://db/prod?Sec%20ret11=1", ["Sec ret11", "Sec%20ret11", "ret11"], /Unknown option/);
    configError("postgres://db/prod?a:Secret12=1", ["Secret12"], /Unknown option/);
    configError("postgres://db/prod?maxx=3", [], /Unknown option "maxx".*Accepted: max, /);
  });
  it("a port that is not a number is quoted only when the URL has user-info before the host", () => {
    configError("postgres://u:pw@h:abc/db", ["pw@"], /port "abc" is not a number/);
    configError("postgres://app:Secret13/db", ["Secret13"], /port/);
  });
});

describe("engine.url shows what the engine uses", () => {
  it("host, port, database, user; the password as ***", async () => {
    const cases: [string, string][] = [
      ["postgres://alice:s3cret@127.0.0.1:1/db", "postgres://alice:***@127.0.0.1:1/db"],
      ["postgres://alice@127.0.0.1/db", "postgres://alice@127.0.0.1/db"],
      ["iris://_SYSTEM:SYS@[::1]:1972/USER?max=2", "iris://_SYSTEM:***@[::1]:1972/USER?max=2"],
      ["postgresql://a:b@h/d#fragment", "postgresql://a:***@h/d"],
      ["pglite://memory", "pglite://memory"],
    ];
    for (const [url, shown] of cases) {
      const engine = createEngine(url);
      assert.equal(engine.url, shown);
      await engine.dispose();
    }
  });
});

describe("the password is out of reach of any property walk", () => {
  const PASSWORD = "Hidden-Pa55word";
  const url = `postgres://app:${PASSWORD}@127.0.0.1:1/db`;

  it("inspect(engine / engine.config, { showHidden: true }) and JSON never show it", async () => {
    const engine = createEngine(url, { pool: { connectTimeout: 2000 } });
    try {
      for (
        const shown of [deep(engine), deep(engine.config), deep(engine.config.target), JSON.stringify(engine.config)]
      ) {
        assert.ok(!shown.includes(PASSWORD), `the password shows in: ${shown.slice(0, 300)}`);
      }
      assert.deepEqual(Object.getOwnPropertyNames(engine.config.target).includes("password"), false);
      // Still there for the adapter.
      assert.ok(engine.config.target.kind === "network" && passwordOf(engine.config.target) === PASSWORD);
      const error = await engine.execute("SELECT 1").then(() => undefined, (e) => e as Error);
      assert.ok(error instanceof ConnectionError, String(error));
      assert.ok(!deep(error).includes(PASSWORD), deep(error).slice(0, 300));
      assert.ok(!deep(engine).includes(PASSWORD), "not after connecting either");
    } finally {
      await engine.dispose();
    }
  });
});

describe("a failed statement's error keeps none of the values it bound", () => {
  it("inspect with showHidden shows neither the bound value nor the arguments (PostgreSQL)", async () => {
    const engine = createEngine(PG_URL);
    try {
      const secret = "bound-S3cret-value-42";
      const error = await engine.execute(sql`SELECT ${secret}::text AS s, 1 / 0 AS n`).then(
        () => undefined,
        (e: unknown) => e,
      );
      assert.ok(error instanceof QueryError, `got ${error}`);
      const shown = inspect(error, { showHidden: true, depth: 10 });
      assert.ok(!shown.includes(secret), shown);
      assert.match(shown, /division by zero/);
    } finally {
      await engine.dispose();
    }
  });
});
