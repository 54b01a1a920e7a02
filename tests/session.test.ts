/**
 * Session: typed CRUD (insert returns the stored row, every where operator,
 * rows coerced by column type), validation before anything is sent, and the
 * unit-of-work lifecycle: commit on return, rollback on throw, manual
 * commit/rollback/close, nested savepoints, SessionClosedError afterwards.
 *
 * Backends: PostgreSQL, PGlite, iris:// through the REAL iris-pgwire 1.7.3 over
 * its IRIS stand-in (not IRIS), and iris:// through our emulator. The real
 * server commits every statement (fixture README, finding 5), so its engine runs
 * with `transactions: "autocommit"` and the rollback half of the lifecycle runs
 * only where a transaction can undo something: PostgreSQL, PGlite and the
 * emulator (`?transactions=server`), which keeps the IRIS dialect's transaction
 * SQL (START TRANSACTION, savepoints without RELEASE) under test. CRUD and
 * validation run on the real server, not on the emulator (same dialect, same
 * statements). What autocommit does instead is in transaction-truth.test.ts.
 */
import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import {
  col,
  type Engine,
  type InferRow,
  type QueryEvent,
  type Session,
  SessionClosedError,
  table,
  UniqueViolationError,
  UnsupportedFeatureError,
  ValidationError,
} from "../mod.ts";
import { engineFor, uniqueName, withIris } from "./helpers.ts";

const CLOSED = "This session has finished and can no longer be used; start a new one";

function notesTable() {
  return table(uniqueName("notes"), {
    id: col.bigint().primaryKey().generated(),
    title: col.varchar(100).notNull(),
    body: col.text(),
    rank: col.integer(),
    score: col.double(),
    tags: col.json<string[]>(),
    published: col.boolean().notNull().default(false),
    day: col.date(),
    createdAt: col.timestamp().defaultNow(),
    ref: col.uuid().generated(),
  });
}
type Note = InferRow<ReturnType<typeof notesTable>>;

const isClosed = (e: unknown) => {
  assert.ok(e instanceof SessionClosedError, `expected SessionClosedError, got ${e}`);
  assert.equal((e as Error).message, CLOSED);
  return true;
};

const BACKENDS = withIris({ real: "postgres", emulator: "postgres" });

for (const backend of BACKENDS) {
  // PGlite has one connection: a second session would wait for the first one's transaction.
  const secondConnection = backend.name !== "pglite";
  const iris = backend.dialect === "iris";
  /** CRUD and validation: every backend but the emulator (the real server runs the same IRIS statements). */
  const crud = backend.kind !== "iris-emulator";
  /** How many rows an UPDATE/DELETE touched: iris-pgwire cannot say (count null). */
  const count = (n: number) => ({ count: backend.rowCounts ? n : null });

  describe(`session on ${backend.name}`, () => {
    let engine: Engine;
    const events: QueryEvent[] = [];
    const notes = notesTable();
    const titles = async () =>
      (await engine.session((s) => s.find(notes, { orderBy: { id: "asc" }, columns: ["title"] }))).map((r) => r.title);

    before(async () => {
      engine = engineFor(backend, { onQuery: (e) => events.push(e) });
      await engine.createAll([notes], { checkfirst: true });
    });
    after(async () => {
      await engine.dropAll([notes], { checkfirst: true });
      await engine.dispose();
    });

    if (crud) {
      describe("CRUD", () => {
        const words = notesTable();
        const seed = [
          { title: "alpha", body: "first", rank: 1, score: 0.5, tags: ["a"], published: true, day: "2024-01-01" },
          { title: "beta", body: null, rank: 2, score: 1.5, tags: ["b"], published: false, day: "2024-02-01" },
          { title: "gamma", body: "third", rank: 3, score: 2.5, tags: [], published: true, day: "2024-03-01" },
          { title: "delta", body: "fourth", rank: null, score: null, tags: null, published: false, day: null },
          { title: "Alpine", body: "fifth", rank: 5, score: -1, tags: ["a", "b"], published: true, day: "2024-03-10" },
        ];
        let rows: Note[] = [];

        before(async () => {
          await engine.createAll([words], { checkfirst: true });
          rows = await engine.session(async (s) => {
            const out: Note[] = [];
            for (const r of seed) out.push(await s.insert(words, r));
            return out;
          });
        });
        after(() => engine.dropAll([words], { checkfirst: true }));

        it("insert returns the stored row: generated key, defaults and generated uuid included", () => {
          const [first, second] = rows;
          assert.equal(typeof first.id, "number");
          assert.equal(second.id, first.id + 1);
          assert.match(first.ref!, /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/);
          assert.notEqual(first.ref, second.ref);
          assert.ok(first.createdAt instanceof Date, "defaultNow() filled in by the server");
          assert.ok(
            Math.abs(first.createdAt.getTime() - Date.now()) < 60_000,
            `createdAt ${first.createdAt.toISOString()} is now`,
          );
          assert.deepEqual({ ...rows[3], id: 0, createdAt: null, ref: null }, {
            id: 0,
            title: "delta",
            body: "fourth",
            rank: null,
            score: null,
            tags: null,
            published: false,
            day: null,
            createdAt: null,
            ref: null,
          });
        });

        it("returns rows coerced to the column types", async () => {
          const [row] = await engine.session((s) => s.find(words, { where: { title: "alpha" } }));
          assert.deepEqual(row, rows[0]);
          assert.equal(typeof row.id, "number");
          assert.equal(typeof row.rank, "number");
          assert.equal(typeof row.score, "number");
          assert.equal(row.published, true);
          assert.deepEqual(row.tags, ["a"]);
          assert.equal(row.day, "2024-01-01");
          assert.ok(row.createdAt instanceof Date);
        });

        it("gets a row by primary key, or undefined", async () => {
          await engine.session(async (s) => {
            assert.deepEqual(await s.get(words, rows[2].id), rows[2]);
            assert.equal(await s.get(words, -1), undefined);
          });
        });

        it("finds with every where operator", async () => {
          const titlesWhere = (where: object) =>
            engine.session(async (s) =>
              (await s.find(words, { where: where as never, orderBy: { id: "asc" }, columns: ["title"] })).map((r) =>
                r.title
              )
            );
          const cases: [object, string[]][] = [
            [{}, ["alpha", "beta", "gamma", "delta", "Alpine"]],
            [{ title: "beta" }, ["beta"]],
            [{ rank: { eq: 2 } }, ["beta"]],
            [{ rank: { ne: 2 } }, ["alpha", "gamma", "Alpine"]], // NULL is neither equal nor unequal
            [{ rank: { gt: 2 } }, ["gamma", "Alpine"]],
            [{ rank: { gte: 2 } }, ["beta", "gamma", "Alpine"]],
            [{ rank: { lt: 2 } }, ["alpha"]],
            [{ rank: { lte: 2 } }, ["alpha", "beta"]],
            [{ rank: { gt: 1, lt: 5 } }, ["beta", "gamma"]],
            [{ rank: { in: [1, 3, 99] } }, ["alpha", "gamma"]],
            [{ rank: { in: [] } }, []],
            [{ title: { like: "Al%" } }, ["Alpine"]],
            [{ title: { like: "%a" } }, ["alpha", "beta", "gamma", "delta"]],
            [{ body: { isNull: true } }, ["beta"]],
            [{ body: { isNull: false } }, ["alpha", "gamma", "delta", "Alpine"]],
            [{ body: null }, ["beta"]],
            [{ rank: { eq: null } }, ["delta"]],
            [{ rank: { ne: null } }, ["alpha", "beta", "gamma", "Alpine"]],
            [{ published: true }, ["alpha", "gamma", "Alpine"]],
            [{ score: { lt: 0 } }, ["Alpine"]],
            [{ day: { gte: "2024-03-01" } }, ["gamma", "Alpine"]],
            [{ createdAt: { lte: new Date(Date.now() + 60_000) } }, ["alpha", "beta", "gamma", "delta", "Alpine"]],
            [{ createdAt: { gt: new Date(Date.now() + 60_000) } }, []],
            [{ id: rows[1].id }, ["beta"]],
            [{ tags: ["a", "b"] }, ["Alpine"]],
            [{ tags: { eq: [] } }, ["gamma"]],
            [{ or: [{ title: "alpha" }, { rank: { gte: 5 } }] }, ["alpha", "Alpine"]],
            [{ and: [{ published: true }, { rank: { lt: 5 } }] }, ["alpha", "gamma"]],
            [
              {
                published: false,
                or: [{ body: { isNull: true } }, { and: [{ title: { like: "d%" } }, { rank: { isNull: true } }] }],
              },
              ["beta", "delta"],
            ],
          ];
          for (const [where, expected] of cases) {
            assert.deepEqual(await titlesWhere(where), expected, JSON.stringify(where));
          }
          // An empty list is refused, not read as "no rows" / "every row" (tests/where-safety.test.ts).
          for (const where of [{ or: [] }, { and: [] }]) {
            await assert.rejects(titlesWhere(where), ValidationError, JSON.stringify(where));
          }
        });

        it("gets by a composite key, and says how to call get() when the key does not fit", async () => {
          const t = table(uniqueName("pairs"), {
            tenant: col.integer().primaryKey(),
            id: col.integer().primaryKey(),
            note: col.text(),
          });
          const free = table(uniqueName("nokey"), { note: col.text() });
          await engine.createAll([t, free]);
          try {
            await engine.session(async (s) => {
              await s.insertMany(t, [{ tenant: 1, id: 1, note: "1/1" }, { tenant: 2, id: 1, note: "2/1" }]);
              assert.deepEqual(await s.get(t, { tenant: 2, id: 1 }), { tenant: 2, id: 1, note: "2/1" });
              assert.deepEqual(await s.insert(free, { note: "no key" }), { note: "no key" });
              await assert.rejects(s.get(t, 1), (e: unknown) => {
                assert.ok(e instanceof ValidationError);
                assert.equal((e as Error).message, `Table ${t.name} has a composite key; pass { tenant, id }`);
                return true;
              });
              await assert.rejects(s.get(free, 1), (e: unknown) => {
                assert.ok(e instanceof ValidationError);
                assert.equal((e as Error).message, `Table ${free.name} has no primary key; use find() instead`);
                return true;
              });
            });
          } finally {
            await engine.dropAll([t, free]);
          }
        });

        it("orders, limits, offsets and picks columns", async () => {
          await engine.session(async (s) => {
            if (iris) {
              // iris-pgwire 1.7.3 turns LIMIT ? OFFSET ? into TOP n and drops the OFFSET silently
              // (fixture README, finding 11): refused before sending, never the wrong page.
              for (const offset of [1, 4]) {
                await assert.rejects(
                  s.find(words, { orderBy: { id: "asc" }, limit: 2, offset }),
                  (e: unknown) => e instanceof UnsupportedFeatureError && /offset/i.test((e as Error).message),
                  `offset ${offset}`,
                );
              }
              assert.deepEqual(
                await s.find(words, { orderBy: { id: "asc" }, limit: 2, offset: 0, columns: ["title"] }),
                [{ title: "alpha" }, { title: "beta" }],
                "offset 0 is fine",
              );
              assert.deepEqual(
                await s.find(words, {
                  where: { rank: { isNull: false } },
                  orderBy: { published: "desc", rank: "desc" },
                  limit: 2,
                  columns: ["title", "rank"],
                }),
                [{ title: "Alpine", rank: 5 }, { title: "gamma", rank: 3 }],
              );
              assert.deepEqual(await s.find(words, { orderBy: { id: "asc" }, limit: 1, columns: ["title"] }), [{
                title: "alpha",
              }]);
              assert.deepEqual(await s.find(words, { limit: 0 }), []);
              return;
            }
            const page = await s.find(words, {
              where: { rank: { isNull: false } },
              orderBy: { published: "desc", rank: "desc" },
              limit: 2,
              offset: 1,
              columns: ["title", "rank"],
            });
            assert.deepEqual(page, [{ title: "gamma", rank: 3 }, { title: "alpha", rank: 1 }]);
            assert.deepEqual(await s.find(words, { orderBy: { id: "asc" }, limit: 1, columns: ["title"] }), [{
              title: "alpha",
            }]);
            assert.deepEqual(await s.find(words, { orderBy: { id: "asc" }, offset: 4, columns: ["title"] }), [{
              title: "Alpine",
            }]);
            assert.deepEqual(await s.find(words, { limit: 0 }), []);
          });
        });

        it("updates and deletes what the where selects, and says how many", async () => {
          const t = notesTable();
          await engine.createAll([t]);
          try {
            await engine.session(async (s) => {
              await s.insertMany(t, [{ title: "a", rank: 1 }, { title: "b", rank: 2 }, { title: "c", rank: 3 }]);
              assert.deepEqual(
                await s.update(t, { rank: { gte: 2 } }, { body: "changed", published: true }),
                count(2),
              );
              assert.deepEqual(
                await s.find(t, { orderBy: { rank: "asc" }, columns: ["title", "body", "published"] }),
                [
                  { title: "a", body: null, published: false },
                  { title: "b", body: "changed", published: true },
                  { title: "c", body: "changed", published: true },
                ],
              );
              assert.deepEqual(await s.update(t, { title: "a" }, { body: null, tags: ["x"] }), count(1));
              assert.deepEqual(await s.find(t, { where: { title: "a" }, columns: ["body", "tags"] }), [{
                body: null,
                tags: ["x"],
              }]);
              assert.deepEqual(await s.update(t, { title: "zzz" }, { rank: 9 }), count(0));
              assert.deepEqual(await s.delete(t, { or: [{ title: "a" }, { rank: 3 }] }), count(2));
              assert.deepEqual(await s.find(t, { columns: ["title"] }), [{ title: "b" }]);
              assert.deepEqual(await s.delete(t, {}), count(1));
              assert.deepEqual(await s.find(t), []);
            });
          } finally {
            await engine.dropAll([t]);
          }
        });
      });

      describe("validation before anything is sent", () => {
        const rejected: [string, (s: Session) => Promise<unknown>, string][] = [
          [
            "an unknown column in where",
            (s) => s.find(notes, { where: { nope: 1 } as never }),
            `Unknown column "nope" in where on table ${notes.name}. Columns: ${notes.columnNames.join(", ")}`,
          ],
          [
            "an unknown column nested in or/and",
            (s) => s.delete(notes, { or: [{ title: "a" }, { and: [{ nope: 1 }] }] } as never),
            `Unknown column "nope" in where on table ${notes.name}. Columns: ${notes.columnNames.join(", ")}`,
          ],
          [
            "an unknown operator",
            (s) => s.find(notes, { where: { rank: { within: [1, 2] } } as never }),
            `Unknown operator "within" in where on ${notes.name}.rank. Operators: eq, ne, gt, gte, lt, lte, in, notIn, between, like, ilike, isNull`,
          ],
          [
            "a where value of the wrong type",
            (s) => s.find(notes, { where: { rank: { gt: "1" } } as never }),
            `where ${notes.name}.rank must be a whole number from -2147483648 to 2147483647, got "1"`,
          ],
          [
            "an unknown column in insert",
            (s) => s.insert(notes, { title: "t", nope: 1 } as never),
            `Unknown column "nope" in insert on table ${notes.name}. Columns: ${notes.columnNames.join(", ")}`,
          ],
          [
            "a missing NOT NULL column",
            (s) => s.insert(notes, { body: "b" } as never),
            `${notes.name}.title is required (NOT NULL, no default)`,
          ],
          [
            "a value too long for its column",
            (s) => s.insert(notes, { title: "x".repeat(101) }),
            `${notes.name}.title is 101 characters long; the column holds at most 100`,
          ],
          [
            "an unknown column in update",
            (s) => s.update(notes, { id: 1 }, { nope: 1 } as never),
            `Unknown column "nope" in update on table ${notes.name}. Columns: ${notes.columnNames.join(", ")}`,
          ],
          [
            "an update with nothing to set",
            (s) => s.update(notes, { id: 1 }, {}),
            `update on table ${notes.name} needs at least one column value`,
          ],
          [
            "a delete without where",
            (s) => s.delete(notes, undefined as never),
            `delete on table ${notes.name} needs a where; pass {} to delete every row`,
          ],
          [
            "a delete whose where values are all undefined (it would delete every row)",
            (s) => s.delete(notes, { id: undefined }),
            `delete on table ${notes.name}: every value in where is undefined, so it would delete every row; ` +
            `pass {} to delete every row`,
          ],
          [
            "an update whose where values are all undefined (it would update every row)",
            (s) => s.update(notes, { title: undefined, rank: undefined }, { body: "x" }),
            `update on table ${notes.name}: every value in where is undefined, so it would update every row; ` +
            `pass {} to update every row`,
          ],
          [
            "an unknown orderBy column",
            (s) => s.find(notes, { orderBy: { nope: "asc" } as never }),
            `Unknown column "nope" in orderBy on table ${notes.name}. Columns: ${notes.columnNames.join(", ")}`,
          ],
          [
            "a negative limit",
            (s) => s.find(notes, { limit: -1 }),
            `limit on table ${notes.name} must be a whole number >= 0, got -1`,
          ],
          [
            "a bad row in insertMany",
            (s) => s.insertMany(notes, [{ title: "ok" }, { title: "ok" }, { title: "t", rank: 1.5 }]),
            `row 2: ${notes.name}.rank must be a whole number from -2147483648 to 2147483647, got 1.5`,
          ],
        ];
        for (const [what, call, message] of rejected) {
          it(`rejects ${what} with a ValidationError`, async () => {
            const sent = events.length;
            const s = engine.session();
            try {
              await assert.rejects(call(s), (e: unknown) => {
                assert.ok(e instanceof ValidationError, `expected ValidationError, got ${e}`);
                assert.equal((e as Error).message, message);
                return true;
              });
              assert.equal(s.inTransaction, false, "no transaction was started");
            } finally {
              await s.close();
            }
            assert.deepEqual(events.slice(sent).map((e) => e.sql), [], "nothing was sent");
          });
        }
      });
    }

    describe("lifecycle", () => {
      /** Tests that need a rollback to undo work: not through the real iris-pgwire (autocommit). */
      const undoIt = (name: string, fn: () => Promise<void>) => {
        if (backend.transactions) it(name, fn);
      };

      it("engine.session(fn) commits when fn returns, and passes its result through", async () => {
        const result = await engine.session(async (s) => {
          await s.insert(notes, { title: "committed" });
          return 42;
        });
        assert.equal(result, 42);
        assert.ok((await titles()).includes("committed"));
      });

      undoIt("engine.session(fn) rolls back when fn throws, and rethrows the same error", async () => {
        const boom = new Error("boom");
        await assert.rejects(
          engine.session(async (s) => {
            await s.insert(notes, { title: "rolled back" });
            await s.execute(`UPDATE "${notes.name}" SET body = 'touched'`);
            throw boom;
          }),
          (e: unknown) => e === boom,
        );
        const all = await engine.session((s) => s.find(notes));
        assert.ok(!all.some((r) => r.title === "rolled back"));
        assert.ok(!all.some((r) => r.body === "touched"));
      });

      undoIt("rolls back everything after a server error inside engine.session(fn)", async () => {
        await assert.rejects(
          engine.session(async (s) => {
            const a = await s.insert(notes, { title: "before the error" });
            await s.insert(notes, { id: a.id, title: "duplicate key" });
          }),
          (e: unknown) =>
            e instanceof UniqueViolationError &&
            (iris ? /^\[SQLCODE: <-119>:/ : /duplicate key value violates unique constraint/).test(e.message),
        );
        assert.ok(!(await titles()).includes("before the error"));
      });

      undoIt("calls made at once share one transaction and roll back together", async () => {
        const boom = new Error("after concurrent inserts");
        await assert.rejects(
          engine.session(async (s) => {
            await Promise.all([1, 2, 3, 4, 5].map((i) => s.insert(notes, { title: `concurrent ${i}` })));
            assert.equal((await s.find(notes, { where: { title: { like: "concurrent %" } } })).length, 5);
            throw boom;
          }),
          (e: unknown) => e === boom,
        );
        assert.ok(!(await titles()).some((t) => t.startsWith("concurrent ")));
      });

      // DEFERRABLE constraints are PostgreSQL's: IRIS checks at the statement.
      if (!iris) {
        it("a failing COMMIT is the error engine.session(fn) throws, and nothing is kept", async () => {
          const name = uniqueName("deferred");
          await engine.execute(
            `CREATE TABLE "${name}" (id integer, CONSTRAINT "${name}_u" UNIQUE (id) DEFERRABLE INITIALLY DEFERRED)`,
          );
          const t = table(name, { id: col.integer() });
          try {
            let kept: Session | undefined;
            await assert.rejects(
              engine.session(async (s) => {
                kept = s;
                await s.insert(t, { id: 1 });
                await s.insert(t, { id: 1 }); // only checked at COMMIT
              }),
              (e: unknown) =>
                e instanceof UniqueViolationError &&
                e.message.startsWith(`duplicate key value violates unique constraint "${name}_u"`),
            );
            assert.equal(kept!.closed, true);
            assert.deepEqual((await engine.execute(`SELECT count(*)::int AS n FROM "${name}"`)).rows, [{ n: 0 }]);
          } finally {
            await engine.dropAll([t]);
          }
        });
      }

      it("a session from engine.session(fn) cannot be used after fn finished", async () => {
        let kept: Session | undefined;
        await engine.session((s) => {
          kept = s;
        });
        assert.equal(kept!.closed, true);
        await assert.rejects(kept!.insert(notes, { title: "late" }), isClosed);
        await assert.rejects(kept!.find(notes), isClosed);
        await assert.rejects(kept!.execute("SELECT 1"), isClosed);
        await assert.rejects(kept!.commit(), isClosed);
        assert.ok(!(await titles()).includes("late"));
      });

      undoIt("manual commit makes work visible; the session goes on with a new transaction", async () => {
        const s = engine.session();
        try {
          await s.insert(notes, { title: "manual 1" });
          assert.equal(s.inTransaction, true);
          if (secondConnection) assert.ok(!(await titles()).includes("manual 1"), "not visible before commit");
          await s.commit();
          assert.equal(s.inTransaction, false);
          assert.ok((await titles()).includes("manual 1"));
          await s.insert(notes, { title: "manual 2" });
          await s.commit();
          assert.ok((await titles()).includes("manual 2"));
        } finally {
          await s.close();
        }
      });

      undoIt("manual rollback undoes the work; the session stays usable", async () => {
        const s = engine.session();
        try {
          await s.insert(notes, { title: "undone" });
          await s.update(notes, {}, { body: "undone too" });
          await s.rollback();
          assert.equal(s.inTransaction, false);
          await s.insert(notes, { title: "after rollback" });
          await s.commit();
        } finally {
          await s.close();
        }
        const all = await engine.session((x) => x.find(notes));
        assert.ok(!all.some((r) => r.title === "undone" || r.body === "undone too"));
        assert.ok(all.some((r) => r.title === "after rollback"));
      });

      undoIt("close() rolls back what was not committed; afterwards every call is a SessionClosedError", async () => {
        const s = engine.session();
        await s.insert(notes, { title: "closed uncommitted" });
        await s.close();
        await s.close(); // safe twice
        assert.equal(s.closed, true);
        assert.ok(!(await titles()).includes("closed uncommitted"));
        const calls: (() => Promise<unknown>)[] = [
          () => s.insert(notes, { title: "x" }),
          () => s.insertMany(notes, [{ title: "x" }]),
          () => s.get(notes, 1),
          () => s.find(notes),
          () => s.update(notes, { id: 1 }, { title: "x" }),
          () => s.delete(notes, { id: 1 }),
          () => s.execute("SELECT 1"),
          () => s.savepoint(() => {}),
          () => s.commit(),
          () => s.rollback(),
        ];
        for (const call of calls) await assert.rejects(call(), isClosed);
        await assert.rejects(s.stream("SELECT 1").next(), isClosed);
      });

      undoIt("savepoint(fn) undoes only its own work when fn throws; the outer work is kept", async () => {
        const boom = new Error("inner failure");
        await engine.session(async (s) => {
          await s.insert(notes, { title: "outer kept" });
          await assert.rejects(
            s.savepoint(async (sp) => {
              assert.equal(sp, s);
              await sp.insert(notes, { title: "savepoint undone" });
              throw boom;
            }),
            (e: unknown) => e === boom,
          );
          const kept = await s.savepoint(async () => {
            await s.insert(notes, { title: "savepoint kept" });
            return "value";
          });
          assert.equal(kept, "value");
          await s.insert(notes, { title: "outer after" });
        });
        const all = await titles();
        for (const t of ["outer kept", "savepoint kept", "outer after"]) assert.ok(all.includes(t), t);
        assert.ok(!all.includes("savepoint undone"));
      });

      undoIt("savepoints nest: an inner failure leaves the middle level and the outer work", async () => {
        await engine.session(async (s) => {
          await s.insert(notes, { title: "nest level 0" });
          await s.savepoint(async () => {
            await s.insert(notes, { title: "nest level 1" });
            await assert.rejects(
              s.savepoint(async () => {
                await s.insert(notes, { title: "nest level 2" });
                await s.savepoint(async () => {
                  await s.insert(notes, { title: "nest level 3" });
                });
                throw new Error("level 2 fails");
              }),
              /level 2 fails/,
            );
            await s.insert(notes, { title: "nest level 1 after" });
          });
        });
        const all = await titles();
        for (const t of ["nest level 0", "nest level 1", "nest level 1 after"]) assert.ok(all.includes(t), t);
        assert.ok(!all.includes("nest level 2") && !all.includes("nest level 3"));
      });

      undoIt("a server error inside a savepoint leaves the transaction usable", async () => {
        await engine.session(async (s) => {
          const a = await s.insert(notes, { title: "sp error outer" });
          await assert.rejects(
            s.savepoint(() => s.insert(notes, { id: a.id, title: "sp error duplicate" })),
            UniqueViolationError,
          );
          await s.insert(notes, { title: "sp error after" });
        });
        const all = await titles();
        assert.ok(all.includes("sp error outer") && all.includes("sp error after"));
        assert.ok(!all.includes("sp error duplicate"));
      });

      undoIt("raw execute() runs inside the session's transaction", async () => {
        const s = engine.session();
        try {
          await s.execute(`INSERT INTO "${notes.name}" (title) VALUES ('raw in session')`);
          const r = await s.find(notes, { where: { title: "raw in session" }, columns: ["title"] });
          assert.deepEqual(r, [{ title: "raw in session" }]);
          await s.rollback();
          assert.deepEqual(await s.find(notes, { where: { title: "raw in session" } }), []);
        } finally {
          await s.close();
        }
      });
    });
  });
}
