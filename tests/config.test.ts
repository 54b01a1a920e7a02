import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { ConfigError, createEngine } from "../mod.ts";
import { passwordOf, redactUrl, resolveConfig } from "../src/config.ts";

function configError(fn: () => unknown, message: RegExp): void {
  assert.throws(fn, (e: unknown) => {
    assert.ok(e instanceof ConfigError, `expected ConfigError, got ${String(e)}`);
    assert.match((e as Error).message, message);
    assert.ok(!(e as Error).message.includes("s3cret"), "the password leaked into: " + (e as Error).message);
    return true;
  });
}

describe("URLs", () => {
  it("chooses the dialect from the scheme", () => {
    assert.equal(resolveConfig("postgres://u@h/db").dialect.name, "postgres");
    assert.equal(resolveConfig("postgresql://u@h/db").dialect.name, "postgres");
    assert.equal(resolveConfig("iris://u@h/USER").dialect.name, "iris");
    assert.equal(resolveConfig("pglite://memory").dialect.name, "postgres");
  });

  it("reads host, port, database and user, with defaults per dialect", () => {
    const c = resolveConfig("iris://alice:s3cret@db.example:1972/APP");
    assert.deepEqual({ ...c.target }, {
      kind: "network",
      host: "db.example",
      port: 1972,
      database: "APP",
      user: "alice",
    });
    // Kept, but out of reach of any property walk: logging the config does not show it.
    assert.equal(c.target.kind === "network" && passwordOf(c.target), "s3cret");
    assert.ok(!JSON.stringify(c).includes("s3cret"));
    assert.equal(c.schema, "SQLUser");
    const d = resolveConfig("iris://db.example");
    assert.equal(d.target.kind === "network" && d.target.port, 5432);
    assert.equal(d.target.kind === "network" && d.target.database, "USER");
    assert.equal(resolveConfig("postgres://h/db").schema, "public");
  });

  it("reads the pglite forms", () => {
    assert.deepEqual(resolveConfig("pglite://memory").target, { kind: "pglite" });
    assert.deepEqual(resolveConfig("pglite:./data/x").target, { kind: "pglite", dataDir: "./data/x" });
    assert.deepEqual(resolveConfig("pglite:///var/lib/x").target, { kind: "pglite", dataDir: "/var/lib/x" });
  });

  it("never shows the password", () => {
    const engine = createEngine("postgres://alice:s3cret@127.0.0.1:1/db");
    assert.equal(engine.url, "postgres://alice:***@127.0.0.1:1/db");
    assert.equal(redactUrl("iris://a:b%40c@h/X"), "iris://a:***@h/X");
    return engine.dispose();
  });

  it("takes options from the query string, options object first", () => {
    const c = resolveConfig("postgres://h/db?max=3&idle_timeout=500&prepare=false&schema=app&statementTimeout=250", {
      pool: { max: 7 },
    });
    assert.equal(c.pool.max, 7);
    assert.equal(c.pool.idleTimeout, 500);
    assert.equal(c.prepare, false);
    assert.equal(c.schema, "app");
    assert.equal(c.statementTimeout, 250);
  });

  it("gives IRIS its wire profile: small pool, recycled connections, pre-ping", () => {
    const c = resolveConfig("iris://h/USER");
    assert.equal(c.pool.max, 5);
    assert.equal(c.pool.prePing, true);
    assert.ok(c.pool.maxLifetime > 0);
    assert.equal(c.dialect.wire.fetchTypes, false);
    assert.equal(c.ssl, false);
  });
});

describe("bad configuration is a ConfigError that shows what is accepted", () => {
  it("unknown scheme", () => {
    configError(() => createEngine("mysql://u:s3cret@h/db"), /Unknown URL scheme "mysql:".*Accepted forms: iris:\/\//);
  });
  it("bad port", () => {
    configError(() => createEngine("postgres://u:s3cret@h:99999/db"), /port .*1 to 65535/);
    configError(() => createEngine("postgres://u:s3cret@h:abc/db"), /port "abc" is not a number/);
  });
  it("unknown query-string option", () => {
    configError(() => createEngine("postgres://u:s3cret@h/db?maxx=3"), /Unknown option "maxx".*Accepted: max, /);
  });
  it("pool options that make no sense on pglite", () => {
    configError(() => createEngine("pglite://memory?max=4"), /Unknown option "max"/);
  });
  it("pool options that make no sense on pglite, given as options", () => {
    // PGlite is one connection: a pool.max it cannot honour is refused, as ?max= is, not ignored.
    configError(() => createEngine("pglite://memory", { pool: { max: 50 } }), /pool\.max cannot be used with pglite/);
    configError(() => createEngine("pglite://memory", { pool: { prePing: true } }), /pool\.prePing cannot be used/);
    configError(() => createEngine("pglite:./data/x", { pool: { idleTimeout: 10 } }), /pool\.idleTimeout cannot/);
    configError(() => createEngine("pglite://memory", { ssl: "require" }), /^ssl cannot be used with pglite/);
    configError(
      () => createEngine("pglite://memory", { applicationName: "app" }),
      /applicationName cannot be used with pglite:\/\/memory: .*Accepted there: pool\.acquireTimeout, prepare, /,
    );
    // What PGlite does honour is still accepted.
    const c = resolveConfig("pglite://memory", { pool: { acquireTimeout: 1500, max: undefined }, statementTimeout: 5 });
    assert.equal(c.pool.acquireTimeout, 1500);
  });
  it("bad values", () => {
    configError(() => createEngine("postgres://h/db?max=many"), /max .* must be a whole number/);
    configError(() => createEngine("postgres://h/db?prepare=maybe"), /prepare .* must be true or false/);
    configError(() => createEngine("postgres://h/db", { pool: { max: 0 } }), /pool.max must be at least 1/);
    configError(
      () => createEngine("postgres://h/db", { statementTimeout: -1 }),
      /statementTimeout must be a whole number/,
    );
  });
  it("unknown option keys", () => {
    configError(
      // deno-lint-ignore no-explicit-any
      () => createEngine("postgres://h/db", { poool: {} } as any),
      /Unknown option "poool". Accepted: pool, /,
    );
    // deno-lint-ignore no-explicit-any
    configError(() => createEngine("postgres://h/db", { pool: { size: 3 } } as any), /Unknown pool option "size"/);
  });
  it("pglite without a place", () => {
    configError(() => createEngine("pglite://"), /say where the data lives/);
  });
  it("no URL", () => {
    // deno-lint-ignore no-explicit-any
    configError(() => createEngine(undefined as any), /needs a URL string/);
  });
});
