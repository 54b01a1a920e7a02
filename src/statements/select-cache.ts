/**
 * get() and find() with the SELECT text built once per query shape (columns,
 * operators, orderBy, limit/offset, `in` lengths) and reused: a repeated call
 * only checks, converts and binds its values (bench/ measured the builder at
 * 5-15% of a primary-key read). The where's shape and values come from the
 * same walk the builder uses (walkWhere), so a cached text binds them in the
 * order it was built with. Options the fast path does not recognise go to
 * the builder, which produces the errors.
 */
import type { Dialect } from "../dialects/dialect.ts";
import type { AnyTable } from "../schema.ts";
import { columnsOf, isPlainObject } from "./inputs.ts";
import type { Statement } from "./params.ts";
import { FIND_OPTIONS, type FindOptions, selectStatement } from "./select.ts";
import { keyWhere, token, walkWhere, type Where, whereValue } from "./where.ts";

interface CachedSelect {
  text: string;
  /** Values after the where values (limit/offset): constant for one shape. */
  tail: unknown[];
}

/** SELECT text per dialect, table, schema and query shape. */
const selectCache = new WeakMap<Dialect, WeakMap<AnyTable, Map<string, CachedSelect>>>();
/** Shapes kept per table; beyond this the table's cache starts over. */
const SELECT_CACHE_LIMIT = 256;

/** selectStatement, through the cache. */
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
  // The value the builder's walk binds for { [pk]: key }.
  const values = [whereValue(dialect, columnsOf(table).get(pk[0], "where"), key)];
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

/** Cache what the builder made; its first params are the where values (nothing binds before the where). */
function remember(
  dialect: Dialect,
  table: AnyTable,
  schema: string,
  shape: string,
  values: unknown[],
  built: Statement,
): Statement {
  const shapes = shapesOf(dialect, table);
  if (shapes.size >= SELECT_CACHE_LIMIT) shapes.clear();
  shapes.set(schema + "\0" + shape, { text: built.text, tail: built.params.slice(values.length) });
  return built;
}

/** Binds a value for the fast walk, which needs no placeholders. */
function collect(values: unknown[]) {
  return (value: unknown) => {
    values.push(value);
    return "";
  };
}

/**
 * The shape key of find() options, pushing the where values (checked,
 * converted, encoded) into `values`; undefined when the builder should
 * decide. The where is walked last: its errors are the builder's, and the
 * builder checks everything before it (options, limit, offset, columns) first.
 */
function selectShape(
  dialect: Dialect,
  table: AnyTable,
  options: FindOptions<AnyTable>,
  values: unknown[],
): string | undefined {
  if (!isPlainObject(options)) return undefined;
  // An option the builder does not know must reach it (and its error), never a cached shape.
  for (const key in options) if (!FIND_OPTIONS.includes(key)) return undefined;
  const { where, orderBy, limit, offset, columns } = options;
  let rest = "";
  // limit/offset are part of the shape (IRIS spells TOP n into the text); odd ones take the builder.
  if (limit !== undefined || offset !== undefined) {
    if (!isCount(limit) || !isCount(offset)) return undefined;
    rest += "\0l" + String(limit) + "\0f" + String(offset);
  }
  if (columns !== undefined) {
    if (!Array.isArray(columns) || columns.length === 0) return undefined;
    rest += "\0c";
    const known = columnsOf(table);
    for (const c of columns) {
      if (typeof c !== "string" || !known.find(c)) return undefined;
      rest += token(c);
    }
  }
  if (orderBy !== undefined) {
    if (!isPlainObject(orderBy)) return undefined;
    rest += "\0o";
    for (const key of Object.keys(orderBy)) {
      const dir = (orderBy as Record<string, unknown>)[key];
      if (dir !== "asc" && dir !== "desc") return undefined;
      rest += token(key) + dir;
    }
  }
  // No where and an empty where give the same SQL: both are "{}".
  return walkWhere(dialect, table, where, collect(values), false).shape + rest;
}

function isCount(v: unknown): boolean {
  return v === undefined || (typeof v === "number" && Number.isSafeInteger(v) && v >= 0);
}
