/**
 * Which host of a multi-host URL a new connection goes to, with libpq's
 * meanings of target_session_attrs. Hosts are tried in the order given; each is
 * asked its role by the dialect's question (see Dialect.replication.role) on a
 * short-lived connection of its own. The answer is kept until a connection to
 * that host is lost, then asked again: after a failover the next connection
 * finds the promoted server. A single host with "any" asks nothing.
 */

/**
 * Which host of a multi-host URL connections go to, with libpq's meaning of
 * target_session_attrs (see `EngineOptions.targetSessionAttrs`).
 */
export type TargetSessionAttrs = "any" | "read-write" | "read-only" | "primary" | "standby" | "prefer-standby";

export const TARGET_SESSION_ATTRS: readonly TargetSessionAttrs[] = [
  "any",
  "read-write",
  "read-only",
  "primary",
  "standby",
  "prefer-standby",
];

/** One host of a URL: where a connection may go. */
export interface Endpoint {
  /** Host name or address. */
  readonly host: string;
  /** TCP port. */
  readonly port: number;
}

/** What a server said about itself. */
export interface ServerRole {
  /** In recovery: a standby (hot standby, replaying WAL). */
  inRecovery: boolean;
  /** Its sessions are read-only by default (transaction_read_only). */
  readOnly: boolean;
}

/** "host:port", with brackets around an IPv6 address. */
export function endpointLabel(ep: Endpoint): string {
  return `${ep.host.includes(":") ? `[${ep.host}]` : ep.host}:${ep.port}`;
}

/** Does a server in `role` satisfy `attrs` (prefer-standby: the strict pass)? */
export function satisfies(attrs: TargetSessionAttrs, role: ServerRole): boolean {
  switch (attrs) {
    case "any":
      return true;
    case "read-write":
      return !role.readOnly;
    case "read-only":
      return role.readOnly;
    case "primary":
      return !role.inRecovery;
    case "standby":
    case "prefer-standby":
      return role.inRecovery;
  }
}

/** A failed resolution is remembered this long (ms), so a burst of new connections asks once. */
const FAILURE_MEMORY_MS = 150;

/** The error code of "no host satisfies the attribute" (the adapter makes it a ConnectionError). */
export const NO_HOST = "TARGET_SESSION_ATTRS";

export class HostSelector {
  readonly hosts: readonly Endpoint[];
  readonly attrs: TargetSessionAttrs;
  readonly #probe: (ep: Endpoint) => Promise<ServerRole>;
  #current: Endpoint | undefined;
  #resolving: Promise<Endpoint> | undefined;
  #failed: { at: number; message: string } | undefined;
  /** The host last chosen (or the first): what messages name. */
  #last: Endpoint;
  /** How many times the hosts were asked (stats: re-resolutions after failovers). */
  resolutions = 0;

  constructor(hosts: readonly Endpoint[], attrs: TargetSessionAttrs, probe: (ep: Endpoint) => Promise<ServerRole>) {
    if (hosts.length === 0) throw new Error("HostSelector needs at least one host");
    this.hosts = hosts;
    this.attrs = attrs;
    this.#probe = probe;
    this.#last = hosts[0];
    // One host, any role: nothing to ask (the connection itself says whether the host is up).
    if (hosts.length === 1 && attrs === "any") this.#current = hosts[0];
  }

  get trivial(): boolean {
    return this.hosts.length === 1 && this.attrs === "any";
  }

  /** The host now chosen, or the one last chosen, or the first. */
  get last(): Endpoint {
    return this.#current ?? this.#last;
  }

  /** Where a new connection goes: known at once, or after asking the hosts. Rejects with code NO_HOST. */
  endpoint(): Endpoint | Promise<Endpoint> {
    if (this.#current) return this.#current;
    const failed = this.#failed;
    if (failed && performance.now() - failed.at < FAILURE_MEMORY_MS) {
      return Promise.reject(noHost(failed.message));
    }
    return this.#resolving ??= this.#resolve().finally(() => (this.#resolving = undefined));
  }

  /** A connection to `ep` was lost: ask again before the next one (a failover may have happened). */
  invalidate(ep: Endpoint | undefined): void {
    if (this.trivial || ep === undefined) return;
    if (this.#current === ep) this.#current = undefined;
  }

  async #resolve(): Promise<Endpoint> {
    this.resolutions++;
    const why: string[] = [];
    let fallback: Endpoint | undefined;
    for (const ep of this.hosts) {
      let role: ServerRole;
      try {
        role = await this.#probe(ep);
      } catch (error) {
        why.push(`${endpointLabel(ep)} ${reason(error)}`);
        continue;
      }
      if (satisfies(this.attrs, role)) return this.#chose(ep);
      // prefer-standby: the first host that answers, if no standby does (libpq's second pass).
      if (this.attrs === "prefer-standby") fallback ??= ep;
      why.push(
        `${endpointLabel(ep)} is ${role.inRecovery ? "a standby" : "a primary"}${role.readOnly ? " (read-only)" : ""}`,
      );
    }
    if (fallback) return this.#chose(fallback);
    const message = `no host of ${this.hosts.map(endpointLabel).join(", ")} is ${describe(this.attrs)} ` +
      `(target_session_attrs=${this.attrs}): ${why.join("; ")}`;
    this.#failed = { at: performance.now(), message };
    throw noHost(message);
  }

  #chose(ep: Endpoint): Endpoint {
    this.#failed = undefined;
    this.#current = ep;
    this.#last = ep;
    return ep;
  }
}

function describe(attrs: TargetSessionAttrs): string {
  switch (attrs) {
    case "any":
      return "reachable";
    case "read-write":
      return "read-write";
    case "read-only":
      return "read-only";
    case "primary":
      return "a primary";
    default:
      return "a standby";
  }
}

/** A short reason without the server's text (which could quote anything): the error code. */
function reason(error: unknown): string {
  const code = (error as { code?: unknown })?.code;
  return typeof code === "string" && /^[A-Z0-9_]{2,40}$/.test(code) ? `failed [${code}]` : "failed";
}

/** A plain driver-style error the adapter turns into a ConnectionError (a fresh one per caller). */
export function noHost(message: string): Error {
  return Object.assign(new Error(message), { code: NO_HOST });
}
