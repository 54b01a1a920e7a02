/**
 * A server or network that stops answering cannot hang a call: with a
 * statementTimeout, a statement that gets no answer fails with QueryTimeoutError
 * shortly after it (the client's deadline), its connection is closed, and what
 * was queued behind it unsent runs on another connection. Through a TCP proxy
 * that freezes connections (stops forwarding without closing).
 */
import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { ConnectionError, createEngine, type Engine, QueryTimeoutError, text } from "../mod.ts";
import { type IrisEmulator, startIrisEmulator } from "./fixtures/iris-pgwire-emulator/mod.ts";
import { startTcpProxy, type TcpProxy } from "./fixtures/tcp-proxy.ts";
import { PG_URL } from "./helpers.ts";

async function timed<T>(p: Promise<T>): Promise<{ value?: T; error?: unknown; ms: number }> {
  const started = performance.now();
  try {
    return { value: await p, ms: performance.now() - started };
  } catch (error) {
    return { error, ms: performance.now() - started };
  }
}

/** Fails the test instead of hanging it. */
function within<T>(ms: number, p: Promise<T>): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const hung = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`still pending after ${ms} ms`)), ms);
  });
  return Promise.race([p, hung]).finally(() => clearTimeout(timer));
}

describe("client-side deadline on PostgreSQL (frozen connections through a TCP proxy)", () => {
  let proxy: TcpProxy;
  let engine: Engine;

  before(async () => {
    proxy = await startTcpProxy();
  });
  after(async () => {
    await engine?.dispose();
    await proxy.close();
  });

  it("fails a statement on a frozen connection with QueryTimeoutError, and what waited unsent behind it succeeds", async () => {
    engine = createEngine(proxy.url(PG_URL), { statementTimeout: 500, pool: { max: 2 } });
    await engine.execute("SELECT 1");
    proxy.freeze();
    // New parameterised text: the driver holds what follows on this connection until it is described.
    const stuck = timed(engine.execute(text("SELECT :n::int + 1 AS n"), { n: 1 }));
    const reads = Array.from({ length: 20 }, (_, n) => timed(engine.execute(text("SELECT :n::int AS n"), { n })));
    const r = await within(5000, stuck);
    assert.ok(r.error instanceof QueryTimeoutError, String(r.error ?? "it answered"));
    assert.match(r.error.message, /no answer/i);
    assert.ok(r.ms >= 500 && r.ms < 2200, `after ${r.ms.toFixed(0)} ms`);
    const answers = await within(5000, Promise.all(reads));
    assert.deepEqual(
      answers.map((a) => a.error === undefined ? a.value!.scalar() : String(a.error)),
      Array.from({ length: 20 }, (_, n) => n),
    );
    assert.equal((await engine.execute("SELECT 5 AS n")).scalar(), 5);
  });

  it("fails a transaction whose connection froze with QueryTimeoutError, without hanging", async () => {
    await engine.execute("SELECT 1");
    const done = timed(engine.begin(async (tx) => {
      await tx.execute("SELECT 1");
      proxy.freeze();
      await tx.execute("SELECT 2");
    }));
    const r = await within(5000, done);
    assert.ok(r.error instanceof QueryTimeoutError || r.error instanceof ConnectionError, String(r.error));
    assert.ok(r.ms < 2500, `after ${r.ms.toFixed(0)} ms`);
    // freeze() also froze the pool's idle connections: let them talk again.
    proxy.thaw();
    assert.equal((await engine.execute("SELECT 6 AS n")).scalar(), 6);
    assert.equal(engine.stats().pool.reserved, 0);
  });

  it("has no deadline without a statementTimeout: a slow answer is waited for", async () => {
    const patient = createEngine(proxy.url(PG_URL), { pool: { max: 1 } });
    try {
      assert.equal((await patient.execute("SELECT 1 AS n FROM pg_sleep(1.7)")).scalar(), 1);
    } finally {
      await patient.dispose();
    }
  });
});

describe("client-side deadline on IRIS (the iris-pgwire emulator, not IRIS)", () => {
  let emu: IrisEmulator;
  let proxy: TcpProxy;

  before(async () => {
    emu = await startIrisEmulator({ backend: PG_URL });
    proxy = await startTcpProxy({ port: emu.port });
  });
  after(async () => {
    await proxy.close();
    await emu.close();
  });

  it("ends a statement at statementTimeout (IRIS has none of its own) with QueryTimeoutError", async () => {
    const engine = createEngine(proxy.url(emu.url), { statementTimeout: 500, pool: { max: 2 } });
    try {
      await engine.execute("SELECT 1");
      proxy.freeze();
      const r = await within(5000, timed(engine.execute("SELECT 1")));
      assert.ok(r.error instanceof QueryTimeoutError, String(r.error ?? "it answered"));
      assert.ok(r.ms >= 450 && r.ms < 1500, `after ${r.ms.toFixed(0)} ms`);
      assert.equal((await engine.execute("SELECT 7 AS n")).rows[0].n, 7);
    } finally {
      await engine.dispose();
    }
  });
});
