/**
 * Strings and large integers arrive as sent, or are refused: on PostgreSQL,
 * PGlite and iris:// through the REAL iris-pgwire 1.7.3 over its IRIS stand-in
 * (not IRIS).
 *
 * iris-pgwire 1.7.3 changes parameters before IRIS sees them (fixture README,
 * findings 1-2): in Bind every text parameter that Python's int()/float()
 * accepts becomes a number ("00123" -> 123, "1e5" -> 100000.0, "٣" -> 3); an
 * integer between 5e14 and 1.5e15 becomes a timestamp; an ISO-8601 timestamp
 * string loses its T/Z/offset. No parameter form survives, so on iris:// irisql
 * refuses such values with a ValidationError naming the problem before sending
 * anything (issue #15): in typed rows, in a where and in raw execute() params.
 * PostgreSQL and PGlite store them as given.
 */
import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { col, type Engine, type QueryEvent, table, ValidationError } from "../mod.ts";
import { engineFor, everyBackend, uniqueName } from "./helpers.ts";

const strs = table(uniqueName("values_strings"), {
  id: col.integer().primaryKey(),
  s: col.varchar(40),
  big: col.bigint({ mode: "bigint" }),
  at: col.timestamp(),
});

/** Text iris-pgwire turns into a number (Python int()/float() rules). */
const NUMERIC_LOOKING = ["00123", "+5", " 42", "1e5", "1_000", "\u0663", "1.50", "-0", "12 "];
/** Integers iris-pgwire turns into timestamps: 5e14 < n < 1.5e15. */
const TIMESTAMP_INTS: (number | bigint | string)[] = [500_000_000_000_001, 1_000_000_000_000_000n, "1499999999999999"];
/** Strings iris-pgwire rewrites as a timestamp. */
const ISO_LOOKING = ["2024-01-02T03:04:05Z", "2024-01-02T03:04:05+02:00", "2024-01-02T03:04:05"];
/** Values that pass everywhere and read back unchanged. */
const SAFE_STRINGS = ["123", "-5", "0", "nan", "inf", "abc", "A1B 2C3", "2024-01-02", ""];
const SAFE_INTS = [500_000_000_000_000n, 1_500_000_000_000_000n, 123n, -5n];

const backends = everyBackend([strs]);

for (const name of backends.names) {
  const iris = backends.backend(name).dialect === "iris";
  describe(`strings and big integers on ${name}`, () => {
    const engine = () => backends.engine(name);
    let nextId = 1;

    it("canonical integer strings, nan/inf/abc and plain text read back unchanged", async () => {
      for (const s of SAFE_STRINGS) {
        const id = nextId++;
        const row = await engine().session((x) => x.insert(strs, { id, s }));
        // The emulator turns '' into NULL; the real iris-pgwire 1.7.3 (over the stand-in) keeps ''.
        assert.equal(row.s, s, `insert ${JSON.stringify(s)}`);
        assert.equal((await engine().session((x) => x.get(strs, id)))?.s, s, `get ${JSON.stringify(s)}`);
        if (s !== "") {
          const found = await engine().session((x) => x.find(strs, { where: { s }, columns: ["id"] }));
          assert.deepEqual(found, [{ id }], `where s = ${JSON.stringify(s)}`);
        }
      }
      for (const big of SAFE_INTS) {
        const id = nextId++;
        assert.equal((await engine().session((x) => x.insert(strs, { id, big })))?.big, big, `insert ${big}`);
        assert.equal((await engine().session((x) => x.get(strs, id)))?.big, big, `get ${big}`);
      }
    });

    it("a timestamp column value (Date) still works", async () => {
      const id = nextId++;
      const at = new Date("2024-01-02T03:04:05.678Z");
      const row = await engine().session((x) => x.insert(strs, { id, at }));
      assert.equal(row.at?.toISOString(), at.toISOString());
      const found = await engine().session((x) => x.find(strs, { where: { at }, columns: ["id"] }));
      assert.deepEqual(found, [{ id }]);
    });

    if (!iris) {
      it("numeric-looking text, big integers and ISO strings are stored exactly as given", async () => {
        for (const s of [...NUMERIC_LOOKING, ...ISO_LOOKING]) {
          const id = nextId++;
          assert.equal((await engine().session((x) => x.insert(strs, { id, s })))?.s, s, JSON.stringify(s));
        }
        for (const big of TIMESTAMP_INTS) {
          const id = nextId++;
          const row = await engine().session((x) => x.insert(strs, { id, big: BigInt(big) }));
          assert.equal(row.big, BigInt(big), String(big));
        }
      });
      return;
    }

    // One engine for every refusal (an engine per call would open one iris-pgwire connection each).
    const events: QueryEvent[] = [];
    let watched: Engine | undefined;
    before(() => {
      watched = engineFor(backends.backend(name), { onQuery: (q) => events.push(q) });
    });
    after(() => watched?.dispose());

    /** A ValidationError that names the problem, and nothing sent. */
    async function refused(what: string, call: (url: string, events: QueryEvent[]) => Promise<unknown>) {
      const from = events.length;
      await assert.rejects(call("", events), (e: unknown) => {
        assert.ok(e instanceof ValidationError, `${what}: expected ValidationError, got ${e}`);
        assert.match((e as Error).message, /iris-pgwire|IRIS/, `${what}: says why`);
        return true;
      }, what);
      assert.deepEqual(events.slice(from).map((e) => e.sql), [], `${what}: nothing was sent`);
    }
    const run = <T>(_url: string, _events: QueryEvent[], fn: (e: Engine) => Promise<T>) => fn(watched!);

    it("refuses text iris-pgwire would turn into a number: in a row, a where and raw params", async () => {
      for (const s of NUMERIC_LOOKING) {
        const label = JSON.stringify(s);
        await refused(
          `insert ${label}`,
          (url, ev) => run(url, ev, (e) => e.session((x) => x.insert(strs, { id: 900, s }))),
        );
        await refused(
          `update ${label}`,
          (url, ev) => run(url, ev, (e) => e.session((x) => x.update(strs, { id: 1 }, { s }))),
        );
        await refused(
          `where ${label}`,
          (url, ev) => run(url, ev, (e) => e.session((x) => x.find(strs, { where: { s } }))),
        );
        await refused(
          `raw ${label}`,
          (url, ev) =>
            run(url, ev, (e) => e.execute({ text: `SELECT "id" FROM "${strs.name}" WHERE "s" = $1`, params: [s] })),
        );
      }
      assert.equal(await engine().session((x) => x.get(strs, 900)), undefined, "nothing stored");
    });

    it("refuses integers between 5e14 and 1.5e15 (iris-pgwire makes them timestamps), as number, bigint or string", async () => {
      for (const big of TIMESTAMP_INTS) {
        const label = `${typeof big} ${big}`;
        if (typeof big !== "string") {
          await refused(
            `insert ${label}`,
            (url, ev) => run(url, ev, (e) => e.session((x) => x.insert(strs, { id: 901, big: BigInt(big) }))),
          );
          await refused(
            `where ${label}`,
            (url, ev) => run(url, ev, (e) => e.session((x) => x.find(strs, { where: { big: BigInt(big) } }))),
          );
        } else {
          await refused(
            `insert as text ${label}`,
            (url, ev) => run(url, ev, (e) => e.session((x) => x.insert(strs, { id: 901, s: big }))),
          );
        }
        await refused(
          `raw ${label}`,
          (url, ev) =>
            run(url, ev, (e) => e.execute({ text: `SELECT "id" FROM "${strs.name}" WHERE "big" = $1`, params: [big] })),
        );
      }
      assert.equal(await engine().session((x) => x.get(strs, 901)), undefined, "nothing stored");
    });

    it("refuses ISO timestamp strings outside a timestamp column value", async () => {
      for (const s of ISO_LOOKING) {
        const label = JSON.stringify(s);
        await refused(
          `insert ${label}`,
          (url, ev) => run(url, ev, (e) => e.session((x) => x.insert(strs, { id: 902, s }))),
        );
        await refused(
          `where ${label}`,
          (url, ev) => run(url, ev, (e) => e.session((x) => x.find(strs, { where: { s } }))),
        );
        await refused(
          `raw ${label}`,
          (url, ev) =>
            run(url, ev, (e) => e.execute({ text: `SELECT "id" FROM "${strs.name}" WHERE "s" = $1`, params: [s] })),
        );
      }
    });
  });
}
