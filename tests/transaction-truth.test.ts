/**
 * A transaction that did not commit is never reported as committed, and
 * concurrent calls in one session never undo each other's work — on
 * PostgreSQL, PGlite and iris:// (through the iris-pgwire EMULATOR, not IRIS).
 *
 * - A statement fails inside engine.session()/engine.begin()/a manual session,
 *   the caller catches the error and goes on: the commit rejects with
 *   TransactionRolledBackError and nothing is stored. Before, the commit
 *   resolved (PostgreSQL had answered COMMIT with ROLLBACK).
 * - A failure inside a savepoint that rolled back does not stop the commit.
 * - A statement sent into an aborted PostgreSQL transaction is a
 *   TransactionAbortedError whose message points at savepoint().
 * - Two savepoints started together in one session run one after the other:
 *   before, one failed with `savepoint "irisql_sp2" does not exist` and
 *   neither row was stored.
 * - Transaction control and session settings are refused on the pool, and
 *   transaction control inside a managed transaction.
 *
 * The emulator runs with `?transactions=server` (it models real transactions).
 * The REAL iris-pgwire 1.7.3 (over its IRIS stand-in, not IRIS) commits every
 * statement in external mode (fixture README, finding 5): no rollback can undo
 * anything there. The last block pins what irisql does about it (issue #15):
 * an iris:// engine must be told `transactions: "autocommit"`; then begin() and
 * a rollback after a write are a TransactionsUnavailableError, session writes
 * commit one by one, and insertMany says how many rows it wrote. Without the
 * option, begin() and the first write are refused before anything is sent.
 */
import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import {
  col,
  ConfigError,
  createEngine,
  type Engine,
  type EngineOptions,
  type QueryEvent,
  table,
  TransactionAbortedError,
  TransactionRolledBackError,
  UniqueViolationError,
  ValidationError,
} from "../mod.ts";
import { type IrisEmulator, startIrisEmulator } from "./fixtures/iris-pgwire-emulator/mod.ts";
import { irisBase, PG_URL, PGLITE_URL, transactionsUnavailable, uniqueName, withIris, withQuery } from "./helpers.ts";

const BACKENDS: { name: string; url: () => Promise<string>; abortsOnError: boolean }[] = [];
let emulator: IrisEmulator | undefined;
BACKENDS.push(
  { name: "postgres", url: () => Promise.resolve(PG_URL), abortsOnError: true },
  { name: "pglite", url: () => Promise.resolve(PGLITE_URL), abortsOnError: true },
  {
    name: "iris (emulator)",
    url: async () => withQuery((emulator ??= await startIrisEmulator()).url, "transactions=server"),
    // iris-pgwire answers with SQLSTATE 42000 and an IRIS SQLCODE, never 25P02.
    abortsOnError: false,
  },
);

after(async () => {
  await emulator?.close();
});

const rolledBack = (scope: "transaction" | "savepoint") => (e: unknown) => {
  assert.ok(e instanceof TransactionRolledBackError, `expected TransactionRolledBackError, got ${e}`);
  assert.equal((e as TransactionRolledBackError).scope, scope);
  assert.ok((e as Error).cause instanceof UniqueViolationError, `cause: ${(e as Error).cause}`);
  assert.match((e as Error).message, /savepoint\(\)/);
  return true;
};

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

for (const backend of BACKENDS) {
  describe(`transactions tell the truth on ${backend.name}`, () => {
    let engine: Engine;
    const events: QueryEvent[] = [];
    const items = table(uniqueName("truth"), {
      id: col.integer().primaryKey(),
      label: col.varchar(40).notNull(),
    });
    const ids = async () =>
      (await engine.session((s) => s.find(items, { orderBy: { id: "asc" }, columns: ["id"] }))).map((r) => r.id);

    before(async () => {
      engine = createEngine(await backend.url(), { onQuery: (e) => events.push(e) });
      await engine.createAll([items]);
    });
    after(async () => {
      await engine?.dropAll([items], { checkfirst: true }).catch(() => {});
      await engine?.dispose();
    });

    const clear = () => engine.session((s) => s.delete(items, {}));

    it("engine.session(): a caught failure makes the commit reject, and nothing is stored", async () => {
      await clear();
      await assert.rejects(
        engine.session(async (s) => {
          await s.insert(items, { id: 1, label: "a" });
          await assert.rejects(s.insert(items, { id: 1, label: "dup" }), UniqueViolationError);
          // Carries on as if nothing happened.
          return "done";
        }),
        rolledBack("transaction"),
      );
      assert.deepEqual(await ids(), []);
    });

    it("engine.begin(): the same, and the connection comes back usable", async () => {
      await clear();
      await assert.rejects(
        engine.begin(async (tx) => {
          await tx.execute(`INSERT INTO "${items.name}" (id, label) VALUES (1, 'a')`);
          await tx.execute(`INSERT INTO "${items.name}" (id, label) VALUES (1, 'dup')`).catch(() => {});
        }),
        rolledBack("transaction"),
      );
      assert.deepEqual(await ids(), []);
      await engine.begin((tx) => tx.execute(`INSERT INTO "${items.name}" (id, label) VALUES (3, 'c')`));
      assert.deepEqual(await ids(), [3]);
    });

    it("a manual session: commit() rejects, the session goes on with a fresh transaction", async () => {
      await clear();
      const s = engine.session();
      try {
        await s.insert(items, { id: 1, label: "a" });
        await s.insert(items, { id: 1, label: "dup" }).catch(() => {});
        await assert.rejects(s.commit(), rolledBack("transaction"));
        assert.equal(s.inTransaction, false);
        await s.insert(items, { id: 4, label: "d" });
        await s.commit();
      } finally {
        await s.close();
      }
      assert.deepEqual(await ids(), [4]);
    });

    it("a failed stream() inside the transaction counts as a failure too", async () => {
      await clear();
      await assert.rejects(
        engine.session(async (s) => {
          await s.insert(items, { id: 1, label: "a" });
          await assert.rejects(async () => {
            for await (const _ of s.stream(`SELECT * FROM "${items.name}_missing"`)) break;
          });
        }),
        (e: unknown) => e instanceof TransactionRolledBackError && e.scope === "transaction",
      );
      assert.deepEqual(await ids(), []);
    });

    it("a failure inside a savepoint that rolled back does not stop the commit", async () => {
      await clear();
      await engine.session(async (s) => {
        await s.insert(items, { id: 1, label: "a" });
        await assert.rejects(
          s.savepoint(async () => {
            await s.insert(items, { id: 2, label: "b" });
            await s.insert(items, { id: 1, label: "dup" });
          }),
          UniqueViolationError,
        );
        await s.insert(items, { id: 5, label: "e" });
      });
      assert.deepEqual(await ids(), [1, 5]);
    });

    it("a savepoint whose function swallowed a failure is rolled back and says so; the transaction goes on", async () => {
      await clear();
      await engine.session(async (s) => {
        await s.insert(items, { id: 1, label: "a" });
        await assert.rejects(
          s.savepoint(async () => {
            await s.insert(items, { id: 2, label: "b" });
            await s.insert(items, { id: 1, label: "dup" }).catch(() => {});
            return "looks fine";
          }),
          rolledBack("savepoint"),
        );
        await s.insert(items, { id: 6, label: "f" });
      });
      assert.deepEqual(await ids(), [1, 6]);
    });

    if (backend.abortsOnError) {
      it("a statement sent into an aborted transaction is a TransactionAbortedError that points at savepoint()", async () => {
        await clear();
        await assert.rejects(
          engine.begin(async (tx) => {
            await tx.execute(`INSERT INTO "${items.name}" (id, label) VALUES (1, 'a')`);
            await tx.execute(`INSERT INTO "${items.name}" (id, label) VALUES (1, 'dup')`).catch(() => {});
            await assert.rejects(tx.execute("SELECT 1 AS one"), (e: unknown) => {
              assert.ok(e instanceof TransactionAbortedError, `got ${e}`);
              assert.equal((e as TransactionAbortedError).sqlstate, "25P02");
              assert.match((e as Error).message, /savepoint\(\)/);
              return true;
            });
          }),
          TransactionRolledBackError,
        );
      });
    }

    it("two savepoints started together run one after the other; each keeps or undoes only its own work", async () => {
      await clear();
      await engine.session(async (s) => {
        const [first, second] = await Promise.allSettled([
          s.savepoint(async () => {
            await s.insert(items, { id: 10, label: "first" });
            await sleep(20);
            throw new Error("undo the first");
          }),
          s.savepoint(async () => {
            await s.insert(items, { id: 11, label: "second" });
            return "kept";
          }),
        ]);
        assert.equal(first.status, "rejected");
        assert.match(String((first as PromiseRejectedResult).reason), /undo the first/);
        assert.deepEqual(second, { status: "fulfilled", value: "kept" });
      });
      assert.deepEqual(await ids(), [11]);
    });

    it("a call from outside a running savepoint waits for it, so its rollback cannot undo that call", async () => {
      await clear();
      await engine.session(async (s) => {
        await s.insert(items, { id: 1, label: "a" });
        let outsideDone = false;
        const inside = s.savepoint(async () => {
          await s.insert(items, { id: 20, label: "inside" });
          await sleep(30);
          assert.equal(outsideDone, false, "the outside call waited");
          throw new Error("undo inside");
        });
        const outside = s.insert(items, { id: 21, label: "outside" }).then((r) => (outsideDone = true, r));
        await assert.rejects(inside, /undo inside/);
        assert.deepEqual(await outside, { id: 21, label: "outside" });
      });
      assert.deepEqual(await ids(), [1, 21]);
    });

    it("nested savepoints inside a savepoint do not wait for it", async () => {
      await clear();
      const got = await engine.session((s) =>
        s.savepoint(async () => {
          await s.insert(items, { id: 30, label: "outer" });
          await s.savepoint(() => s.insert(items, { id: 31, label: "inner" }));
          await assert.rejects(
            s.savepoint(async () => {
              await s.insert(items, { id: 32, label: "inner undone" });
              throw new Error("inner fails");
            }),
            /inner fails/,
          );
          return "outer ok";
        })
      );
      assert.equal(got, "outer ok");
      assert.deepEqual(await ids(), [30, 31]);
    });

    it("a savepoint called in the same tick as commit() is part of that transaction, and commit waits for it", async () => {
      await clear();
      const s = engine.session();
      try {
        await s.insert(items, { id: 1, label: "a" });
        const sp = s.savepoint(async () => {
          await sleep(30);
          await s.insert(items, { id: 2, label: "b" });
        });
        await s.commit();
        await sp;
      } finally {
        await s.close();
      }
      assert.deepEqual(await ids(), [1, 2]);
    });

    it("hidden session settings and transaction control are refused on the pool too; function bodies are not", async () => {
      const from = events.length;
      const hidden = [
        "/* hint */ SET search_path TO pg_catalog",
        "-- note\nBEGIN",
        "SELECT 1; SET search_path TO pg_catalog",
        "SELECT 1 ;\n  /* x */ commit",
        "SELECT set_config('irisql.misuse', 'dirty', false)",
      ];
      for (const text of hidden) await assert.rejects(engine.execute(text), ValidationError, text);
      assert.deepEqual(events.slice(from).map((e) => e.sql), [], "nothing was sent");
      // Keywords inside literals, quoted names and comments are not statements.
      const r = await engine.execute(`SELECT 'SET x; BEGIN' AS "set; commit" -- ; ROLLBACK`);
      assert.deepEqual(r.rows, [{ "set; commit": "SET x; BEGIN" }]);
    });

    it("refuses transaction control and session settings on the pool, and transaction control in a transaction", async () => {
      const from = events.length;
      const refused = ["BEGIN", "  start transaction", "COMMIT", "ROLLBACK", "SAVEPOINT x", "SET search_path = x"];
      for (const text of refused) {
        await assert.rejects(engine.execute(text), ValidationError, text);
      }
      await assert.rejects(engine.execute("SET statement_timeout = 1"), /engine\.connect\(\)/);
      assert.deepEqual(events.slice(from).map((e) => e.sql), [], "nothing was sent");
      await assert.rejects(
        engine.session(async (s) => {
          await s.insert(items, { id: 40, label: "x" });
          await s.execute("COMMIT");
        }),
        (e: unknown) => e instanceof ValidationError && /savepoint\(\)/.test((e as Error).message),
      );
      await assert.rejects(engine.begin((tx) => tx.execute("ROLLBACK")), ValidationError);
      // A held connection may still do both.
      const c = await engine.connect();
      try {
        await c.execute("BEGIN");
        await c.execute("ROLLBACK");
      } finally {
        await c.release();
      }
    });
  });
}

// The real server, on PostgreSQL under the stand-in: one per file, started in the file's before hook.
const REAL = withIris({ real: "postgres" }).find((b) => b.kind === "iris-real")!;

describe(`no transactions through ${REAL.name}: irisql says so instead of pretending`, () => {
  let engine: Engine;
  const events: QueryEvent[] = [];
  const sent = (from: number) => events.slice(from).map((e) => e.sql);
  const items = table(uniqueName("truth_auto"), {
    id: col.integer().primaryKey(),
    label: col.varchar(40).notNull(),
  });
  const ids = async () =>
    (await engine.session((s) => s.find(items, { orderBy: { id: "asc" }, columns: ["id"] }))).map((r) => r.id);
  const clear = () => engine.session((s) => s.delete(items, {}));

  before(async () => {
    engine = createEngine(REAL.url, { onQuery: (e) => events.push(e) }); // ?transactions=autocommit
    await engine.createAll([items]);
  });
  after(async () => {
    await engine?.dropAll([items]).catch(() => {});
    await engine?.dispose();
  });

  it("engine.begin() and connection.begin() are a TransactionsUnavailableError, and nothing is sent", async () => {
    const from = events.length;
    let ran = false;
    await assert.rejects(
      engine.begin(() => {
        ran = true;
      }),
      transactionsUnavailable(),
    );
    const c = await engine.connect();
    try {
      await assert.rejects(
        c.begin(() => {
          ran = true;
        }),
        transactionsUnavailable(),
      );
      assert.equal((await c.execute("SELECT 1 AS one")).scalar(), 1, "the connection is still usable");
    } finally {
      await c.release();
    }
    assert.equal(ran, false, "the function never ran");
    assert.deepEqual(sent(from).filter((s) => s !== "SELECT 1 AS one"), [], "no START TRANSACTION was sent");
  });

  it("session writes commit one by one: another connection sees each at once", async () => {
    await clear();
    const s = engine.session();
    try {
      await s.insert(items, { id: 1, label: "a" });
      assert.deepEqual(await ids(), [1], "visible before any commit()");
      await s.update(items, { id: 1 }, { label: "b" });
      await s.execute(`INSERT INTO "${items.name}" ("id", "label") VALUES (2, 'raw')`);
      assert.deepEqual(await ids(), [1, 2]);
      await s.commit(); // nothing left to commit: fine
    } finally {
      await s.close();
    }
    assert.deepEqual(await ids(), [1, 2]);
    assert.ok(
      !events.some((e) => /^(START TRANSACTION|BEGIN|COMMIT|ROLLBACK|SAVEPOINT)/i.test(e.sql)),
      "no transaction SQL",
    );
  });

  it("session.rollback() after a write is a TransactionsUnavailableError; the write is still there", async () => {
    await clear();
    const s = engine.session();
    try {
      await s.insert(items, { id: 5, label: "kept" });
      await assert.rejects(s.rollback(), transactionsUnavailable());
    } finally {
      await s.close();
    }
    assert.deepEqual(await ids(), [5], "nothing claimed to undo it, and it was not undone");
  });

  it("engine.session(fn) that throws after a write rejects, and the write stays", async () => {
    await clear();
    await assert.rejects(
      engine.session(async (s) => {
        await s.insert(items, { id: 6, label: "written" });
        throw new Error("after the write");
      }),
    );
    assert.deepEqual(await ids(), [6]);
  });

  it("insertMany writes row by row; when row k fails the error carries rowsWritten = k and rows before k stay", async () => {
    await clear();
    await engine.session((s) => s.insert(items, { id: 13, label: "taken" }));
    const rows = [10, 11, 12, 13, 14].map((id) => ({ id, label: `row ${id}` }));
    await assert.rejects(engine.session((s) => s.insertMany(items, rows)), (e: unknown) => {
      assert.ok(e instanceof UniqueViolationError, `expected UniqueViolationError, got ${e}`);
      assert.equal((e as { rowsWritten?: unknown }).rowsWritten, 3, "rows 0-2 were written before row 3 failed");
      return true;
    });
    assert.deepEqual(await ids(), [10, 11, 12, 13]);
    assert.deepEqual(await engine.session((s) => s.insertMany(items, [{ id: 20, label: "ok" }])), { count: 1 });
  });

  it("the option can be given in EngineOptions too", async () => {
    const e = createEngine(irisBase(REAL), { transactions: "autocommit" } as EngineOptions);
    try {
      await e.session((s) => s.insert(items, { id: 30, label: "option" }));
      assert.ok((await ids()).includes(30));
    } finally {
      await e.dispose();
    }
  });

  it("without the option, begin() and a session's first write are refused before anything is sent, saying what to set", async () => {
    const seen: QueryEvent[] = [];
    const e = createEngine(irisBase(REAL), { onQuery: (q) => seen.push(q) });
    const says = transactionsUnavailable(/transactions.*autocommit/s);
    try {
      await assert.rejects(e.begin(() => {}), says);
      await assert.rejects(e.session((s) => s.insert(items, { id: 40, label: "never" })), says);
      await assert.rejects(
        e.session((s) => s.execute(`INSERT INTO "${items.name}" ("id", "label") VALUES (41, 'never')`)),
        says,
      );
      assert.deepEqual(seen.map((q) => q.sql), [], "nothing was sent");
      // Reads need no transaction.
      assert.deepEqual(await e.session((s) => s.find(items, { where: { id: 40 } })), []);
    } finally {
      await e.dispose();
    }
    assert.ok(!(await ids()).some((id) => id === 40 || id === 41));
  });
});

describe("the transactions option on PostgreSQL and PGlite", () => {
  /** createEngine may refuse at once or at the first call; either way a ConfigError naming the option. */
  async function refused(make: () => Engine): Promise<void> {
    let engine: Engine | undefined;
    try {
      engine = make();
      await engine.execute("SELECT 1 AS one");
    } catch (e) {
      assert.ok(e instanceof ConfigError, `expected ConfigError, got ${e}`);
      assert.match((e as Error).message, /transactions/);
      return;
    } finally {
      await engine?.dispose();
    }
    assert.fail("autocommit was accepted");
  }

  for (const url of [PG_URL, PGLITE_URL]) {
    const name = url === PG_URL ? "postgres" : "pglite";
    it(`${name}: "server" is the default and may be given; "autocommit" is a ConfigError`, async () => {
      const e = createEngine(withQuery(url, "transactions=server"));
      try {
        await e.begin((tx) => tx.execute("SELECT 1 AS one"));
      } finally {
        await e.dispose();
      }
      await refused(() => createEngine(withQuery(url, "transactions=autocommit")));
      await refused(() => createEngine(url, { transactions: "autocommit" } as EngineOptions));
    });
  }
});
