/**
 * Vector columns on PostgreSQL need the pgvector extension in the database. Without it the
 * server says `type "vector" does not exist`; irisql says what to run (CREATE EXTENSION
 * vector) and, before createAll() creates anything, whether this user may run it.
 */
import { QueryError } from "../../errors.ts";
import type { CompiledQuery } from "../../sql.ts";
import type { VectorExtensionCheck } from "../dialect.ts";

/** What PostgreSQL says about a vector type, index method or operator class that pgvector would supply. */
const VECTOR_MISSING =
  /^(type "(vector|halfvec|sparsevec)"|access method "(hnsw|ivfflat)"|operator class "(vector|halfvec|sparsevec|bit)_\w+") does not exist|^extension "vector" is not available/;

/** Does this server error mean that pgvector is not installed in the database? */
export function meansVectorMissing(sqlstate: string | undefined, message: string): boolean {
  return (sqlstate === "42704" || sqlstate === "0A000" || sqlstate === "58P01") && VECTOR_MISSING.test(message);
}

/** Appended to the server's own message when a statement met a missing pgvector (see mapError). */
export const VECTOR_ADVICE = "Vector columns and indexes need the pgvector extension in this database: " +
  "run CREATE EXTENSION vector, as a superuser (or, where pgvector is marked trusted, as a user with CREATE on " +
  "the database), once the pgvector package is installed on the server. createAll() tells which of these is missing.";

/** Fails (42704) exactly when CREATE TABLE would not find the vector type. */
const probe: CompiledQuery = { text: "SELECT NULL::vector AS irisql_vector_probe", params: [] };

/** Never fails (PostgreSQL 13+): where pgvector is, and what this user may do about it. */
const diagnose: CompiledQuery = {
  text: `SELECT
  (SELECT n.nspname FROM pg_catalog.pg_extension e JOIN pg_catalog.pg_namespace n ON n.oid = e.extnamespace
    WHERE e.extname = 'vector') AS installed_schema,
  a.default_version AS available_version,
  v.trusted AS trusted,
  (SELECT r.rolsuper FROM pg_catalog.pg_roles r WHERE r.rolname = current_user) AS superuser,
  has_database_privilege(current_database(), 'CREATE') AS can_create,
  current_user AS user_name,
  current_database() AS database_name,
  current_setting('server_version_num')::int / 10000 AS major
FROM (SELECT 1) one
LEFT JOIN pg_catalog.pg_available_extensions a ON a.name = 'vector'
LEFT JOIN pg_catalog.pg_available_extension_versions v ON v.name = 'vector' AND v.version = a.default_version`,
  params: [],
};

const q = (name: unknown) => `"${String(name).replace(/"/g, '""')}"`;

/** The error createAll() throws: what is missing, and who may fix it. */
function missing(row: Record<string, unknown> | undefined, cause: QueryError): QueryError {
  const info = { sqlstate: cause.sqlstate, sql: cause.sql, cause };
  if (!row) return new QueryError(`${cause.message}. ${VECTOR_ADVICE}`, info);
  const user = q(row.user_name), db = q(row.database_name);
  const parts: string[] = [];
  if (row.installed_schema != null) {
    parts.push(
      `Vector columns need the pgvector extension, which is installed in database ${db}, but in schema ` +
        `${q(row.installed_schema)}, which is not on the search_path of user ${user}: add that schema to the ` +
        `search_path (ALTER ROLE ... SET search_path), or move the extension (ALTER EXTENSION vector SET SCHEMA public).`,
    );
  } else {
    parts.push(
      `Vector columns need the pgvector extension, which is not installed in database ${db}: ` +
        `run CREATE EXTENSION vector.`,
    );
    const available = row.available_version != null;
    if (!available) {
      parts.push(
        `First pgvector itself must be installed on the database server: this server does not offer it ` +
          `(no "vector" in pg_available_extensions). Install the package for PostgreSQL ${row.major} ` +
          `(e.g. postgresql-${row.major}-pgvector on Debian/Ubuntu, or use the pgvector/pgvector image).`,
      );
    }
    const then = available ? "" : " then";
    if (row.superuser === true) {
      parts.push(`User ${user} is a superuser and may${then} run it.`);
    } else if (available && row.trusted === true) {
      parts.push(
        row.can_create === true
          ? `pgvector ${row.available_version} is marked trusted and user ${user} has CREATE on database ${db}, ` +
            `so ${user} may run it.`
          : `pgvector ${row.available_version} is marked trusted, but user ${user} lacks CREATE on database ${db}: ` +
            `a superuser must run it, or GRANT CREATE ON DATABASE ${db} TO ${user}.`,
      );
    } else if (available) {
      parts.push(
        `User ${user} may not run it: pgvector ${row.available_version} is not marked trusted, so it takes a ` +
          `superuser (or your provider's administrator role).`,
      );
    } else {
      parts.push(
        `User ${user} is not a superuser, so running it will take a superuser (or, if the installed pgvector ` +
          `is marked trusted, a user with CREATE on database ${db}, which ${user} ` +
          `${row.can_create === true ? "has" : "lacks"}).`,
      );
    }
  }
  parts.push("Nothing was created.");
  const code = cause.sqlstate ? ` [SQLSTATE ${cause.sqlstate}]` : "";
  return new QueryError(`${parts.join(" ")}${code}`, info);
}

export const vectorExtension: VectorExtensionCheck = { probe, diagnose, missing };
