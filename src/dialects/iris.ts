/**
 * InterSystems IRIS reached through iris-pgwire. Every choice here answers a
 * known behaviour of the wire server or of IRIS SQL (docs/ARCHITECTURE.md has the decisions):
 * - placeholders are renumbered per occurrence: the server rewrites `$n` to `?`
 *   positionally;
 * - postgres.js must not fetch pg_type on connect;
 * - reused connections were the unstable part, so connections are recycled and
 *   pinged before a session gets one;
 * - DML command tags always say 0 rows, so counts are null;
 * - SQLSTATE is always 42000; the class comes from the SQLCODE;
 * - no RELEASE SAVEPOINT in IRIS SQL.
 */
import type { ServerErrorInfo } from "../adapters/adapter.ts";
import { type IrisqlError, QueryTimeoutError, UnsupportedFeatureError, ValidationError } from "../errors.ts";
import type { ColumnSpec } from "../schema.ts";
import { quoteIdent } from "../sql.ts";
import { checkCosineQuery, encodeVector } from "../values/vector.ts";
import {
  buildCreateTable,
  buildDropTable,
  buildPlainIndex,
  type DdlSpelling,
  queryErrorInfo,
  stringLiteral,
} from "./ddl.ts";
import type { BeginOptions, Dialect } from "./dialect.ts";
import { classForSqlcode, parseSqlcode } from "./iris-errors.ts";

/** Where text must stay comparable and searchable: TEXT/CLOB are streams on IRIS. */
const LONG_VARCHAR = 65535;
/** OFFSET without LIMIT is buggy on IRIS 2025.1: always pair it with a limit. */
const NO_LIMIT = 2147483647;

/**
 * A quoted identifier, or a ValidationError for a name iris-pgwire would misread: it splits
 * simple-protocol text at every ";" and rewrites every "$<digits>" to "?", inside quotes too,
 * so `x; DROP TABLE victim --` would run as a second statement.
 */
function quoteId(name: string): string {
  if (typeof name === "string" && (name.includes(";") || /\$\d/.test(name))) {
    throw new ValidationError(
      `The identifier ${JSON.stringify(name)} cannot be used on IRIS: iris-pgwire splits statements at ";" ` +
        `and rewrites "$<digits>" even inside quotes`,
    );
  }
  return quoteIdent(name);
}

function tableRef(name: string, schema: string): string {
  return schema.toLowerCase() === "sqluser" ? quoteId(name) : quoteId(schema) + "." + quoteId(name);
}

/**
 * The element type keyword inside VECTOR(...) and TO_VECTOR(...), in lower
 * case: iris-pgwire turns an upper-case DOUBLE into DOUBLE PRECISION, which
 * IRIS rejects. It must match the column's type, or
 * IRIS refuses the comparison (SQLCODE -259).
 */
function elementKeyword(spec: ColumnSpec): string {
  return spec.element === "float" ? "float" : "double";
}

function columnType(spec: ColumnSpec): string {
  switch (spec.kind) {
    case "integer":
      return "INTEGER";
    case "bigint":
      return "BIGINT";
    case "smallint":
      return "SMALLINT";
    case "double":
      return "DOUBLE";
    case "numeric":
      return `NUMERIC(${spec.precision}, ${spec.scale})`;
    case "varchar":
      return `VARCHAR(${spec.length})`;
    case "text":
    case "json":
      return `VARCHAR(${LONG_VARCHAR})`;
    case "boolean":
      return "BIT";
    case "date":
      return "DATE";
    case "timestamp":
      return "TIMESTAMP";
    case "uuid":
      return "UNIQUEIDENTIFIER";
    case "vector":
      return `VECTOR(${elementKeyword(spec)}, ${spec.dimensions})`;
  }
}

/** IRIS has no time zones: a timestamp in DDL text is its UTC wall-clock time. */
function utcText(d: Date): string {
  return d.toISOString().replace("T", " ").replace("Z", "");
}

function encode(spec: ColumnSpec, value: unknown): unknown {
  if (value === null) return null;
  switch (spec.kind) {
    case "boolean":
      return value ? 1 : 0;
    case "timestamp":
      // With its zone: where the server declares the parameter a timestamp, the driver re-reads
      // the string with new Date(), which takes zone-less text as the machine's local time.
      return (value as Date).toISOString();
    case "vector":
      return encodeVector(value as number[]);
    default:
      return value;
  }
}

function literal(spec: ColumnSpec, value: unknown): string {
  const v = spec.kind === "timestamp" && value instanceof Date ? utcText(value) : encode(spec, value);
  if (v === null) return "NULL";
  if (typeof v === "number") return String(v);
  const text = String(v);
  // iris-pgwire splits statements at every ";" and turns every "$<digits>" into "?", even
  // inside quotes: such a literal would reach IRIS corrupted.
  if (text.includes(";") || /\$\d/.test(text)) {
    throw new UnsupportedFeatureError(
      `The default ${JSON.stringify(text)} cannot be sent to IRIS: iris-pgwire rewrites ";" and "$<digits>" ` +
        `even inside quoted text. Leave out the default and set the value on insert.`,
    );
  }
  return stringLiteral(text);
}

/** A generated integer column: a named RowID the server fills in. */
function isIdentity(spec: ColumnSpec): boolean {
  return spec.generated && spec.kind !== "uuid";
}

const ddl: DdlSpelling = {
  quoteId,
  columnType,
  tableRef,
  // A named RowID; the server fills it in.
  generatedSql: (spec) => (isIdentity(spec) ? " IDENTITY" : ""),
  // An IDENTITY column refuses explicit values (SQLCODE -111) unless the class allows them, as
  // sqlalchemy-iris does; PostgreSQL's GENERATED BY DEFAULT accepts them.
  tableSuffix: (table) =>
    table.columnNames.some((k) => isIdentity(table.columns[k].spec))
      ? " WITH %CLASSPARAMETER ALLOWIDENTITYINSERT = 1"
      : "",
  defaultSql(spec) {
    if (spec.defaultNow) return spec.kind === "date" ? "DEFAULT CURRENT_DATE" : "DEFAULT CURRENT_TIMESTAMP";
    return spec.hasDefault ? "DEFAULT " + literal(spec, spec.defaultValue) : "";
  },
};

export const irisDialect: Dialect = {
  name: "iris",
  defaultSchema: "SQLUser",
  paramStyle: "repeat",
  wire: {
    defaultPort: 5432,
    prepare: true,
    fetchTypes: false,
    ssl: false,
    // iris-pgwire runs IRIS work on 10 threads shared by all clients.
    max: 5,
    idleTimeout: 60_000,
    maxLifetime: 5 * 60_000,
    prePing: true,
    // SET/startup parameters never reach IRIS: time out on the client.
    serverStatementTimeout: false,
    // Execute's max_rows is ignored: results arrive whole.
    serverCursors: false,
    // Statements on one connection run one at a time with a 1 ms pause after each (iris-pgwire
    // protocol.py:1721): a deeper pipeline only makes the last statement wait longer.
    pipeline: 100,
  },

  quoteId,
  tableRef,

  beginSql(options?: BeginOptions) {
    let s = "START TRANSACTION";
    const level = options?.isolationLevel;
    if (level) {
      // IRIS knows READ UNCOMMITTED, READ COMMITTED and READ VERIFIED.
      if (level !== "read uncommitted" && level !== "read committed") {
        throw new UnsupportedFeatureError(
          `IRIS supports isolation levels "read uncommitted" and "read committed", not ${JSON.stringify(level)}`,
        );
      }
      s += " ISOLATION LEVEL " + level.toUpperCase();
    }
    if (options?.readOnly) s += level ? ", READ ONLY" : " READ ONLY";
    return s;
  },
  commitSql: () => "COMMIT",
  rollbackSql: () => "ROLLBACK",
  savepointSql: (name) => "SAVEPOINT " + savepointName(name),
  rollbackToSavepointSql: (name) => "ROLLBACK TO SAVEPOINT " + savepointName(name),
  releaseSavepointSql: () => null,
  // iris-pgwire acknowledges SET/RESET without passing them to IRIS, and IRIS work runs on
  // processes shared by all its clients: a wire connection holds no settings to undo.
  sessionResetSql: null,

  rowCount(command, count) {
    return /^(INSERT|UPDATE|DELETE|MERGE)/i.test(command) ? null : count;
  },

  mapError(info: ServerErrorInfo, sql: string): IrisqlError {
    const sqlcode = parseSqlcode(info.message);
    if (info.sqlstate === "57014" && /timeout/i.test(info.message)) {
      return new QueryTimeoutError("The statement ran longer than statementTimeout", { cause: info.cause });
    }
    const Class = classForSqlcode(sqlcode);
    return new Class(info.message, queryErrorInfo(info, sql, sqlcode));
  },

  columnType,
  createTableSql: (table, schema, ifNotExists) => buildCreateTable(ddl, table, schema, ifNotExists),
  dropTableSql: (table, schema, ifExists) => buildDropTable(ddl, table, schema, ifExists),
  // No CREATE INDEX IF NOT EXISTS on IRIS: callers check INFORMATION_SCHEMA first.
  createIndexSql(index, table, schema) {
    const target = tableRef(table.name, table.schema ?? schema);
    if (index.hnsw) {
      const h = index.hnsw;
      if (h.metric === "l2") {
        throw new UnsupportedFeatureError(
          `index ${index.name}: IRIS HNSW indexes support Distance='Cosine' and 'DotProduct' only, not L2. ` +
            `Use metric "cosine" (or "dot" with normalised vectors).`,
        );
      }
      const distance = h.metric === "cosine" ? "Cosine" : "DotProduct";
      return `CREATE INDEX ${quoteId(index.name)} ON ${target} (${quoteId(index.columns[0])}) AS HNSW(M=${
        h.m ?? 16
      }, efConstruction=${h.efConstruction ?? 64}, Distance='${distance}')`;
    }
    return buildPlainIndex(index, target, quoteId);
  },
  // INFORMATION_SCHEMA names compare case-insensitively on IRIS (COLLATION Upper); LOWER() says so
  // explicitly. iris-pgwire may answer a question about a missing table with an error: see hasTable().
  hasTableSql: (schema, name) => ({
    text: "SELECT TABLE_NAME FROM INFORMATION_SCHEMA.TABLES WHERE TABLE_SCHEMA = $1 AND LOWER(TABLE_NAME) = LOWER($2)",
    params: [schema, name],
  }),
  hasIndexSql: (schema, table, index) => ({
    text:
      "SELECT INDEX_NAME FROM INFORMATION_SCHEMA.INDEXES WHERE TABLE_SCHEMA = $1 AND LOWER(TABLE_NAME) = LOWER($2) " +
      "AND LOWER(INDEX_NAME) = LOWER($3)",
    params: [schema, table, index],
  }),
  introspectionSql: (schema) => ({
    tables: {
      text: "SELECT TABLE_NAME FROM INFORMATION_SCHEMA.TABLES WHERE TABLE_SCHEMA = $1 AND TABLE_TYPE = 'BASE TABLE' " +
        "ORDER BY TABLE_NAME",
      params: [schema],
    },
    columns: {
      text: "SELECT TABLE_NAME, COLUMN_NAME, DATA_TYPE, IS_NULLABLE, CHARACTER_MAXIMUM_LENGTH, NUMERIC_PRECISION, " +
        "NUMERIC_SCALE, COLUMN_DEFAULT FROM INFORMATION_SCHEMA.COLUMNS WHERE TABLE_SCHEMA = $1 " +
        "ORDER BY TABLE_NAME, ORDINAL_POSITION",
      params: [schema],
    },
    primaryKeys: {
      text: "SELECT K.TABLE_NAME, K.COLUMN_NAME FROM INFORMATION_SCHEMA.TABLE_CONSTRAINTS C " +
        "JOIN INFORMATION_SCHEMA.KEY_COLUMN_USAGE K ON K.CONSTRAINT_NAME = C.CONSTRAINT_NAME " +
        "AND K.TABLE_SCHEMA = C.TABLE_SCHEMA AND K.TABLE_NAME = C.TABLE_NAME " +
        "WHERE C.TABLE_SCHEMA = $1 AND C.CONSTRAINT_TYPE = 'PRIMARY KEY' ORDER BY K.TABLE_NAME, K.ORDINAL_POSITION",
      params: [schema],
    },
    indexes: {
      text: "SELECT TABLE_NAME, INDEX_NAME, COLUMN_NAME, NON_UNIQUE, PRIMARY_KEY FROM INFORMATION_SCHEMA.INDEXES " +
        "WHERE TABLE_SCHEMA = $1 ORDER BY TABLE_NAME, INDEX_NAME, ORDINAL_POSITION",
      params: [schema],
    },
  }),

  encode,
  valueSql: (spec, placeholder) =>
    spec.kind === "vector" ? `TO_VECTOR(${placeholder}, ${elementKeyword(spec)})` : placeholder,
  supportsReturning: false,
  supportsMultiRowInsert: false,
  lastIdentitySql: () => "LAST_IDENTITY()",
  // TOP n (a checked whole number) when there is no offset; LIMIT/OFFSET as bound
  // parameters otherwise, since a literal LIMIT n OFFSET m loses its OFFSET in
  // iris-pgwire. LIMIT/OFFSET needs IRIS 2025.1 or later.
  limitSql(limit, offset, param) {
    if (offset === undefined || offset === 0) {
      return { top: limit === undefined ? "" : `TOP ${limit} `, tail: "" };
    }
    return { top: "", tail: ` LIMIT ${param(limit ?? NO_LIMIT)} OFFSET ${param(offset)}` };
  },

  // VECTOR_COSINE and VECTOR_DOT_PRODUCT are similarities (higher is closer). ORDER BY
  // repeats the expression (never an alias: iris-pgwire mangles it), DESC, which is
  // the shape an IRIS HNSW index serves. IRIS has no L2 function: ||e-q||^2 is
  // dot(e,e) - 2 dot(e,q) + dot(q,q), with dot(q,q) computed here; ABS absorbs rounding
  // below zero for identical vectors.
  vectorScoreSql(columnSql, spec, metric, query, param) {
    checkCosineQuery(metric, query, spec.element === "float");
    const vec = `TO_VECTOR(${param(encodeVector(query))}, ${elementKeyword(spec)})`;
    if (metric === "cosine") return `VECTOR_COSINE(${columnSql}, ${vec})`;
    if (metric === "dot") return `VECTOR_DOT_PRODUCT(${columnSql}, ${vec})`;
    if (metric === "l2") {
      const self = `VECTOR_DOT_PRODUCT(${columnSql}, ${columnSql})`;
      return `SQRT(ABS(${self} - 2 * VECTOR_DOT_PRODUCT(${columnSql}, ${vec}) + ${param(squaredNorm(query))}))`;
    }
    throw new UnsupportedFeatureError(`Unknown vector metric ${JSON.stringify(metric)}`);
  },
  vectorOrderSql(columnSql, spec, metric, query, param) {
    checkCosineQuery(metric, query, spec.element === "float");
    const vec = `TO_VECTOR(${param(encodeVector(query))}, ${elementKeyword(spec)})`;
    if (metric === "cosine") return `VECTOR_COSINE(${columnSql}, ${vec}) DESC`;
    if (metric === "dot") return `VECTOR_DOT_PRODUCT(${columnSql}, ${vec}) DESC`;
    // Same order as the distance: dot(q,q) is a constant and the square root is monotonic.
    if (metric === "l2") {
      return `VECTOR_DOT_PRODUCT(${columnSql}, ${columnSql}) - 2 * VECTOR_DOT_PRODUCT(${columnSql}, ${vec}) ASC`;
    }
    throw new UnsupportedFeatureError(`Unknown vector metric ${JSON.stringify(metric)}`);
  },
};

function squaredNorm(v: readonly number[]): number {
  let s = 0;
  for (const x of v) s += x * x;
  return s;
}

/** IRIS savepoint names: unquoted, case-insensitive, must not start with SYS. */
function savepointName(name: string): string {
  if (!/^[A-Za-z][A-Za-z0-9_]{0,30}$/.test(name) || /^sys/i.test(name)) {
    throw new TypeError(`Invalid IRIS savepoint name ${JSON.stringify(name)}`);
  }
  return name;
}
