/**
 * Calendar dates and instants on every server: PostgreSQL, PGlite and iris://
 * through the REAL iris-pgwire 1.7.3 over its IRIS stand-in (not IRIS).
 *  - An impossible calendar date ("2023-02-29") is a ValidationError, never a
 *    neighbouring day, in a row and in a where.
 *  - Years 0001-0099 stay years 0001-0099 (no 19xx/20xx on any path).
 *  - A timestamp comes back as the exact instant sent, whatever the machine's
 *    time zone: `node scripts/test.mjs --tz=Asia/Kolkata` runs this file in a
 *    zone where a wall-clock string re-read as local time moves by 5.5 hours.
 *  - A timestamp string without a zone means UTC, as timestamps read back do.
 */
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { col, table, ValidationError } from "../mod.ts";
import { everyBackend, uniqueName } from "./helpers.ts";

const days = table(uniqueName("values_days"), {
  id: col.integer().primaryKey(),
  day: col.date(),
  at: col.timestamp(),
});

const IMPOSSIBLE_DAYS = [
  "2023-02-29",
  "2023-02-31",
  "2023-04-31",
  "2100-02-29",
  "2023-13-01",
  "2023-00-10",
  "0000-01-01",
];
const INSTANTS = [
  "2024-03-01T12:34:56.789Z",
  "1969-12-31T23:59:59.999Z",
  "2024-03-31T01:30:00.000Z", // a DST change in Europe, and on the same night elsewhere
  "2024-11-03T06:30:00.001Z", // 01:30 happens twice in New York that night
  "0050-06-15T01:02:03.004Z",
  "0001-01-01T00:00:00.000Z",
  "9999-12-31T23:59:59.999Z",
];

/** Values the types do not offer but irisql accepts at run time (ISO strings, a Date for a date). */
const untyped = <T>(value: unknown) => value as T;

const backends = everyBackend([days]);

for (const name of backends.names) {
  describe(`dates and instants on ${name}`, () => {
    const engine = () => backends.engine(name);
    let nextId = name === "postgres" ? 1 : name === "pglite" ? 1001 : 2001;

    it("refuses an impossible calendar date in a row and in a where, sending nothing", async () => {
      for (const day of IMPOSSIBLE_DAYS) {
        await assert.rejects(
          engine().session((s) => s.insert(days, { id: nextId++, day })),
          ValidationError,
          `insert ${day}`,
        );
        await assert.rejects(
          engine().session((s) => s.find(days, { where: { day } })),
          ValidationError,
          `where ${day}`,
        );
      }
      for (
        const at of ["2023-02-29T00:00:00Z", "2023-02-30 10:00:00", "2024-01-01T24:00:01Z", "2024-01-01T10:60:00Z"]
      ) {
        await assert.rejects(
          engine().session((s) => s.insert(days, { id: nextId++, at: untyped<Date>(at) })),
          ValidationError,
          `insert timestamp ${at}`,
        );
      }
      assert.equal((await engine().session((s) => s.find(days, { where: { id: { gte: 0 } } }))).length, 0);
    });

    it("stores the day it was given, leap days included, and a where finds exactly that day", async () => {
      for (const day of ["2024-02-29", "2000-02-29", "2023-02-28", "2023-03-01", "1999-12-31"]) {
        const id = nextId++;
        const row = await engine().session((s) => s.insert(days, { id, day }));
        assert.equal(row.day, day);
        const found = await engine().session((s) => s.find(days, { where: { day } }));
        assert.deepEqual(found.map((r) => r.id), [id], `where day = ${day}`);
      }
    });

    it("keeps years 0001-0099 (never 19xx or 20xx) for dates and timestamps", async () => {
      for (const day of ["0001-01-01", "0050-06-15", "0099-12-31", "0004-02-29"]) {
        const id = nextId++;
        const row = await engine().session((s) => s.insert(days, { id, day }));
        assert.equal(row.day, day, "insert");
        assert.equal((await engine().session((s) => s.get(days, id)))?.day, day, "get");
        const found = await engine().session((s) => s.find(days, { where: { day } }));
        assert.deepEqual(found.map((r) => r.id), [id], `where day = ${day}`);
      }
      const early = new Date("0050-06-15T00:00:00.000Z");
      const id = nextId++;
      const row = await engine().session((s) => s.insert(days, { id, day: untyped<string>(early), at: early }));
      assert.equal(row.day, "0050-06-15", "a Date for a date column");
      assert.equal(row.at?.toISOString(), early.toISOString());
    });

    it("gives back the exact instant sent, and a where on it finds the row", async () => {
      for (const iso of INSTANTS) {
        const id = nextId++;
        const at = new Date(iso);
        const row = await engine().session((s) => s.insert(days, { id, at }));
        assert.equal(row.at?.toISOString(), iso, `insert ${iso}`);
        assert.equal((await engine().session((s) => s.get(days, id)))?.at?.toISOString(), iso, `get ${iso}`);
        const found = await engine().session((s) => s.find(days, { where: { at } }));
        assert.deepEqual(found.map((r) => r.id), [id], `where at = ${iso}`);
      }
    });

    it("reads a timestamp string without a zone as UTC", async () => {
      const cases: [string, string][] = [
        ["2024-03-01T12:34:56", "2024-03-01T12:34:56.000Z"],
        ["2024-03-01 12:34:56.5", "2024-03-01T12:34:56.500Z"],
        ["2024-03-01T12:34", "2024-03-01T12:34:00.000Z"],
        ["2024-03-01", "2024-03-01T00:00:00.000Z"],
        ["2024-03-01T12:34:56+05:30", "2024-03-01T07:04:56.000Z"],
        ["0050-06-15T01:02:03Z", "0050-06-15T01:02:03.000Z"],
      ];
      for (const [text, iso] of cases) {
        const id = nextId++;
        const row = await engine().session((s) => s.insert(days, { id, at: untyped<Date>(text) }));
        assert.equal(row.at?.toISOString(), iso, text);
      }
    });
  });
}
