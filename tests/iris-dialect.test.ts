/**
 * The SQL irisql sends to InterSystems IRIS through iris-pgwire, checked
 * against what IRIS SQL and iris-pgwire accept. No server is needed: these are
 * the dialect and statement builders themselves. What every statement must
 * never contain: `;` (iris-pgwire splits on it, IRIS rejects it), `::` (IRIS
 * has no such cast), RETURNING, multi-row VALUES, pgvector operators, a literal
 * LIMIT (iris-pgwire drops the OFFSET), TRUE/FALSE, upper-case DOUBLE inside
 * VECTOR/TO_VECTOR, and a `$n` used twice or out of text order (iris-pgwire
 * rewrites `$n` to `?` positionally).
 */
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import {
  col,
  type ColumnInfo,
  index,
  type QueryError,
  table,
  UndefinedTableError,
  UniqueViolationError,
  UnsupportedFeatureError,
  ValidationError,
} from "../mod.ts";
import { irisDialect as iris } from "../src/dialects/iris/iris-dialect.ts";
import { decodeRows } from "../src/statements/decode.ts";
import { insertStatement } from "../src/statements/insert.ts";
import { nearestStatement } from "../src/statements/nearest.ts";
import { normalizeRow } from "../src/statements/rows.ts";
import { selectStatement } from "../src/statements/select.ts";
import { deleteStatement, updateStatement } from "../src/statements/update-delete.ts";
import { keyWhere } from "../src/statements/where.ts";

const S = "SQLUser";

const users = table("users", {
  id: col.bigint().primaryKey().generated(),
  email: col.varchar(320).notNull().unique(),
});

/** Every column kind, with the modifiers that change DDL. */
const docs = table("docs", {
  id: col.bigint().primaryKey().generated(),
  n32: col.integer().notNull().default(7),
  n16: col.smallint(),
  big: col.bigint({ mode: "bigint" }),
  ratio: col.double(),
  price: col.numeric(12, 2).default("0.50"),
  title: col.varchar(200).notNull(),
  body: col.text().default("it's"),
  published: col.boolean().notNull().default(false),
  day: col.date().defaultNow(),
  createdAt: col.timestamp().defaultNow(),
  stamp: col.timestamp({ withTimezone: true }),
  meta: col.json<{ tags: string[] }>().default({ tags: [] }),
  ref: col.uuid().generated(),
  embedding: col.vector(4),
  small: col.vector(3, { element: "float" }),
  owner: col.bigint().references(() => users, "id"),
  slug: col.varchar(40).unique(),
}, {
  indexes: [
    index("docs_embedding_hnsw").on("embedding").hnsw({ metric: "cosine", m: 24, efConstruction: 100 }),
    index("docs_small_dot").on("small").hnsw({ metric: "dot" }),
    index("docs_title_day").on("title", "day").unique(),
    index("docs_ratio").on("ratio"),
  ],
});

const VEC = [0.25, -1, 3.5, 0];

/** What no statement sent to IRIS may contain; and placeholders $1..$n, each once, in text order. */
function assertIrisSafe(s: { text: string; params: readonly unknown[] } | string): void {
  const text = typeof s === "string" ? s : s.text;
  const params = typeof s === "string" ? [] : s.params;
  assert.ok(!text.includes(";"), `no ";" in: ${text}`);
  assert.ok(!text.includes("::"), `no "::" cast in: ${text}`);
  assert.doesNotMatch(text, /\bRETURNING\b/i);
  assert.doesNotMatch(text, /<=>|<#>|<->/);
  assert.doesNotMatch(text, /\b(LIMIT|OFFSET)\s+\d/i, "LIMIT/OFFSET only as bound parameters");
  assert.doesNotMatch(text, /\b(TRUE|FALSE)\b/);
  assert.doesNotMatch(text, /VECTOR\((DOUBLE|FLOAT)\b|TO_VECTOR\([^)]*,\s*(DOUBLE|FLOAT)\)/, "lower-case element type");
  assert.doesNotMatch(text, /DOUBLE PRECISION|\bjsonb\b|\bBOOLEAN\b|\bSERIAL\b|GENERATED/i);
  assert.doesNotMatch(text, /"public"/);
  assert.doesNotMatch(text, /VALUES\s*\([^]*\)\s*,\s*\(/, "one row per INSERT");
  const numbers = [...text.matchAll(/\$(\d+)/g)].map((m) => Number(m[1]));
  assert.deepEqual(numbers, params.map((_, i) => i + 1), `each $n once, in text order: ${text}`);
}

const insertOf = (values: Record<string, unknown>) =>
  insertStatement(iris, docs, S, normalizeRow(docs, values, "insert", true));

describe("IRIS DDL: CREATE TABLE", () => {
  const ddl = iris.createTableSql(docs, S, false);

  it("spells every column kind the way IRIS stores it", () => {
    const expected: Record<string, string> = {
      id: `"id" BIGINT IDENTITY NOT NULL`,
      n32: `"n32" INTEGER DEFAULT 7 NOT NULL`,
      n16: `"n16" SMALLINT,`,
      big: `"big" BIGINT,`,
      ratio: `"ratio" DOUBLE,`,
      price: `"price" NUMERIC(12, 2) DEFAULT '0.50',`,
      title: `"title" VARCHAR(200) COLLATE %EXACT NOT NULL,`,
      // TEXT/CLOB are streams on IRIS: not comparable, not searchable.
      body: `"body" VARCHAR(65535) COLLATE %EXACT DEFAULT 'it''s',`,
      published: `"published" BIT DEFAULT 0 NOT NULL,`,
      day: `"day" DATE DEFAULT CURRENT_DATE,`,
      createdAt: `"createdAt" TIMESTAMP DEFAULT CURRENT_TIMESTAMP,`,
      stamp: `"stamp" TIMESTAMP,`,
      meta: `"meta" VARCHAR(65535) COLLATE %EXACT DEFAULT '{"tags":[]}',`,
      ref: `"ref" UNIQUEIDENTIFIER,`,
      embedding: `"embedding" VECTOR(double, 4),`,
      small: `"small" VECTOR(float, 3),`,
      owner: `"owner" BIGINT,`,
      slug: `"slug" VARCHAR(40) COLLATE %EXACT,`,
    };
    assert.deepEqual(Object.keys(expected), [...docs.columnNames]);
    for (const [name, fragment] of Object.entries(expected)) {
      assert.ok(ddl.includes(fragment), `${name}: expected ${fragment} in ${ddl}`);
    }
  });

  it("has constraints after the columns, no trailing semicolon, and nothing IRIS rejects", () => {
    assert.ok(ddl.startsWith(`CREATE TABLE "docs" (`), ddl);
    assert.ok(
      ddl.endsWith(
        `PRIMARY KEY ("id"), UNIQUE ("slug"), CONSTRAINT "docs_owner_fkey" FOREIGN KEY ("owner") REFERENCES "users" ("id"))` +
          // Lets an explicit value into the IDENTITY column, as sqlalchemy-iris does.
          ` WITH %CLASSPARAMETER ALLOWIDENTITYINSERT = 1`,
      ),
      ddl,
    );
    assertIrisSafe(ddl);
    // VARCHAR always with a length: a bare VARCHAR holds one character.
    assert.doesNotMatch(ddl, /VARCHAR(?!\(\d+\))/);
    assert.doesNotMatch(ddl, /\b(TEXT|CLOB|LONGVARCHAR|BOOLEAN|UUID)\b/);
    assert.doesNotMatch(ddl, /\bvector\(\d/, "VECTOR(type, n), never pgvector's vector(n)");
  });

  it("gives generated integer keys IDENTITY, and leaves generated UUIDs to the client", () => {
    const t = table("gen", {
      a: col.integer().primaryKey().generated(),
      u: col.uuid().generated(),
    });
    assert.equal(
      iris.createTableSql(t, S, false),
      `CREATE TABLE "gen" ("a" INTEGER IDENTITY NOT NULL, "u" UNIQUEIDENTIFIER, PRIMARY KEY ("a")) ` +
        `WITH %CLASSPARAMETER ALLOWIDENTITYINSERT = 1`,
    );
    const row = normalizeRow(t, {}, "insert", true);
    assert.match(String(row.get("u")), /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    assert.equal(row.has("a"), false, "the IDENTITY value is the server's to choose");
  });

  it("uses SQLUser as the unqualified default schema and qualifies any other", () => {
    const other = table("things", { a: col.integer() }, { schema: "app" });
    assert.equal(iris.defaultSchema, "SQLUser");
    assert.equal(
      iris.createTableSql(other, S, false),
      `CREATE TABLE "app"."things" ("a" INTEGER)`,
      "no IDENTITY, no WITH",
    );
    assert.equal(iris.createTableSql(users, "sqluser", false).startsWith(`CREATE TABLE "users" (`), true);
    assert.equal(iris.createTableSql(users, "app", false).startsWith(`CREATE TABLE "app"."users" (`), true);
    assert.equal(iris.tableRef("docs", "SQLUser"), `"docs"`);
  });

  it("never writes CREATE TABLE IF NOT EXISTS (iris-pgwire would report its failure as success); DROP TABLE IF EXISTS for checkfirst", () => {
    assert.ok(iris.createTableSql(docs, S, true).startsWith(`CREATE TABLE "docs" (`));
    assert.equal(iris.dropTableSql(docs, S, true), `DROP TABLE IF EXISTS "docs"`);
    assert.equal(iris.dropTableSql(docs, S, false), `DROP TABLE "docs"`);
  });

  it("refuses a default that iris-pgwire would corrupt, before anything is sent", () => {
    for (const value of ["a;b", "costs $5"]) {
      const t = table("bad_default", { note: col.varchar(20).default(value) });
      assert.throws(() => iris.createTableSql(t, S, false), (e: unknown) => {
        assert.ok(e instanceof UnsupportedFeatureError);
        assert.equal(
          (e as Error).message,
          `The default ${JSON.stringify(value)} cannot be sent to IRIS: iris-pgwire rewrites ";" and "$<digits>" ` +
            `even inside quoted text. Leave out the default and set the value on insert.`,
        );
        return true;
      });
    }
  });
});

describe("IRIS DDL: indexes", () => {
  const [hnsw, dot, unique, plain] = docs.indexes.map((ix) => iris.createIndexSql(ix, docs, S));

  it("writes HNSW indexes with the distance IRIS needs", () => {
    assert.equal(
      hnsw,
      `CREATE INDEX "docs_embedding_hnsw" ON "docs" ("embedding") AS HNSW(M=24, efConstruction=100, Distance='Cosine')`,
    );
    assert.equal(
      dot,
      `CREATE INDEX "docs_small_dot" ON "docs" ("small") AS HNSW(M=16, efConstruction=64, Distance='DotProduct')`,
    );
  });

  it("writes plain and unique indexes, never with IF NOT EXISTS", () => {
    assert.equal(unique, `CREATE UNIQUE INDEX "docs_title_day" ON "docs" ("title", "day")`);
    assert.equal(plain, `CREATE INDEX "docs_ratio" ON "docs" ("ratio")`);
    for (const s of [hnsw, dot, unique, plain]) {
      assert.doesNotMatch(s, /IF NOT EXISTS/);
      assertIrisSafe(s);
    }
  });

  it("refuses an L2 HNSW index, which IRIS does not have", () => {
    const t = table("l2", { e: col.vector(3) }, { indexes: [index("l2_e").on("e").hnsw({ metric: "l2" })] });
    assert.throws(() => iris.createIndexSql(t.indexes[0], t, S), (e: unknown) => {
      assert.ok(e instanceof UnsupportedFeatureError);
      assert.equal(
        (e as Error).message,
        `index l2_e: IRIS HNSW indexes support Distance='Cosine' and 'DotProduct' only, not L2. ` +
          `Use metric "cosine" (or "dot" with normalised vectors).`,
      );
      return true;
    });
  });
});

describe("IRIS existence checks and introspection", () => {
  it("asks the table itself (iris-pgwire invents INFORMATION_SCHEMA answers); index existence is not asked", () => {
    const t = iris.hasTableSql("SQLUser", "Docs");
    assert.equal(t.text, 'SELECT COUNT(*) AS N FROM "Docs" WHERE 1 = 0');
    assert.deepEqual(t.params, []);
    assertIrisSafe(t);
    assert.equal(iris.hasTableSql("Other", "Docs").text, 'SELECT COUNT(*) AS N FROM "Other"."Docs" WHERE 1 = 0');
    assert.equal(iris.hasIndexSql("SQLUser", "docs", "docs_ratio"), undefined);
    const q = iris.introspectionSql("SQLUser");
    for (const part of [q.tables, q.columns, q.primaryKeys, q.indexes]) {
      assert.match(part.text, /INFORMATION_SCHEMA\./);
      // iris-pgwire 1.7.3's catalog router passes a statement holding "EXISTS (" to IRIS as sent.
      assert.match(part.text, /EXISTS \(/);
      assert.doesNotMatch(part.text, /pg_catalog|pg_indexes|udt_name/i);
      assert.deepEqual(part.params, ["SQLUser"]);
      assertIrisSafe(part);
    }
  });

  it("reads IRIS's INFORMATION_SCHEMA.COLUMNS.DATA_TYPE names, in either case (those iris-pgwire's own catalog views map)", () => {
    const row = (dataType: string, maxLength: number | null = null, precision: number | null = null) => ({
      name: "c",
      dataType,
      nullable: true,
      maxLength,
      precision,
      scale: precision === null ? null : 2,
      default: null,
    });
    const read = iris.alter.readColumnType;
    assert.deepEqual(read(row("INTEGER")), { kind: "integer" });
    assert.deepEqual(read(row("int")), { kind: "integer" });
    assert.deepEqual(read(row("BIGINT")), { kind: "bigint" });
    assert.deepEqual(read(row("float")), { kind: "double" });
    assert.deepEqual(read(row("POSIXTIME")), { kind: "timestamp" });
    assert.deepEqual(read(row("character varying", 40)), { kind: "varchar", length: 40 });
    assert.deepEqual(read(row("VARCHAR", 65535)), { kind: "text" });
    assert.deepEqual(read(row("DECIMAL", null, 12)), { kind: "numeric", precision: 12, scale: 2 });
    assert.equal(read(row("varchar")), undefined, "a VARCHAR without a length says nothing (a VECTOR column shows so)");
    assert.equal(read(row("tinyint")), undefined, "irisql has no tinyint column");
  });

  it("classifies the error iris-pgwire gives for a missing table, so checkfirst can treat it as absent", () => {
    // INFORMATION_SCHEMA about a missing table raises instead of returning no rows;
    // every error is SQLSTATE 42000, the class comes from the SQLCODE.
    const e = iris.mapError({
      sqlstate: "42000",
      message: "<SQL ERROR>; Details: [SQLCODE: <-30>:<Table or view not found>] Table 'SQLUSER.NOPE' does not exist",
      cause: undefined,
    }, "SELECT TABLE_NAME FROM INFORMATION_SCHEMA.TABLES");
    assert.ok(e instanceof UndefinedTableError);
    assert.equal((e as QueryError).sqlcode, -30);
    const dup = iris.mapError({
      sqlstate: "42000",
      message: "[SQLCODE: <-119>:<UNIQUE or PRIMARY KEY constraint failed uniqueness check upon INSERT>]",
      cause: undefined,
    }, "INSERT INTO x");
    assert.ok(dup instanceof UniqueViolationError);
    assert.equal(
      dup.message,
      "[SQLCODE: <-119>:<UNIQUE or PRIMARY KEY constraint failed uniqueness check upon INSERT>]",
    );
  });
});

describe("IRIS INSERT", () => {
  it("binds every column kind, with no RETURNING and one row per statement", () => {
    const s = insertOf({
      n32: -5,
      n16: 7,
      big: 2n ** 62n,
      ratio: 0.5,
      price: "19.99",
      title: "héllo 🌍",
      body: null,
      published: true,
      day: "2024-03-10",
      createdAt: new Date("2024-03-10T23:30:00+05:00"),
      stamp: new Date("2024-03-10T23:30:00-08:00"),
      meta: { tags: ["a"] },
      ref: "3F2504E0-4F89-11D3-9A0C-0305E82C3301",
      embedding: VEC,
      small: [1, 2, 3],
      owner: 1,
      slug: "x",
    });
    assert.equal(
      s.text,
      `INSERT INTO "docs" ("n32", "n16", "big", "ratio", "price", "title", "body", "published", "day", "createdAt", ` +
        `"stamp", "meta", "ref", "embedding", "small", "owner", "slug") VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, ` +
        `$11, $12, $13, TO_VECTOR($14, double), TO_VECTOR($15, float), $16, $17)`,
    );
    assert.deepEqual(s.params, [
      -5,
      7,
      "4611686018427387904",
      0.5,
      19.99, // a decimal the server reads as a double: sent as one when it keeps every digit
      "héllo 🌍",
      null,
      1, // BIT: 1/0, never 't'/'f'
      "2024-03-10",
      // IRIS has no time zones: the UTC date-time IRIS stores, in the form iris-pgwire leaves alone.
      "2024-03-10 18:30:00.000",
      "2024-03-11 07:30:00.000",
      '{"tags":["a"]}',
      "3f2504e0-4f89-11d3-9a0c-0305e82c3301",
      "[0.25,-1,3.5,0]",
      "[1,2,3]",
      1,
      "x",
    ]);
    assertIrisSafe(s);
    assert.equal(iris.supportsReturning, false);
    assert.equal(iris.supportsMultiRowInsert, false, "insertMany sends single-row INSERTs on IRIS");
  });

  it("fills a generated UUID on the client and leaves IDENTITY out", () => {
    const s = insertOf({ title: "t" });
    assert.equal(s.text, `INSERT INTO "docs" ("title", "ref") VALUES ($1, $2)`);
    assertIrisSafe(s);
  });

  it("uses DEFAULT VALUES when nothing is given", () => {
    const t = table("defaults", { id: col.integer().primaryKey().generated(), at: col.timestamp().defaultNow() });
    const s = insertStatement(iris, t, S, normalizeRow(t, {}, "insert", true));
    assert.deepEqual(s, { text: `INSERT INTO "defaults" DEFAULT VALUES`, params: [] });
  });

  it("reads back a generated key with LAST_IDENTITY(), not RETURNING", () => {
    assert.equal(iris.lastIdentitySql(), "LAST_IDENTITY()");
  });
});

describe("IRIS SELECT", () => {
  it("limits with TOP n when there is no offset", () => {
    const s = selectStatement(iris, docs, S, {
      columns: ["id", "title"],
      where: { title: "a" },
      orderBy: { id: "desc" },
      limit: 5,
    });
    assert.deepEqual(s, {
      text: `SELECT TOP 5 "id", "title" FROM "docs" WHERE "title" = $1 ORDER BY "id" DESC`,
      params: ["a"],
    });
    assertIrisSafe(s);
  });

  it("refuses an offset: iris-pgwire drops the OFFSET of LIMIT ? OFFSET ? and returns the first rows", () => {
    for (const offset of [20, 1]) {
      assert.throws(
        () => selectStatement(iris, docs, S, { columns: ["id"], limit: 10, offset }),
        (e: unknown) => e instanceof UnsupportedFeatureError && /drops the OFFSET/.test((e as Error).message),
      );
    }
    // An offset of 0 is no offset.
    const s = selectStatement(iris, docs, S, { columns: ["id"], limit: 10, offset: 0 });
    assert.deepEqual(s, { text: `SELECT TOP 10 "id" FROM "docs"`, params: [] });
  });

  it("compiles every where operator with each value bound once, in text order", () => {
    const cases: [Record<string, unknown>, string, unknown[]][] = [
      [{ n32: 1 }, `"n32" = $1`, [1]],
      [{ n32: { eq: 1 } }, `"n32" = $1`, [1]],
      [{ n32: { ne: 1 } }, `"n32" <> $1`, [1]],
      [{ n32: { gt: 1, lt: 9 } }, `"n32" > $1 AND "n32" < $2`, [1, 9]],
      [{ n32: { gte: 1, lte: 9 } }, `"n32" >= $1 AND "n32" <= $2`, [1, 9]],
      [{ n32: { in: [1, 2, 3] } }, `"n32" IN ($1, $2, $3)`, [1, 2, 3]],
      [{ n32: { in: [] } }, `1 = 0`, []],
      [{ title: { like: "a%" } }, `"title" LIKE $1`, ["a%"]],
      [{ body: { isNull: true } }, `"body" IS NULL`, []],
      [{ body: { isNull: false } }, `"body" IS NOT NULL`, []],
      [{ body: null }, `"body" IS NULL`, []],
      [{ body: { eq: null } }, `"body" IS NULL`, []],
      [{ body: { ne: null } }, `"body" IS NOT NULL`, []],
      [{ published: true }, `"published" = $1`, [1]],
      [{ published: { ne: false } }, `"published" <> $1`, [0]],
      [{ createdAt: { gte: new Date("2024-03-10T23:30:00+05:00") } }, `"createdAt" >= $1`, [
        "2024-03-10 18:30:00.000",
      ]],
      [{ small: [1, 2, 3] }, `"small" = TO_VECTOR($1, float)`, ["[1,2,3]"]],
      [{ or: [{ n32: 1 }, { title: "b" }] }, `("n32" = $1 OR "title" = $2)`, [1, "b"]],
      [{ and: [{ n32: { gt: 1 } }, { n32: { lt: 5 } }] }, `("n32" > $1 AND "n32" < $2)`, [1, 5]],
      [
        {
          title: "a",
          or: [{ n32: { in: [1, 2] } }, { and: [{ ratio: { gt: 0.5 } }, { body: { like: "%x%" } }] }],
          slug: "s",
        },
        `"title" = $1 AND ("n32" IN ($2, $3) OR ("ratio" > $4 AND "body" LIKE $5)) AND "slug" = $6`,
        ["a", 1, 2, 0.5, "%x%", "s"],
      ],
    ];
    for (const [where, sql, params] of cases) {
      const s = selectStatement(iris, docs, S, { columns: ["id"], where: where as never });
      assert.deepEqual(s, { text: `SELECT "id" FROM "docs" WHERE ${sql}`, params }, JSON.stringify(where));
      assertIrisSafe(s);
    }
  });

  it("rejects an unknown column or operator before anything is built", () => {
    assert.throws(() => selectStatement(iris, docs, S, { where: { nope: 1 } as never }), (e: unknown) => {
      assert.ok(e instanceof ValidationError);
      assert.equal(
        (e as Error).message,
        `Unknown column "nope" in where on table docs. Columns: ${docs.columnNames.join(", ")}`,
      );
      return true;
    });
    assert.throws(
      () => selectStatement(iris, docs, S, { where: { n32: { within: [1, 2] } } as never }),
      (e: unknown) =>
        e instanceof ValidationError &&
        /^Unknown operator "within" in where on docs\.n32\. Operators: eq, ne, gt, gte, lt, lte, in, /.test(e.message),
    );
  });

  it("looks rows up by primary key", () => {
    const s = selectStatement(iris, docs, S, { where: keyWhere(docs, 42) as never });
    assert.match(s.text, /^SELECT "id", "n32", .* FROM "docs" WHERE "id" = \$1$/);
    assert.deepEqual(s.params, [42]);
    assertIrisSafe(s);
  });
});

describe("IRIS UPDATE and DELETE", () => {
  it("binds SET values before WHERE values, each once, in text order", () => {
    const s = updateStatement(
      iris,
      docs,
      S,
      { or: [{ id: 1 }, { title: { like: "x%" } }] },
      normalizeRow(
        docs,
        { published: true, embedding: VEC, createdAt: new Date("2024-03-10T23:30:00+05:00") },
        "update",
        false,
      ),
    );
    assert.deepEqual(s, {
      text: `UPDATE "docs" SET "published" = $1, "embedding" = TO_VECTOR($2, double), "createdAt" = $3 ` +
        `WHERE ("id" = $4 OR "title" LIKE $5)`,
      params: [1, "[0.25,-1,3.5,0]", "2024-03-10 18:30:00.000", 1, "x%"],
    });
    assertIrisSafe(s);
  });

  it("deletes with a where, and every row only with an explicit {}", () => {
    const s = deleteStatement(iris, docs, S, { n32: { in: [1, 2] }, published: false });
    assert.deepEqual(s, { text: `DELETE FROM "docs" WHERE "n32" IN ($1, $2) AND "published" = $3`, params: [1, 2, 0] });
    assertIrisSafe(s);
    assert.deepEqual(deleteStatement(iris, docs, S, {}), { text: `DELETE FROM "docs"`, params: [] });
  });

  it("counts affected rows as unknown (null), since pgwire always says 0", () => {
    assert.equal(iris.rowCount("INSERT", 0), null);
    assert.equal(iris.rowCount("UPDATE", 0), null);
    assert.equal(iris.rowCount("DELETE", 0), null);
  });
});

describe("IRIS nearest()", () => {
  it("scores with VECTOR_COSINE, TOP k, and orders by the expression DESC, not an alias", () => {
    const s = nearestStatement(iris, docs, S, "embedding", VEC, {
      k: 3,
      metric: "cosine",
      where: { published: true },
      columns: ["id"],
    });
    const vec = `VECTOR_COSINE("embedding", TO_VECTOR($1, double))`;
    assert.deepEqual(s, {
      text: `SELECT TOP 3 "id", ${vec} AS "score" FROM "docs" WHERE "published" = $2 ` +
        `ORDER BY VECTOR_COSINE("embedding", TO_VECTOR($3, double)) DESC`,
      params: ["[0.25,-1,3.5,0]", 1, "[0.25,-1,3.5,0]"],
    });
    assertIrisSafe(s);
  });

  it("uses VECTOR_DOT_PRODUCT for dot, with the column's own element type", () => {
    const s = nearestStatement(iris, docs, S, "small", [1, 0, 0], { k: 2, metric: "dot", columns: ["id"] });
    assert.deepEqual(s, {
      text: `SELECT TOP 2 "id", VECTOR_DOT_PRODUCT("small", TO_VECTOR($1, float)) AS "score" FROM "docs" ` +
        `ORDER BY VECTOR_DOT_PRODUCT("small", TO_VECTOR($2, float)) DESC`,
      params: ["[1,0,0]", "[1,0,0]"],
    });
    assertIrisSafe(s);
  });

  it("computes L2 from dot products, since IRIS has no L2 function", () => {
    const s = nearestStatement(iris, docs, S, "small", [1, 2, 2], { k: 1, metric: "l2", columns: ["id"] });
    assert.match(s.text, /^SELECT TOP 1 "id", SQRT\(ABS\(.*\)\) AS "score" FROM "docs" ORDER BY .* ASC$/);
    assert.doesNotMatch(s.text, /VECTOR_L2/);
    assert.deepEqual(s.params, ["[1,2,2]", 9, "[1,2,2]"]);
    assertIrisSafe(s);
  });
});

describe("IRIS transactions and savepoints", () => {
  it("uses START TRANSACTION, COMMIT, ROLLBACK and ROLLBACK TO SAVEPOINT, and never RELEASE SAVEPOINT", () => {
    assert.equal(iris.beginSql(), "START TRANSACTION");
    assert.equal(
      iris.beginSql({ isolationLevel: "read committed" }),
      "START TRANSACTION ISOLATION LEVEL READ COMMITTED",
    );
    assert.equal(iris.commitSql(), "COMMIT");
    assert.equal(iris.rollbackSql(), "ROLLBACK");
    assert.equal(iris.savepointSql("irisql_sp1"), "SAVEPOINT irisql_sp1");
    assert.equal(iris.rollbackToSavepointSql("irisql_sp1"), "ROLLBACK TO SAVEPOINT irisql_sp1");
    assert.equal(iris.releaseSavepointSql("irisql_sp1"), null, "IRIS SQL has no RELEASE SAVEPOINT");
  });
});

describe("IRIS results coerced by column type", () => {
  it("reads iris-pgwire's text and lower-cased names back into the declared columns and types", () => {
    // Names arrive lower-cased, BIT as 1/0 or 't', numbers as text, dates as a day count
    // since 2000-01-01, timestamps as zone-less UTC text, vectors as text with or without brackets.
    const raw = {
      id: "12",
      n32: "-5",
      n16: 7,
      big: "9223372036854775807",
      ratio: "0.5",
      price: 19.99,
      title: "héllo",
      body: null,
      published: "1",
      day: "8835",
      createdat: "2024-03-10 18:30:00",
      stamp: "2024-03-11 07:30:00.250",
      meta: '{"tags":["a"]}',
      ref: "3f2504e0-4f89-11d3-9a0c-0305e82c3301",
      embedding: "0.25,-1,3.5,0",
      small: "[1,2,3]",
      owner: null,
      slug: "t",
      score: "0.75",
    };
    const columns: ColumnInfo[] = Object.keys(raw).map((name) => ({ name, typeOid: 25 }));
    const [row] = decodeRows(iris, docs, [raw], columns);
    assert.deepEqual(row, {
      id: 12,
      n32: -5,
      n16: 7,
      big: 9223372036854775807n,
      ratio: 0.5,
      price: "19.99",
      title: "héllo",
      body: null,
      published: true,
      day: "2024-03-10",
      createdAt: new Date("2024-03-10T23:30:00+05:00"),
      stamp: new Date("2024-03-10T23:30:00.250-08:00"),
      meta: { tags: ["a"] },
      ref: "3f2504e0-4f89-11d3-9a0c-0305e82c3301",
      embedding: VEC,
      small: [1, 2, 3],
      owner: null,
      slug: "t",
      score: 0.75,
    });
    const [off] = decodeRows(iris, docs, [{ published: "0" }, { published: "t" }, { published: 0 }], [{
      name: "published",
      typeOid: 23,
    }]);
    assert.equal(off.published, false);
  });

  it("refuses to round a bigint beyond 2^53 into a number", () => {
    const t = table("b", { n: col.bigint() });
    assert.throws(
      () => decodeRows(iris, t, [{ n: "9007199254740993" }], [{ name: "n", typeOid: 20 }]),
      (e: unknown) => {
        assert.ok(e instanceof ValidationError);
        assert.equal(
          (e as Error).message,
          `A bigint column holds 9007199254740993, beyond the exact range of a JavaScript number; declare it col.bigint({ mode: "bigint" })`,
        );
        return true;
      },
    );
  });
});
