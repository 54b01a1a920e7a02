/**
 * The `where` of typed calls: one walk that checks it, converts and binds its
 * values in text order, and yields both its shape (the statement cache's key)
 * and, when asked, its SQL. The cache and the builders share this walk, so a
 * cached text always binds its values in the order it was built with.
 */
import { normalize } from "../codec.ts";
import type { Dialect, ParamFn } from "../dialects/dialect.ts";
import { ValidationError } from "../errors.ts";
import { type AnyTable, type ColumnSpec, describeValue, type InferRow } from "../schema.ts";
import { quoteIdent } from "../sql.ts";
import { columnsOf, isPlainObject, type TableColumn, type TableColumns } from "./inputs.ts";

/**
 * The conditions one column may carry in a `where`: `{ price: { gte: 10, lt: 20 } }`.
 * Several operators on one column must all hold. Values are always bound.
 */
export interface Operators<T> {
  /** Equal to the value; `null` means IS NULL. */
  eq?: T | null;
  /** Not equal to the value (a NULL column value never matches); `null` means IS NOT NULL. */
  ne?: T | null;
  /** Greater than the value. */
  gt?: T;
  /** Greater than or equal to the value. */
  gte?: T;
  /** Less than the value. */
  lt?: T;
  /** Less than or equal to the value. */
  lte?: T;
  /** One of the values; `in: []` matches no row. */
  in?: readonly T[];
  /**
   * Not one of the values. Like SQL's NOT IN, a NULL column value never matches; so
   * `notIn: []` matches every row whose value is not NULL (SQL has no empty NOT IN list).
   */
  notIn?: readonly T[];
  /** Inclusive on both ends: `{ between: [lo, hi] }` is lo <= value <= hi. Not for json or vector columns. */
  between?: readonly [T, T];
  /** varchar and text columns only; case-sensitive (`%` and `_` are the wildcards). */
  like?: [T] extends [string] ? string : never;
  /** `like`, ignoring case, on every dialect (ILIKE on PostgreSQL, LOWER() on both sides on IRIS). */
  ilike?: [T] extends [string] ? string : never;
  /** `true`: the value is NULL; `false`: it is not. */
  isNull?: boolean;
}

/**
 * The per-column part of a {@linkcode Where}: each column of row type R maps to
 * a value (equality; `null` for IS NULL) or to {@linkcode Operators}.
 */
export type ColumnConditions<R> = { [K in keyof R]?: R[K] | Operators<NonNullable<R[K]>> };

/**
 * `{ col: value }`, `{ col: { gt: 1 } }`, `{ or: [...] }`, `{ and: [...] }`.
 * Undefined values are skipped; an or/and list, and each branch in one, must
 * keep a condition (see walkWhere).
 */
export type Where<T extends AnyTable> =
  & ColumnConditions<InferRow<T>>
  & { or?: readonly Where<T>[]; and?: readonly Where<T>[] };

const OPERATORS = new Set([
  "eq",
  "ne",
  "gt",
  "gte",
  "lt",
  "lte",
  "in",
  "notIn",
  "between",
  "like",
  "ilike",
  "isNull",
]);
const COMPARE: Record<string, string> = { gt: ">", gte: ">=", lt: "<", lte: "<=" };
/** Column kinds `like` and `ilike` apply to. */
const LIKE_KINDS = new Set(["varchar", "text"]);
/** Column kinds without an order `between` could use. */
const UNORDERED_KINDS = new Set(["json", "vector"]);

/** What one walk of a where yields. */
export interface WhereWalk {
  /**
   * The where without its values ("{}" when it has no condition): wheres of
   * one shape compile to one text on a table, so the shape keys the cache.
   */
  shape: string;
  /** The condition, "" for none (and when the walk was not asked for text). */
  sql: string;
}

/**
 * Walk a where once. Each value is checked against its column, converted and
 * encoded, and bound through `param` in the order the text places it; the SQL
 * is built only when `text` is set (a cached statement needs the values only).
 * Undefined values are skipped, at every depth; but each or/and list and each
 * branch in one must leave a condition: an empty one would widen the where to
 * every row (or, for `or: []`, say nothing the caller could have meant), so it
 * is refused with its path (`where.or[1]`).
 */
export function walkWhere(
  dialect: Dialect,
  table: AnyTable,
  where: unknown,
  param: ParamFn,
  text: boolean,
): WhereWalk {
  if (where === undefined || where === null) return { shape: "{}", sql: "" };
  const walker = new Walker(dialect, table, param, text);
  const sql = walker.walk(where, "where");
  return { shape: walker.shape, sql };
}

/** A where value checked, converted and encoded as walkWhere binds it (get() binds its key with this). */
export function whereValue(dialect: Dialect, column: TableColumn, value: unknown): unknown {
  return dialect.encode(column.spec, normalizeForWhere(column.spec, value, column.at));
}

class Walker {
  shape = "";
  readonly #columns: TableColumns;

  constructor(
    readonly dialect: Dialect,
    readonly table: AnyTable,
    readonly param: ParamFn,
    readonly text: boolean,
  ) {
    this.#columns = columnsOf(table);
  }

  /** Appends the where's shape; returns its SQL ("" without text). */
  walk(where: unknown, path: string): string {
    const table = this.table;
    if (where === undefined || where === null) {
      this.shape += "{}";
      return "";
    }
    if (!isPlainObject(where)) {
      throw new ValidationError(
        `${path} on table ${table.name} must be an object like { column: value }, got ${describeValue(where)}. ` +
          `Columns: ${table.columnNames.join(", ")}`,
      );
    }
    this.shape += "{";
    const parts: string[] = [];
    for (const key of Object.keys(where)) {
      const value = where[key];
      if (value === undefined) continue;
      if (key === "or" || key === "and") {
        parts.push(this.#list(key, value, `${path}.${key}`));
        continue;
      }
      const column = this.#columns.get(key, "where");
      const ref = this.text ? quoteIdent(column.name) : "";
      const kind = column.spec.kind;
      const isOps = isPlainObject(value) && Object.keys(value).length > 0 &&
        (kind !== "json" || Object.keys(value).every((k) => OPERATORS.has(k)));
      if (!isOps) {
        if (kind !== "json" && isPlainObject(value)) {
          throw new ValidationError(
            `${path}.${key} has no condition: {} names no operator (${[...OPERATORS].join(", ")})`,
          );
        }
        this.shape += token(key) + (value === null ? "\0null" : "");
        parts.push(value === null ? `${ref} IS NULL` : `${ref} = ${this.#bind(column, value)}`);
        continue;
      }
      // Operators whose operands are all undefined add no condition, and nothing to the shape.
      let ops = "";
      for (const op of Object.keys(value)) {
        const operand = (value as Record<string, unknown>)[op];
        if (operand === undefined) continue;
        ops += "\0" + op;
        switch (op) {
          case "eq":
            ops += operand === null ? "null" : "";
            parts.push(operand === null ? `${ref} IS NULL` : `${ref} = ${this.#bind(column, operand)}`);
            break;
          case "ne":
            ops += operand === null ? "null" : "";
            parts.push(operand === null ? `${ref} IS NOT NULL` : `${ref} <> ${this.#bind(column, operand)}`);
            break;
          case "gt":
          case "gte":
          case "lt":
          case "lte":
            parts.push(`${ref} ${COMPARE[op]} ${this.#bind(column, operand)}`);
            break;
          case "in": {
            if (!Array.isArray(operand)) throw new ValidationError(`where ${column.at}.in must be an array`);
            ops += operand.length;
            const list = operand.map((v) => this.#bind(column, v));
            parts.push(operand.length === 0 ? "1 = 0" : `${ref} IN (${list.join(", ")})`);
            break;
          }
          case "notIn": {
            if (!Array.isArray(operand)) throw new ValidationError(`where ${column.at}.notIn must be an array`);
            ops += operand.length;
            const list = operand.map((v) => this.#bind(column, v));
            // NOT IN never matches NULL; with nothing to exclude, that is all that is left.
            parts.push(operand.length === 0 ? `${ref} IS NOT NULL` : `${ref} NOT IN (${list.join(", ")})`);
            break;
          }
          case "between": {
            if (UNORDERED_KINDS.has(kind)) {
              throw new ValidationError(`where ${column.at}.between needs an ordered column; ${column.at} is ${kind}`);
            }
            if (!Array.isArray(operand) || operand.length !== 2) {
              throw new ValidationError(
                `where ${column.at}.between must be [low, high] (both included), got ${describeValue(operand)}`,
              );
            }
            const lo = this.#bind(column, operand[0]);
            const hi = this.#bind(column, operand[1]);
            parts.push(`${ref} BETWEEN ${lo} AND ${hi}`);
            break;
          }
          case "like":
          case "ilike": {
            if (!LIKE_KINDS.has(kind)) {
              // PostgreSQL has no LIKE for numbers, dates, uuids or json: refuse it here, not at the server.
              throw new ValidationError(
                `where ${column.at}.${op} works on varchar and text columns; ${column.at} is ${kind}. Operators: ${
                  [...OPERATORS].filter((o) => o !== "like" && o !== "ilike").join(", ")
                }`,
              );
            }
            if (typeof operand !== "string") {
              throw new ValidationError(`where ${column.at}.${op} must be a string pattern`);
            }
            const placeholder = this.param(operand);
            if (this.text) {
              parts.push(
                op === "like" ? `${ref} LIKE ${placeholder}` : this.dialect.ilikeSql(ref, placeholder),
              );
            }
            break;
          }
          case "isNull":
            if (typeof operand !== "boolean") {
              throw new ValidationError(`where ${column.at}.isNull must be true or false`);
            }
            ops += operand;
            parts.push(operand ? `${ref} IS NULL` : `${ref} IS NOT NULL`);
            break;
          default:
            throw new ValidationError(
              `Unknown operator ${JSON.stringify(op)} in where on ${column.at}. Operators: ${
                [...OPERATORS].join(", ")
              }`,
            );
        }
      }
      if (ops) this.shape += token(key) + ops;
    }
    this.shape += "}";
    return this.text ? parts.join(" AND ") : "";
  }

  /** An or/and list: every branch must keep a condition. */
  #list(key: "or" | "and", value: unknown, list: string): string {
    if (!Array.isArray(value)) throw new ValidationError(`${list} must be an array of conditions`);
    if (value.length === 0) throw new ValidationError(`${list} is an empty list; give it at least one condition`);
    this.shape += token(key) + "[";
    const inner = value.map((w, i) => {
      const start = this.shape.length;
      const sql = this.walk(w, `${list}[${i}]`);
      if (this.shape.length - start === 2) { // "{}": no condition
        throw new ValidationError(
          `${list}[${i}] has no condition (it is null, {} or every value in it is undefined), ` +
            `so it would match every row`,
        );
      }
      this.shape += "\0,";
      return sql;
    });
    this.shape += "]";
    return "(" + inner.join(key === "or" ? " OR " : " AND ") + ")";
  }

  #bind(column: TableColumn, value: unknown): string {
    const placeholder = this.param(whereValue(this.dialect, column, value));
    return this.text ? this.dialect.valueSql(column.spec, placeholder) : "";
  }
}

/** A name in a shape: length-prefixed, so no choice of names can make two shapes collide. */
export function token(name: string): string {
  return "\0" + name.length + ":" + name;
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
