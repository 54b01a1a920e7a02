/**
 * Secrets: the password of the suite's URLs never shows in an error message,
 * engine.url, an onQuery event or a log line. This file runs last: besides its own
 * checks (a server that asks for the password and echoes it back in its
 * refusal), it reads what every other file of the run recorded and finds no leak.
 */
import { after, describe, it } from "node:test";
import assert from "node:assert/strict";
import { createServer, type Server, type Socket } from "node:net";
import { readFileSync } from "node:fs";
import { inspect } from "node:util";
import { ConnectionError, type Engine, QueryError, text } from "../../mod.ts";
import { envVar } from "../../src/adapters/runtime.ts";
import {
  type Evidence,
  EVIDENCE_FILE,
  flushEvidence,
  log,
  PASSWORD,
  PG_URL,
  ROLE,
  SECRET_FORMS,
  seenError,
  watchedEngine,
  withCredentials,
} from "./support.ts";

const FILES = [
  "01-load",
  "02-restart",
  "03-terminate",
  "04-pool",
  "05-timeouts",
  "06-input-fuzz",
  "06-input-injection",
  "06-input-config",
  "07-pglite",
  "08-iris-emulator",
];

function showsSecret(text: string): boolean {
  return SECRET_FORMS.some((s) => text.includes(s));
}

/**
 * A server that asks for a cleartext password, remembers it, and refuses it with
 * a message quoting it back: as careless as a server can be.
 */
function careless(): Promise<{ server: Server; port: number; received: string[] }> {
  const received: string[] = [];
  const server = createServer((socket: Socket) => {
    let buffered = new Uint8Array(0);
    let startupDone = false;
    socket.on("error", () => {});
    socket.on("data", (chunk: Uint8Array) => {
      const joined = new Uint8Array(buffered.length + chunk.length);
      joined.set(buffered);
      joined.set(chunk, buffered.length);
      buffered = joined;
      const view = new DataView(buffered.buffer, buffered.byteOffset, buffered.byteLength);
      if (!startupDone) {
        if (buffered.length < 4 || buffered.length < view.getInt32(0)) return;
        buffered = buffered.subarray(view.getInt32(0));
        startupDone = true;
        socket.write(message("R", int32(3))); // AuthenticationCleartextPassword
        return;
      }
      if (buffered.length < 5 || buffered.length < 1 + view.getInt32(1)) return;
      const body = buffered.subarray(5, 1 + view.getInt32(1));
      const password = new TextDecoder().decode(body.subarray(0, body.indexOf(0)));
      received.push(password);
      const fields = [["S", "FATAL"], ["V", "FATAL"], ["C", "28P01"], [
        "M",
        `password authentication failed for user "${ROLE}" (we got "${password}")`,
      ]];
      const enc = new TextEncoder();
      const parts = fields.map(([k, v]) => enc.encode(k + v + "\0"));
      socket.end(message("E", concat([...parts, new Uint8Array([0])])));
    });
  });
  return new Promise((resolve) => {
    server.listen(0, "127.0.0.1", () => {
      resolve({ server, port: (server.address() as { port: number }).port, received });
    });
  });
}

function int32(n: number): Uint8Array {
  const b = new Uint8Array(4);
  new DataView(b.buffer).setInt32(0, n);
  return b;
}
function concat(parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}
function message(type: string, body: Uint8Array): Uint8Array {
  return concat([new TextEncoder().encode(type), int32(body.length + 4), body]);
}

describe("reliability: the password never shows", () => {
  const engines: Engine[] = [];
  const track = (e: Engine) => (engines.push(e), e);

  after(async () => {
    for (const e of engines) await e.dispose();
    flushEvidence("09-secrets");
  });

  it("sends the password to a server that asks, and hides it when the server quotes it back", async () => {
    const { server, port, received } = await careless();
    try {
      const engine = track(watchedEngine(withCredentials(`postgres://127.0.0.1:${port}/test`, ROLE, PASSWORD)));
      const error = await engine.execute("SELECT 1").then(() => undefined, (e) => seenError(e) as Error);
      assert.ok(error instanceof ConnectionError, String(error));
      assert.equal(error.code, "28P01");
      assert.match(
        error.message,
        /^Could not use the database connection to 127\.0\.0\.1:\d+ as user "irisql_reliability": authentication failed \[28P01\]/,
      );
      assert.match(error.message, /\(we got "\*\*\*"\)/);
      assert.deepEqual(received, [PASSWORD], "the client sent the password decoded from the URL");
      const health = await engine.health();
      assert.equal(health.ok, false);
      log(`  health() of the refused engine: ${health.error}`);
      for (
        const shown of [
          error.message,
          String(error),
          inspect(error, { depth: 8 }),
          inspect(error, { showHidden: true, depth: 10, getters: true }),
          health.error ?? "",
          engine.url,
          inspect(engine, { showHidden: true, depth: 10, getters: true }),
        ]
      ) {
        assert.ok(!showsSecret(shown), `the password shows in: ${shown.slice(0, 200)}`);
      }
    } finally {
      await new Promise((r) => server.close(r));
    }
  });

  it("hides the password in engine.url, in the engine when logged, and in its serialised config", () => {
    const engine = track(watchedEngine(PG_URL));
    assert.equal(engine.url, `postgres://${ROLE}:***@${new URL(PG_URL).host}/test`);
    // showHidden and getters: the password must be out of reach of any walk, not merely non-enumerable.
    const all = { showHidden: true, depth: 10, getters: true };
    for (
      const shown of [
        inspect(engine, { depth: 8 }),
        inspect(engine, all),
        inspect(engine.config, all),
        inspect(engine.config.target, all),
        JSON.stringify(engine.config),
        String(engine),
      ]
    ) {
      assert.ok(!showsSecret(shown), `the password shows in: ${shown.slice(0, 200)}`);
    }
  });

  it("hides the password in a server error that quotes it, and keeps it out of onQuery", async () => {
    const events: string[] = [];
    const engine = track(watchedEngine(PG_URL, { onQuery: (e) => events.push(inspect(e, { depth: 4 })) }));
    const error = await engine.execute(text("SELECT :p::int AS n"), { p: PASSWORD }).then(
      () => undefined,
      (e) => seenError(e) as Error,
    );
    assert.ok(error instanceof QueryError, String(error));
    assert.match(error.message, /invalid input syntax for type integer: "\*\*\*"/);
    assert.ok(!showsSecret(inspect(error, { depth: 8 })));
    assert.ok(!showsSecret(inspect(engine, { showHidden: true, depth: 10, getters: true })));
    assert.ok(events.length > 0 && !events.some(showsSecret), "onQuery events never carry the password or values");
  });

  it("finds the password in nothing the whole suite recorded", () => {
    flushEvidence("09-secrets");
    const entries = readFileSync(EVIDENCE_FILE, "utf8").trim().split("\n").map((l) => JSON.parse(l) as Evidence);
    const totals = { url: 0, event: 0, error: 0, log: 0 };
    const leaks: string[] = [];
    for (const e of entries) {
      for (const k of Object.keys(totals) as (keyof typeof totals)[]) totals[k] += e.counts[k];
      leaks.push(...e.leaks.map((l) => `${e.file}: ${l}`));
    }
    const files = new Set(entries.map((e) => e.file));
    log(
      `  scanned ${totals.url} engine urls, ${totals.event} onQuery events, ${totals.error} errors and ` +
        `${totals.log} log lines from ${files.size} test files: ${leaks.length} show the password`,
    );
    assert.deepEqual(leaks.slice(0, 5), []);
    assert.ok(totals.url > 0 && totals.event > 0 && totals.error > 0 && totals.log > 0, JSON.stringify(totals));
    // Run by the suite's runner, every other file must have reported in.
    if (envVar("IRISQL_RELIABILITY_EVIDENCE")) {
      assert.deepEqual(FILES.filter((f) => !files.has(f)), [], "files that recorded nothing");
    }
  });
});
