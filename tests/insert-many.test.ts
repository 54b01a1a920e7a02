/**
 * insertMany: all or nothing, never one awaited round trip per row.
 * PostgreSQL/PGlite get multi-row INSERTs chunked under the 65,535-parameter
 * limit; IRIS gets single-row INSERTs pipelined in one transaction (that plan
 * is also run here against PostgreSQL, with the dialect's capabilities set as
 * IRIS's are). 100,000 rows on every backend: measured at 1-2 s on PostgreSQL
 * and 1.5-10 s on PGlite (Node, a busy 2-CPU machine), so PGlite gets the full
 * 100,000 too. A latency proxy shows that neither plan waits a round trip per row.
 */
import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import * as net from "node:net";
import {
  col,
  type Engine,
  Engine as EngineClass,
  RowCountError,
  table,
  UniqueViolationError,
  ValidationError,
} from "../mod.ts";
import { resolveConfig } from "../src/config.ts";
import type { Dialect } from "../src/dialects/dialect.ts";
import { irisDialect } from "../src/dialects/iris/iris-dialect.ts";
import { postgresDialect } from "../src/dialects/postgres/postgres-dialect.ts";
import { multiRowInserts } from "../src/statements/insert.ts";
import { MAX_PARAMS } from "../src/adapters/adapter.ts";
import { normalizeRow } from "../src/statements/rows.ts";
import { BACKENDS, engineFor, PG_URL, uniqueName } from "./helpers.ts";

/** Large inserts: generous, so a loaded machine or a runner with a 5 s default does not cut them short. */
const SLOW = { timeout: 120_000 };

function itemsTable() {
  return table(uniqueName("items"), {
    id: col.integer().primaryKey(),
    code: col.varchar(20).notNull().unique(),
    score: col.double(),
    label: col.text(),
  });
}

function makeRows(n: number) {
  return Array.from(
    { length: n },
    (_, i) => ({ id: i, code: "c" + i, score: i / 8, label: i % 2 ? "ünï " + i : null }),
  );
}

async function countRows(engine: Engine, name: string): Promise<number> {
  return Number((await engine.execute(`SELECT count(*) AS n FROM "${name}"`)).scalar());
}

/** Statements an insertMany sends: its INSERTs plus BEGIN, SAVEPOINT, RELEASE and COMMIT. */
async function statementsFor(engine: Engine, fn: () => Promise<unknown>): Promise<number> {
  const before = engine.stats().queries;
  await fn();
  return engine.stats().queries - before;
}

describe("multi-row INSERT chunks (PostgreSQL plan)", () => {
  for (const [width, n] of [[1, 70_000], [3, 70_000], [40, 5_000]]) {
    it(`stays within ${MAX_PARAMS} parameters per statement with ${width} column(s), whatever chunkSize asks`, () => {
      const columns = Object.fromEntries(Array.from({ length: width }, (_, i) => [`c${i}`, col.integer()]));
      const t = table("wide", columns);
      const rows = Array.from(
        { length: n },
        (_, r) => normalizeRow(t, Object.fromEntries(Object.keys(columns).map((c) => [c, r])), "insertMany", true),
      );
      const statements = multiRowInserts(postgresDialect, t, "public", rows, 1_000_000);
      let total = 0;
      for (const s of statements) {
        assert.ok(s.params.length <= MAX_PARAMS, `${s.params.length} parameters in one statement`);
        assert.equal(s.params.length % width, 0);
        const placeholders = s.text.match(/\$\d+/g)!;
        assert.equal(placeholders.length, s.params.length);
        assert.equal(placeholders.at(-1), "$" + s.params.length);
        total += s.params.length / width;
      }
      assert.equal(total, n, "every row is in exactly one statement");
      assert.equal(statements.length, Math.ceil(n / Math.floor(MAX_PARAMS / width)));
    });
  }

  it("uses chunkSize rows per statement when that fits, and DEFAULT where a row leaves a column out", () => {
    const t = table("d", { a: col.integer(), b: col.boolean().default(true) });
    const rows = [{ a: 1 }, { a: 2, b: false }, { a: 3 }].map((r) => normalizeRow(t, r, "insertMany", true));
    const statements = multiRowInserts(postgresDialect, t, "public", rows, 2);
    assert.deepEqual(statements, [
      { text: `INSERT INTO "d" ("a", "b") VALUES ($1, DEFAULT), ($2, $3)`, params: [1, 2, false] },
      { text: `INSERT INTO "d" ("a", "b") VALUES ($1, DEFAULT)`, params: [3] },
    ]);
  });
});

for (const backend of BACKENDS) {
  describe(`insertMany on ${backend.name}`, () => {
    let engine: Engine;
    before(() => {
      engine = engineFor(backend);
    });
    after(() => engine.dispose());

    it("inserts 100,000 rows in multi-row statements of chunkSize rows", SLOW, async () => {
      const t = itemsTable();
      await engine.createAll([t]);
      try {
        const rows = makeRows(100_000);
        let result: { count: number } | undefined;
        const sent = await statementsFor(engine, async () => {
          result = await engine.session((s) => s.insertMany(t, rows));
        });
        assert.deepEqual(result, { count: 100_000 });
        assert.equal(sent, 100 + 4, "100 INSERTs of 1,000 rows (default chunkSize), plus transaction control");
        const check = await engine.execute(
          `SELECT count(*)::int AS n, sum(id)::bigint AS ids, count(DISTINCT code)::int AS codes, max(score) AS top FROM "${t.name}"`,
        );
        assert.deepEqual(check.rows, [{ n: 100_000, ids: 4_999_950_000, codes: 100_000, top: 99_999 / 8 }]);
        const sample = await engine.session((s) =>
          s.find(t, { where: { id: { in: [0, 77_777, 99_999] } }, orderBy: { id: "asc" } })
        );
        assert.deepEqual(sample, [rows[0], rows[77_777], rows[99_999]]);
      } finally {
        await engine.dropAll([t]);
      }
    });

    it("caps a huge chunkSize under the parameter limit: 100,000 rows of 4 columns in 7 statements", SLOW, async () => {
      const t = itemsTable();
      await engine.createAll([t]);
      try {
        const sent = await statementsFor(
          engine,
          () => engine.session((s) => s.insertMany(t, makeRows(100_000), { chunkSize: 1_000_000 })),
        );
        // 65,533 / 4 columns = 16,383 rows per statement.
        assert.equal(sent, Math.ceil(100_000 / 16_383) + 4);
        assert.equal(await countRows(engine, t.name), 100_000);
      } finally {
        await engine.dropAll([t]);
      }
    });

    it("one column and a huge chunkSize: 70,000 rows in 2 statements the driver takes", SLOW, async () => {
      // Chunks of 65,534 one-parameter rows used to reach postgres.js, which refuses 65,534 parameters.
      const t = table(uniqueName("ids"), { id: col.integer().primaryKey() });
      await engine.createAll([t]);
      try {
        const rows = Array.from({ length: 70_000 }, (_, id) => ({ id }));
        const sent = await statementsFor(
          engine,
          () => engine.session((s) => s.insertMany(t, rows, { chunkSize: 1e6 })),
        );
        assert.equal(sent, 2 + 4);
        assert.equal(await countRows(engine, t.name), 70_000);
      } finally {
        await engine.dropAll([t]);
      }
    });

    it(
      "leaves zero rows when row 50,000 of 100,000 breaks a unique constraint only the server can check",
      SLOW,
      async () => {
        const t = itemsTable();
        await engine.createAll([t]);
        try {
          const rows = makeRows(100_000);
          rows[50_000] = { ...rows[50_000], code: "c10" };
          await assert.rejects(engine.session((s) => s.insertMany(t, rows)), (e: unknown) => {
            assert.ok(e instanceof UniqueViolationError, `expected UniqueViolationError, got ${e}`);
            assert.equal(
              (e as Error).message,
              `duplicate key value violates unique constraint "${t.name}_code_key" (Key (code)=(c10) already exists.) [SQLSTATE 23505]`,
            );
            return true;
          });
          assert.equal(await countRows(engine, t.name), 0);
        } finally {
          await engine.dropAll([t]);
        }
      },
    );

    it("is all or nothing inside a longer session: earlier chunks are undone, the work around it stays", async () => {
      const t = itemsTable();
      await engine.createAll([t]);
      try {
        await engine.session(async (s) => {
          await s.insert(t, { id: -1, code: "before" });
          const rows = makeRows(5_000);
          rows[3_210] = { ...rows[3_210], code: "c7" }; // in the 7th of 10 chunks
          await assert.rejects(s.insertMany(t, rows, { chunkSize: 500 }), UniqueViolationError);
          await s.insert(t, { id: -2, code: "after" });
        });
        const left = await engine.session((s) => s.find(t, { orderBy: { id: "desc" }, columns: ["code"] }));
        assert.deepEqual(left, [{ code: "before" }, { code: "after" }]);
      } finally {
        await engine.dropAll([t]);
      }
    });

    it("fills the defaults of columns a row leaves out, whatever other rows set", async () => {
      const t = table(uniqueName("mixed"), {
        id: col.integer().primaryKey().generated(),
        title: col.varchar(20).notNull(),
        published: col.boolean().notNull().default(false),
        rank: col.integer(),
        createdAt: col.timestamp().defaultNow(),
        ref: col.uuid().generated(),
      });
      await engine.createAll([t]);
      try {
        await engine.session((s) =>
          s.insertMany(t, [{ title: "a" }, { title: "b", published: true }, { title: "c", rank: 3 }], { chunkSize: 2 })
        );
        const rows = await engine.session((s) => s.find(t, { orderBy: { id: "asc" } }));
        assert.deepEqual(rows.map(({ id, title, published, rank }) => ({ id, title, published, rank })), [
          { id: 1, title: "a", published: false, rank: null },
          { id: 2, title: "b", published: true, rank: null },
          { id: 3, title: "c", published: false, rank: 3 },
        ]);
        for (const r of rows) {
          assert.ok(r.createdAt instanceof Date);
          assert.match(r.ref!, /^[0-9a-f-]{36}$/);
        }
        assert.equal(new Set(rows.map((r) => r.ref)).size, 3);
      } finally {
        await engine.dropAll([t]);
      }
    });

    if (backend.vectors) {
      it("inserts vectors and reads them back as number[]", async () => {
        const t = table(uniqueName("vecs"), { id: col.integer().primaryKey(), embedding: col.vector(4) });
        await engine.createAll([t]);
        try {
          const rows = Array.from({ length: 2_000 }, (_, i) => ({ id: i, embedding: [i, -i - 1, 0.5, i / 4] }));
          await engine.session((s) => s.insertMany(t, rows, { chunkSize: 300 }));
          const back = await engine.session((s) =>
            s.find(t, { where: { id: { in: [0, 1_999] } }, orderBy: { id: "asc" } })
          );
          assert.deepEqual(back, [rows[0], rows[1_999]]);
        } finally {
          await engine.dropAll([t]);
        }
      });
    }

    it("sends nothing for an empty list, and rejects bad arguments before sending anything", async () => {
      const t = itemsTable();
      const s = engine.session();
      try {
        const before = engine.stats().queries;
        assert.deepEqual(await s.insertMany(t, []), { count: 0 });
        await assert.rejects(s.insertMany(t, makeRows(2), { chunkSize: 0 }), (e: unknown) => {
          assert.ok(e instanceof ValidationError);
          assert.equal((e as Error).message, "chunkSize must be a whole number >= 1, got 0");
          return true;
        });
        await assert.rejects(s.insertMany(t, { id: 1 } as never), (e: unknown) => {
          assert.ok(e instanceof ValidationError);
          assert.equal((e as Error).message, "insertMany needs an array of rows");
          return true;
        });
        assert.equal(engine.stats().queries, before, "no statement was sent (the table does not even exist)");
      } finally {
        await s.close();
      }
    });
  });
}

describe("insertMany with IRIS's plan (single-row INSERTs, pipelined), run against PostgreSQL", () => {
  let engine: Engine;
  before(() => {
    // IRIS has neither multi-row VALUES nor RETURNING: its insert plans, spelled for PostgreSQL.
    const config = resolveConfig(PG_URL);
    engine = new EngineClass({ ...config, dialect: withIrisInserts(config.dialect) });
  });
  after(() => engine.dispose());

  it("inserts 20,000 rows as 20,000 single-row statements in one transaction", SLOW, async () => {
    const t = itemsTable();
    await engine.createAll([t]);
    try {
      const rows = makeRows(20_000);
      const sent = await statementsFor(engine, () => engine.session((s) => s.insertMany(t, rows)));
      assert.equal(sent, 20_000 + 4);
      assert.equal(await countRows(engine, t.name), 20_000);
    } finally {
      await engine.dropAll([t]);
    }
  });

  it("leaves zero rows when row 10,000 of 20,000 breaks a unique constraint", SLOW, async () => {
    const t = itemsTable();
    await engine.createAll([t]);
    try {
      const rows = makeRows(20_000);
      rows[10_000] = { ...rows[10_000], code: "c10" };
      await assert.rejects(engine.session((s) => s.insertMany(t, rows)), UniqueViolationError);
      assert.equal(await countRows(engine, t.name), 0);
    } finally {
      await engine.dropAll([t]);
    }
  });

  it("insert() reads the stored row back on the same connection, generated key included", async () => {
    const t = table(uniqueName("readback"), {
      id: col.integer().primaryKey().generated(),
      title: col.varchar(20).notNull(),
      published: col.boolean().notNull().default(true),
    });
    await engine.createAll([t]);
    try {
      const [a, b] = await engine.session(async (
        s,
      ) => [await s.insert(t, { title: "a" }), await s.insert(t, { title: "b" })]);
      assert.deepEqual(a, { id: 1, title: "a", published: true });
      assert.deepEqual(b, { id: 2, title: "b", published: true });
    } finally {
      await engine.dropAll([t]);
    }
  });
  it("insert() fails with RowCountError when the row cannot be read back, and rolls back", async () => {
    // A trigger stores another key than the one sent, so the read-back by the sent key finds nothing.
    const t = table(uniqueName("lost"), { id: col.integer().primaryKey(), title: col.varchar(20).notNull() });
    await engine.createAll([t]);
    const moveKey = `${t.name}_move`;
    try {
      await engine.execute(
        `CREATE FUNCTION ${moveKey}() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN NEW.id := NEW.id + 1000; ` +
          `RETURN NEW; END $$`,
      );
      await engine.execute(
        `CREATE TRIGGER ${moveKey} BEFORE INSERT ON ${t.name} FOR EACH ROW EXECUTE FUNCTION ${moveKey}()`,
      );
      await assert.rejects(engine.session((s) => s.insert(t, { id: 1, title: "a" })), (e: unknown) => {
        assert.ok(e instanceof RowCountError, `expected RowCountError, got ${String(e)}`);
        assert.equal((e as RowCountError).count, 0);
        assert.match((e as Error).message, /could not be read back \(found 0\)/);
        return true;
      });
      assert.equal(await countRows(engine, t.name), 0);
    } finally {
      await engine.dropAll([t]);
      await engine.execute(`DROP FUNCTION IF EXISTS ${moveKey}()`);
    }
  });
});

describe("never one awaited round trip per row", () => {
  // A TCP proxy in front of PostgreSQL that holds every chunk of bytes for DELAY ms each way, so a
  // round trip costs 2 * DELAY. Row-by-row awaiting of 400 rows would take 400 round trips (20 s).
  const DELAY = 25;
  const ROWS = 400;
  let proxy: { url: string; close(): Promise<void> };
  before(async () => {
    proxy = await startLatencyProxy(new URL(PG_URL), DELAY);
  });
  after(() => proxy.close());

  const plans = [
    ["PostgreSQL's plan: multi-row INSERTs of 10 rows, sent back to back", true],
    ["IRIS's plan: single-row INSERTs, pipelined", false],
  ] as const;
  for (const [name, multiRow] of plans) {
    it(`${name}: ${ROWS} rows in a few round trips`, SLOW, async () => {
      const config = resolveConfig(proxy.url, { pool: { max: 1 } });
      const engine = new EngineClass({
        ...config,
        dialect: multiRow ? config.dialect : withIrisInserts(config.dialect),
      });
      const t = itemsTable();
      try {
        await engine.createAll([t]);
        const elapsed = await engine.session(async (s) => {
          await s.execute("SELECT 1"); // the transaction is open before the clock starts
          const started = Date.now();
          await s.insertMany(t, makeRows(ROWS), { chunkSize: 10 });
          return Date.now() - started;
        });
        assert.equal(await countRows(engine, t.name), ROWS);
        const roundTrips = elapsed / (2 * DELAY);
        assert.ok(
          roundTrips < 40,
          `insertMany took ${elapsed} ms, about ${roundTrips.toFixed(1)} round trips for ${ROWS} rows`,
        );
      } finally {
        await engine.dropAll([t], { checkfirst: true });
        await engine.dispose();
      }
    });
  }
});

/** PostgreSQL's spelling with IRIS's insert plans (no RETURNING, single-row INSERTs, pipelined). */
function withIrisInserts(dialect: Dialect): Dialect {
  return {
    ...dialect,
    supportsMultiRowInsert: false,
    supportsReturning: false,
    insertOne: irisDialect.insertOne,
    insertMany: irisDialect.insertMany,
  };
}

/** Forwards 127.0.0.1:<random port> to `target`, delaying every chunk by `ms` in each direction, in order. */
async function startLatencyProxy(target: URL, ms: number): Promise<{ url: string; close(): Promise<void> }> {
  const sockets = new Set<net.Socket>();
  const delayed = (from: net.Socket, to: net.Socket) => {
    const queue: { due: number; data: Uint8Array }[] = [];
    let timer: ReturnType<typeof setTimeout> | undefined;
    let ended = false;
    const pump = () => {
      if (timer || queue.length === 0) {
        if (!timer && ended) to.end();
        return;
      }
      timer = setTimeout(() => {
        timer = undefined;
        while (queue.length > 0 && queue[0].due <= Date.now()) to.write(queue.shift()!.data);
        pump();
      }, Math.max(0, queue[0].due - Date.now()));
    };
    from.on("data", (data: Uint8Array) => {
      queue.push({ due: Date.now() + ms, data });
      pump();
    });
    from.on("end", () => {
      ended = true;
      pump();
    });
  };
  const server = net.createServer((client) => {
    const upstream = net.connect(Number(target.port || 5432), target.hostname);
    for (const s of [client, upstream]) {
      sockets.add(s);
      s.on("error", () => {
        client.destroy();
        upstream.destroy();
      });
      s.on("close", () => sockets.delete(s));
    }
    delayed(client, upstream);
    delayed(upstream, client);
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as net.AddressInfo;
  const url = new URL(target.href);
  url.hostname = "127.0.0.1";
  url.port = String(port);
  return {
    url: url.href,
    close: () =>
      new Promise<void>((resolve) => {
        for (const s of sockets) s.destroy();
        server.close(() => resolve());
      }),
  };
}
