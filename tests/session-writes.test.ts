/**
 * The write API a new user reaches for first (issue #16, "API gaps"), on PostgreSQL, PGlite
 * and iris:// through the REAL iris-pgwire 1.7.3 over its IRIS stand-in (not IRIS), which runs
 * with transactions: "autocommit":
 * - onQuery reports every statement sent, pipelined ones included (insert's INSERT + read-back
 *   on IRIS, insertMany's INSERTs everywhere), with its error when it fails;
 * - update()/delete() with { returning: true } give { count, rows } with the same meaning on
 *   every dialect (RETURNING on PostgreSQL; keys read first, then the rows read back, on IRIS);
 * - upsert() inserts or updates by a unique key and returns the row as stored (ON CONFLICT on
 *   PostgreSQL, INSERT OR UPDATE on IRIS), and refuses on IRIS what INSERT OR UPDATE would do
 *   differently.
 * Test data avoid values iris-pgwire would change (numeric-looking text, ISO timestamps).
 */
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import {
  col,
  type InferRow,
  type QueryEvent,
  table,
  UniqueViolationError,
  UnsupportedFeatureError,
  ValidationError,
} from "../mod.ts";
import { engineFor, everyBackend, uniqueName } from "./helpers.ts";

const people = table(uniqueName("sw_people"), {
  id: col.integer().primaryKey(),
  email: col.varchar(100).notNull().unique(),
  name: col.varchar(100),
  age: col.integer(),
});
const counters = table(uniqueName("sw_counters"), {
  id: col.integer().primaryKey().generated(),
  code: col.varchar(20).notNull().unique(),
  hits: col.integer().notNull(),
  note: col.varchar(40),
});
const pairs = table(uniqueName("sw_pairs"), {
  a: col.integer().primaryKey(),
  b: col.integer().primaryKey(),
  v: col.varchar(20),
});
const logs = table(uniqueName("sw_logs"), { msg: col.varchar(40), n: col.integer() });

const backends = everyBackend([people, counters, pairs, logs]);

const byId = <R extends { id: number }>(rows: R[]) => [...rows].sort((x, y) => x.id - y.id);

for (const name of backends.names) {
  const backend = backends.backend(name);
  const iris = backend.dialect === "iris";
  describe(`session writes on ${name}`, () => {
    const engine = () => backends.engine(name);

    it("onQuery reports every statement insert and insertMany send, pipelined or not, with errors", async () => {
      const events: QueryEvent[] = [];
      const watched = engineFor(backend.url, { onQuery: (e) => events.push(e) });
      try {
        // pglite://memory: each engine has a database of its own.
        if (backend.kind === "pglite") await watched.createAll([people]);
        const ins = (e: QueryEvent) => e.sql.includes("INSERT INTO") && e.sql.includes(people.name);
        await watched.session((s) =>
          s.insertMany(people, [
            { id: 101, email: "m1@x.test", name: "m one" },
            { id: 102, email: "m2@x.test", name: "m two" },
            { id: 103, email: "m3@x.test", name: "m three" },
          ])
        );
        const many = events.filter(ins);
        // PostgreSQL: one multi-row INSERT; IRIS: one INSERT per row. Every value is counted once.
        assert.equal(many.length, iris ? 3 : 1, JSON.stringify(events.map((e) => e.sql)));
        assert.equal(many.reduce((n, e) => n + e.paramCount, 0), 9);
        for (const e of many) {
          assert.equal(e.error, undefined);
          assert.ok(e.durationMs >= 0);
          assert.equal(e.rowCount, backend.rowCounts ? 3 : null);
        }

        events.length = 0;
        const row = await watched.session((s) => s.insert(people, { id: 104, email: "m4@x.test" }));
        assert.equal(row.id, 104);
        assert.equal(events.filter(ins).length, 1);
        if (iris) {
          // The read-back SELECT pipelined behind the INSERT is reported too.
          const readBack = events.filter((e) => /^SELECT\b/.test(e.sql) && e.sql.includes(people.name));
          assert.equal(readBack.length, 1, JSON.stringify(events.map((e) => e.sql)));
          assert.equal(readBack[0].rowCount, 1);
        }

        // Failures are reported with their error: a duplicate key in insertMany and in insert.
        events.length = 0;
        await assert.rejects(
          watched.session((s) =>
            s.insertMany(people, [{ id: 105, email: "m5@x.test" }, { id: 101, email: "d@x.test" }])
          ),
          UniqueViolationError,
        );
        await assert.rejects(
          watched.session((s) => s.insert(people, { id: 101, email: "d2@x.test" })),
          UniqueViolationError,
        );
        const failed = events.filter((e) => ins(e) && e.error !== undefined);
        assert.equal(failed.length, 2, JSON.stringify(events.map((e) => [e.sql, e.error?.message])));
        for (const e of failed) {
          assert.ok(e.error instanceof UniqueViolationError);
          assert.equal(e.rowCount, null);
        }
      } finally {
        await watched.dispose();
      }
    });

    it("update with { returning: true } gives the rows as stored and their count", async () => {
      await engine().session((s) =>
        s.insertMany(people, [
          { id: 1, email: "ann@x.test", name: "Ann", age: 41 },
          { id: 2, email: "bob@x.test", name: "Bob", age: 35 },
          { id: 3, email: "cy@x.test", name: "Cy", age: 52 },
        ])
      );
      const result = await engine().session((s) =>
        s.update(people, { id: { in: [1, 2, 3] }, age: { gte: 40 } }, { name: "Senior" }, { returning: true })
      );
      const rows: InferRow<typeof people>[] = result.rows;
      const count: number = result.count;
      assert.equal(count, 2);
      assert.deepEqual(byId(rows), [
        { id: 1, email: "ann@x.test", name: "Senior", age: 41 },
        { id: 3, email: "cy@x.test", name: "Senior", age: 52 },
      ]);
      // No match: nothing updated, nothing returned.
      assert.deepEqual(
        await engine().session((s) => s.update(people, { id: 999 }, { name: "none" }, { returning: true })),
        { count: 0, rows: [] },
      );
      // Setting the key itself: the row comes back under its new key.
      const moved = await engine().session((s) => s.update(people, { id: 2 }, { id: 20 }, { returning: true }));
      assert.deepEqual(moved, { count: 1, rows: [{ id: 20, email: "bob@x.test", name: "Bob", age: 35 }] });
      // Without the option: the old answer, unchanged.
      const plain = await engine().session((s) => s.update(people, { id: 20 }, { age: 36 }));
      assert.deepEqual(plain, { count: backend.rowCounts ? 1 : null });
    });

    it("delete with { returning: true } gives the rows as they were and their count", async () => {
      await engine().session((s) =>
        s.insertMany(people, [
          { id: 11, email: "d1@x.test", name: "Dee", age: 20 },
          { id: 12, email: "d2@x.test", name: "Eve", age: 21 },
          { id: 13, email: "d3@x.test", name: "Fay", age: 22 },
        ])
      );
      const result = await engine().session((s) =>
        s.delete(people, { id: { in: [11, 12, 13] }, name: { ne: "Eve" } }, { returning: true })
      );
      assert.equal(result.count, 2);
      assert.deepEqual(byId(result.rows), [
        { id: 11, email: "d1@x.test", name: "Dee", age: 20 },
        { id: 13, email: "d3@x.test", name: "Fay", age: 22 },
      ]);
      const left = await engine().session((s) => s.find(people, { where: { id: { in: [11, 12, 13] } } }));
      assert.deepEqual(left.map((r) => r.id), [12]);
      assert.deepEqual(
        await engine().session((s) => s.delete(people, { id: 999 }, { returning: true })),
        { count: 0, rows: [] },
      );
    });

    it("returning works with composite keys; without a primary key it needs RETURNING", async () => {
      await engine().session((s) =>
        s.insertMany(pairs, [{ a: 1, b: 1, v: "x" }, { a: 1, b: 2, v: "y" }, { a: 2, b: 1, v: "z" }])
      );
      const up = await engine().session((s) => s.update(pairs, { a: 1 }, { v: "w" }, { returning: true }));
      assert.deepEqual(
        up.rows.sort((p, q) => p.b - q.b),
        [{ a: 1, b: 1, v: "w" }, { a: 1, b: 2, v: "w" }],
      );
      const del = await engine().session((s) => s.delete(pairs, { b: 1 }, { returning: true }));
      assert.deepEqual(del.rows.sort((p, q) => p.a - q.a), [{ a: 1, b: 1, v: "w" }, { a: 2, b: 1, v: "z" }]);

      await engine().session((s) => s.insert(logs, { msg: "hello", n: 1 }));
      if (iris) {
        // No RETURNING and no key to find the rows again by: refused before anything is sent.
        await assert.rejects(
          engine().session((s) => s.update(logs, { n: 1 }, { msg: "bye" }, { returning: true })),
          (e: unknown) => e instanceof UnsupportedFeatureError && /primary key/.test(e.message),
        );
        await assert.rejects(
          engine().session((s) => s.delete(logs, { n: 1 }, { returning: true })),
          UnsupportedFeatureError,
        );
        assert.deepEqual(await engine().session((s) => s.find(logs)), [{ msg: "hello", n: 1 }]);
      } else {
        const r = await engine().session((s) => s.update(logs, { n: 1 }, { msg: "bye" }, { returning: true }));
        assert.deepEqual(r, { count: 1, rows: [{ msg: "bye", n: 1 }] });
      }
      await assert.rejects(
        // deno-lint-ignore no-explicit-any
        engine().session((s) => s.delete(logs, { n: 1 }, { returning: "yes" } as any)),
        ValidationError,
      );
      await assert.rejects(
        // deno-lint-ignore no-explicit-any
        engine().session((s) => s.delete(logs, { n: 1 }, { returnRows: true } as any)),
        ValidationError,
      );
    });

    it("upsert inserts, then updates by the conflict key, returning the row as stored", async () => {
      const first = await engine().session((s) =>
        s.upsert(counters, { code: "alpha", hits: 1, note: "new" }, { conflict: ["code"] })
      );
      assert.equal(typeof first.id, "number");
      assert.deepEqual({ ...first, id: 0 }, { id: 0, code: "alpha", hits: 1, note: "new" });
      const second = await engine().session((s) =>
        s.upsert(counters, { code: "alpha", hits: 2 }, { conflict: ["code"] })
      );
      // Same row (same generated key); the columns given are updated, the others kept.
      assert.deepEqual(second, { id: first.id, code: "alpha", hits: 2, note: "new" });
      const other = await engine().session((s) =>
        s.upsert(counters, { code: "beta", hits: 7 }, { conflict: ["code"] })
      );
      assert.notEqual(other.id, first.id);
      assert.equal(
        (await engine().session((s) => s.find(counters, { where: { code: { in: ["alpha", "beta"] } } }))).length,
        2,
      );
      // Only the key given: inserted if absent, else left as it is; the stored row either way.
      const kept = await engine().session((s) => s.upsert(pairs, { a: 7, b: 7 }, { conflict: ["a", "b"] }));
      assert.deepEqual(kept, { a: 7, b: 7, v: null });
      await engine().session((s) => s.update(pairs, { a: 7, b: 7 }, { v: "set" }));
      assert.deepEqual(
        await engine().session((s) => s.upsert(pairs, { b: 7, a: 7 }, { conflict: ["b", "a"] })),
        { a: 7, b: 7, v: "set" },
      );
    });

    it("upsert with update: a subset on PostgreSQL; refused on IRIS, where INSERT OR UPDATE sets every column", async () => {
      const base = await engine().session((s) =>
        s.upsert(counters, { code: "gamma", hits: 1, note: "first" }, { conflict: ["code"] })
      );
      const call = () =>
        engine().session((s) =>
          s.upsert(counters, { code: "gamma", hits: 5, note: "second" }, { conflict: ["code"], update: ["hits"] })
        );
      if (iris) {
        await assert.rejects(
          call(),
          (e: unknown) => e instanceof UnsupportedFeatureError && /every column/.test(e.message),
        );
        assert.deepEqual(await engine().session((s) => s.get(counters, base.id)), base);
      } else {
        assert.deepEqual(await call(), { ...base, hits: 5 });
      }
    });

    it("upsert refuses what it cannot mean: no unique key, a missing key value, and on IRIS a second unique key", async () => {
      const refused = (p: Promise<unknown>, re: RegExp) =>
        assert.rejects(p, (e: unknown) => e instanceof ValidationError && re.test(e.message));
      await refused(
        // deno-lint-ignore no-explicit-any
        engine().session((s) => s.upsert(counters, { code: "x", hits: 1 }, undefined as any)),
        /conflict/,
      );
      await refused(
        engine().session((s) => s.upsert(counters, { code: "x", hits: 1 }, { conflict: ["hits"] })),
        /not a unique key/,
      );
      await refused(
        engine().session((s) => s.upsert(counters, { code: "x", hits: 1 }, { conflict: ["id"] })),
        /needs a value for id/,
      );
      await refused(
        engine().session((s) => s.upsert(counters, { code: "x", hits: 1 }, { conflict: ["code"], update: ["code"] })),
        /conflict column/,
      );
      // people has two unique keys the row sets: id and email.
      const call = () =>
        engine().session((s) => s.upsert(people, { id: 31, email: "up@x.test", name: "Up" }, { conflict: ["email"] }));
      if (iris) {
        await assert.rejects(
          call(),
          (e: unknown) => e instanceof UnsupportedFeatureError && /any unique key/.test(e.message),
        );
        assert.equal(await engine().session((s) => s.get(people, 31)), undefined);
      } else {
        assert.deepEqual(await call(), { id: 31, email: "up@x.test", name: "Up", age: null });
        // The other key conflicting is a unique violation, as ON CONFLICT (email) says.
        await assert.rejects(
          engine().session((s) => s.upsert(people, { id: 31, email: "other@x.test" }, { conflict: ["email"] })),
          UniqueViolationError,
        );
      }
    });
  });
}
