/** How irisql reaches IRIS through iris-pgwire: URL scheme, defaults, and the network adapter's profile. */
import type { ConnectionDefaults, SchemeTarget, WireProfile } from "../dialect.ts";

export const schemes: Readonly<Record<string, SchemeTarget>> = { iris: "network" };

/** IRIS's default superuser and namespace. */
export const connectionDefaults: ConnectionDefaults = { user: "_SYSTEM", database: "USER" };

export const wire: WireProfile = {
  defaultPort: 5432,
  prepare: true,
  // postgres.js must not read pg_type on connect: iris-pgwire has no such catalog.
  fetchTypes: false,
  ssl: false,
  // iris-pgwire runs IRIS work on 10 threads shared by all clients.
  max: 5,
  // Reused connections were the unstable part: recycle them and ping before a session gets one.
  idleTimeout: 60_000,
  maxLifetime: 5 * 60_000,
  prePing: true,
  // SET/startup parameters never reach IRIS: time out on the client.
  serverStatementTimeout: false,
  // Execute's max_rows is ignored: results arrive whole.
  serverCursors: false,
  // Statements on one connection run one at a time with a 1 ms pause after each: a deeper
  // pipeline only makes the last statement wait longer.
  pipeline: 100,
  // The wire server acknowledges settings without passing them to IRIS, which has no time zones.
  startupSettings: false,
  replication: {
    // Not verifiable here (no IRIS): iris-pgwire has no pg_is_in_recovery(), and whether a mirror
    // member is primary is not asked through it. A member that answers counts as a read-write primary,
    // so a multi-host iris:// URL takes the first iris-pgwire that answers.
    role: "SELECT 0 AS in_recovery, 0 AS read_only",
    position: null,
    replayed: null,
  },
};
