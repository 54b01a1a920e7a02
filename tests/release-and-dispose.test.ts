/**
 * A connection goes back to the pool clean or not at all, and dispose() lets
 * accepted work finish. On postgres://, pglite:// and iris:// (the iris-pgwire
 * EMULATOR in front of PostgreSQL, not IRIS).
 */
import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { EventEmitter } from "node:events";
import net from "node:net";
import { createEngine, type Engine, type EngineOptions, SessionClosedError, sql } from "../mod.ts";
import { type IrisEmulator, startIrisEmulator } from "./fixtures/iris-pgwire-emulator/mod.ts";
import { PG_URL, PGLITE_URL, uniqueName } from "./helpers.ts";
import {
  Link,
  type LinkPoolOptions,
  TX_FAILED,
  TX_IDLE,
  TX_IN,
  TX_UNKNOWN,
  TX_UNSEEN,
} from "../src/adapters/postgresjs-pool.ts";

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

interface Target {
  name: "postgres" | "pglite" | "iris";
  url(): string;
  /** Make the table (id int) that `engine` writes to. */
  create(engine: Engine, table: string): Promise<void>;
  /** The ids another client sees committed in the table (PGlite: the same engine, one connection). */
  committed(engine: Engine, table: string): Promise<number[]>;
}

let emu: IrisEmulator | undefined;
let observer: Engine | undefined;
const seen = async (engine: Engine, table: string) =>
  (await engine.execute(`SELECT id FROM ${table} ORDER BY id`)).rows.map((r) => Number(r.id));

const TARGETS: Target[] = [
  {
    name: "postgres",
    url: () => PG_URL,
    create: async (_engine, table) => void await observer!.execute(`CREATE TABLE ${table} (id int)`),
    committed: (_engine, table) => seen(observer!, table),
  },
  {
    name: "pglite",
    url: () => PGLITE_URL,
    create: async (engine, table) => void await engine.execute(`CREATE TABLE ${table} (id int)`),
    committed: (engine, table) => seen(engine, table),
  },
  {
    name: "iris",
    url: () => emu!.url,
    create: async (_engine, table) => void await observer!.execute(`CREATE TABLE ${table} (id int)`),
    committed: (_engine, table) => seen(observer!, table),
  },
];

const tables: string[] = [];

before(async () => {
  observer = createEngine(PG_URL);
  emu = await startIrisEmulator({ backend: PG_URL });
});

after(async () => {
  for (const t of tables) await observer?.execute(`DROP TABLE IF EXISTS ${t}`);
  await observer?.dispose();
  await emu?.close();
});

/** A TCP proxy that records what clients send, to see which statements irisql itself adds. */
async function recordingProxy(port: number): Promise<{ url(base: string): string; sent(): string; close(): void }> {
  let sent = "";
  const sockets: net.Socket[] = [];
  const server = net.createServer((client) => {
    const upstream = net.connect({ host: "127.0.0.1", port });
    sockets.push(client, upstream);
    client.on("data", (chunk: Uint8Array) => {
      sent += new TextDecoder("latin1").decode(chunk);
      upstream.write(chunk);
    });
    upstream.on("data", (chunk: Uint8Array) => client.write(chunk));
    client.on("error", () => upstream.destroy());
    upstream.on("error", () => client.destroy());
    client.on("close", () => upstream.destroy());
    upstream.on("close", () => client.destroy());
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  const own = (server.address() as net.AddressInfo).port;
  return {
    url: (base) => base.replace(/:\d+\//, `:${own}/`),
    sent: () => sent,
    close: () => {
      for (const s of sockets) s.destroy();
      server.close();
    },
  };
}

function engineOn(target: Target, options?: EngineOptions): Engine {
  return createEngine(target.url(), options);
}

/** A pool size, except on PGlite: one embedded connection, which refuses pool options. */
function poolOf(target: Target, max: number): EngineOptions {
  return target.name === "pglite" ? {} : { pool: { max } };
}

async function withTable(target: Target, engine: Engine): Promise<string> {
  const t = uniqueName("rel");
  if (target.name !== "pglite") tables.push(t);
  await target.create(engine, t);
  return t;
}

for (const target of TARGETS) {
  describe(`release: a connection comes back clean or not at all (${target.name})`, () => {
    // PGlite takes seconds to start: its tests share one engine (one connection anyway).
    let shared: Engine | undefined;
    const engineFor = () =>
      target.name === "pglite" ? (shared ??= engineOn(target)) : engineOn(target, { pool: { max: 1 } });
    const done = (engine: Engine) => engine === shared ? Promise.resolve() : engine.dispose();
    after(() => shared?.dispose());

    it("connect + BEGIN + INSERT + release: the uncommitted row is rolled back, the next pooled write commits", async () => {
      const engine = engineFor();
      try {
        const t = await withTable(target, engine);
        const c = await engine.connect();
        await c.execute("BEGIN");
        await c.execute(`INSERT INTO ${t} (id) VALUES (1)`);
        await c.release();
        await engine.execute(`INSERT INTO ${t} (id) VALUES (2)`);
        assert.deepEqual(await target.committed(engine, t), [2]);
      } finally {
        await done(engine);
      }
    });

    it("a released connection sends nothing more (it may already serve someone else)", async () => {
      const engine = engineFor();
      try {
        const conn = await engine.adapter.reserve();
        await conn.run("SELECT 1", [], {});
        await conn.release();
        await assert.rejects(conn.run("SELECT 1", [], {}), SessionClosedError);
        await assert.rejects(conn.pipeline([{ text: "SELECT 1", params: [] }]), SessionClosedError);
        assert.equal((await engine.execute("SELECT 2 AS two")).scalar(), 2);
      } finally {
        await done(engine);
      }
    });

    it("a transaction whose statement failed (status E) is rolled back on release", async () => {
      const engine = engineFor();
      try {
        const t = await withTable(target, engine);
        const c = await engine.connect();
        await c.execute("BEGIN");
        await c.execute(`INSERT INTO ${t} (id) VALUES (1)`);
        await assert.rejects(c.execute(`SELECT * FROM ${t}_missing`));
        await c.release();
        await engine.execute(`INSERT INTO ${t} (id) VALUES (2)`);
        assert.deepEqual(await target.committed(engine, t), [2]);
      } finally {
        await done(engine);
      }
    });

    if (target.name !== "pglite") {
      it("nothing is sent on release after irisql's own COMMIT/ROLLBACK; a held connection left in BEGIN gets a ROLLBACK", async () => {
        const base = target.url();
        const proxy = await recordingProxy(Number(new URL(base.replace(/^\w+:/, "http:")).port));
        const engine = createEngine(proxy.url(base), { pool: { max: 1 } });
        try {
          await engine.execute("SELECT 1 AS n");
          await engine.begin(async (tx) => void await tx.execute("SELECT 1 AS n"));
          await assert.rejects(engine.begin(() => Promise.reject(new Error("boom"))));
          await engine.session(async (s) => void await s.execute("SELECT 1 AS n"));
          await engine.execute("SELECT 1 AS n");
          const rollbacks = () => proxy.sent().split("ROLLBACK").length - 1;
          assert.equal(rollbacks(), 1, "only the ROLLBACK of the failed begin()");
          assert.doesNotMatch(proxy.sent(), /RESET ALL/);
          const c = await engine.connect();
          await c.execute("BEGIN");
          await c.release();
          await engine.execute("SELECT 1 AS n");
          assert.equal(rollbacks(), 2);
        } finally {
          await engine.dispose();
          proxy.close();
        }
      });
    }

    if (target.name === "iris") return;

    it("connect + SET statement_timeout / search_path + release: the next pooled statements see the defaults", async () => {
      const engine = engineFor();
      try {
        const show = async () => ({
          timeout: (await engine.execute("SHOW statement_timeout")).scalar(),
          path: (await engine.execute("SHOW search_path")).scalar(),
          tz: (await engine.execute("SHOW TimeZone")).scalar(),
        });
        const defaults = await show();
        assert.equal(defaults.tz, "UTC");
        const pid = target.name === "postgres"
          ? (await engine.execute("SELECT pg_backend_pid() AS pid")).scalar()
          : undefined;
        const c = await engine.connect();
        await c.execute("SET statement_timeout = 1");
        await c.execute("SET search_path = nowhere");
        await c.execute("SET TimeZone = 'Europe/Paris'");
        // On a busy machine the 1 ms timeout used to cancel the reset itself, and the connection was dropped.
        await c.release();
        assert.deepEqual(await show(), defaults);
        await engine.execute("SELECT pg_sleep(0.05)");
        if (pid !== undefined) {
          // Reset, not replaced: the same server session goes on.
          assert.equal((await engine.execute("SELECT pg_backend_pid() AS pid")).scalar(), pid);
        }
      } finally {
        await done(engine);
      }
    });

    it("prepared statements survive the reset after connect()", async () => {
      const engine = engineFor();
      try {
        const run = async (n: number) => (await engine.execute(sql`SELECT ${n}::int + 1 AS n`)).scalar();
        assert.equal(await run(1), 2);
        const c = await engine.connect();
        await c.execute("SET search_path = nowhere");
        await c.release();
        assert.equal(await run(2), 3);
      } finally {
        await done(engine);
      }
    });

    it("a pooled statement that leaves its connection in a transaction does not swallow later pooled writes", async () => {
      const engine = engineFor();
      try {
        const t = await withTable(target, engine);
        // engine.execute() refuses this script; the adapter must still not hand the connection on as it is.
        await engine.adapter.run(`INSERT INTO ${t} (id) VALUES (1); BEGIN`, [], { simple: true });
        await engine.execute(`INSERT INTO ${t} (id) VALUES (2)`);
        assert.deepEqual(await target.committed(engine, t), [2]);
      } finally {
        await done(engine);
      }
    });

    if (target.name !== "postgres") return;

    it("sessions and transactions that irisql ended keep their connection (no reconnect)", async () => {
      const engine = engineOn(target, { pool: { max: 1 } });
      try {
        const t = await withTable(target, engine);
        const pid = async () => (await engine.execute("SELECT pg_backend_pid() AS pid")).scalar();
        const first = await pid();
        await engine.begin(async (tx) => void await tx.execute(`INSERT INTO ${t} (id) VALUES (1)`));
        await assert.rejects(engine.begin(() => Promise.reject(new Error("boom"))));
        await engine.session(async (s) => void await s.execute(`INSERT INTO ${t} (id) VALUES (2)`));
        const c = await engine.connect();
        await c.execute("SELECT 1");
        await c.release();
        assert.equal(await pid(), first);
        assert.deepEqual(await target.committed(engine, t), [1, 2]);
      } finally {
        await done(engine);
      }
    });
  });

  describe(`dispose: accepted work finishes, new work is refused (${target.name})`, () => {
    it("a statement started just before dispose() succeeds on a fresh engine", async () => {
      const engine = engineOn(target);
      const p = engine.execute("SELECT 1 AS n");
      await engine.dispose();
      assert.equal(Number((await p).scalar()), 1);
    });

    it("a statement started just before dispose() succeeds on a warm engine; later calls are SessionClosedError", async () => {
      const engine = engineOn(target);
      await engine.execute("SELECT 1 AS n");
      const p = engine.execute("SELECT 2 AS n");
      await engine.dispose();
      assert.equal(Number((await p).scalar()), 2);
      await assert.rejects(engine.execute("SELECT 1 AS n"), SessionClosedError);
      await assert.rejects(engine.connect(), SessionClosedError);
      await assert.rejects(engine.begin(() => {}), SessionClosedError);
      await assert.rejects(async () => await engine.session(() => {}), SessionClosedError);
      await engine.dispose();
    });

    it("statements waiting in the pool queue run; an open connection works until released", async () => {
      const engine = engineOn(target, poolOf(target, 1));
      const c = await engine.connect();
      const queued = [engine.execute("SELECT 1 AS n"), engine.execute("SELECT 2 AS n")];
      const disposed = engine.dispose();
      await sleep(20);
      assert.equal(Number((await c.execute("SELECT 3 AS n")).scalar()), 3);
      await c.release();
      await disposed;
      assert.deepEqual((await Promise.all(queued)).map((r) => Number(r.scalar())), [1, 2]);
    });

    it("a transaction in progress when dispose() is called commits", async () => {
      const engine = engineOn(target, poolOf(target, 2));
      try {
        const t = await withTable(target, engine);
        let started!: () => void;
        const inside = new Promise<void>((r) => (started = r));
        const tx = engine.begin(async (tx) => {
          started();
          await sleep(100);
          await tx.execute(`INSERT INTO ${t} (id) VALUES (7)`);
        });
        await inside;
        await engine.dispose();
        await tx;
        if (target.name === "pglite") return; // its data went with the engine
        assert.deepEqual(await target.committed(engine, t), [7]);
      } finally {
        await engine.dispose();
      }
    });

    it("a connection held past the grace period is closed after 5 s, and dispose() resolves", async () => {
      const engine = engineOn(target);
      const c = await engine.connect();
      await c.execute("SELECT 1 AS n");
      const started = performance.now();
      await engine.dispose();
      const waited = performance.now() - started;
      assert.ok(waited >= 4500 && waited < 8000, `dispose() took ${Math.round(waited)} ms`);
      await assert.rejects(c.execute("SELECT 1 AS n"));
      await c.release();
    });
  });
}

describe("transaction status from the bytes a connection receives", () => {
  /** A link on a fake socket: what `feed` emits is what the driver would receive. */
  function fakeLink(): { link: Link; feed: (...chunks: (number | string)[][]) => void } {
    const socket = Object.assign(new EventEmitter(), { destroy() {} });
    let open!: { socket: () => unknown };
    const options = {
      open: (hooks: { socket: () => unknown }) => (open = hooks, {}),
      connect: () => socket,
    } as unknown as LinkPoolOptions;
    const link = new Link(options, () => {});
    open.socket();
    const bytes = (chunk: (number | string)[]) =>
      new Uint8Array(chunk.flatMap((x) => typeof x === "string" ? [...x].map((c) => c.charCodeAt(0)) : [x]));
    return { link, feed: (...chunks) => chunks.forEach((c) => socket.emit("data", bytes(c))) };
  }
  const rfq = (status: string) => ["Z", 0, 0, 0, 5, status];
  const complete = ["C", 0, 0, 0, 11, "BEGIN", 0];

  it("follows ReadyForQuery at the end of each chunk, and knows when an answer is still coming", () => {
    const { link, feed } = fakeLink();
    feed(["R", 0, 0, 0, 8, 0, 0, 0, 0]);
    assert.equal(link.txStatus, TX_UNSEEN, "nothing known before the first ReadyForQuery");
    feed(rfq("I"));
    assert.equal(link.txStatus, TX_IDLE);
    feed([...complete, ...rfq("T")]);
    assert.equal(link.txStatus, TX_IN);
    feed(["D", 0, 0, 0, 40, 0, 1]);
    assert.equal(link.txStatus, TX_UNKNOWN, "a row arrived: the answer is not over");
    feed([...rfq("E")]);
    assert.equal(link.txStatus, TX_FAILED);
  });

  it("joins a ReadyForQuery split across chunks, down to one byte each", () => {
    const { link, feed } = fakeLink();
    feed(rfq("I"));
    feed([...complete, "Z", 0, 0], [0, 5, "T"]);
    assert.equal(link.txStatus, TX_IN);
    feed(...rfq("I").map((b) => [b]));
    assert.equal(link.txStatus, TX_IDLE);
    feed([...complete, "Z"], [0], [0, 0], [5], ["E"]);
    assert.equal(link.txStatus, TX_FAILED);
  });
});
