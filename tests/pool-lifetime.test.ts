/**
 * maxLifetime and idleTimeout retire only idle connections: statements in flight
 * and transactions held longer than either are never cut; a connection past its
 * lifetime is replaced once it is idle; idle connections close after idleTimeout.
 * On PostgreSQL and on IRIS (the iris-pgwire emulator, not IRIS), each through a
 * TCP proxy that counts the connections opened.
 */
import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { createEngine, type Engine, text } from "../mod.ts";
import { type IrisEmulator, startIrisEmulator } from "./fixtures/iris-pgwire-emulator/mod.ts";
import { startTcpProxy, type TcpProxy } from "./fixtures/tcp-proxy.ts";
import { PG_URL, uniqueName } from "./helpers.ts";

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

interface Target {
  name: "postgres" | "iris";
  url: string;
  proxy: TcpProxy;
  close(): Promise<void>;
}

async function postgresTarget(): Promise<Target> {
  const proxy = await startTcpProxy();
  return { name: "postgres", url: proxy.url(PG_URL), proxy, close: () => proxy.close() };
}

async function irisTarget(): Promise<Target> {
  const emu: IrisEmulator = await startIrisEmulator({ backend: PG_URL });
  const proxy = await startTcpProxy({ port: emu.port });
  return {
    name: "iris",
    url: proxy.url(emu.url),
    proxy,
    close: async () => {
      await proxy.close();
      await emu.close();
    },
  };
}

for (const makeTarget of [postgresTarget, irisTarget]) {
  describe(`pool lifetime and idle timeout (${makeTarget.name.replace("Target", "")})`, () => {
    let target: Target;
    let admin: Engine;
    const notes = uniqueName("life_notes");
    const q = (name: string) => target.name === "iris" ? `"${name}"` : name;

    before(async () => {
      target = await makeTarget();
      admin = createEngine(PG_URL, { pool: { max: 2 } });
      await admin.execute(`CREATE TABLE ${notes} (tag varchar(40) NOT NULL)`);
    });

    after(async () => {
      await admin.execute(`DROP TABLE IF EXISTS ${notes}`);
      await admin.dispose();
      await target.close();
    });

    it("replaces connections past maxLifetime under a steady stream of reads, without one error", async () => {
      const engine = createEngine(target.url, { pool: { max: 3, maxLifetime: 300, idleTimeout: 0, prePing: false } });
      try {
        const opened = target.proxy.accepted;
        const errors: unknown[] = [];
        let answers = 0;
        const until = performance.now() + 2000;
        await Promise.all(Array.from({ length: 8 }, async () => {
          while (performance.now() < until) {
            try {
              await engine.execute(text("SELECT :n AS n"), { n: 1 });
              answers++;
            } catch (error) {
              errors.push(error);
            }
          }
        }));
        assert.deepEqual(errors.map(String), []);
        assert.ok(answers > 20, `${answers} answers`);
        // 2 s of 300 ms lifetimes on up to 3 connections: more than 3 opened.
        const replaced = target.proxy.accepted - opened;
        assert.ok(replaced > 3, `${replaced} connections opened`);
        assert.ok(target.proxy.openSince(opened) <= 3, `${target.proxy.openSince(opened)} open at the end`);
      } finally {
        await engine.dispose();
      }
    });

    it("commits a transaction held for 3x maxLifetime and paused for 3x idleTimeout", async () => {
      const engine = createEngine(target.url, { pool: { max: 2, maxLifetime: 300, idleTimeout: 300 } });
      try {
        const insert = text(`INSERT INTO ${q(notes)} (tag) VALUES (:tag)`);
        await engine.begin(async (tx) => {
          await tx.execute(insert, { tag: "held-1" });
          await sleep(1000);
          await tx.execute(insert, { tag: "held-2" });
        });
        const rows = await admin.execute(`SELECT tag FROM ${notes} WHERE tag LIKE 'held-%' ORDER BY tag`);
        assert.deepEqual(rows.rows.map((r) => r.tag), ["held-1", "held-2"]);
        // A statement running longer than both is not cut either.
        const slow = target.name === "iris" ? "SELECT 1 AS n" : "SELECT 1 AS n FROM pg_sleep(1)";
        if (target.name === "postgres") assert.equal((await engine.execute(slow)).scalar(), 1);
      } finally {
        await engine.dispose();
      }
    });

    it("closes idle connections after idleTimeout and opens new ones when needed", async () => {
      const engine = createEngine(target.url, { pool: { max: 3, idleTimeout: 300, prePing: false } });
      try {
        const first = target.proxy.accepted;
        await Promise.all(Array.from({ length: 3 }, () => engine.begin((tx) => tx.execute("SELECT 1 AS n"))));
        assert.equal(target.proxy.openSince(first), 3);
        await sleep(1000);
        assert.equal(target.proxy.openSince(first), 0, "idle connections closed");
        assert.equal((await engine.execute("SELECT 2 AS n")).scalar(), 2);
      } finally {
        await engine.dispose();
      }
    });
  });
}

describe("pool idle timeout on PostgreSQL, counted by the server", () => {
  it("leaves no backend of the engine's application_name after idleTimeout", async () => {
    const app = uniqueName("idle_app");
    const engine = createEngine(PG_URL, { pool: { max: 3, idleTimeout: 300 }, applicationName: app });
    const admin = createEngine(PG_URL, { pool: { max: 1 } });
    const backends = async () =>
      (await admin.execute(
        text("SELECT count(*)::int AS n FROM pg_stat_activity WHERE application_name = :app"),
        { app },
      )).scalar();
    try {
      await Promise.all(Array.from({ length: 3 }, () => engine.execute("SELECT pg_sleep(0.05)")));
      assert.equal(await backends(), 3);
      await sleep(1000);
      assert.equal(await backends(), 0);
    } finally {
      await Promise.all([engine.dispose(), admin.dispose()]);
    }
  });
});
