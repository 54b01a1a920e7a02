/**
 * From a URL and an options object to one resolved configuration. Every
 * mistake is a ConfigError that shows what is accepted; no message ever
 * contains the password.
 */
import { ConfigError } from "./errors.ts";
import type { Dialect } from "./dialects/dialect.ts";
import { irisDialect } from "./dialects/iris.ts";
import { postgresDialect } from "./dialects/postgres.ts";

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

export interface QueryEvent {
  sql: string;
  paramCount: number;
  durationMs: number;
  rowCount: number | null;
  error?: Error;
}

export interface EngineOptions {
  pool?: PoolOptions;
  /** Named prepared statements (default true). */
  prepare?: boolean;
  /** ms a statement may run; 0 = no limit. */
  statementTimeout?: number;
  /** Schema for tables without one: "SQLUser" on IRIS, "public" on PostgreSQL. */
  schema?: string;
  /** TLS: false (default), true/"require", or "prefer". */
  ssl?: boolean | "require" | "prefer";
  applicationName?: string;
  /** Called after every statement. Never receives parameter values. */
  onQuery?: (event: QueryEvent) => void;
}

export type Target =
  | { kind: "network"; host: string; port: number; database: string; user: string; password: string }
  | { kind: "pglite"; dataDir?: string };

export interface ResolvedConfig {
  dialect: Dialect;
  target: Target;
  /** The URL with the password replaced by ***. */
  redactedUrl: string;
  pool: Required<PoolOptions>;
  prepare: boolean;
  statementTimeout: number;
  schema: string;
  ssl: boolean | "require" | "prefer";
  applicationName: string;
  onQuery?: (event: QueryEvent) => void;
}

const FORMS = [
  "iris://user:password@host:port/NAMESPACE",
  "postgres://user:password@host:port/database (or postgresql://)",
  "pglite://memory",
  "pglite:./relative/dir",
  "pglite:///absolute/dir",
].join(", ");

/** Query-string keys, their aliases, and how to read them. */
const KEYS: Record<string, { canonical: string; kind: "int" | "bool" | "string" | "ssl"; network?: boolean }> = {
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
};

const POOL_KEYS = ["max", "idleTimeout", "maxLifetime", "connectTimeout", "acquireTimeout", "prePing"];
const OPTION_KEYS = ["pool", "prepare", "statementTimeout", "schema", "ssl", "applicationName", "onQuery"];

/** Replace the password in anything URL-shaped. */
export function redactUrl(url: string): string {
  // Up to the last "@": a password may hold unescaped "@", "/", "?" or "#" (a user's
  // mistake, but then the URL is shown in an error message and must still hide it).
  return url.replace(/^([a-z][a-z0-9+.-]*:\/\/[^:/?#@]*:)[\s\S]*@/i, "$1***@");
}

export function resolveConfig(url: string, options: EngineOptions = {}): ResolvedConfig {
  if (typeof url !== "string" || url.length === 0) {
    throw new ConfigError(`createEngine needs a URL string. Accepted forms: ${FORMS}`);
  }
  checkOptionKeys(options);
  const shown = redactUrl(url);
  const scheme = /^([a-z][a-z0-9+.-]*):/i.exec(url)?.[1]?.toLowerCase();
  let dialect: Dialect;
  let target: Target;
  let query: URLSearchParams;
  if (scheme === "pglite") {
    ({ target, query } = parsePglite(url, shown));
    dialect = postgresDialect;
  } else if (scheme === "postgres" || scheme === "postgresql" || scheme === "iris") {
    dialect = scheme === "iris" ? irisDialect : postgresDialect;
    ({ target, query } = parseNetwork(url, shown, dialect));
  } else {
    throw new ConfigError(
      `Unknown URL scheme ${scheme ? JSON.stringify(scheme + ":") : "(none)"} in ${shown}. Accepted forms: ${FORMS}`,
    );
  }

  const fromUrl = readQuery(query, shown, target.kind === "pglite");
  const pick = <T>(key: string, fromOptions: T | undefined, fallback: T): T =>
    fromOptions !== undefined ? fromOptions : key in fromUrl ? (fromUrl[key] as T) : fallback;

  const wire = dialect.wire;
  const pool = options.pool ?? {};
  const resolved: ResolvedConfig = {
    dialect,
    target,
    redactedUrl: shown,
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
  };
  validate(resolved, shown);
  return resolved;
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
  if (options.onQuery !== undefined && typeof options.onQuery !== "function") {
    throw new ConfigError("onQuery must be a function");
  }
}

function parseNetwork(url: string, shown: string, dialect: Dialect): { target: Target; query: URLSearchParams } {
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    // Read from the redacted form: a password with an unescaped "/" would otherwise pass for a port.
    const port = /:\/\/[^/?#]*:([^/?#@]*)(?:[/?#]|$)/.exec(shown.replace(/\/\/[^@/?#]*@/, "//"))?.[1];
    const why = port !== undefined && (!/^\d{1,5}$/.test(port) || Number(port) < 1 || Number(port) > 65535)
      ? `the port ${JSON.stringify(port)} is not a number from 1 to 65535`
      : "it is not a valid URL";
    throw new ConfigError(`Cannot read ${shown}: ${why}. Accepted forms: ${FORMS}`);
  }
  const port = u.port === "" ? dialect.wire.defaultPort : Number(u.port);
  if (!Number.isInteger(port) || port < 1 || port > 65535) {
    throw new ConfigError(`Cannot read ${shown}: the port must be a number from 1 to 65535. Accepted forms: ${FORMS}`);
  }
  if (!u.hostname) throw new ConfigError(`Cannot read ${shown}: no host. Accepted forms: ${FORMS}`);
  const database = decodePart(u.pathname.replace(/^\//, ""), "database name", shown) ||
    (dialect.name === "iris" ? "USER" : "");
  const target: Target = {
    kind: "network",
    host: u.hostname.replace(/^\[(.*)\]$/, "$1"),
    port,
    database,
    user: decodePart(u.username, "user name", shown) || (dialect.name === "iris" ? "_SYSTEM" : "postgres"),
    password: "",
  };
  // Not enumerable: logging or serialising engine.config must not show it.
  Object.defineProperty(target, "password", { value: decodePart(u.password, "password", shown), enumerable: false });
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
    if (!spec || (pglite && spec.network)) {
      const accepted = Object.entries(KEYS).filter(([, s]) => !(pglite && s.network)).map(([k]) => k);
      throw new ConfigError(
        `Unknown option ${JSON.stringify(key)} in the query string of ${shown}. Accepted: ${accepted.join(", ")}`,
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
        throw new ConfigError(`Option ${key} in ${shown} must be a whole number, got ${JSON.stringify(raw)}`);
      }
      return Number(raw);
    }
    case "bool": {
      if (/^(true|1|yes|on)$/i.test(raw)) return true;
      if (/^(false|0|no|off)$/i.test(raw)) return false;
      throw new ConfigError(`Option ${key} in ${shown} must be true or false, got ${JSON.stringify(raw)}`);
    }
    case "ssl": {
      if (/^(disable|false|0|off)$/i.test(raw)) return false;
      if (/^(require|true|1|on|verify-full|verify-ca)$/i.test(raw)) return "require";
      if (/^(prefer|allow)$/i.test(raw)) return "prefer";
      throw new ConfigError(`Option ${key} in ${shown} must be disable, prefer or require, got ${JSON.stringify(raw)}`);
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
  if (typeof c.schema !== "string" || !/^[A-Za-z_%][A-Za-z0-9_$@#]*$/.test(c.schema)) {
    throw new ConfigError(`schema must be a plain identifier, got ${JSON.stringify(c.schema)} for ${shown}`);
  }
}
