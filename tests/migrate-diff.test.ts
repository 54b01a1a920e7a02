/**
 * What generate sees on columns that already exist, and what pull writes, on PostgreSQL (a
 * schema of its own; no pgvector) and PGlite (with pgvector): foreign keys added, retargeted
 * and dropped; plain, unique and HNSW indexes added and changed; vector columns and HNSW
 * indexes pulled back exactly; renames refused instead of written as drop + add. Each change
 * is generated, applied with migrate, and generated again to nothing.
 */
import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { mkdir, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { join, resolve } from "node:path";
import { tmpdir } from "node:os";
import {
  type AnyTable,
  col,
  createEngine,
  type Engine,
  generate,
  type HnswOptions,
  index,
  loadSchemaModule,
  pullSchema,
  table,
  UnsafeChangeError,
} from "../mod.ts";
import { ownPgSchema, PG_URL, uniqueName } from "./helpers.ts";

const ROOT = resolve(import.meta.dirname ?? new URL(".", import.meta.url).pathname, "..");

interface Target {
  name: string;
  url: () => string;
  vectors: boolean;
  /** A table's name in raw SQL (PostgreSQL: qualified by the test's schema). */
  ref: (name: string) => string;
  setup?: () => Promise<void>;
  teardown?: () => Promise<void>;
}

const pgSchema = ownPgSchema("mdiff");
const targets: Target[] = [
  {
    name: "postgres",
    url: () => pgSchema.url,
    vectors: false,
    ref: (name) => `"${pgSchema.name}"."${name}"`,
    setup: pgSchema.create,
    teardown: pgSchema.drop,
  },
  { name: "pglite", url: () => "pglite://memory", vectors: true, ref: (name) => `"${name}"` },
];

/** users, teams, and posts whose `author` may reference either; `hnsw` adds a vector column and its index. */
function schema(p: string, o: { ref?: "users" | "teams"; index?: "plain" | "unique"; hnsw?: HnswOptions } = {}) {
  const users = table(`${p}_users`, { id: col.integer().primaryKey(), name: col.varchar(50) });
  const teams = table(`${p}_teams`, { id: col.integer().primaryKey(), label: col.text() });
  let author = col.integer();
  if (o.ref === "users") author = author.references(() => users, "id");
  if (o.ref === "teams") author = author.references(() => teams, "id");
  const indexes = [];
  if (o.index === "plain") indexes.push(index(`${p}_posts_title`).on("title"));
  if (o.index === "unique") indexes.push(index(`${p}_posts_title`).on("title").unique());
  if (o.hnsw) indexes.push(index(`${p}_posts_emb`).on("emb").hnsw(o.hnsw));
  const posts = table(`${p}_posts`, {
    id: col.integer().primaryKey(),
    author,
    title: col.varchar(200),
    ...(o.hnsw ? { emb: col.vector(3) } : {}),
  }, { indexes });
  return [users, teams, posts] as AnyTable[];
}

for (const target of targets) {
  describe(`generate on existing columns, ${target.name}`, () => {
    let engine: Engine;
    let dir: string;
    const p = uniqueName("d");
    let n = 0;
    before(async () => {
      await target.setup?.();
      engine = createEngine(target.url());
      dir = await mkdtemp(join(tmpdir(), "irisql-mdiff-"));
    });
    after(async () => {
      await engine?.dispose();
      await rm(dir, { recursive: true, force: true });
      await target.teardown?.();
    });

    const mine = (tables: AnyTable[]) => tables;
    /** Only this test's tables are compared (PGlite is shared by nothing else here, PostgreSQL has its schema). */
    async function others(prefix: string) {
      const { tables } = await engine.introspect();
      return tables.filter((t) => !t.name.startsWith(prefix + "_")).map((t) => t.name);
    }
    /** generate, check the SQL, migrate, and generate again to nothing. */
    async function step(tables: AnyTable[], expect: RegExp[], o: { prefix?: string; allowDrop?: boolean } = {}) {
      const prefix = o.prefix ?? tables[0].name.replace(/_users$/, "");
      const folder = join(dir, "all");
      const ignoreTables = await others(prefix);
      const g = await generate(engine, {
        tables: mine(tables),
        folder,
        name: `step${++n}`,
        ignoreTables,
        allowDrop: o.allowDrop,
      });
      for (const re of expect) assert.match(g.sql, re, g.sql);
      if (expect.length) assert.ok(g.file, "a migration is written");
      await engine.migrate({ folder });
      const again = await generate(engine, { tables, ignoreTables: await others(prefix) });
      assert.deepEqual(again.statements, [], again.sql);
      return g;
    }

    it("adds, retargets and drops a foreign key on an existing column", async () => {
      await step(schema(p), [/CREATE TABLE/]);
      await step(schema(p, { ref: "users" }), [
        new RegExp(`ADD CONSTRAINT "${p}_posts_author_fkey" FOREIGN KEY \\("author"\\) REFERENCES .*"${p}_users"`),
      ]);
      await assert.rejects(
        engine.execute(`INSERT INTO ${target.ref(`${p}_posts`)} (id, author) VALUES (1, 99)`),
        /foreign key/i,
        "the constraint is really there",
      );
      const re = await step(schema(p, { ref: "teams" }), [
        /DROP CONSTRAINT "[^"]+_author_fkey"/,
        /REFERENCES .*_teams/,
      ]);
      assert.ok(re.sql.indexOf("DROP CONSTRAINT") < re.sql.indexOf("ADD CONSTRAINT"), re.sql);
      await step(schema(p), [new RegExp(`ALTER TABLE .*"${p}_posts" DROP CONSTRAINT "${p}_posts_author_fkey"`)]);
      await engine.execute(`INSERT INTO ${target.ref(`${p}_posts`)} (id, author) VALUES (1, 99)`);
      await engine.execute(`DELETE FROM ${target.ref(`${p}_posts`)}`);
    });

    it("keeps an ON DELETE the module cannot say, and refuses to lose it", async () => {
      const q = uniqueName("od");
      await step(schema(q, { ref: "users" }), [/CREATE TABLE/]);
      await engine.execute(
        `ALTER TABLE ${
          target.ref(`${q}_posts`)
        } DROP CONSTRAINT "${q}_posts_author_fkey", ADD CONSTRAINT "${q}_posts_author_fkey" ` +
          `FOREIGN KEY (author) REFERENCES ${target.ref(`${q}_users`)} (id) ON DELETE CASCADE`,
      );
      const same = await generate(engine, { tables: schema(q, { ref: "users" }), ignoreTables: await others(q) });
      assert.deepEqual(same.statements, [], same.sql);
      assert.ok(same.warnings.some((w) => /ON DELETE CASCADE/.test(w)), same.warnings.join("\n"));
      await assert.rejects(
        generate(engine, { tables: schema(q, { ref: "teams" }), ignoreTables: await others(q) }),
        (e: unknown) => e instanceof UnsafeChangeError && /ON DELETE CASCADE/.test(e.message),
      );
    });

    it("adds and changes plain and unique indexes on an existing column", async () => {
      const q = uniqueName("ix");
      await step(schema(q), [/CREATE TABLE/]);
      await step(schema(q, { index: "plain" }), [new RegExp(`CREATE INDEX "${q}_posts_title"`)]);
      await step(schema(q, { index: "unique" }), [/DROP INDEX/, new RegExp(`CREATE UNIQUE INDEX "${q}_posts_title"`)]);
      await step(schema(q), [/DROP INDEX/]);
    });

    it("a renamed column is refused, not written as drop + add (even with allowDrop)", async () => {
      const q = uniqueName("rn");
      await step(schema(q), [/CREATE TABLE/]);
      const [users, teams] = schema(q);
      const renamed = table(`${q}_posts`, {
        id: col.integer().primaryKey(),
        writer: col.integer(),
        title: col.varchar(200),
      });
      for (const allowDrop of [false, true]) {
        await assert.rejects(
          generate(engine, { tables: [users, teams, renamed], allowDrop, ignoreTables: await others(q) }),
          (e: unknown) =>
            e instanceof UnsafeChangeError && /author/.test(e.message) &&
            /RENAME COLUMN "author" TO "writer"/.test(e.message),
        );
      }
    });

    it("allowDrop drops tables that reference each other in an order the server accepts", async () => {
      const q = uniqueName("dr");
      await step(schema(q, { ref: "users" }), [/CREATE TABLE/]);
      const keep = table(`${q}_keep`, { id: col.integer().primaryKey() });
      const g = await generate(engine, { tables: [keep], allowDrop: true, ignoreTables: await others(q) });
      assert.ok(
        g.sql.indexOf(`DROP TABLE ${target.ref(`${q}_posts`)}`) <
          g.sql.indexOf(`DROP TABLE ${target.ref(`${q}_users`)}`),
        g.sql,
      );
      await step([keep], [/DROP TABLE/], { prefix: q, allowDrop: true });
      assert.equal(await engine.hasTable(`${q}_users`), false);
    });

    it("pull writes foreign keys and indexes back, and the module regenerates nothing", async () => {
      const q = uniqueName("pl");
      await step(schema(q, { ref: "users", index: "unique" }), [/CREATE TABLE/]);
      await pullRoundTrip(q, 3, [/references\(/, /\.unique\(\)/]);
    });

    if (target.name === "postgres") {
      it("a folder's unqualified names land in the engine's schema, not in public", async () => {
        const q = uniqueName("sc");
        const folder = join(dir, q);
        await mkdir(folder);
        await writeFile(join(folder, "20250101000000_plain.sql"), `CREATE TABLE "${q}" (id integer PRIMARY KEY)`);
        await engine.migrate({ folder, table: `${q}_history` });
        assert.equal(await engine.hasTable(q), true);
        // The migration lock holds a connection: everything else must run on it, or a pool of one waits forever.
        const one = createEngine(`${target.url()}&max=1&acquireTimeout=1000`);
        try {
          await writeFile(join(folder, "20250101000001_more.sql"), `ALTER TABLE "${q}" ADD COLUMN note text`);
          const r = await one.migrate({ folder, table: `${q}_history` });
          assert.deepEqual(r.applied, ["20250101000001_more.sql"]);
          assert.equal((await one.migrate({ folder, table: `${q}_history`, dryRun: true })).pending.length, 0);
        } finally {
          await one.dispose();
        }
        const pub = createEngine(PG_URL);
        try {
          assert.equal(await pub.hasTable(q, "public"), false, "nothing was created in public");
        } finally {
          await pub.dispose();
        }
      });
    }

    if (target.vectors) {
      it("adds and changes an HNSW index on an existing vector column", async () => {
        const q = uniqueName("hn");
        await step(schema(q, { hnsw: { metric: "cosine" } }), [/USING hnsw \("emb" vector_cosine_ops\)/]);
        await step(schema(q, { hnsw: { metric: "l2" } }), [/DROP INDEX/, /vector_l2_ops/]);
        await step(schema(q, { hnsw: { metric: "l2", m: 24 } }), [/DROP INDEX/, /m = 24/]);
        await step(schema(q, { hnsw: { metric: "l2", m: 24, efConstruction: 100 } }), [/ef_construction = 100/]);
        await step(schema(q, { hnsw: { metric: "dot", m: 24, efConstruction: 100 } }), [/vector_ip_ops/]);
      });

      it("pull writes vector columns with their dimensions and HNSW indexes; the module regenerates nothing", async () => {
        const q = uniqueName("pv");
        await step(schema(q, { ref: "teams", hnsw: { metric: "dot", m: 12, efConstruction: 80 } }), [/CREATE TABLE/]);
        const text = await pullRoundTrip(q, 3, [/col\.vector\(3\)/]);
        assert.match(text, /\.hnsw\(\{ metric: "dot", m: 12, efConstruction: 80 \}\)/);
      });

      it("pull output type-checks (deno check, strict flags): every column kind, a self-reference, vectors", {
        timeout: 120_000,
      }, async () => {
        const q = uniqueName("tc");
        const nodes = table(`${q}_nodes`, {
          id: col.bigint().primaryKey().generated(),
          parent: col.bigint().references((): AnyTable => nodes, "id"),
          label: col.varchar(80).notNull(),
          body: col.text(),
          price: col.numeric(10, 2),
          live: col.boolean().notNull().default(false),
          day: col.date(),
          at: col.timestamp({ withTimezone: true }),
          meta: col.json(),
          ref: col.uuid().unique(),
          score: col.double(),
          small: col.smallint(),
          n: col.integer().default(7),
          emb: col.vector(3),
        }, { indexes: [index(`${q}_nodes_emb`).on("emb").hnsw({ metric: "cosine", m: 8, efConstruction: 32 })] });
        await step([nodes], [/CREATE TABLE/], { prefix: q });
        const live = await engine.introspect();
        const text = pullSchema(engine.dialect, live.tables.filter((t) => t.name.startsWith(q + "_")), {
          importFrom: join(ROOT, "mod.ts"),
        });
        const file = join(ROOT, "test-output", `${q}_typecheck.ts`);
        const config = join(ROOT, `deno.pulled-${process.pid}.json`);
        await mkdir(join(ROOT, "test-output"), { recursive: true });
        await writeFile(file, text);
        const base = JSON.parse(await readFile(join(ROOT, "deno.json"), "utf8"));
        await writeFile(
          config,
          JSON.stringify({
            imports: base.imports,
            nodeModulesDir: base.nodeModulesDir,
            compilerOptions: { ...base.compilerOptions, strict: true, noUnusedLocals: true, noImplicitAny: true },
          }),
        );
        try {
          const r = await new Promise<{ code: number; out: string }>((done) => {
            execFile(
              join(ROOT, "node_modules", ".bin", "deno"),
              ["check", "--quiet", "--config", config, file],
              { cwd: ROOT, env: { ...process.env, NO_COLOR: "1" }, maxBuffer: 16 * 1024 * 1024 },
              (error, stdout, stderr) =>
                done({ code: error ? (typeof error.code === "number" ? error.code : 1) : 0, out: stdout + stderr }),
            );
          });
          assert.equal(r.code, 0, `deno check of the pulled module failed:\n${r.out}\n${text}`);
          assert.match(text, /references\(\(\): AnyTable => /, text); // a self-reference needs the annotation
        } finally {
          await rm(file, { force: true });
          await rm(config, { force: true });
        }
      });

      it("a vector column whose dimensions change is refused", async () => {
        const q = uniqueName("vd");
        await step(schema(q, { hnsw: { metric: "cosine" } }), [/CREATE TABLE/]);
        const [users, teams] = schema(q);
        const wider = table(`${q}_posts`, {
          id: col.integer().primaryKey(),
          author: col.integer(),
          title: col.varchar(200),
          emb: col.vector(4),
        }, { indexes: [index(`${q}_posts_emb`).on("emb").hnsw({ metric: "cosine" })] });
        await assert.rejects(
          generate(engine, { tables: [users, teams, wider], ignoreTables: await others(q) }),
          (e: unknown) => e instanceof UnsafeChangeError && /emb: vector\(3\) -> vector\(4\)/.test(e.message),
        );
      });
    }

    async function pullRoundTrip(q: string, count: number, expect: RegExp[]): Promise<string> {
      const live = await engine.introspect();
      const tables = live.tables.filter((t) => t.name.startsWith(q + "_"));
      const text = pullSchema(engine.dialect, tables, { importFrom: join(ROOT, "mod.ts") });
      for (const re of expect) assert.match(text, re, text);
      const file = join(ROOT, "test-output", `${q}_${target.name}_pulled.ts`);
      await mkdir(join(ROOT, "test-output"), { recursive: true });
      await writeFile(file, text);
      try {
        const loaded = await loadSchemaModule(file);
        assert.equal(loaded.length, count, text);
        const diff = await generate(engine, { tables: loaded, ignoreTables: await others(q) });
        assert.deepEqual(diff.statements, [], diff.sql + "\n" + text);
      } finally {
        await rm(file, { force: true });
      }
      return text;
    }
  });
}
