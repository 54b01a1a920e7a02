/**
 * One slow statement does not stall fast ones while the pool has room: pooled
 * statements do not pipeline behind a statement that has been running a while
 * when another connection can take them. (The timing is measured in bench/,
 * case 7; here only the order.)
 */
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { createEngine } from "../mod.ts";
import { PG_URL } from "./helpers.ts";

describe("pool: a slow statement and fast ones (postgres)", () => {
  it("finishes 40 fast statements before the slow one running on one of 4 connections", async () => {
    const engine = createEngine(PG_URL, { pool: { max: 4 } });
    try {
      // All four connections open and idle.
      await Promise.all(Array.from({ length: 4 }, () => engine.execute("SELECT pg_sleep(0.05)")));
      let slowDone = 0;
      const slow = engine.execute("SELECT pg_sleep(1.5)").then(() => (slowDone = performance.now()));
      await new Promise((r) => setTimeout(r, 200));
      const fastDone: number[] = [];
      await Promise.all(
        Array.from(
          { length: 40 },
          (_, i) => engine.execute(`SELECT ${i} AS n`).then(() => fastDone.push(performance.now())),
        ),
      );
      await slow;
      assert.equal(fastDone.length, 40);
      assert.ok(Math.max(...fastDone) < slowDone, "every fast statement finished before the slow one");
    } finally {
      await engine.dispose();
    }
  });
});
