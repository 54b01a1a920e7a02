/**
 * Query vectors nearest() cannot rank by, on PGlite + pgvector and on iris://
 * (the iris-pgwire EMULATOR in front of PGlite; not IRIS). Cosine similarity
 * divides by the query's length: an all-zero query (or one that float4 rounds
 * to zeros) scores every row NaN or NULL, so it is a ValidationError, for
 * nearest(), similarity() and nearestOrder(). Dot product and L2 are defined
 * for it and still answer. A bad `k` gets one message whatever is wrong with it.
 */
import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { col, createEngine, type Engine, nearestOrder, similarity, sql, table, ValidationError } from "../mod.ts";
import { type IrisEmulator, startIrisEmulator } from "./fixtures/iris-pgwire-emulator/mod.ts";
import { PGLITE_URL, uniqueName } from "./helpers.ts";

const docs = table(uniqueName("values_vec"), {
  id: col.integer().primaryKey(),
  e: col.vector(3),
  f: col.vector(3, { element: "float" }),
});

const ZERO = [0, 0, -0];
/** Not zero as a double, zero as float4. */
const TINY = [1e-50, 0, 0];

let emu: IrisEmulator;
const engines: [string, Engine][] = [];

before(async () => {
  emu = await startIrisEmulator();
  engines.push(["pglite", createEngine(PGLITE_URL)], ["iris", createEngine(emu.url)]);
  for (const [, engine] of engines) {
    await engine.createAll([docs]);
    await engine.session((s) =>
      s.insertMany(docs, [
        { id: 1, e: [1, 0, 0], f: [1, 0, 0] },
        { id: 2, e: [0, 1, 0], f: [0, 1, 0] },
        { id: 3, e: [1, 1, 1], f: [1, 1, 1] },
      ])
    );
  }
});

after(async () => {
  for (const [, engine] of engines) {
    await engine.dropAll([docs]).catch(() => {});
    await engine.dispose();
  }
  await emu?.close();
});

const zeroMessage = /cosine query vector.* must not be all zeros.*no direction/;

for (const name of ["pglite", "iris"]) {
  describe(`query vectors on ${name}`, () => {
    const engine = () => engines.find(([n]) => n === name)![1];

    it("refuses an all-zero cosine query in nearest(), the default metric included", async () => {
      for (const options of [{}, { metric: "cosine" as const }, { metric: "cosine" as const, k: 1 }]) {
        await assert.rejects(
          engine().session((s) => s.nearest(docs, "e", ZERO, options)),
          (e: unknown) => e instanceof ValidationError && zeroMessage.test(e.message),
          JSON.stringify(options),
        );
      }
    });

    it("refuses a cosine query that float4 rounds to zeros where the server stores float4", async () => {
      // pgvector always compares float4; on IRIS only a VECTOR(float, n) column does.
      const column = name === "iris" ? "f" : "e";
      await assert.rejects(
        engine().session((s) => s.nearest(docs, column, TINY)),
        (e: unknown) => e instanceof ValidationError && /as float4/.test(e.message),
      );
      if (name === "iris") {
        const rows = await engine().session((s) => s.nearest(docs, "e", TINY, { k: 1 }));
        assert.equal(rows.length, 1, "a VECTOR(double, n) column keeps the tiny element: sent");
      }
    });

    it("refuses it in similarity() and nearestOrder() as soon as they are built", () => {
      assert.throws(() => similarity(docs, "e", ZERO), zeroMessage);
      assert.throws(() => nearestOrder(docs, "e", ZERO, { metric: "cosine" }), zeroMessage);
      assert.doesNotThrow(() => similarity(docs, "e", ZERO, "dot"));
    });

    it("still answers an all-zero query for dot product and L2", async () => {
      const dot = await engine().session((s) => s.nearest(docs, "e", ZERO, { metric: "dot" }));
      assert.deepEqual(dot.map((r) => r.score), [0, 0, 0]);
      const l2 = await engine().session((s) => s.nearest(docs, "e", ZERO, { metric: "l2", k: 2 }));
      assert.deepEqual(l2.map((r) => r.id).sort(), [1, 2]);
      assert.ok(l2.every((r) => Math.abs((r.score as number) - 1) < 1e-6));
      const ranked = await engine().execute(
        sql`SELECT id FROM ${sql.id(docs.name)} ORDER BY ${nearestOrder(docs, "e", ZERO, "l2")}, id`,
      );
      assert.equal(ranked.rows.length, 3);
    });

    it("gives every bad k the same message", async () => {
      for (const k of [0, -1, 2.5, Number.NaN]) {
        await assert.rejects(
          engine().session((s) => s.nearest(docs, "e", [1, 0, 0], { k })),
          (e: unknown) =>
            e instanceof ValidationError &&
            e.message === `k on table ${docs.name} must be a whole number >= 1, got ${String(k)}`,
          `k = ${k}`,
        );
      }
    });
  });
}
