/**
 * Multi-host URLs choose by role, and read replicas take only what irisql can prove
 * is a read. Each statement's server is read from the server itself: `whoami` is a
 * view (replicated like any other) whose one row says pg_is_in_recovery() where it runs.
 */
import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { col, ConnectionError, createEngine, type Engine, table } from "../../mod.ts";
import { resolveConfig } from "../../src/config.ts";
import {
  BOTH_URL,
  clusterUp,
  PRIMARY,
  PRIMARY_URL,
  query,
  SKIP_REASON,
  STANDBY,
  STANDBY_URL,
  standbyCaughtUp,
  uniqueName,
} from "../fixtures/replication.ts";

const up = await clusterUp();
const WHO = uniqueName("whoami");
const ITEMS = uniqueName("items");
const whoami = table(WHO, { id: col.integer().primaryKey(), standby: col.boolean() });
const items = table(ITEMS, { id: col.integer().primaryKey(), label: col.text() });

describe(
  "multi-host URLs and read replicas (PostgreSQL streaming replication)",
  { skip: up ? false : SKIP_REASON },
  () => {
    let setup: Engine;
    before(async () => {
      setup = createEngine(PRIMARY_URL);
      await setup.execute(`CREATE VIEW ${WHO} AS SELECT 1 AS id, pg_is_in_recovery() AS standby`);
      await setup.createAll([items]);
      assert.ok(await standbyCaughtUp(), "the standby replays the schema");
    });
    after(async () => {
      await setup.execute(`DROP VIEW IF EXISTS ${WHO}`);
      await setup.dropAll([items], { checkfirst: true });
      await setup.dispose();
    });

    const inRecovery = async (engine: Engine, replica = false) =>
      (await engine.execute("SELECT pg_is_in_recovery() AS r", undefined, { replica })).scalar();

    it("target_session_attrs: read-write/primary find the primary, standby/prefer-standby the standby, whatever the order", async () => {
      for (
        const [attrs, standby] of [["read-write", false], ["primary", false], ["standby", true], [
          "prefer-standby",
          true,
        ], ["read-only", true]] as const
      ) {
        for (const hosts of [`${STANDBY},${PRIMARY}`, `${PRIMARY},${STANDBY}`]) {
          const engine = createEngine(`postgres://postgres@${hosts}/postgres?target_session_attrs=${attrs}`);
          try {
            assert.equal(await inRecovery(engine), standby, `${attrs} on ${hosts}`);
            assert.equal(engine.stats().hosts?.[0].host, standby ? STANDBY : PRIMARY);
          } finally {
            await engine.dispose();
          }
        }
      }
    });

    it("any takes the first host that answers; a host that does not is skipped", async () => {
      const engine = createEngine(`postgres://postgres@127.0.0.1:1,${STANDBY},${PRIMARY}/postgres`);
      try {
        assert.equal(await inRecovery(engine), true);
      } finally {
        await engine.dispose();
      }
    });

    it("no host of the right role: ConnectionError naming each host, never a hang", async () => {
      const engine = createEngine(`postgres://postgres@${STANDBY},127.0.0.1:1/postgres?targetSessionAttrs=primary`);
      try {
        const started = performance.now();
        const error = await engine.execute("SELECT 1").then(() => undefined, (e) => e);
        assert.ok(error instanceof ConnectionError, String(error));
        assert.match(error.message, /no host of .* is a primary/);
        assert.match(error.message, new RegExp(`${STANDBY} is a standby`));
        assert.ok(performance.now() - started < 5000);
      } finally {
        await engine.dispose();
      }
    });

    it("iris:// takes the multi-host form too (the role check is the dialect's; not verifiable without IRIS)", () => {
      const c = resolveConfig("iris://_SYSTEM:SYS@m1:1972,m2:1973/USER?targetSessionAttrs=read-write", {
        transactions: "server",
      });
      assert.equal(c.target.kind === "network" && c.target.hosts.length, 2);
      assert.equal(c.redactedUrl, "iris://_SYSTEM:***@m1:1972,m2:1973/USER?targetSessionAttrs=read-write");
    });

    it("a session's typed reads go to the replica until its first write, then to the primary, also after commit", async () => {
      const engine = createEngine(BOTH_URL, { replicas: [STANDBY_URL] });
      try {
        assert.equal((await engine.health()).hosts?.[1].inRotation, true);
        const s = engine.session();
        try {
          assert.equal((await s.get(whoami, 1))?.standby, true, "read before any write: the replica");
          assert.equal((await s.find(whoami))[0].standby, true);
          await s.insert(items, { id: 1, label: "one" });
          assert.equal((await s.get(whoami, 1))?.standby, false, "inside the transaction: the primary");
          await s.commit();
          assert.equal((await s.get(whoami, 1))?.standby, false, "after commit: still the primary");
          assert.equal((await s.get(items, 1))?.label, "one", "read-your-writes");
        } finally {
          await s.close();
        }
        // A new session starts on the replica again.
        assert.equal(await engine.session((s2) => s2.get(whoami, 1).then((r) => r?.standby)), true);
        // Raw statements: the primary, unless marked.
        assert.equal(await inRecovery(engine), false);
        assert.equal(await inRecovery(engine, true), true);
        const streamed: unknown[] = [];
        for await (const batch of engine.stream(`SELECT standby FROM ${WHO}`, undefined, { replica: true })) {
          streamed.push(...batch.map((r) => r.standby));
        }
        assert.deepEqual(streamed, [true]);
        const hosts = engine.stats().hosts!;
        assert.equal(hosts[0].role, "primary");
        assert.equal(hosts[0].host, PRIMARY);
        assert.equal(hosts[1].host, STANDBY);
        assert.ok((hosts[1].reads ?? 0) >= 5, JSON.stringify(hosts[1]));
      } finally {
        await engine.dispose();
      }
    });

    it("a write through { replica: true } reaches the standby, which refuses it: nothing is written", async () => {
      const engine = createEngine(PRIMARY_URL, { replicas: [STANDBY_URL] });
      try {
        await engine.health();
        await assert.rejects(
          engine.execute(`INSERT INTO ${ITEMS} (id, label) VALUES (99, 'x')`, undefined, { replica: true }),
          /read-only transaction/,
        );
        assert.equal((await query("primary", `SELECT count(*)::int AS n FROM ${ITEMS} WHERE id = 99`))[0].n, 0);
      } finally {
        await engine.dispose();
      }
    });
  },
);
