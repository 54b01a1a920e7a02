/**
 * Server backends killed with pg_terminate_backend: the next calls succeed (a
 * fresh connection, or prePing); a statement that was sent on a connection that
 * died, read or write, fails with ConnectionError and is never sent again; a
 * transaction or session whose connection died fails with ConnectionError
 * instead of carrying on in a new session.
 */
import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { ConnectionError, type Engine, text } from "../../mod.ts";
import {
  ensureRole,
  flushEvidence,
  log,
  PG_URL,
  seenError,
  sleep,
  SOAK,
  terminateBackends,
  terminateWhenRunning,
  uniqueName,
  watchedEngine,
} from "./support.ts";

const ROUNDS = SOAK ? 50 : 10;

describe("reliability: terminated backends (pg_terminate_backend)", () => {
  const app = uniqueName("rel_kill");
  const notes = uniqueName("rel_kill_notes");
  let engine: Engine;

  const insert = text(`INSERT INTO ${notes} (tag) VALUES (:tag)`);
  const count = async (tag: string) =>
    Number((await engine.execute(text(`SELECT COUNT(*) AS n FROM ${notes} WHERE tag = :tag`), { tag })).rows[0].n);
  /** Open `n` connections at once, so each is a live server backend. */
  const warm = (e: Engine, n: number) =>
    Promise.all(Array.from({ length: n }, () => e.execute("SELECT pg_sleep(0.05)")));
  const failure = (p: Promise<unknown>) => p.then(() => undefined, (error) => seenError(error) as Error);

  before(async () => {
    await ensureRole();
    engine = watchedEngine(PG_URL, { pool: { max: 5 }, applicationName: app });
    await engine.execute(`CREATE TABLE ${notes} (tag varchar(80) NOT NULL)`);
  });

  after(async () => {
    await engine.execute(`DROP TABLE IF EXISTS ${notes}`);
    await engine.dispose();
    flushEvidence("03-terminate");
  });

  it("serves reads, writes, transactions and sessions after its idle connections were terminated", async () => {
    await warm(engine, 5);
    const killed = await terminateBackends(app);
    assert.ok(killed >= 2, `terminated ${killed} backends`);
    await sleep(200);
    assert.equal((await engine.execute("SELECT 1 AS one")).rows[0].one, 1);
    await engine.execute(insert, { tag: "after-kill-write" });
    await engine.begin(async (tx) => {
      await tx.execute(insert, { tag: "after-kill-tx" });
    });
    await engine.session(async (s) => {
      await s.execute(insert, { tag: "after-kill-session" });
    });
    for (const tag of ["after-kill-write", "after-kill-tx", "after-kill-session"]) {
      assert.equal(await count(tag), 1, tag);
    }
    assert.deepEqual(engine.stats().pool, { max: 5, reserved: 0, waiting: 0 });
  });

  it("fails a read killed while running with ConnectionError and does not send it again", async () => {
    // It was written to the server, so it may have had effects (a function that writes): the caller decides.
    const started = performance.now();
    const read = failure(engine.execute("SELECT 43 AS answer, pg_sleep(0.4) AS slept"));
    await terminateWhenRunning(app, "SELECT 43 AS answer, pg_sleep(0.4)%");
    const error = await read;
    assert.ok(error instanceof ConnectionError, String(error));
    assert.match(
      error.message,
      /Could not use the database connection to 127\.0\.0\.1:\d+: .*\[(CONNECTION_CLOSED|ECONNRESET|57P01)\]/,
    );
    assert.ok(performance.now() - started < 400, "it failed at the kill, not after a second run");
    assert.equal((await engine.execute("SELECT 44 AS answer")).rows[0].answer, 44);
  });

  it("fails a write killed while running with ConnectionError and never sends it again", async () => {
    const write = failure(
      engine.execute(text(`INSERT INTO ${notes} (tag) SELECT :tag FROM pg_sleep(0.4)`), { tag: "killed-write" }),
    );
    await terminateWhenRunning(app, `INSERT INTO ${notes}%`);
    const error = await write;
    assert.ok(error instanceof ConnectionError, String(error));
    await sleep(600);
    assert.equal(await count("killed-write"), 0, "the killed write was rolled back and not retried");
  });

  it("fails a transaction killed mid-way with ConnectionError, applies none of it, and commits the next one", async () => {
    const tx = failure(engine.begin(async (t) => {
      await t.execute(insert, { tag: "killed-tx" });
      await t.execute("SELECT pg_sleep(0.4) AS mid_transaction");
      await t.execute(insert, { tag: "killed-tx" });
    }));
    await terminateWhenRunning(app, "SELECT pg_sleep(0.4) AS mid_transaction");
    const error = await tx;
    assert.ok(error instanceof ConnectionError, String(error));
    assert.equal(await count("killed-tx"), 0);
    await engine.begin(async (t) => {
      await t.execute(insert, { tag: "next-tx" });
    });
    assert.equal(await count("next-tx"), 1);
  });

  it("fails a session whose connection died while idle, instead of going on in a new session", async () => {
    const s = engine.session();
    await s.execute(insert, { tag: "idle-session" });
    await terminateBackends(app);
    await sleep(200);
    const error = await failure(s.execute(insert, { tag: "idle-session" }));
    assert.ok(error instanceof ConnectionError, String(error));
    await s.close();
    assert.equal(await count("idle-session"), 0, "nothing of the session was committed");
    assert.equal(engine.stats().pool.reserved, 0);
    await engine.session(async (s2) => {
      await s2.execute(insert, { tag: "next-session" });
    });
    assert.equal(await count("next-session"), 1);
  });

  it("fails a held connection terminated before its first statement with ConnectionError", async () => {
    const conn = await engine.connect();
    await terminateBackends(app);
    await sleep(200);
    const error = await failure(conn.execute(text("SELECT :n::int AS n"), { n: 1 }));
    assert.ok(error instanceof ConnectionError, String(error));
    await conn.release();
    assert.equal((await engine.execute(text("SELECT :n::int AS n"), { n: 2 })).rows[0].n, 2);
    assert.deepEqual(engine.stats().pool, { max: 5, reserved: 0, waiting: 0 });
  });

  it(`with prePing, commits transactions started the moment their connections were killed (${ROUNDS} rounds)`, {
    timeout: 120_000,
  }, async () => {
    const pingApp = uniqueName("rel_ping");
    const pinged = watchedEngine(PG_URL, { pool: { max: 3, prePing: true }, applicationName: pingApp });
    try {
      for (let round = 0; round < ROUNDS; round++) {
        await warm(pinged, 3);
        await terminateBackends(pingApp);
        await pinged.begin(async (tx) => {
          await tx.execute(insert, { tag: `ping-${round}` });
        });
      }
      for (let round = 0; round < ROUNDS; round++) assert.equal(await count(`ping-${round}`), 1);
    } finally {
      await pinged.dispose();
    }
  });

  it(
    `right after a kill, fails or answers each call once (ConnectionError, never re-sent), then serves (${ROUNDS} rounds)`,
    { timeout: 120_000 },
    async () => {
      const soloApp = uniqueName("rel_solo");
      const solo = watchedEngine(PG_URL, { pool: { max: 1 }, applicationName: soloApp });
      let writesFailed = 0;
      let readsFailed = 0;
      try {
        for (let round = 0; round < ROUNDS; round++) {
          await solo.execute("SELECT 1");
          await terminateBackends(soloApp);
          // A read sent before the client saw the close fails (it reached the socket, so it is not re-sent);
          // the next one goes out on a fresh connection and answers.
          const read = () => solo.execute(text("SELECT :round::int AS r"), { round });
          const readError = await failure(read());
          if (readError) {
            assert.ok(readError instanceof ConnectionError, String(readError));
            readsFailed++;
            assert.equal((await read()).rows[0].r, round);
          }
          await solo.execute("SELECT 1");
          await terminateBackends(soloApp);
          const tag = `solo-${round}`;
          const error = await failure(solo.execute(insert, { tag }));
          if (error) {
            assert.ok(error instanceof ConnectionError, String(error));
            writesFailed++;
          }
          assert.equal(await count(tag), error ? 0 : 1, `${tag}: ${String(error ?? "ok")}`);
        }
      } finally {
        await solo.dispose();
      }
      log(
        `  after a kill: ${readsFailed} of ${ROUNDS} reads and ${writesFailed} of ${ROUNDS} writes failed with ConnectionError ` +
          "(the next call answered); none ran twice",
      );
    },
  );
});
