/**
 * A where never widens to every row by accident. Undefined values are
 * skipped at every depth (optional filters), but a branch of or/and that is
 * left with no condition — {}, null, only undefined values, an operator object
 * without an operator, an empty or/and list, at any depth — is a
 * ValidationError naming its path, for find, update and delete alike, and
 * nothing is sent. find()'s cached path refuses the same inputs. Top-level
 * `{}` keeps its meaning: every row (find, update and delete); a top-level
 * where whose values are all undefined is every row for find and refused for
 * update and delete. Runs on PostgreSQL, PGlite and iris:// (the iris-pgwire
 * emulator, not IRIS).
 */
import { after, afterEach, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { col, type Engine, type QueryEvent, type Session, table, ValidationError, type Where } from "../mod.ts";
import { type IrisEmulator, startIrisEmulator } from "./fixtures/iris-pgwire-emulator/mod.ts";
import { BACKENDS, engineFor, uniqueName } from "./helpers.ts";

function itemsTable() {
  return table(uniqueName("where_safety"), {
    id: col.integer().primaryKey(),
    title: col.varchar(40).notNull(),
  });
}
type Items = ReturnType<typeof itemsTable>;

const SEED = [
  { id: 1, title: "a" },
  { id: 2, title: "b" },
  { id: 3, title: "c" },
  { id: 4, title: "d" },
];

/** Each where that has a branch without a condition, and the start of the error it must give. */
const BAD: [string, Where<Items>, string][] = [
  ["or of one undefined key", { or: [{ id: undefined }] }, "where.or[0] has no condition"],
  ["and of one key whose eq is undefined", { and: [{ id: { eq: undefined } }] }, "where.and[0] has no condition"],
  ["or of a key and an undefined key", { or: [{ id: 1 }, { id: undefined }] }, "where.or[1] has no condition"],
  ["or with {}", { or: [{ id: 1 }, {}] }, "where.or[1] has no condition"],
  ["and with {}", { and: [{}] }, "where.and[0] has no condition"],
  ["an operator object without an operator", { or: [{ id: {} as never }] }, "where.or[0].id has no condition"],
  ["an empty or", { or: [] }, "where.or is an empty list"],
  ["an empty and", { and: [] }, "where.and is an empty list"],
  ["a null branch", { or: [{ id: 1 }, null as never] }, "where.or[1] has no condition"],
  ["an undefined branch", { or: [{ id: 1 }, undefined as never] }, "where.or[1] has no condition"],
  ["a nested empty branch", { or: [{ and: [{ id: undefined }] }] }, "where.or[0].and[0] has no condition"],
  ["a nested empty list", { or: [{ id: 1 }, { and: [] }] }, "where.or[1].and is an empty list"],
  [
    "a deep branch whose operators are all undefined, next to defined conditions",
    { id: 2, and: [{ id: { gt: 0 } }, { or: [{ title: "a" }, { title: { eq: undefined, like: undefined } }] }] },
    "where.and[1].or[1] has no condition",
  ],
];

type Verb = "find" | "update" | "delete";
const VERBS: Verb[] = ["find", "update", "delete"];

function run(s: Session, t: Items, verb: Verb, where: Where<Items>): Promise<unknown> {
  if (verb === "find") return s.find(t, { where });
  if (verb === "update") return s.update(t, where, { title: "changed" });
  return s.delete(t, where);
}

/** PostgreSQL and PGlite, and iris:// through an emulator started by the suite (url undefined). */
const targets: { name: string; url?: string }[] = [...BACKENDS, { name: "iris (emulator)" }];

for (const target of targets) {
  describe(`where safety on ${target.name}`, () => {
    let engine: Engine;
    let emu: IrisEmulator | undefined;
    const events: QueryEvent[] = [];
    const items = itemsTable();
    const rows = async () => await engine.session((s) => s.find(items, { orderBy: { id: "asc" } }));
    const reseed = async () => {
      await engine.session(async (s) => {
        await s.delete(items, {});
        await s.insertMany(items, SEED);
      });
    };

    before(async () => {
      if (!target.url) emu = await startIrisEmulator();
      engine = engineFor(target.url ?? emu!.url, { onQuery: (e) => events.push(e) });
      await engine.createAll([items], { checkfirst: true });
      await reseed();
    });

    after(async () => {
      await engine?.dropAll([items], { checkfirst: true });
      await engine?.dispose();
      await emu?.close();
    });

    // A failed case may have changed rows; the next one starts from the seed again.
    afterEach(async () => {
      if (JSON.stringify(await rows()) !== JSON.stringify(SEED)) await reseed();
    });

    for (const verb of VERBS) {
      for (const [label, where, message] of BAD) {
        it(`${verb}: refuses ${label}, sends nothing and leaves every row`, async () => {
          // Valid wheres of nearby shapes first, so that find() has cached statements to (wrongly) reuse.
          if (verb === "find") {
            await engine.session(async (s) => {
              await s.find(items, { where: { or: [{ id: 1 }, { id: 2 }] } });
              await s.find(items, { where: { and: [{ id: 1 }] } });
              await s.find(items, { where: { or: [{ id: 1 }, { and: [{ id: 2 }] }] } });
              await s.find(items, { where: { id: 1 } });
            });
          }
          // Twice: the second call must not find anything cached by the first.
          for (let round = 0; round < 2; round++) {
            const sent = events.length;
            await assert.rejects(engine.session((s) => run(s, items, verb, where)), (e: unknown) => {
              assert.ok(e instanceof ValidationError, `expected ValidationError, got ${e}`);
              assert.ok(
                (e as Error).message.startsWith(message),
                `message ${JSON.stringify((e as Error).message)} should start with ${JSON.stringify(message)}`,
              );
              return true;
            });
            assert.deepEqual(events.slice(sent).map((e) => e.sql), [], "nothing was sent");
          }
          assert.deepEqual(await rows(), SEED);
        });
      }
    }

    it("find: a key whose operators are all undefined is skipped, and shares no cached statement", async () => {
      await engine.session(async (s) => {
        assert.deepEqual(await s.find(items, { where: { title: { eq: undefined } }, orderBy: { id: "asc" } }), SEED);
        assert.deepEqual(await s.find(items, { where: { title: "c" }, orderBy: { id: "asc" } }), [SEED[2]]);
        assert.deepEqual(await s.find(items, { where: { id: 2 }, orderBy: { id: "asc" } }), [SEED[1]]);
        assert.deepEqual(await s.find(items, { where: { id: { eq: undefined } }, orderBy: { id: "asc" } }), SEED);
      });
    });

    it("valid nested wheres still match exactly their rows; an undefined key next to a defined one is skipped", async () => {
      const ids = (list: { id: number }[]) => list.map((r) => r.id);
      await engine.session(async (s) => {
        assert.deepEqual(ids(await s.find(items, { where: { or: [{ id: 1 }, { id: 3 }] }, orderBy: { id: "asc" } })), [
          1,
          3,
        ]);
        assert.deepEqual(await s.find(items, { where: { and: [{ id: 1, title: undefined }] } }), [SEED[0]]);
        assert.deepEqual(
          ids(
            await s.find(items, {
              where: { or: [{ id: 1 }, { id: { eq: undefined, in: [4] } }] },
              orderBy: { id: "asc" },
            }),
          ),
          [1, 4],
        );
        // Top level: undefined keys are skipped; with nothing left, find() means every row.
        assert.deepEqual(await s.find(items, { where: { id: undefined }, orderBy: { id: "asc" } }), SEED);
        assert.deepEqual(await s.find(items, { where: {}, orderBy: { id: "asc" } }), SEED);
        await s.update(items, { and: [{ id: 2, title: undefined }] }, { title: "B" });
      });
      assert.deepEqual(await rows(), [SEED[0], { id: 2, title: "B" }, SEED[2], SEED[3]]);
      const deleted = await engine.session((s) => s.delete(items, { or: [{ id: 1 }, { id: 3 }] }));
      if (deleted.count !== null) assert.equal(deleted.count, 2);
      assert.deepEqual(ids(await rows()), [2, 4]);
    });

    it("top level: {} updates and deletes every row; only undefined values are refused for update and delete", async () => {
      for (const verb of ["update", "delete"] as const) {
        const sent = events.length;
        await assert.rejects(
          engine.session((s) => run(s, items, verb, { id: undefined, title: { eq: undefined } })),
          (e: unknown) =>
            e instanceof ValidationError && /every value in where is undefined/.test((e as Error).message),
        );
        assert.deepEqual(events.slice(sent).map((e) => e.sql), [], "nothing was sent");
      }
      assert.deepEqual(await rows(), SEED);
      await engine.session((s) => s.update(items, {}, { title: "all" }));
      assert.deepEqual((await rows()).map((r) => r.title), ["all", "all", "all", "all"]);
      await engine.session((s) => s.delete(items, {}));
      assert.deepEqual(await rows(), []);
    });
  });
}
