/**
 * From a URL and an options object to one resolved configuration. Every
 * mistake is a ConfigError that shows what is accepted; no message ever
 * contains the password.
 */
import { ConfigError } from "./errors.ts";
import type { Dialect, TransactionMode } from "./dialects/dialect.ts";
import { dialectForScheme } from "./dialects/registry.ts";
import { type Endpoint, TARGET_SESSION_ATTRS, type TargetSessionAttrs } from "./adapters/host-select.ts";
import { runtime } from "./adapters/runtime.ts";

export type { TargetSessionAttrs };

/** Connection pool settings (`EngineOptions.pool`); every time is in milliseconds. */
export interface PoolOptions {
  /** Most connections open at once. */
  max?: number;
  /** ms an idle connection is kept; 0 = forever. */
  idleTimeout?: number;
  /** ms a connection lives before it is replaced; 0 = forever. */
  maxLifetime?: number;
  /** ms to establish a connection. */
  connectTimeout?: number;
  /** ms to wait for a free connection before PoolTimeoutError; 0 = forever. */
  acquireTimeout?: number;
  /** Check a connection with a round trip before a session or transaction gets it. */
  prePing?: boolean;
}

/** What `EngineOptions.onQuery` receives after each statement. It never holds parameter values. */
export interface QueryEvent {
  /** The SQL text as sent, with placeholders. */
  sql: string;
  /** How many parameters were bound. */
  paramCount: number;
  /** How long the statement took, in milliseconds. */
  durationMs: number;
  /** The result's rowCount (null where the server does not say, and on failure). */
  rowCount: number | null;
  /** The error the statement failed with. */
  error?: Error;
}

/** Options of `createEngine()`; most may also be given in the URL's query string. */
export interface EngineOptions {
  /** Connection pool settings. */
  pool?: PoolOptions;
  /** Named prepared statements (default true). */
  prepare?: boolean;
  /** ms a statement may run; 0 = no limit. */
  statementTimeout?: number;
  /** Schema for tables without one: "SQLUser" on IRIS, "public" on PostgreSQL. */
  schema?: string;
  /** TLS: false (default), true/"require", or "prefer". */
  ssl?: boolean | "require" | "prefer";
  /** The application_name the server shows for the connections. */
  applicationName?: string;
  /** Called after every statement. Never receives parameter values. */
  onQuery?: (event: QueryEvent) => void;
  /**
   * How the server commits. PostgreSQL and PGlite: "server" (the only choice). iris://: say
   * which. "server" when iris-pgwire runs embedded in IRIS, where BEGIN/COMMIT/ROLLBACK work;
   * "autocommit" when it runs outside IRIS (`pip install iris-pgwire`), where every statement
   * commits at once and nothing can be rolled back. Until it is set, begin() and session writes
   * on iris:// are refused with TransactionsUnavailableError.
   */
  transactions?: TransactionMode;
  /**
   * Which host of a multi-host URL (`postgres://u@h1:5432,h2:5433/db`) connections go to, as in
   * libpq: "any" (default), "read-write", "read-only", "primary", "standby", "prefer-standby".
   * Also `?targetSessionAttrs=` / `?target_session_attrs=` in the URL. After a lost connection the
   * hosts are asked again, so writes follow a promoted standby.
   */
  targetSessionAttrs?: TargetSessionAttrs;
  /**
   * Read replicas (URLs of the same scheme, one host each, no query string; pool options come from
   * the engine). Reads irisql can prove are reads (a session's get/find/nearest before its first
   * write, execute/stream with `{ replica: true }`) go to a healthy replica; all else to the primary.
   */
  replicas?: readonly string[];
  /** ms a replica may lag behind the primary before it leaves the rotation (default 10,000). */
  maxReplicaLagMs?: number;
  /**
   * Which client speaks to a network server: "postgres.js" (default) or "bun-sql", Bun's built-in
   * SQL client (`Bun.SQL`). "bun-sql" is accepted only on Bun, for postgres:// URLs with one host
   * and no TLS; elsewhere it is a ConfigError. Both keep irisql's pool, pipelining, timeouts and
   * error classes; streams on "bun-sql" read the whole result before handing out batches.
   */
  driver?: Driver;
}

/** The client a network engine uses (`EngineOptions.driver`). */
export type Driver = "postgres.js" | "bun-sql";
const DRIVERS: readonly Driver[] = ["postgres.js", "bun-sql"];

/**
 * Where an engine's statements go: a server over the network
 * ({@linkcode NetworkTarget}, `kind: "network"`) or an embedded PGlite
 * database (`kind: "pglite"`, in memory when `dataDir` is undefined).
 */
export type Target = NetworkTarget | {
  /** Embedded PGlite. */
  kind: "pglite";
  /** The folder PGlite keeps its files in; undefined for `pglite://memory`. */
  dataDir?: string;
};

/**
 * Where a network engine connects. The password lives in a private field
 * with no accessor on the object: no property walk (JSON, spread,
 * util.inspect even with showHidden and getters) reaches it; the engine
 * reads it with passwordOf() when it makes the adapter.
 */
export class NetworkTarget {
  /** Always "network": tells a NetworkTarget from a PGlite target. */
  readonly kind = "network" as const;
  /** The first host of the URL. */
  readonly host: string;
  /** The first host's port. */
  readonly port: number;
  /** The database (on IRIS: the namespace). */
  readonly database: string;
  /** The user name connections log in as. */
  readonly user: string;
  readonly #hosts: readonly Endpoint[];
  readonly #password: string;

  /** Made by `createEngine()` from the URL; the password goes into a private field and stays there. */
  constructor(
    host: string,
    port: number,
    database: string,
    user: string,
    password: string,
    hosts?: readonly Endpoint[],
  ) {
    this.host = host;
    this.port = port;
    this.database = database;
    this.user = user;
    this.#hosts = Object.freeze(hosts?.length ? hosts.map((h) => Object.freeze({ ...h })) : [{ host, port }]);
    this.#password = password;
  }

  /** Every host of the URL in order (a multi-host URL names several); `host`/`port` are the first. */
  get hosts(): readonly Endpoint[] {
    return this.#hosts;
  }

  /** @internal The password, for the adapter that opens connections (see the class comment). */
  static passwordOf(target: NetworkTarget): string {
    return target.#password;
  }
}

/** @internal The password of a network target (see NetworkTarget). */
export function passwordOf(target: NetworkTarget): string {
  return NetworkTarget.passwordOf(target);
}

/**
 * An engine's settings (`engine.config`), read from its URL and options with
 * every default filled in. It holds no password: the network target keeps it
 * where no property walk reaches it. See {@linkcode EngineOptions} for what
 * each setting means.
 */
export interface ResolvedConfig {
  /** The dialect the URL's scheme chose. */
  dialect: Dialect;
  /** Where statements go: a network server or embedded PGlite. */
  target: Target;
  /** The URL with the password replaced by ***. */
  redactedUrl: string;
  /** Pool settings, defaults filled in. */
  pool: Required<PoolOptions>;
  /** Named prepared statements are used. */
  prepare: boolean;
  /** ms a statement may run; 0 = no limit. */
  statementTimeout: number;
  /** Schema for tables without one. */
  schema: string;
  /** TLS setting for network connections. */
  ssl: boolean | "require" | "prefer";
  /** The application_name the server shows for the connections. */
  applicationName: string;
  /** Called after every statement, if set. */
  onQuery?: (event: QueryEvent) => void;
  /** undefined: nobody said, and irisql cannot tell (see EngineOptions.transactions). */
  transactions: TransactionMode | undefined;
  /** Which host of a multi-host URL connections go to. */
  targetSessionAttrs: TargetSessionAttrs;
  /** Read replicas, each with its URL as shown (password as ***). */
  replicas: readonly {
    /** Where the replica is. */
    target: NetworkTarget;
    /** Its URL, password as ***. */
    url: string;
  }[];
  /** ms a replica may lag before it leaves the rotation. */
  maxReplicaLagMs: number;
  /** The client network connections use (always "postgres.js" for PGlite targets, which use neither). */
  driver: Driver;
}

const FORMS = [
  "iris://user:password@host:port/NAMESPACE",
  "postgres://user:password@host:port/database (or postgresql://)",
  "postgres://user:password@host1:port1,host2:port2/database?targetSessionAttrs=read-write",
  "pglite://memory",
  "pglite:./relative/dir",
  "pglite:///absolute/dir",
].join(", ");

/** Query-string keys, their aliases, and how to read them. */
const KEYS: Record<string, { canonical: string; kind: "int" | "bool" | "string" | "ssl" | "tsa"; network?: boolean }> =
  {
    max: { canonical: "max", kind: "int", network: true },
    idleTimeout: { canonical: "idleTimeout", kind: "int", network: true },
    idle_timeout: { canonical: "idleTimeout", kind: "int", network: true },
    maxLifetime: { canonical: "maxLifetime", kind: "int", network: true },
    max_lifetime: { canonical: "maxLifetime", kind: "int", network: true },
    connectTimeout: { canonical: "connectTimeout", kind: "int", network: true },
    connect_timeout: { canonical: "connectTimeout", kind: "int", network: true },
    acquireTimeout: { canonical: "acquireTimeout", kind: "int" },
    acquire_timeout: { canonical: "acquireTimeout", kind: "int" },
    prePing: { canonical: "prePing", kind: "bool", network: true },
    pre_ping: { canonical: "prePing", kind: "bool", network: true },
    prepare: { canonical: "prepare", kind: "bool" },
    statementTimeout: { canonical: "statementTimeout", kind: "int" },
    statement_timeout: { canonical: "statementTimeout", kind: "int" },
    schema: { canonical: "schema", kind: "string" },
    ssl: { canonical: "ssl", kind: "ssl", network: true },
    sslmode: { canonical: "ssl", kind: "ssl", network: true },
    applicationName: { canonical: "applicationName", kind: "string", network: true },
    application_name: { canonical: "applicationName", kind: "string", network: true },
    transactions: { canonical: "transactions", kind: "string" },
    targetSessionAttrs: { canonical: "targetSessionAttrs", kind: "tsa", network: true },
    target_session_attrs: { canonical: "targetSessionAttrs", kind: "tsa", network: true },
  };

const POOL_KEYS = ["max", "idleTimeout", "maxLifetime", "connectTimeout", "acquireTimeout", "prePing"];
const OPTION_KEYS = [
  "pool",
  "prepare",
  "statementTimeout",
  "schema",
  "ssl",
  "applicationName",
  "onQuery",
  "transactions",
  "targetSessionAttrs",
  "replicas",
  "maxReplicaLagMs",
  "driver",
];

/** Replace the password in anything URL-shaped. */
export function redactUrl(url: string): string {
  // Up to the last "@": a password may hold unescaped "@", "/", "?" or "#" (a user's
  // mistake, but then the URL is shown in an error message and must still hide it).
  return url.replace(/^([a-z][a-z0-9+.-]*:\/\/[^:/?#@]*:)[\s\S]*@/i, "$1***@");
}

/**
 * Why the user-info of a `scheme://` URL cannot be trusted, or undefined.
 * The authority ends at the first "/", "?" or "#" after "//"; an "@" after
 * that point means a user name or password held one of those characters
 * unencoded, and every parser (ours, the driver's) then reads part of the
 * secret as a path, query, fragment or port. Which part is the secret cannot
 * be told, so the message quotes none of the URL.
 */
function userInfoProblem(url: string, scheme: string): string | undefined {
  const start = url.indexOf("//") + 2;
  if (start < 2) return undefined;
  const end = url.slice(start).search(/[/?#]/);
  if (end < 0 || url.indexOf("@", start + end) < 0) return undefined;
  return `Cannot read this ${scheme}:// URL: it has an "@" after a "/", "?" or "#" that follows "//", so a user ` +
    `name or password holds one of those characters unencoded and the URL would name another host, port or ` +
    `database. percent-encode the user name and password with encodeURIComponent ("/" is %2F, "?" %3F, "#" %23, ` +
    `"@" %40; an "@" in the database name or an option value is %40 too). Accepted forms: ${FORMS}`;
}

/** The redacted URL without its query string or fragment: what error messages show. */
function errorUrl(url: string): string {
  const shown = redactUrl(url);
  const authority = shown.indexOf("//") + 2;
  const cut = shown.slice(authority).search(/[?#]/);
  return cut < 0 ? shown : shown.slice(0, authority + cut);
}

/** A query-string key, quoted only when it is a plain word: anything else may be a misplaced secret. */
function keyName(key: string): string {
  return /^[A-Za-z_][A-Za-z0-9_]{0,39}$/.test(key) ? JSON.stringify(key) : "(a name that is not a plain word)";
}

export function resolveConfig(url: string, options: EngineOptions = {}): ResolvedConfig {
  if (typeof url !== "string" || url.length === 0) {
    throw new ConfigError(`createEngine needs a URL string. Accepted forms: ${FORMS}`);
  }
  checkOptionKeys(options);
  const scheme = /^([a-z][a-z0-9+.-]*):/i.exec(url)?.[1]?.toLowerCase();
  const problem = scheme && userInfoProblem(url, scheme);
  if (problem) throw new ConfigError(problem);
  const shown = errorUrl(url);
  const chosen = scheme ? dialectForScheme(scheme) : undefined;
  if (!chosen) {
    throw new ConfigError(
      `Unknown URL scheme ${scheme ? JSON.stringify(scheme + ":") : "(none)"} in ${shown}. Accepted forms: ${FORMS}`,
    );
  }
  const dialect = chosen.dialect;
  const { target, query } = chosen.target === "pglite" ? parsePglite(url, shown) : parseNetwork(url, shown, dialect);
  const pglite = target.kind === "pglite";
  if (pglite) refuseNetworkOptions(options, shown);

  const fromUrl = readQuery(query, shown, pglite);
  // engine.url: what the engine uses (the parsed URL, not the text given), password as ***.
  const shownUrl = target.kind === "network" ? displayUrl(scheme!, url) : redactUrl(url).replace(/#.*$/s, "");
  const pick = <T>(key: string, fromOptions: T | undefined, fallback: T): T =>
    fromOptions !== undefined ? fromOptions : key in fromUrl ? (fromUrl[key] as T) : fallback;

  const wire = dialect.wire;
  const pool = options.pool ?? {};
  const resolved: ResolvedConfig = {
    dialect,
    target,
    redactedUrl: shownUrl,
    pool: {
      max: pick("max", pool.max, wire.max),
      idleTimeout: pick("idleTimeout", pool.idleTimeout, wire.idleTimeout),
      maxLifetime: pick("maxLifetime", pool.maxLifetime, wire.maxLifetime),
      connectTimeout: pick("connectTimeout", pool.connectTimeout, 10_000),
      acquireTimeout: pick("acquireTimeout", pool.acquireTimeout, 30_000),
      prePing: pick("prePing", pool.prePing, wire.prePing),
    },
    prepare: pick("prepare", options.prepare, wire.prepare),
    statementTimeout: pick("statementTimeout", options.statementTimeout, 0),
    schema: pick("schema", options.schema, dialect.defaultSchema),
    ssl: pick("ssl", options.ssl, wire.ssl),
    applicationName: pick("applicationName", options.applicationName, "irisql"),
    onQuery: options.onQuery,
    transactions: pick("transactions", options.transactions, dialect.defaultTransactions),
    targetSessionAttrs: pick("targetSessionAttrs", options.targetSessionAttrs, "any" as TargetSessionAttrs),
    replicas: readReplicas(options.replicas, dialect, shown),
    maxReplicaLagMs: options.maxReplicaLagMs ?? 10_000,
    driver: options.driver ?? "postgres.js",
  };
  validate(resolved, shown);
  checkDriver(resolved, scheme!, shown);
  return resolved;
}

/**
 * `driver: "bun-sql"` only where Bun's client keeps every guarantee irisql gives: on Bun, postgres://
 * (iris:// stays on postgres.js until it passes the real iris-pgwire suite), one host (host choice
 * by targetSessionAttrs lives in the postgres.js adapter), no TLS (not tested on Bun's client).
 */
function checkDriver(c: ResolvedConfig, scheme: string, shown: string): void {
  if (!DRIVERS.includes(c.driver)) {
    throw new ConfigError(
      `driver must be one of ${DRIVERS.map((d) => JSON.stringify(d)).join(", ")}, got ${keyName(String(c.driver))}`,
    );
  }
  if (c.driver !== "bun-sql") return;
  const refuse = (why: string) => {
    throw new ConfigError(`driver "bun-sql" cannot be used for ${shown}: ${why}. Leave driver unset for postgres.js`);
  };
  if (runtime.name !== "bun") refuse(`it is Bun's built-in SQL client and this runtime is ${runtime.name}`);
  if (c.target.kind !== "network") refuse("PGlite is embedded and uses no network client");
  if (scheme !== "postgres" && scheme !== "postgresql") refuse("it is offered for postgres:// URLs only");
  if (c.target.kind === "network" && c.target.hosts.length > 1) refuse("it takes one host, not a multi-host URL");
  if (c.ssl !== false) refuse("TLS is not supported with it yet");
}

/** Replica URLs: the primary's scheme (its dialect), one host each, no query string. */
function readReplicas(
  replicas: readonly string[] | undefined,
  dialect: Dialect,
  shown: string,
): { target: NetworkTarget; url: string }[] {
  if (replicas === undefined) return [];
  if (!Array.isArray(replicas)) throw new ConfigError(`replicas must be an array of URLs for ${shown}`);
  return replicas.map((url, i) => {
    if (typeof url !== "string" || url.length === 0) {
      throw new ConfigError(`replicas[${i}] must be a URL string for ${shown}`);
    }
    const scheme = /^([a-z][a-z0-9+.-]*):/i.exec(url)?.[1]?.toLowerCase();
    const problem = scheme && userInfoProblem(url, scheme);
    if (problem) throw new ConfigError(`replicas[${i}]: ${problem}`);
    const own = errorUrl(url);
    const chosen = scheme ? dialectForScheme(scheme) : undefined;
    if (!chosen || chosen.dialect !== dialect || chosen.target !== "network") {
      throw new ConfigError(
        `replicas[${i}] (${own}) must be a network URL of the same kind as the primary (${shown})`,
      );
    }
    const { target, query } = parseNetwork(url, own, dialect);
    if (target.kind !== "network" || target.hosts.length > 1) {
      throw new ConfigError(`replicas[${i}] (${own}) must name one host: each replica is its own server`);
    }
    if ([...query.keys()].length > 0 || /#/.test(url.replace(/^[^@]*@/, ""))) {
      throw new ConfigError(
        `replicas[${i}] (${own}) must have no query string: pool and other options come from the engine`,
      );
    }
    return { target, url: displayUrl(scheme!, url) };
  });
}

function checkOptionKeys(options: EngineOptions): void {
  if (typeof options !== "object" || options === null) {
    throw new ConfigError("createEngine options must be an object");
  }
  for (const key of Object.keys(options)) {
    if (!OPTION_KEYS.includes(key)) {
      throw new ConfigError(`Unknown option ${JSON.stringify(key)}. Accepted: ${OPTION_KEYS.join(", ")}`);
    }
  }
  for (const key of Object.keys(options.pool ?? {})) {
    if (!POOL_KEYS.includes(key)) {
      throw new ConfigError(`Unknown pool option ${JSON.stringify(key)}. Accepted: ${POOL_KEYS.join(", ")}`);
    }
  }
  if (options.maxReplicaLagMs !== undefined) {
    const v = options.maxReplicaLagMs;
    if (typeof v !== "number" || !Number.isInteger(v) || v < 1) {
      throw new ConfigError(`maxReplicaLagMs must be a whole number of milliseconds >= 1, got ${String(v)}`);
    }
  }
  if (options.onQuery !== undefined && typeof options.onQuery !== "function") {
    throw new ConfigError("onQuery must be a function");
  }
}

/**
 * PGlite is one embedded connection: options only a network pool or socket can
 * honour are refused, as they are in a pglite URL's query string.
 */
function refuseNetworkOptions(options: EngineOptions, shown: string): void {
  for (const key of ["replicas", "maxReplicaLagMs"] as const) {
    if (options[key] === undefined) continue;
    throw new ConfigError(`${key} cannot be used with ${shown}: PGlite is one embedded database, with no replicas`);
  }
  const path = (key: string) => (POOL_KEYS.includes(key) ? "pool." + key : key);
  for (const [key, value] of [...Object.entries(options.pool ?? {}), ...Object.entries(options)]) {
    if (value === undefined || !Object.hasOwn(KEYS, key) || !KEYS[key].network) continue;
    const accepted = [...POOL_KEYS, ...OPTION_KEYS].filter((k) => k !== "pool" && !KEYS[k]?.network).map(path);
    throw new ConfigError(
      `${path(key)} cannot be used with ${shown}: PGlite is one embedded connection, with no network pool. ` +
        `Accepted there: ${accepted.join(", ")}`,
    );
  }
}

/** The parsed network URL with the password as ***, without a fragment (the engine ignores it). */
function displayUrl(scheme: string, url: string): string {
  const { single, more } = splitHosts(url);
  const u = new URL(single);
  const info = u.username || u.password ? u.username + (u.password ? ":***" : "") + "@" : "";
  return `${scheme}://${info}${[u.host, ...more].join(",")}${u.pathname}${u.search}`;
}

/**
 * A multi-host URL split into the URL with only its first host (for the URL parser) and the
 * other hosts' text ("h2:5433", "[::1]:5434"). The authority ends at the first "/", "?" or
 * "#"; the hosts follow its last "@" (userInfoProblem already refused an ambiguous one).
 */
function splitHosts(url: string): { single: string; more: string[] } {
  const m = /^([a-z][a-z0-9+.-]*:\/\/)([^/?#]*)([\s\S]*)$/i.exec(url);
  if (!m) return { single: url, more: [] };
  const authority = m[2];
  const at = authority.lastIndexOf("@");
  const hostPart = authority.slice(at + 1);
  if (!hostPart.includes(",")) return { single: url, more: [] };
  const [first, ...more] = hostPart.split(",");
  return { single: m[1] + authority.slice(0, at + 1) + first + m[3], more };
}

/** One "host[:port]" of a multi-host URL, or undefined if it is not one. */
function parseHost(text: string, defaultPort: number): Endpoint | undefined {
  const m = /^(\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9._~-]+)(?::(\d{1,5}))?$/.exec(text);
  if (!m) return undefined;
  const port = m[2] === undefined ? defaultPort : Number(m[2]);
  if (port < 1 || port > 65535) return undefined;
  return { host: m[1].replace(/^\[(.*)\]$/, "$1"), port };
}

function parseNetwork(url: string, shown: string, dialect: Dialect): { target: Target; query: URLSearchParams } {
  const { single, more } = splitHosts(url);
  const others: Endpoint[] = [];
  for (const text of more) {
    const ep = parseHost(text, dialect.wire.defaultPort);
    if (!ep) {
      // Host lists hold no secrets, but a mistyped one may: name its position only.
      throw new ConfigError(
        `Cannot read ${shown}: host ${others.length + 2} of its host list is not host or host:port ` +
          `(port 1 to 65535; IPv6 in brackets). Accepted forms: ${FORMS}`,
      );
    }
    others.push(ep);
  }
  url = single;
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    // Quote the port only when user-info comes before the host: without it, "user:secret/..." would
    // read as host "user" and port "secret".
    const authority = /^[a-z][a-z0-9+.-]*:\/\/([^/?#]*)/i.exec(url)?.[1] ?? "";
    const at = authority.lastIndexOf("@");
    const port = at < 0 ? undefined : /:([^:\]]*)$/.exec(authority.slice(at + 1))?.[1];
    const bad = (p: string) => !/^\d{1,5}$/.test(p) || Number(p) < 1 || Number(p) > 65535;
    const why = port !== undefined && bad(port)
      ? `the port ${JSON.stringify(port)} is not a number from 1 to 65535`
      : at < 0 && /:[^:\]]*$/.test(authority)
      ? 'the text after the host\'s ":" is not a port number from 1 to 65535'
      : "it is not a valid URL";
    // Without user-info, the text that failed to parse may be a password typed without a host: show none of it.
    const where = at < 0 ? `this ${url.slice(0, url.indexOf(":"))}:// URL` : shown;
    throw new ConfigError(`Cannot read ${where}: ${why}. Accepted forms: ${FORMS}`);
  }
  const port = u.port === "" ? dialect.wire.defaultPort : Number(u.port);
  if (!Number.isInteger(port) || port < 1 || port > 65535) {
    throw new ConfigError(`Cannot read ${shown}: the port must be a number from 1 to 65535. Accepted forms: ${FORMS}`);
  }
  if (!u.hostname) throw new ConfigError(`Cannot read ${shown}: no host. Accepted forms: ${FORMS}`);
  const defaults = dialect.connectionDefaults;
  const database = decodePart(u.pathname.replace(/^\//, ""), "database name", shown) || defaults.database;
  const host = u.hostname.replace(/^\[(.*)\]$/, "$1");
  const target = new NetworkTarget(
    host,
    port,
    database,
    decodePart(u.username, "user name", shown) || defaults.user,
    decodePart(u.password, "password", shown),
    others.length ? [{ host, port }, ...others] : undefined,
  );
  return { target, query: u.searchParams };
}

function decodePart(raw: string, what: string, shown: string): string {
  try {
    return decodeURIComponent(raw);
  } catch {
    throw new ConfigError(`Cannot read ${shown}: the ${what} has a malformed %-escape. Accepted forms: ${FORMS}`);
  }
}

function parsePglite(url: string, shown: string): { target: Target; query: URLSearchParams } {
  const [rest, search = ""] = url.slice("pglite:".length).split("?", 2);
  const query = new URLSearchParams(search);
  if (rest === "//memory" || rest === "memory" || rest === "//memory/") return { target: { kind: "pglite" }, query };
  if (rest.startsWith("///")) return { target: { kind: "pglite", dataDir: decodeURIComponent(rest.slice(2)) }, query };
  if (rest.startsWith("//") || rest === "") {
    throw new ConfigError(`Cannot read ${shown}: say where the data lives. Accepted forms: ${FORMS}`);
  }
  return { target: { kind: "pglite", dataDir: decodeURIComponent(rest) }, query };
}

function readQuery(query: URLSearchParams, shown: string, pglite: boolean): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [key, raw] of query) {
    const spec = KEYS[key];
    if (!Object.hasOwn(KEYS, key) || (pglite && spec.network)) {
      const accepted = Object.entries(KEYS).filter(([, s]) => !(pglite && s.network)).map(([k]) => k);
      throw new ConfigError(
        `Unknown option ${keyName(key)} in the query string of ${shown}. Accepted: ${accepted.join(", ")}`,
      );
    }
    out[spec.canonical] = readValue(key, raw, spec.kind, shown);
  }
  return out;
}

function readValue(key: string, raw: string, kind: string, shown: string): unknown {
  switch (kind) {
    case "int": {
      if (!/^\d+$/.test(raw)) {
        throw new ConfigError(`Option ${key} in ${shown} must be a whole number (digits only)`);
      }
      return Number(raw);
    }
    case "bool": {
      if (/^(true|1|yes|on)$/i.test(raw)) return true;
      if (/^(false|0|no|off)$/i.test(raw)) return false;
      throw new ConfigError(`Option ${key} in ${shown} must be true or false (also 1/0, yes/no, on/off)`);
    }
    case "tsa": {
      if ((TARGET_SESSION_ATTRS as readonly string[]).includes(raw)) return raw;
      throw new ConfigError(`Option ${key} in ${shown} must be one of ${TARGET_SESSION_ATTRS.join(", ")}`);
    }
    case "ssl": {
      if (/^(disable|false|0|off)$/i.test(raw)) return false;
      if (/^(require|true|1|on|verify-full|verify-ca)$/i.test(raw)) return "require";
      if (/^(prefer|allow)$/i.test(raw)) return "prefer";
      throw new ConfigError(`Option ${key} in ${shown} must be disable, prefer or require`);
    }
    default:
      return raw;
  }
}

function validate(c: ResolvedConfig, shown: string): void {
  const ints: [string, unknown][] = [
    ["pool.max", c.pool.max],
    ["pool.idleTimeout", c.pool.idleTimeout],
    ["pool.maxLifetime", c.pool.maxLifetime],
    ["pool.connectTimeout", c.pool.connectTimeout],
    ["pool.acquireTimeout", c.pool.acquireTimeout],
    ["statementTimeout", c.statementTimeout],
  ];
  for (const [name, v] of ints) {
    if (typeof v !== "number" || !Number.isInteger(v) || v < 0) {
      throw new ConfigError(
        `${name} must be a whole number >= 0 (milliseconds for timeouts), got ${String(v)} for ${shown}`,
      );
    }
  }
  if (c.pool.max < 1) throw new ConfigError(`pool.max must be at least 1 for ${shown}`);
  for (const [name, v] of [["prepare", c.prepare], ["pool.prePing", c.pool.prePing]] as const) {
    if (typeof v !== "boolean") throw new ConfigError(`${name} must be true or false for ${shown}`);
  }
  if (!(TARGET_SESSION_ATTRS as readonly string[]).includes(c.targetSessionAttrs)) {
    throw new ConfigError(
      `targetSessionAttrs must be one of ${TARGET_SESSION_ATTRS.join(", ")} for ${shown}`,
    );
  }
  const modes = c.dialect.transactionModes;
  if (c.transactions !== undefined && !modes.includes(c.transactions)) {
    // The value may come from the query string: quoted only when it is a plain word.
    throw new ConfigError(
      `transactions ${keyName(String(c.transactions))} cannot be used for ${shown}: accepted there: ` +
        `${modes.map((m) => JSON.stringify(m)).join(", ")}`,
    );
  }
  if (typeof c.schema !== "string" || !/^[A-Za-z_%][A-Za-z0-9_$@#]*$/.test(c.schema)) {
    // The value may come from the query string, whose values are never echoed.
    throw new ConfigError(
      `schema must be a plain identifier (a letter, _ or %, then letters, digits, _ $ @ #) for ${shown}`,
    );
  }
}
