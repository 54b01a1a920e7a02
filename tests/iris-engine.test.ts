/**
 * The engine on `iris://`, end to end through the iris-pgwire EMULATOR
 * (tests/fixtures/iris-pgwire-emulator: a PostgreSQL-wire proxy in front of
 * PGlite that reproduces iris-pgwire's documented behaviour; it is NOT IRIS).
 * Covers the IRIS connection profile, execute() and its raw result form,
 * rowCount, transactions, stream, connect, health, DDL with checkfirst, and
 * the error classes IRIS SQLCODEs map to. Passing here shows irisql copes with
 * the documented behaviour, not that it works with a real IRIS.
 */
import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import {
  col,
  ConnectionError,
  createEngine,
  type Engine,
  ForeignKeyViolationError,
  index,
  NotNullViolationError,
  QueryError,
  type QueryEvent,
  SessionClosedError,
  sql,
  table,
  text,
  UndefinedTableError,
  UniqueViolationError,
  UnsupportedFeatureError,
} from "../mod.ts";
import { type IrisEmulator, startIrisEmulator } from "./fixtures/iris-pgwire-emulator/mod.ts";
import { uniqueName } from "./helpers.ts";

/** An IRIS error as iris-pgwire delivers it: SQLSTATE 42000, the class and `sqlcode` from the SQLCODE. */
async function rejectsIris(
  p: Promise<unknown>,
  Class: typeof QueryError,
  sqlcode: number,
  message: RegExp,
): Promise<void> {
  await assert.rejects(p, (e: unknown) => {
    assert.ok(e instanceof Class, `expected ${Class.name}, got ${e}`);
    const q = e as QueryError;
    assert.equal(q.constructor, Class, `exactly ${Class.name}, got ${q.constructor.name}`);
    assert.equal(q.sqlstate, "42000");
    assert.equal(q.sqlcode, sqlcode);
    assert.match(q.message, message);
    return true;
  });
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe("engine on iris:// (iris-pgwire emulator, not IRIS)", () => {
  let emu: IrisEmulator;
  let engine: Engine;
  const events: QueryEvent[] = [];
  const sent = () => events.map((e) => e.sql);
  const plain = uniqueName("iris_eng");
  const parent = uniqueName("iris_engp");

  before(async () => {
    emu = await startIrisEmulator();
    engine = createEngine(emu.url, { onQuery: (e) => events.push(e) });
    await engine.execute(`CREATE TABLE "${parent}" ("id" INTEGER NOT NULL, PRIMARY KEY ("id"))`);
    await engine.execute(
      `CREATE TABLE "${plain}" ("id" INTEGER NOT NULL, "name" VARCHAR(50) NOT NULL, "parent" INTEGER, ` +
        `PRIMARY KEY ("id"), UNIQUE ("name"), CONSTRAINT "${plain}_fk" FOREIGN KEY ("parent") REFERENCES "${parent}" ("id"))`,
    );
    await engine.execute(text(`INSERT INTO "${parent}" ("id") VALUES (:id)`), { id: 1 });
  });

  after(async () => {
    await engine?.dispose();
    await emu?.close();
  });

  it("uses the IRIS profile: SQLUser, a pool of 5, recycled and pre-pinged connections, no TLS, no type fetch", async () => {
    assert.equal(engine.dialect.name, "iris");
    assert.equal(engine.config.schema, "SQLUser");
    assert.deepEqual(
      { ...engine.config.pool, connectTimeout: undefined, acquireTimeout: undefined },
      {
        max: 5,
        idleTimeout: 60_000,
        maxLifetime: 300_000,
        prePing: true,
        connectTimeout: undefined,
        acquireTimeout: undefined,
      },
    );
    assert.equal(engine.config.ssl, false);
    assert.equal(engine.dialect.wire.fetchTypes, false, "iris-pgwire has no pg_type in external mode");
    assert.equal(engine.url, emu.url.replace(":SYS@", ":***@"));
    // The first query on a fresh engine works: nothing asked for pg_catalog.pg_type on connect.
    const fresh = createEngine(emu.url);
    try {
      assert.deepEqual((await fresh.execute("SELECT 1 AS one")).rows, [{ one: 1 }]);
    } finally {
      await fresh.dispose();
    }
  });

  it("takes pool settings from the URL and options; TLS 'prefer' falls back to plain (the server answers N)", async () => {
    const custom = createEngine(emu.url + "?max=2&ssl=prefer", { pool: { prePing: false, maxLifetime: 1000 } });
    try {
      assert.equal(custom.config.pool.max, 2);
      assert.equal(custom.config.pool.prePing, false);
      assert.equal(custom.config.pool.maxLifetime, 1000);
      assert.equal(custom.config.ssl, "prefer");
      assert.equal((await custom.execute("SELECT 2 AS two")).scalar(), 2);
    } finally {
      await custom.dispose();
    }
  });

  it("TLS 'require' cannot connect: iris-pgwire has no TLS (ConnectionError after connectTimeout)", async () => {
    const tls = createEngine(emu.url, { ssl: "require", pool: { connectTimeout: 500 } });
    try {
      await assert.rejects(tls.execute("SELECT 1 AS one"), (e: unknown) => {
        assert.ok(e instanceof ConnectionError, `expected ConnectionError, got ${e}`);
        assert.equal(e.code, "CONNECT_TIMEOUT");
        assert.match(e.message, /^Could not use the database connection to 127\.0\.0\.1:\d+: connect timeout passed/);
        return true;
      });
    } finally {
      await tls.dispose();
    }
  });

  it("recycles a connection after maxLifetime; the next statement and session get a fresh one", async () => {
    const short = createEngine(emu.url, { pool: { maxLifetime: 300, max: 1 } });
    try {
      assert.equal((await short.execute("SELECT 1 AS one")).scalar(), 1);
      await sleep(800);
      assert.equal((await short.execute("SELECT 2 AS two")).scalar(), 2);
      assert.equal(await short.session((s) => s.execute("SELECT 3 AS three").then((r) => r.scalar())), 3);
      assert.equal(short.stats().errors, 0);
    } finally {
      await short.dispose();
    }
  });

  it("execute() gives iris-pgwire's raw form: lower-cased names, BIT as 1/0, decimals as text, '' as NULL, dates as day numbers", async () => {
    const r = await engine.execute(
      `SELECT 1 AS "CamelCase", 0.5 AS half, CAST(2.5 AS DOUBLE) AS dbl, CAST(1 AS BIT) AS flag, '' AS empty, ` +
        `CAST('2024-01-15' AS DATE) AS day, 'x' AS txt`,
    );
    assert.deepEqual(r.columns.map((c) => c.name), ["camelcase", "half", "dbl", "flag", "empty", "day", "txt"]);
    // A DATE arrives as days since 2000-01-01 (behaviour note §3); the typed Session API turns it back into a date.
    assert.deepEqual(r.one(), { camelcase: 1, half: "0.5", dbl: 2.5, flag: 1, empty: null, day: "8780", txt: "x" });
    assert.equal(r.rowCount, 1);
    assert.equal(r.command, "SELECT");
  });

  it("binds text() and sql`` parameters; a name used twice is bound twice (pgwire numbers ? by position)", async () => {
    const before = events.length;
    const r = await engine.execute(text("SELECT :n * 2 AS doubled, :n + 1 AS next"), { n: 20 });
    assert.deepEqual(r.one(), { doubled: 40, next: 21 });
    const ev = events[before];
    assert.equal(ev.sql, "SELECT $1 * 2 AS doubled, $2 + 1 AS next");
    assert.equal(ev.paramCount, 2);
    const t = await engine.execute(sql`SELECT ${"a"} || ${"b"} AS ab`);
    assert.equal(t.scalar(), "ab");
  });

  it("rowCount: null for INSERT/UPDATE/DELETE (iris-pgwire always says 0), the row count for SELECT", async () => {
    const ins = await engine.execute(text(`INSERT INTO "${plain}" ("id", "name") VALUES (:id, :name)`), {
      id: 10,
      name: "ten",
    });
    assert.equal(ins.rowCount, null);
    assert.equal(ins.command, "INSERT");
    const upd = await engine.execute(text(`UPDATE "${plain}" SET "name" = :name WHERE "id" = :id`), {
      name: "TEN",
      id: 10,
    });
    assert.equal(upd.rowCount, null);
    const sel = await engine.execute(text(`SELECT "name" FROM "${plain}" WHERE "id" >= :id`), { id: 10 });
    assert.equal(sel.rowCount, 1);
    assert.equal(sel.scalar(), "TEN");
    const del = await engine.execute(text(`DELETE FROM "${plain}" WHERE "id" = :id`), { id: 10 });
    assert.equal(del.rowCount, null);
    assert.equal(del.command, "DELETE");
    const none = await engine.execute(text(`SELECT "name" FROM "${plain}" WHERE "id" = :id`), { id: 10 });
    assert.deepEqual([none.rowCount, none.first()], [0, undefined]);
  });

  it("begin(): commits on return, rolls back on throw; savepoints undo alone and no RELEASE SAVEPOINT is sent", async () => {
    const from = events.length;
    const count = await engine.begin(async (tx) => {
      await tx.execute(text(`INSERT INTO "${plain}" ("id", "name") VALUES (:id, :name)`), { id: 20, name: "kept" });
      await assert.rejects(
        tx.savepoint(async () => {
          await tx.execute(text(`INSERT INTO "${plain}" ("id", "name") VALUES (:id, :name)`), {
            id: 21,
            name: "undone",
          });
          throw new Error("undo this part");
        }),
        /undo this part/,
      );
      await tx.savepoint(() =>
        tx.execute(text(`INSERT INTO "${plain}" ("id", "name") VALUES (:id, :name)`), { id: 22, name: "nested" })
      );
      return (await tx.execute(`SELECT COUNT(*) AS n FROM "${plain}" WHERE "id" >= 20`)).scalar();
    }, { isolationLevel: "read committed" });
    assert.equal(count, 2);
    await assert.rejects(
      engine.begin(async (tx) => {
        await tx.execute(text(`INSERT INTO "${plain}" ("id", "name") VALUES (:id, :name)`), { id: 23, name: "gone" });
        throw new Error("roll it all back");
      }),
      /roll it all back/,
    );
    const ids = await engine.execute(`SELECT "id" FROM "${plain}" WHERE "id" >= 20 ORDER BY "id"`);
    assert.deepEqual(ids.rows, [{ id: 20 }, { id: 22 }]);
    const words = sent().slice(from);
    assert.ok(words.includes("START TRANSACTION ISOLATION LEVEL READ COMMITTED"), words.join("\n"));
    assert.ok(words.includes("ROLLBACK TO SAVEPOINT irisql_sp1"), words.join("\n"));
    assert.ok(!words.some((s) => /RELEASE/i.test(s)), "IRIS has no RELEASE SAVEPOINT (dialect note §4.8)");
  });

  it("begin() refuses isolation levels IRIS does not have", async () => {
    await assert.rejects(
      engine.begin(() => {}, { isolationLevel: "serializable" }),
      (e: unknown) => {
        assert.ok(e instanceof UnsupportedFeatureError);
        assert.equal(
          (e as Error).message,
          'IRIS supports isolation levels "read uncommitted" and "read committed", not "serializable"',
        );
        return true;
      },
    );
  });

  it("stream() yields the result in batches (iris-pgwire sends whole results)", async () => {
    const batches: number[][] = [];
    for await (
      const batch of engine.stream<{ id: number }>(`SELECT "id" FROM "${plain}" ORDER BY "id"`, undefined, {
        batchSize: 1,
      })
    ) {
      batches.push(batch.map((r) => r.id));
    }
    assert.deepEqual(batches, [[20], [22]]);
  });

  it("connect(): one held connection with its own transactions", async () => {
    const conn = await engine.connect();
    try {
      await conn.begin(async (tx) => {
        await tx.execute(text(`INSERT INTO "${plain}" ("id", "name") VALUES (:id, :name)`), { id: 30, name: "conn" });
      });
      assert.equal((await conn.execute(`SELECT "name" FROM "${plain}" WHERE "id" = 30`)).scalar(), "conn");
    } finally {
      await conn.release();
    }
  });

  it("health() and stats() report the iris dialect over postgres.js", async () => {
    const h = await engine.health();
    assert.equal(h.ok, true, h.error ?? "");
    assert.equal(h.dialect, "iris");
    const s = engine.stats();
    assert.equal(s.dialect, "iris");
    assert.equal(s.adapter, "postgresjs");
    assert.equal(s.pool.max, 5);
    assert.ok(s.queries > 0);
  });

  describe("errors: SQLSTATE is always 42000, the class and sqlcode come from the SQLCODE", () => {
    it("unique violation: SQLCODE -119 -> UniqueViolationError", async () => {
      await engine.execute(text(`INSERT INTO "${plain}" ("id", "name") VALUES (:id, :name)`), { id: 40, name: "dup" });
      await rejectsIris(
        engine.execute(text(`INSERT INTO "${plain}" ("id", "name") VALUES (:id, :name)`), { id: 41, name: "dup" }),
        UniqueViolationError,
        -119,
        /^\[SQLCODE: <-119>:<UNIQUE or PRIMARY KEY constraint failed uniqueness check upon INSERT>\]/,
      );
    });

    it("not-null violation: SQLCODE -108 -> NotNullViolationError", async () => {
      await rejectsIris(
        engine.execute(text(`INSERT INTO "${plain}" ("id") VALUES (:id)`), { id: 42 }),
        NotNullViolationError,
        -108,
        /^\[SQLCODE: <-108>:<Required field missing; INSERT or UPDATE not allowed>\]/,
      );
    });

    it("foreign key: -121 on insert of the referencing row, -124 on delete of a referenced one", async () => {
      await rejectsIris(
        engine.execute(text(`INSERT INTO "${plain}" ("id", "name", "parent") VALUES (:id, :name, :p)`), {
          id: 43,
          name: "orphan",
          p: 99,
        }),
        ForeignKeyViolationError,
        -121,
        /FOREIGN KEY constraint failed referential check upon INSERT of row in referencing table/,
      );
      await engine.execute(text(`INSERT INTO "${plain}" ("id", "name", "parent") VALUES (:id, :name, :p)`), {
        id: 44,
        name: "child",
        p: 1,
      });
      await rejectsIris(
        engine.execute(text(`DELETE FROM "${parent}" WHERE "id" = :id`), { id: 1 }),
        ForeignKeyViolationError,
        -124,
        /FOREIGN KEY constraint failed referential check upon DELETE of row in referenced table/,
      );
    });

    it("undefined table: SQLCODE -30 -> UndefinedTableError, with the SQL that failed", async () => {
      const missing = uniqueName("iris_nope");
      const statement = `SELECT "id" FROM "${missing}"`;
      await rejectsIris(
        engine.execute(statement),
        UndefinedTableError,
        -30,
        new RegExp(`^\\[SQLCODE: <-30>:<Table or view not found>\\] Table 'SQLUser\\.${missing}' not found$`),
      );
      await engine.execute(statement).catch((e: QueryError) => assert.equal(e.sql, statement));
    });

    it("anything else is a QueryError that still carries its sqlcode (a PostgreSQL :: cast is -1)", async () => {
      await rejectsIris(engine.execute(text("SELECT :a::int AS x"), { a: 1 }), QueryError, -1, /'::' cast found/);
    });

    it("the engine keeps working after errors", async () => {
      assert.equal((await engine.execute(`SELECT COUNT(*) AS n FROM "${plain}" WHERE "id" >= 40`)).scalar(), 2);
    });
  });

  describe("DDL", () => {
    const users = table(uniqueName("iris_users"), {
      id: col.bigint().primaryKey().generated(),
      email: col.varchar(200).notNull().unique(),
    });
    const docs = table(uniqueName("iris_docs"), {
      id: col.integer().primaryKey(),
      owner: col.bigint().references(() => users, "id"),
      title: col.varchar(100).notNull(),
      body: col.text(),
      published: col.boolean().default(false),
      embedding: col.vector(3),
    }, {
      indexes: [
        index(uniqueName("iris_docs_title")).on("title"),
        index(uniqueName("iris_docs_hnsw")).on("embedding").hnsw({ metric: "cosine" }),
      ],
    });
    const ddl = () => sent().filter((s) => /^(CREATE|DROP) /.test(s));

    it("createAll with checkfirst, twice in a row: the second run creates nothing", async () => {
      const from = events.length;
      await engine.createAll([docs, users], { checkfirst: true });
      const first = sent().slice(from).filter((s) => s.startsWith("CREATE "));
      assert.equal(first.length, 4, first.join("\n"));
      assert.match(first[0], new RegExp(`^CREATE TABLE IF NOT EXISTS "${users.name}" \\(`));
      assert.match(first[1], new RegExp(`^CREATE TABLE IF NOT EXISTS "${docs.name}" \\(`));
      assert.match(first[3], /AS HNSW\(M=16, efConstruction=64, Distance='Cosine'\)$/);
      const created = events.length;
      await engine.createAll([docs, users], { checkfirst: true });
      const second = sent().slice(created);
      assert.ok(second.length > 0 && second.every((s) => s.startsWith("SELECT ")), second.join("\n"));
      assert.ok(sent().slice(from).every((s) => !s.includes(";")));
      assert.equal(await engine.hasTable(users.name), true);
      assert.equal(
        await engine.hasTable(docs.name.toUpperCase()),
        true,
        "IRIS catalog names compare case-insensitively",
      );
    });

    it("a table with a generated key is created WITH %CLASSPARAMETER ALLOWIDENTITYINSERT = 1; others are not", () => {
      const creates = ddl().filter((s) => s.startsWith("CREATE TABLE"));
      const u = creates.find((s) => s.includes(`"${users.name}"`))!;
      const d = creates.find((s) => s.includes(`"${docs.name}"`))!;
      assert.match(u, /"id" BIGINT IDENTITY NOT NULL/);
      assert.ok(u.endsWith(") WITH %CLASSPARAMETER ALLOWIDENTITYINSERT = 1"), u);
      assert.ok(!d.includes("%CLASSPARAMETER"), d);
    });

    it("createAll without checkfirst on an existing table is SQLCODE -201", async () => {
      await rejectsIris(
        engine.createAll([users]),
        QueryError,
        -201,
        new RegExp(
          `^\\[SQLCODE: <-201>:<Table or view name not unique>\\] Table 'SQLUser\\.${users.name}' already exists`,
        ),
      );
    });

    it("introspect() reads INFORMATION_SCHEMA: IRIS type names, keys, indexes", async () => {
      const { tables } = await engine.introspect();
      const d = tables.find((t) => t.name === docs.name);
      assert.ok(d, `${docs.name} in ${tables.map((t) => t.name).join(", ")}`);
      assert.deepEqual(
        d.columns.map((c) => [c.name, c.dataType, c.nullable]),
        [
          ["id", "integer", false],
          ["owner", "bigint", true],
          ["title", "varchar", false],
          ["body", "varchar", true],
          ["published", "bit", true],
          // VECTOR shows as VARCHAR in INFORMATION_SCHEMA (behaviour note §2, DBAPI mode)
          ["embedding", "varchar", true],
        ],
      );
      assert.deepEqual(d.primaryKey, ["id"]);
      assert.deepEqual(
        d.indexes.map((i) => [i.name, i.columns, i.unique]).sort(),
        [[docs.indexes[0].name, ["title"], false], [docs.indexes[1].name, ["embedding"], false]].sort(),
      );
    });

    it("an L2 HNSW index is refused before any table is created", async () => {
      const l2 = table(uniqueName("iris_l2"), { id: col.integer().primaryKey(), e: col.vector(2) }, {
        indexes: [index(uniqueName("iris_l2_hnsw")).on("e").hnsw({ metric: "l2" })],
      });
      await assert.rejects(engine.createAll([l2], { checkfirst: true }), (e: unknown) => {
        assert.ok(e instanceof UnsupportedFeatureError);
        assert.match((e as Error).message, /IRIS HNSW indexes support Distance='Cosine' and 'DotProduct' only, not L2/);
        return true;
      });
      assert.equal(await engine.hasTable(l2.name), false);
    });

    it("a table in another schema: created implicitly, found there, dropped", async () => {
      const other = table(uniqueName("iris_other"), { id: col.integer().primaryKey() }, { schema: "irisqlapp" });
      await engine.createAll([other], { checkfirst: true });
      assert.equal(await engine.hasTable(other.name, "irisqlapp"), true);
      assert.equal(await engine.hasTable(other.name), false, "not in SQLUser");
      await engine.session((s) => s.insert(other, { id: 7 }));
      assert.deepEqual(await engine.session((s) => s.find(other)), [{ id: 7 }]);
      await engine.dropAll([other], { checkfirst: true });
      assert.equal(await engine.hasTable(other.name, "irisqlapp"), false);
    });

    it("dropAll with checkfirst, twice in a row: the second run drops nothing", async () => {
      await engine.dropAll([users, docs], { checkfirst: true });
      assert.equal(await engine.hasTable(docs.name), false);
      assert.equal(await engine.hasTable(users.name), false);
      const from = events.length;
      await engine.dropAll([users, docs], { checkfirst: true });
      assert.ok(sent().slice(from).every((s) => s.startsWith("SELECT ")), sent().slice(from).join("\n"));
    });
  });

  it("dispose(): later calls are a SessionClosedError", async () => {
    const e = createEngine(emu.url);
    await e.execute("SELECT 1 AS one");
    await e.dispose();
    await assert.rejects(e.execute("SELECT 1 AS one"), SessionClosedError);
  });
});
