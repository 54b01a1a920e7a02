/**
 * The statements behind the Session's typed CRUD: INSERT, SELECT, UPDATE,
 * DELETE and nearest-neighbour SELECT, built from a table definition and a
 * dialect. Column names are checked against the table and values against
 * their columns before anything is sent; values are always bound.
 */
import { decode, normalize } from "./codec.ts";
import type { Dialect, ParamFn } from "./dialects/dialect.ts";
import { ValidationError } from "./errors.ts";
import type { AnyTable, ColumnSpec, InferRow, VectorMetric } from "./schema.ts";
import { quoteIdent } from "./sql.ts";
import { validateVector } from "./vector.ts";
import type { ColumnInfo } from "./adapters/adapter.ts";
import { OID } from "./adapters/types.ts";

export interface Statement {
  text: string;
  params: unknown[];
}

/** Placeholders in text order; PostgreSQL reuses one for the same key. */
export class Params {
  readonly values: unknown[] = [];
  #keys = new Map<string, string>();
  readonly #reuse: boolean;
  constructor(dialect: Dialect) {
    this.#reuse = dialect.paramStyle === "reuse";
  }
  add: ParamFn = (value, key) => {
    if (key !== undefined && this.#reuse) {
      const hit = this.#keys.get(key);
      if (hit) return hit;
    }
    const ph = "$" + this.values.push(value);
    if (key !== undefined) this.#keys.set(key, ph);
    return ph;
  };
}

// --- where -----------------------------------------------------------------

export interface Operators<T> {
  eq?: T | null;
  ne?: T | null;
  gt?: T;
  gte?: T;
  lt?: T;
  lte?: T;
  in?: readonly T[];
  like?: string;
  isNull?: boolean;
}

type ColumnConditions<R> = { [K in keyof R]?: R[K] | Operators<NonNullable<R[K]>> };

/** `{ col: value }`, `{ col: { gt: 1 } }`, `{ or: [...] }`, `{ and: [...] }` */
export type Where<T extends AnyTable> =
  & ColumnConditions<InferRow<T>>
  & { or?: readonly Where<T>[]; and?: readonly Where<T>[] };

const OPERATORS = new Set(["eq", "ne", "gt", "gte", "lt", "lte", "in", "like", "isNull"]);
const COMPARE: Record<string, string> = { gt: ">", gte: ">=", lt: "<", lte: "<=" };

function isPlainObject(v: unknown): v is Record<string, unknown> {
  if (typeof v !== "object" || v === null || Array.isArray(v)) return false;
  const proto = Object.getPrototypeOf(v);
  return proto === Object.prototype || proto === null;
}

export function compileWhere(
  dialect: Dialect,
  table: AnyTable,
  where: unknown,
  params: Params,
): string {
  if (where === undefined || where === null) return "";
  if (!isPlainObject(where)) throw new ValidationError(`where must be an object like { column: value }`);
  const parts: string[] = [];
  for (const [key, value] of Object.entries(where)) {
    if (value === undefined) continue;
    if (key === "or" || key === "and") {
      if (!Array.isArray(value)) throw new ValidationError(`where.${key} must be an array of conditions`);
      const inner = value.map((w) => compileWhere(dialect, table, w, params) || "1 = 1");
      if (inner.length === 0) {
        parts.push(key === "or" ? "1 = 0" : "1 = 1");
      } else {
        parts.push("(" + inner.join(key === "or" ? " OR " : " AND ") + ")");
      }
      continue;
    }
    const column = table.column(key, `where on table ${table.name}`);
    const name = table.declaredName(key)!;
    const ref = quoteIdent(name);
    const spec = column.spec;
    const at = `${table.name}.${name}`;
    const bind = (v: unknown) => dialect.valueSql(spec, params.add(dialect.encode(spec, normalizeForWhere(spec, v, at))));
    const isOps = isPlainObject(value) && Object.keys(value).length > 0 &&
      (spec.kind !== "json" || Object.keys(value).every((k) => OPERATORS.has(k)));
    if (!isOps) {
      parts.push(value === null ? `${ref} IS NULL` : `${ref} = ${bind(value)}`);
      continue;
    }
    for (const [op, operand] of Object.entries(value as Record<string, unknown>)) {
      if (operand === undefined) continue;
      switch (op) {
        case "eq":
          parts.push(operand === null ? `${ref} IS NULL` : `${ref} = ${bind(operand)}`);
          break;
        case "ne":
          parts.push(operand === null ? `${ref} IS NOT NULL` : `${ref} <> ${bind(operand)}`);
          break;
        case "gt":
        case "gte":
        case "lt":
        case "lte":
          parts.push(`${ref} ${COMPARE[op]} ${bind(operand)}`);
          break;
        case "in": {
          if (!Array.isArray(operand)) throw new ValidationError(`where ${at}.in must be an array`);
          parts.push(operand.length === 0 ? "1 = 0" : `${ref} IN (${operand.map(bind).join(", ")})`);
          break;
        }
        case "like":
          if (typeof operand !== "string") throw new ValidationError(`where ${at}.like must be a string pattern`);
          parts.push(`${ref} LIKE ${params.add(operand)}`);
          break;
        case "isNull":
          if (typeof operand !== "boolean") throw new ValidationError(`where ${at}.isNull must be true or false`);
          parts.push(operand ? `${ref} IS NULL` : `${ref} IS NOT NULL`);
          break;
        default:
          throw new ValidationError(
            `Unknown operator ${JSON.stringify(op)} in where on ${at}. Operators: ${[...OPERATORS].join(", ")}`,
          );
      }
    }
  }
  return parts.join(" AND ");
}

function normalizeForWhere(spec: ColumnSpec, value: unknown, at: string): unknown {
  if (value === null) throw new ValidationError(`where ${at}: use null only with eq/ne or { column: null }`);
  // A comparison value need not respect NOT NULL or length limits of stored values.
  return normalize({ ...spec, notNull: false, length: undefined }, value, `where ${at}`);
}

// --- values ----------------------------------------------------------------

/** Check and convert a row of values for insert/update. Unknown columns are an error. */
export function normalizeRow(
  table: AnyTable,
  values: unknown,
  what: string,
  fillGenerated: boolean,
): Map<string, unknown> {
  if (!isPlainObject(values)) throw new ValidationError(`${what} needs an object of column values`);
  const out = new Map<string, unknown>();
  for (const [key, value] of Object.entries(values)) {
    if (value === undefined) continue;
    table.column(key, `${what} on table ${table.name}`);
    const name = table.declaredName(key)!;
    out.set(name, normalize(table.columns[name].spec, value, `${table.name}.${name}`));
  }
  if (fillGenerated) {
    for (const name of table.columnNames) {
      const spec = table.columns[name].spec;
      if (!out.has(name) && spec.generated && spec.kind === "uuid") out.set(name, crypto.randomUUID());
      if (!out.has(name) && spec.notNull && !spec.generated && !spec.hasDefault && !spec.defaultNow) {
        throw new ValidationError(`${table.name}.${name} is required (NOT NULL, no default)`);
      }
    }
  }
  return out;
}

function selectList(table: AnyTable, columns?: readonly string[]): string {
  const names = columns && columns.length > 0
    ? columns.map((c) => {
      table.column(c, `columns of table ${table.name}`);
      return table.declaredName(c)!;
    })
    : table.columnNames;
  return names.map(quoteIdent).join(", ");
}

// --- statements --------------------------------------------------------------

export function insertStatement(dialect: Dialect, table: AnyTable, schema: string, row: Map<string, unknown>): Statement {
  const params = new Params(dialect);
  const target = dialect.tableRef(table.name, table.schema ?? schema);
  let text: string;
  if (row.size === 0) {
    text = `INSERT INTO ${target} DEFAULT VALUES`;
  } else {
    const cols: string[] = [];
    const vals: string[] = [];
    for (const [name, value] of row) {
      const spec = table.columns[name].spec;
      cols.push(quoteIdent(name));
      vals.push(dialect.valueSql(spec, params.add(dialect.encode(spec, value))));
    }
    text = `INSERT INTO ${target} (${cols.join(", ")}) VALUES (${vals.join(", ")})`;
  }
  if (dialect.supportsReturning) text += " RETURNING " + selectList(table);
  return { text, params: params.values };
}

/**
 * Multi-row INSERTs (PostgreSQL) in chunks under the 65,535-parameter limit.
 * Rows that leave out a column some other row sets get DEFAULT there.
 */
export function multiRowInserts(
  dialect: Dialect,
  table: AnyTable,
  schema: string,
  rows: Map<string, unknown>[],
  chunkSize: number,
): Statement[] {
  const names = table.columnNames.filter((n) => rows.some((r) => r.has(n)));
  if (names.length === 0) return rows.map(() => insertStatement(dialect, table, schema, new Map()));
  const perChunk = Math.max(1, Math.min(chunkSize, Math.floor(65534 / names.length)));
  const target = dialect.tableRef(table.name, table.schema ?? schema);
  const head = `INSERT INTO ${target} (${names.map(quoteIdent).join(", ")}) VALUES `;
  const out: Statement[] = [];
  for (let start = 0; start < rows.length; start += perChunk) {
    const params = new Params(dialect);
    const tuples: string[] = [];
    for (const row of rows.slice(start, start + perChunk)) {
      const vals = names.map((n) => {
        if (!row.has(n)) return "DEFAULT";
        const spec = table.columns[n].spec;
        return dialect.valueSql(spec, params.add(dialect.encode(spec, row.get(n))));
      });
      tuples.push("(" + vals.join(", ") + ")");
    }
    out.push({ text: head + tuples.join(", "), params: params.values });
  }
  return out;
}

export interface FindOptions<T extends AnyTable> {
  where?: Where<T>;
  orderBy?: { [K in keyof InferRow<T>]?: "asc" | "desc" };
  limit?: number;
  offset?: number;
  columns?: readonly (keyof InferRow<T> & string)[];
}

function wholeNumber(name: string, v: unknown): number | undefined {
  if (v === undefined) return undefined;
  if (typeof v !== "number" || !Number.isSafeInteger(v) || v < 0) {
    throw new ValidationError(`${name} must be a whole number >= 0, got ${String(v)}`);
  }
  return v;
}

export function selectStatement<T extends AnyTable>(
  dialect: Dialect,
  table: T,
  schema: string,
  options: FindOptions<T> = {},
): Statement {
  const params = new Params(dialect);
  const limit = wholeNumber("limit", options.limit);
  const offset = wholeNumber("offset", options.offset);
  const list = selectList(table, options.columns as string[] | undefined);
  // TOP comes before the WHERE placeholders in the text: build it first.
  const { top } = dialect.limitSql(limit, undefined, () => "");
  const topSql = offset ? "" : top;
  let text = `SELECT ${topSql}${list} FROM ${dialect.tableRef(table.name, table.schema ?? schema)}`;
  const where = compileWhere(dialect, table, options.where, params);
  if (where) text += " WHERE " + where;
  text += orderBySql(table, options.orderBy as Record<string, unknown> | undefined);
  if (offset) text += dialect.limitSql(limit, offset, params.add).tail;
  else if (!topSql) text += dialect.limitSql(limit, undefined, params.add).tail;
  return { text, params: params.values };
}

function orderBySql(table: AnyTable, orderBy: Record<string, unknown> | undefined): string {
  if (orderBy === undefined) return "";
  if (!isPlainObject(orderBy)) throw new ValidationError(`orderBy must be an object like { createdAt: "desc" }`);
  const parts = Object.entries(orderBy).map(([key, dir]) => {
    table.column(key, `orderBy on table ${table.name}`);
    if (dir !== "asc" && dir !== "desc") {
      throw new ValidationError(`orderBy ${table.name}.${key} must be "asc" or "desc", got ${JSON.stringify(dir)}`);
    }
    return quoteIdent(table.declaredName(key)!) + (dir === "desc" ? " DESC" : " ASC");
  });
  return parts.length > 0 ? " ORDER BY " + parts.join(", ") : "";
}

export function updateStatement(
  dialect: Dialect,
  table: AnyTable,
  schema: string,
  where: unknown,
  values: Map<string, unknown>,
): Statement {
  if (values.size === 0) throw new ValidationError(`update on table ${table.name} needs at least one column value`);
  if (where === undefined || where === null) {
    throw new ValidationError(`update on table ${table.name} needs a where; pass {} to update every row`);
  }
  const params = new Params(dialect);
  const sets: string[] = [];
  for (const [name, value] of values) {
    const spec = table.columns[name].spec;
    sets.push(`${quoteIdent(name)} = ${dialect.valueSql(spec, params.add(dialect.encode(spec, value)))}`);
  }
  let text = `UPDATE ${dialect.tableRef(table.name, table.schema ?? schema)} SET ${sets.join(", ")}`;
  const w = compileWhere(dialect, table, where, params);
  if (w) text += " WHERE " + w;
  else refuseUndefinedOnly(where, "update", table);
  return { text, params: params.values };
}

/**
 * `{ id: undefined }` compiles to no condition at all; for UPDATE and DELETE
 * that would hit every row, which is never what `{ id: maybeUndefined }` meant.
 */
function refuseUndefinedOnly(where: unknown, verb: "update" | "delete", table: AnyTable): void {
  if (isPlainObject(where) && Object.keys(where).length > 0) {
    throw new ValidationError(
      `${verb} on table ${table.name}: every value in where is undefined, so it would ${verb} every row; ` +
        `pass {} to ${verb} every row`,
    );
  }
}

export function deleteStatement(dialect: Dialect, table: AnyTable, schema: string, where: unknown): Statement {
  if (where === undefined || where === null) {
    throw new ValidationError(`delete on table ${table.name} needs a where; pass {} to delete every row`);
  }
  const params = new Params(dialect);
  let text = `DELETE FROM ${dialect.tableRef(table.name, table.schema ?? schema)}`;
  const w = compileWhere(dialect, table, where, params);
  if (w) text += " WHERE " + w;
  else refuseUndefinedOnly(where, "delete", table);
  return { text, params: params.values };
}

/** Primary-key lookup: `get(docs, 42)` or, for composite keys, `get(t, { a: 1, b: 2 })`. */
export function keyWhere(table: AnyTable, key: unknown): Record<string, unknown> {
  const pk = table.primaryKey;
  if (pk.length === 0) throw new ValidationError(`Table ${table.name} has no primary key; use find() instead`);
  if (pk.length === 1 && !isPlainObject(key)) {
    if (key === undefined || key === null) throw new ValidationError(`get on table ${table.name} needs a key value`);
    return { [pk[0]]: key };
  }
  if (!isPlainObject(key)) {
    throw new ValidationError(`Table ${table.name} has a composite key; pass { ${pk.join(", ")} }`);
  }
  const out: Record<string, unknown> = {};
  for (const k of pk) {
    if (key[k] === undefined || key[k] === null) throw new ValidationError(`get on table ${table.name} needs ${k}`);
    out[k] = key[k];
  }
  return out;
}

export interface NearestOptions<T extends AnyTable> {
  /** How many rows (default 10). */
  k?: number;
  metric?: VectorMetric;
  where?: Where<T>;
  columns?: readonly (keyof InferRow<T> & string)[];
}

export function nearestStatement<T extends AnyTable>(
  dialect: Dialect,
  table: T,
  schema: string,
  column: string,
  query: unknown,
  options: NearestOptions<T> = {},
): Statement {
  const spec = table.column(column, `nearest() on table ${table.name}`).spec;
  const name = table.declaredName(column)!;
  if (spec.kind !== "vector") {
    throw new ValidationError(`nearest() needs a vector column; ${table.name}.${name} is ${spec.kind}`);
  }
  const vector = validateVector(query, spec.dimensions, `query vector for ${table.name}.${name}`);
  const metric = options.metric ?? "cosine";
  if (metric !== "cosine" && metric !== "dot" && metric !== "l2") {
    throw new ValidationError(`metric must be "cosine", "dot" or "l2", got ${JSON.stringify(metric)}`);
  }
  const k = wholeNumber("k", options.k ?? 10)!;
  if (k < 1) throw new ValidationError("k must be at least 1");
  const params = new Params(dialect);
  const ref = quoteIdent(name);
  const { top } = dialect.limitSql(k, undefined, () => "");
  const list = selectList(table, options.columns as string[] | undefined);
  const score = dialect.vectorScoreSql(ref, spec, metric, vector, params.add);
  let text = `SELECT ${top}${list}, ${score} AS ${quoteIdent("score")} FROM ${
    dialect.tableRef(table.name, table.schema ?? schema)
  }`;
  const where = compileWhere(dialect, table, options.where, params);
  if (where) text += " WHERE " + where;
  text += " ORDER BY " + dialect.vectorOrderSql(ref, spec, metric, vector, params.add);
  if (!top) text += dialect.limitSql(k, undefined, params.add).tail;
  return { text, params: params.values };
}

// --- reading rows back -------------------------------------------------------

type Decoder = [from: string, to: string, decode: ((raw: unknown) => unknown) | undefined];

/**
 * Rows keyed by declared column names (IRIS sends them lower-cased) and
 * converted to the column types. Result columns that are not table columns
 * (like `score`) keep their name; numeric-looking `score` text becomes a number.
 */
export function decodeRows(table: AnyTable, rows: Record<string, unknown>[], columns: readonly ColumnInfo[]): Record<string, unknown>[] {
  if (rows.length === 0) return rows;
  const names = columns.length > 0 ? columns.map((c) => c.name) : Object.keys(rows[0]);
  const decoders: Decoder[] = names.map((from, i) => {
    const to = table.declaredName(from);
    if (to === undefined) return [from, from === "score" ? "score" : from, from === "score" ? toNumber : undefined];
    const spec = table.columns[to].spec;
    const oid = columns[i]?.typeOid;
    const jsonParsed = oid === OID.json || oid === OID.jsonb;
    return [from, to, (raw: unknown) => decode(spec, raw, jsonParsed)];
  });
  const out = new Array<Record<string, unknown>>(rows.length);
  for (let r = 0; r < rows.length; r++) {
    const raw = rows[r];
    const row: Record<string, unknown> = {};
    for (const [from, to, dec] of decoders) {
      const v = raw[from];
      row[to] = dec ? dec(v) : v;
    }
    out[r] = row;
  }
  return out;
}

function toNumber(v: unknown): unknown {
  return typeof v === "string" && v !== "" ? Number(v) : v;
}
