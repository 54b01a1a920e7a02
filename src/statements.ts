/**
 * The statements behind the Session's typed CRUD: INSERT, SELECT, UPDATE,
 * DELETE and nearest-neighbour SELECT, built from a table definition and a
 * dialect. Column names are checked against the table and values against
 * their columns before anything is sent; values are always bound.
 */
import { decode, normalize } from "./codec.ts";
import type { Dialect, ParamFn } from "./dialects/dialect.ts";
import { ValidationError } from "./errors.ts";
import {
  type AnyTable,
  type ColumnName,
  type ColumnSpec,
  describeValue,
  type InferRow,
  type VectorMetric,
} from "./schema.ts";
import { quoteIdent } from "./sql.ts";
import { validateVector } from "./values/vector.ts";
import type { ColumnInfo } from "./adapters/adapter.ts";
import { OID } from "./values/oid.ts";

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
  /** varchar and text columns only. */
  like?: [T] extends [string] ? string : never;
  isNull?: boolean;
}

type ColumnConditions<R> = { [K in keyof R]?: R[K] | Operators<NonNullable<R[K]>> };

/**
 * `{ col: value }`, `{ col: { gt: 1 } }`, `{ or: [...] }`, `{ and: [...] }`.
 * Undefined values are skipped; an or/and list, and each branch in one, must
 * keep a condition (see compileWhere).
 */
export type Where<T extends AnyTable> =
  & ColumnConditions<InferRow<T>>
  & { or?: readonly Where<T>[]; and?: readonly Where<T>[] };

const OPERATORS = new Set(["eq", "ne", "gt", "gte", "lt", "lte", "in", "like", "isNull"]);
const COMPARE: Record<string, string> = { gt: ">", gte: ">=", lt: "<", lte: "<=" };
/** Column kinds `like` applies to. */
const LIKE_KINDS = new Set(["varchar", "text"]);

function isPlainObject(v: unknown): v is Record<string, unknown> {
  if (typeof v !== "object" || v === null || Array.isArray(v)) return false;
  const proto = Object.getPrototypeOf(v);
  return proto === Object.prototype || proto === null;
}

/**
 * The SQL condition of a where ("" when it has none). Undefined values are
 * skipped, at every depth; but each or/and list and each branch in one must
 * leave a condition: an empty one would widen the where to every row (or,
 * for `or: []`, say nothing the caller could have meant), so it is refused
 * with its path (`where.or[1]`) before anything is built. whereShape keeps
 * step: a branch whose shape is "{}" is exactly one that compiles to "".
 */
export function compileWhere(
  dialect: Dialect,
  table: AnyTable,
  where: unknown,
  params: Params,
  path = "where",
): string {
  if (where === undefined || where === null) return "";
  if (!isPlainObject(where)) {
    throw new ValidationError(
      `${path} on table ${table.name} must be an object like { column: value }, got ${describeValue(where)}. ` +
        `Columns: ${table.columnNames.join(", ")}`,
    );
  }
  const parts: string[] = [];
  for (const [key, value] of Object.entries(where)) {
    if (value === undefined) continue;
    if (key === "or" || key === "and") {
      const list = `${path}.${key}`;
      if (!Array.isArray(value)) throw new ValidationError(`${list} must be an array of conditions`);
      if (value.length === 0) throw new ValidationError(`${list} is an empty list; give it at least one condition`);
      const inner = value.map((w, i) => {
        const sql = compileWhere(dialect, table, w, params, `${list}[${i}]`);
        if (!sql) {
          throw new ValidationError(
            `${list}[${i}] has no condition (it is null, {} or every value in it is undefined), ` +
              `so it would match every row`,
          );
        }
        return sql;
      });
      parts.push("(" + inner.join(key === "or" ? " OR " : " AND ") + ")");
      continue;
    }
    const column = table.column(key, `where on table ${table.name}`);
    const name = table.declaredName(key)!;
    const ref = quoteIdent(name);
    const spec = column.spec;
    const at = `${table.name}.${name}`;
    const bind = (v: unknown) =>
      dialect.valueSql(spec, params.add(dialect.encode(spec, normalizeForWhere(spec, v, at))));
    const isOps = isPlainObject(value) && Object.keys(value).length > 0 &&
      (spec.kind !== "json" || Object.keys(value).every((k) => OPERATORS.has(k)));
    if (!isOps) {
      if (spec.kind !== "json" && isPlainObject(value)) {
        throw new ValidationError(
          `${path}.${key} has no condition: {} names no operator (${[...OPERATORS].join(", ")})`,
        );
      }
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
          if (!LIKE_KINDS.has(spec.kind)) {
            // PostgreSQL has no LIKE for numbers, dates, uuids or json: refuse it here, not at the server.
            throw new ValidationError(
              `where ${at}.like works on varchar and text columns; ${at} is ${spec.kind}. Operators: ${
                [...OPERATORS].filter((o) => o !== "like").join(", ")
              }`,
            );
          }
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

/** Per column, the spec comparison values are checked against (made once, not per call). */
const whereSpecs = new WeakMap<ColumnSpec, ColumnSpec>();

function normalizeForWhere(spec: ColumnSpec, value: unknown, at: string): unknown {
  if (value === null) throw new ValidationError(`where ${at}: use null only with eq/ne or { column: null }`);
  // A comparison value need not respect NOT NULL or length limits of stored values.
  let relaxed = whereSpecs.get(spec);
  if (!relaxed) whereSpecs.set(spec, relaxed = { ...spec, notNull: false, length: undefined });
  return normalize(relaxed, value, `where ${at}`);
}

// --- values ----------------------------------------------------------------

/** A key of a row of values, resolved on its table. */
interface RowColumn {
  name: string;
  /** Position in table.columnNames. */
  index: number;
  spec: ColumnSpec;
  /** "docs.title", for error messages. */
  at: string;
}

/** Per table, what checking rows of values needs; made once (insertMany checks every row). */
interface RowPlan {
  /** By the key a caller used (declared name, or another casing); null: not a column. */
  byKey: Map<string, RowColumn | null>;
  /** Generated uuid columns (indexes): filled in when left out. */
  uuids: number[];
  /** NOT NULL columns without a default or generator (indexes): required on insert. */
  required: number[];
}

const rowPlans = new WeakMap<AnyTable, RowPlan>();

function rowPlan(table: AnyTable): RowPlan {
  let plan = rowPlans.get(table);
  if (!plan) {
    const specs = table.columnNames.map((n) => table.columns[n].spec);
    const indexes = (keep: (spec: ColumnSpec) => boolean) => specs.flatMap((spec, i) => (keep(spec) ? [i] : []));
    plan = {
      byKey: new Map(),
      uuids: indexes((spec) => spec.generated && spec.kind === "uuid"),
      required: indexes((spec) => spec.notNull && !spec.generated && !spec.hasDefault && !spec.defaultNow),
    };
    rowPlans.set(table, plan);
  }
  return plan;
}

/** The column a key of a row names, or the usual unknown-column ValidationError. */
function rowColumn(table: AnyTable, plan: RowPlan, key: string, what: string): RowColumn {
  let column = plan.byKey.get(key);
  if (column === undefined) {
    const name = table.declaredName(key);
    column = name !== undefined && Object.hasOwn(table.columns, name)
      ? { name, index: table.columnNames.indexOf(name), spec: table.columns[name].spec, at: `${table.name}.${name}` }
      : null;
    // Keys come from callers' objects: remember a bounded number of them.
    if (plan.byKey.size < 1024) plan.byKey.set(key, column);
  }
  if (!column) {
    table.column(key, `${what} on table ${table.name}`);
    throw new ValidationError(`Unknown column ${JSON.stringify(key)} in ${what} on table ${table.name}`);
  }
  return column;
}

/** Check and convert a row of values for insert/update. Unknown columns are an error. */
export function normalizeRow(
  table: AnyTable,
  values: unknown,
  what: string,
  fillGenerated: boolean,
): Map<string, unknown> {
  if (!isPlainObject(values)) throw new ValidationError(`${what} needs an object of column values`);
  const plan = rowPlan(table);
  const out = new Map<string, unknown>();
  for (const key of Object.keys(values)) {
    const value = values[key];
    if (value === undefined) continue;
    const column = rowColumn(table, plan, key, what);
    out.set(column.name, normalize(column.spec, value, column.at));
  }
  if (fillGenerated) {
    for (const i of plan.uuids) {
      const name = table.columnNames[i];
      if (!out.has(name)) out.set(name, crypto.randomUUID());
    }
    for (const i of plan.required) {
      const name = table.columnNames[i];
      if (!out.has(name)) throw new ValidationError(`${table.name}.${name} is required (NOT NULL, no default)`);
    }
  }
  return out;
}

/** A column a row leaves out: it gets its DEFAULT. */
const LEFT_OUT: unique symbol = Symbol("irisql.leftOut");

/**
 * insertMany's rows, checked and converted as normalizeRow does (with the
 * row number in errors), laid out in one flat array: row r, column c (of
 * table.columnNames) at r * width + c, LEFT_OUT where the row sets nothing.
 * A Map or an array per row cost more than checking the values (bench/ case 3).
 */
export interface RowBatch {
  count: number;
  width: number;
  values: unknown[];
  /** Per column of table.columnNames: does any row set it. */
  used: boolean[];
}

export function normalizeRows(table: AnyTable, rows: readonly unknown[], what: string): RowBatch {
  const plan = rowPlan(table);
  const width = table.columnNames.length;
  const used = new Array<boolean>(width).fill(false);
  const values = new Array<unknown>(rows.length * width).fill(LEFT_OUT);
  for (let r = 0; r < rows.length; r++) {
    const at = r * width;
    try {
      const row = rows[r];
      if (!isPlainObject(row)) throw new ValidationError(`${what} needs an object of column values`);
      for (const key in row) {
        if (!Object.hasOwn(row, key)) continue;
        const value = row[key];
        if (value === undefined) continue;
        const column = rowColumn(table, plan, key, what);
        values[at + column.index] = normalize(column.spec, value, column.at);
        used[column.index] = true;
      }
      for (const i of plan.uuids) {
        if (values[at + i] === LEFT_OUT) values[at + i] = crypto.randomUUID();
        used[i] = true;
      }
      for (const i of plan.required) {
        if (values[at + i] === LEFT_OUT) {
          throw new ValidationError(`${table.name}.${table.columnNames[i]} is required (NOT NULL, no default)`);
        }
      }
    } catch (error) {
      if (error instanceof ValidationError) throw new ValidationError(`row ${r}: ${error.message}`, { cause: error });
      throw error;
    }
  }
  return { count: rows.length, width, values, used };
}

function selectList(table: AnyTable, columns?: unknown): string {
  if (columns === undefined) return table.columnNames.map(quoteIdent).join(", ");
  const accepted = `Columns: ${table.columnNames.join(", ")}`;
  if (!Array.isArray(columns)) {
    throw new ValidationError(
      `columns on table ${table.name} must be an array of column names, got ${describeValue(columns)}. ${accepted}`,
    );
  }
  if (columns.length === 0) {
    throw new ValidationError(
      `columns on table ${table.name} is an empty list; leave it out to read every column. ${accepted}`,
    );
  }
  return columns.map((c, i) => {
    if (typeof c !== "string") {
      throw new ValidationError(
        `columns[${i}] on table ${table.name} must be a column name, got ${describeValue(c)}. ${accepted}`,
      );
    }
    table.column(c, `columns of table ${table.name}`);
    return quoteIdent(table.declaredName(c)!);
  }).join(", ");
}

/** The options object of a typed call: undefined is {}, anything but a plain object with known keys is refused. */
function checkOptions<O>(table: AnyTable, options: O | undefined, what: string, keys: readonly string[]): O {
  if (options === undefined) return {} as O;
  if (!isPlainObject(options)) {
    throw new ValidationError(
      `${what} on table ${table.name}: options must be an object like { ${keys.join(", ")} }, got ${
        describeValue(options)
      }`,
    );
  }
  for (const key of Object.keys(options)) {
    if (!keys.includes(key)) {
      throw new ValidationError(
        `Unknown option ${JSON.stringify(key)} for ${what} on table ${table.name}. Options: ${keys.join(", ")}`,
      );
    }
  }
  return options;
}

const FIND_OPTIONS = ["where", "orderBy", "limit", "offset", "columns"] as const;
const NEAREST_OPTIONS = ["k", "metric", "where", "columns"] as const;

// --- statements --------------------------------------------------------------

export function insertStatement(
  dialect: Dialect,
  table: AnyTable,
  schema: string,
  row: Map<string, unknown>,
): Statement {
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
  const names = table.columnNames;
  const values = rows.flatMap((row) => names.map((n) => (row.has(n) ? row.get(n) : LEFT_OUT)));
  const batch = { count: rows.length, width: names.length, values, used: names.map((n) => rows.some((r) => r.has(n))) };
  return [...batchInserts(dialect, table, schema, batch, chunkSize)];
}

/**
 * multiRowInserts for a RowBatch, one statement at a time, so each can be
 * sent while the next is built.
 */
export function* batchInserts(
  dialect: Dialect,
  table: AnyTable,
  schema: string,
  batch: RowBatch,
  chunkSize: number,
): Generator<Statement> {
  const { count, width, values } = batch;
  const cols = batch.used.flatMap((u, i) => (u ? [i] : []));
  if (cols.length === 0) {
    for (let i = 0; i < count; i++) yield insertStatement(dialect, table, schema, new Map());
    return;
  }
  const names = cols.map((i) => table.columnNames[i]);
  const specs = names.map((n) => table.columns[n].spec);
  const perChunk = Math.max(1, Math.min(chunkSize, Math.floor(65534 / cols.length)));
  const target = dialect.tableRef(table.name, table.schema ?? schema);
  const head = `INSERT INTO ${target} (${names.map(quoteIdent).join(", ")}) VALUES `;
  // The VALUES text of a chunk whose rows all set every column depends only on its row
  // count: built once, and the same text lets the driver reuse one prepared statement.
  const fullText = new Map<number, string>();
  // Plain loops: this runs for every value of every row (bench/ case 3).
  for (let start = 0; start < count; start += perChunk) {
    const end = Math.min(count, start + perChunk);
    const params: unknown[] = [];
    let full = true;
    for (let r = start; r < end && full; r++) {
      for (let c = 0; c < cols.length && full; c++) full = values[r * width + cols[c]] !== LEFT_OUT;
    }
    if (full) {
      params.length = (end - start) * cols.length;
      let k = 0;
      for (let r = start; r < end; r++) {
        for (let c = 0; c < cols.length; c++) params[k++] = dialect.encode(specs[c], values[r * width + cols[c]]);
      }
      let text = fullText.get(end - start);
      if (text === undefined) fullText.set(end - start, text = head + tuples(dialect, specs, end - start));
      yield { text, params };
      continue;
    }
    let text = head;
    for (let r = start; r < end; r++) {
      text += r === start ? "(" : ", (";
      for (let c = 0; c < cols.length; c++) {
        if (c > 0) text += ", ";
        const value = values[r * width + cols[c]];
        if (value === LEFT_OUT) {
          text += "DEFAULT";
          continue;
        }
        params.push(dialect.encode(specs[c], value));
        text += dialect.valueSql(specs[c], "$" + params.length);
      }
      text += ")";
    }
    yield { text, params };
  }
}

/** `($1, $2), ($3, $4), …` for `count` rows of these columns. */
function tuples(dialect: Dialect, specs: readonly ColumnSpec[], count: number): string {
  const parts = new Array<string>(count);
  let n = 0;
  for (let r = 0; r < count; r++) {
    const vals = new Array<string>(specs.length);
    for (let c = 0; c < specs.length; c++) vals[c] = dialect.valueSql(specs[c], "$" + ++n);
    parts[r] = "(" + vals.join(", ") + ")";
  }
  return parts.join(", ");
}

/** find() options; C, the names in `columns`, narrows the rows find() returns (see Selected). */
export interface FindOptions<T extends AnyTable, C extends ColumnName<T> = ColumnName<T>> {
  where?: Where<T>;
  orderBy?: { [K in keyof InferRow<T>]?: "asc" | "desc" };
  limit?: number;
  offset?: number;
  /** The columns to read (a non-empty list); leave out for every column. */
  columns?: readonly C[];
}

function wholeNumber(name: string, v: unknown, table: AnyTable, min = 0): number | undefined {
  if (v === undefined) return undefined;
  if (typeof v !== "number" || !Number.isSafeInteger(v) || v < min) {
    throw new ValidationError(
      `${name} on table ${table.name} must be a whole number >= ${min}, got ${describeValue(v)}`,
    );
  }
  return v;
}

export function selectStatement<T extends AnyTable>(
  dialect: Dialect,
  table: T,
  schema: string,
  options?: FindOptions<T>,
): Statement {
  options = checkOptions(table, options, "find", FIND_OPTIONS);
  const params = new Params(dialect);
  const limit = wholeNumber("limit", options.limit, table);
  const offset = wholeNumber("offset", options.offset, table);
  const list = selectList(table, options.columns);
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
  if (!isPlainObject(orderBy)) {
    throw new ValidationError(
      `orderBy on table ${table.name} must be an object of column names to "asc" or "desc", like { ${
        table.columnNames[0]
      }: "desc" }, got ${describeValue(orderBy)}. Columns: ${table.columnNames.join(", ")}`,
    );
  }
  const parts = Object.entries(orderBy).map(([key, dir]) => {
    table.column(key, `orderBy on table ${table.name}`);
    if (dir !== "asc" && dir !== "desc") {
      throw new ValidationError(`orderBy ${table.name}.${key} must be "asc" or "desc", got ${describeValue(dir)}`);
    }
    return quoteIdent(table.declaredName(key)!) + (dir === "desc" ? " DESC" : " ASC");
  });
  return parts.length > 0 ? " ORDER BY " + parts.join(", ") : "";
}

// --- compiled SELECT cache (get / find) ----------------------------------------

interface CachedSelect {
  text: string;
  /** Values after the where values (limit/offset): constant for one shape. */
  tail: unknown[];
}

/** SELECT text per dialect, table, schema and query shape. */
const selectCache = new WeakMap<Dialect, WeakMap<AnyTable, Map<string, CachedSelect>>>();
/** Shapes kept per table; beyond this the table's cache starts over. */
const SELECT_CACHE_LIMIT = 256;

/**
 * selectStatement, with the SQL text built once per query shape (columns,
 * operators, orderBy, limit/offset, `in` lengths) and reused: a repeated
 * find() only checks and converts its values, as the builder would (bench/
 * measured the builder at 5-15% of a primary-key read). Anything the fast walk
 * does not recognise goes through the full builder, which produces the
 * errors; a shape is cached only once the builder has accepted it and bound
 * the same values in the same order.
 */
export function cachedSelectStatement<T extends AnyTable>(
  dialect: Dialect,
  table: T,
  schema: string,
  options: FindOptions<T> = {},
): Statement {
  const values: unknown[] = [];
  const shape = selectShape(dialect, table, options, values);
  if (shape === undefined) return selectStatement(dialect, table, schema, options);
  const hit = cachedSelect(dialect, table, schema, shape);
  if (hit) return bindCached(hit, values);
  return remember(dialect, table, schema, shape, values, selectStatement(dialect, table, schema, options));
}

/**
 * get(table, key): the cached SELECT by a one-column primary key, binding
 * the checked key. Composite keys and bad keys take find()'s path (and its
 * errors).
 */
export function keyStatement<T extends AnyTable>(dialect: Dialect, table: T, schema: string, key: unknown): Statement {
  const pk = table.primaryKey;
  if (pk.length !== 1 || key === undefined || key === null || isPlainObject(key)) {
    return cachedSelectStatement(dialect, table, schema, { where: keyWhere(table, key) as Where<T> });
  }
  const column = whereColumn(table, pk[0])!;
  const values: unknown[] = [];
  pushWhereValue(dialect, column, key, values);
  // "\0get" never starts a selectShape (those start with "{").
  const hit = cachedSelect(dialect, table, schema, "\0get");
  if (hit) return bindCached(hit, values);
  const built = selectStatement(dialect, table, schema, { where: { [pk[0]]: key } as Where<T> });
  return remember(dialect, table, schema, "\0get", values, built);
}

function shapesOf(dialect: Dialect, table: AnyTable): Map<string, CachedSelect> {
  let byTable = selectCache.get(dialect);
  if (!byTable) selectCache.set(dialect, byTable = new WeakMap());
  let shapes = byTable.get(table);
  if (!shapes) byTable.set(table, shapes = new Map());
  return shapes;
}

function cachedSelect(dialect: Dialect, table: AnyTable, schema: string, shape: string): CachedSelect | undefined {
  return shapesOf(dialect, table).get(schema + "\0" + shape);
}

function bindCached(hit: CachedSelect, values: unknown[]): Statement {
  return { text: hit.text, params: hit.tail.length > 0 ? values.concat(hit.tail) : values };
}

function remember(
  dialect: Dialect,
  table: AnyTable,
  schema: string,
  shape: string,
  values: unknown[],
  built: Statement,
): Statement {
  if (values.length <= built.params.length && values.every((v, i) => Object.is(v, built.params[i]))) {
    const shapes = shapesOf(dialect, table);
    if (shapes.size >= SELECT_CACHE_LIMIT) shapes.clear();
    shapes.set(schema + "\0" + shape, { text: built.text, tail: built.params.slice(values.length) });
  }
  return built;
}

/** A name in a shape key: length-prefixed, so no choice of names can make two shapes collide. */
function token(name: string): string {
  return "\0" + name.length + ":" + name;
}

/**
 * The shape key of find() options, pushing the where values (checked and
 * converted) in the order compileWhere binds them; undefined when the full
 * builder should decide.
 */
function selectShape(
  dialect: Dialect,
  table: AnyTable,
  options: FindOptions<AnyTable>,
  values: unknown[],
): string | undefined {
  if (!isPlainObject(options)) return undefined;
  // An option the builder does not know must reach it (and its error), never a cached shape.
  for (const key in options) {
    if (key !== "where" && key !== "orderBy" && key !== "limit" && key !== "offset" && key !== "columns") {
      return undefined;
    }
  }
  const { where, orderBy, limit, offset, columns } = options;
  // No where and an empty where give the same SQL: both are "{}".
  let shape = where === undefined || where === null ? "{}" : whereShape(dialect, table, where, values);
  if (shape === undefined) return undefined;
  if (orderBy !== undefined) {
    if (!isPlainObject(orderBy)) return undefined;
    shape += "\0o";
    for (const key of Object.keys(orderBy)) {
      const dir = (orderBy as Record<string, unknown>)[key];
      if (dir !== "asc" && dir !== "desc") return undefined;
      shape += token(key) + dir;
    }
  }
  // limit/offset are part of the shape (IRIS spells TOP n into the text); odd ones take the builder.
  if (limit !== undefined || offset !== undefined) {
    if (!isCount(limit) || !isCount(offset)) return undefined;
    shape += "\0l" + String(limit) + "\0f" + String(offset);
  }
  if (columns !== undefined) {
    if (!Array.isArray(columns) || columns.length === 0) return undefined;
    shape += "\0c";
    for (const c of columns) {
      if (typeof c !== "string") return undefined;
      shape += token(c);
    }
  }
  return shape;
}

function isCount(v: unknown): boolean {
  return v === undefined || (typeof v === "number" && Number.isSafeInteger(v) && v >= 0);
}

/** A where key resolved on one table, with what checking its values needs; made once per table and key. */
interface WhereColumn {
  spec: ColumnSpec;
  at: string;
}

const whereColumns = new WeakMap<AnyTable, Map<string, WhereColumn | null>>();

function whereColumn(table: AnyTable, key: string): WhereColumn | undefined {
  let byKey = whereColumns.get(table);
  if (!byKey) whereColumns.set(table, byKey = new Map());
  let hit = byKey.get(key);
  if (hit === undefined) {
    const name = table.declaredName(key);
    hit = name !== undefined && Object.hasOwn(table.columns, name)
      ? { spec: table.columns[name].spec, at: `${table.name}.${name}` }
      : null;
    // Keys come from callers' objects: remember a bounded number of them.
    if (byKey.size < 1024) byKey.set(key, hit);
  }
  return hit ?? undefined;
}

function pushWhereValue(dialect: Dialect, column: WhereColumn, value: unknown, values: unknown[]): void {
  values.push(dialect.encode(column.spec, normalizeForWhere(column.spec, value, column.at)));
}

/** The shape of a where object, pushing its converted values in the order compileWhere binds them. */
function whereShape(dialect: Dialect, table: AnyTable, where: unknown, values: unknown[]): string | undefined {
  if (!isPlainObject(where)) return undefined;
  let shape = "{";
  for (const key of Object.keys(where)) {
    const value = where[key];
    if (value === undefined) continue;
    if (key === "or" || key === "and") {
      // compileWhere refuses an empty list and a branch without a condition (shape "{}").
      if (!Array.isArray(value) || value.length === 0) return undefined;
      shape += token(key) + "[";
      for (const inner of value) {
        const s = whereShape(dialect, table, inner, values);
        if (s === undefined || s === "{}") return undefined;
        shape += s + "\0,";
      }
      shape += "]";
      continue;
    }
    const column = whereColumn(table, key);
    if (!column) return undefined;
    const isOps = isPlainObject(value) && Object.keys(value).length > 0 &&
      (column.spec.kind !== "json" || Object.keys(value).every((k) => OPERATORS.has(k)));
    if (!isOps) {
      if (value === null) shape += token(key) + "\0null";
      else if (column.spec.kind !== "json" && isPlainObject(value)) return undefined;
      else {
        shape += token(key);
        pushWhereValue(dialect, column, value, values);
      }
      continue;
    }
    // Operators whose operands are all undefined add no condition, and nothing to the shape.
    let ops = "";
    for (const op of Object.keys(value)) {
      const operand = (value as Record<string, unknown>)[op];
      if (operand === undefined) continue;
      switch (op) {
        case "eq":
        case "ne":
          if (operand !== null) pushWhereValue(dialect, column, operand, values);
          ops += "\0" + op + (operand === null ? "null" : "");
          break;
        case "gt":
        case "gte":
        case "lt":
        case "lte":
          pushWhereValue(dialect, column, operand, values);
          ops += "\0" + op;
          break;
        case "in":
          if (!Array.isArray(operand)) return undefined;
          for (const v of operand) pushWhereValue(dialect, column, v, values);
          ops += "\0in" + operand.length;
          break;
        case "like":
          if (typeof operand !== "string" || !LIKE_KINDS.has(column.spec.kind)) return undefined;
          values.push(operand);
          ops += "\0like";
          break;
        case "isNull":
          if (typeof operand !== "boolean") return undefined;
          ops += "\0isNull" + operand;
          break;
        default:
          return undefined;
      }
    }
    if (ops) shape += token(key) + ops;
  }
  return shape + "}";
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

export interface NearestOptions<T extends AnyTable, C extends ColumnName<T> = ColumnName<T>> {
  /** How many rows (default 10). */
  k?: number;
  metric?: VectorMetric;
  where?: Where<T>;
  /** The columns to read besides `score` (a non-empty list); leave out for every column. */
  columns?: readonly C[];
}

export function nearestStatement<T extends AnyTable>(
  dialect: Dialect,
  table: T,
  schema: string,
  column: string,
  query: unknown,
  options?: NearestOptions<T>,
): Statement {
  options = checkOptions(table, options, "nearest()", NEAREST_OPTIONS);
  const spec = table.column(column, `nearest() on table ${table.name}`).spec;
  const name = table.declaredName(column)!;
  if (spec.kind !== "vector") {
    const vectors = table.columnNames.filter((n) => table.columns[n].spec.kind === "vector");
    throw new ValidationError(
      `nearest() needs a vector column; ${table.name}.${name} is ${spec.kind}. Vector columns: ${
        vectors.join(", ") || "none"
      }`,
    );
  }
  const vector = validateVector(query, spec.dimensions, `query vector for ${table.name}.${name}`);
  const metric = options.metric ?? "cosine";
  if (metric !== "cosine" && metric !== "dot" && metric !== "l2") {
    throw new ValidationError(`metric must be "cosine", "dot" or "l2", got ${JSON.stringify(metric)}`);
  }
  const k = wholeNumber("k", options.k ?? 10, table, 1)!;
  const params = new Params(dialect);
  const ref = quoteIdent(name);
  const { top } = dialect.limitSql(k, undefined, () => "");
  const list = selectList(table, options.columns);
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
export function decodeRows(
  table: AnyTable,
  rows: Record<string, unknown>[],
  columns: readonly ColumnInfo[],
): Record<string, unknown>[] {
  if (rows.length === 0) return rows;
  const decoders = columns.length > 0
    ? cachedDecoders(table, columns)
    : makeDecoders(table, Object.keys(rows[0]), columns);
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

/**
 * Decoders per result column list and table. The postgres.js adapter hands out
 * the same column list for every run of a prepared statement, so repeated
 * reads reuse them (bench/: making them cost ~5% of a primary-key read).
 */
const decoderCache = new WeakMap<readonly ColumnInfo[], Map<AnyTable, Decoder[]>>();

function cachedDecoders(table: AnyTable, columns: readonly ColumnInfo[]): Decoder[] {
  let byTable = decoderCache.get(columns);
  let decoders = byTable?.get(table);
  if (!decoders) {
    decoders = makeDecoders(table, columns.map((c) => c.name), columns);
    if (!byTable) decoderCache.set(columns, byTable = new Map());
    byTable.set(table, decoders);
  }
  return decoders;
}

function makeDecoders(table: AnyTable, names: readonly string[], columns: readonly ColumnInfo[]): Decoder[] {
  return names.map((from, i) => {
    const to = table.declaredName(from);
    if (to === undefined) return [from, from === "score" ? "score" : from, from === "score" ? toNumber : undefined];
    const spec = table.columns[to].spec;
    const oid = columns[i]?.typeOid;
    const jsonParsed = oid === OID.json || oid === OID.jsonb;
    return [from, to, (raw: unknown) => decode(spec, raw, jsonParsed)];
  });
}

function toNumber(v: unknown): unknown {
  return typeof v === "string" && v !== "" ? Number(v) : v;
}
