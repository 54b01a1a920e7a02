/**
 * upsert(): insert one row, or update the row whose unique key (`conflict`) holds
 * the same values. What every dialect agrees on is checked here, before anything
 * is sent; each dialect spells it (ON CONFLICT on PostgreSQL, INSERT OR UPDATE on
 * IRIS) and refuses what it cannot make mean the same.
 */
import { ValidationError } from "../errors.ts";
import { type AnyTable, type ColumnName, describeValue } from "../schema.ts";
import { checkOptions } from "./inputs.ts";

/** upsert() options. */
export interface UpsertOptions<T extends AnyTable> {
  /**
   * The unique key that decides "same row": the primary key, a `unique()` column or the
   * columns of a unique index, exactly (in any order). Each must have a value in the row.
   */
  conflict: readonly ColumnName<T>[];
  /**
   * The columns an existing row takes from the values (default: every column given
   * that is not in `conflict`). `[]` leaves an existing row as it is. On IRIS, which
   * updates every column it is given, only the default is possible.
   */
  update?: readonly ColumnName<T>[];
}

/** An upsert checked against its table: declared names, in the order given. */
export interface UpsertTarget {
  conflict: string[];
  update: string[];
  /** The columns the caller gave values for (generated uuids filled in by irisql are not among them). */
  given: ReadonlySet<string>;
}

export const UPSERT_OPTIONS: readonly string[] = ["conflict", "update"];

/** The unique keys of a table, primary key first: each a list of declared column names. */
export function uniqueKeys(table: AnyTable): string[][] {
  const keys: string[][] = [];
  if (table.primaryKey.length > 0) keys.push([...table.primaryKey]);
  for (const name of table.columnNames) {
    if (table.columns[name].spec.unique && !(table.primaryKey.length === 1 && table.primaryKey[0] === name)) {
      keys.push([name]);
    }
  }
  for (const ix of table.indexes) if (ix.unique) keys.push(ix.columns.map((c) => table.declaredName(c) ?? c));
  return keys;
}

/** Same columns, in any order. */
export function sameColumns(a: readonly string[], b: readonly string[]): boolean {
  return a.length === b.length && a.every((c) => b.includes(c));
}

/**
 * Check upsert()'s options against the table and the checked row (normalizeRow with
 * insert: true); `values` is the caller's object, to tell what the caller gave.
 */
export function checkUpsert(
  table: AnyTable,
  values: unknown,
  row: Map<string, unknown>,
  options: unknown,
): UpsertTarget {
  const what = "upsert";
  if (options === undefined) {
    throw new ValidationError(
      `upsert on table ${table.name} needs { conflict: [...] }: the unique key that decides whether the row exists`,
    );
  }
  const opts = checkOptions<Record<string, unknown>>(table, options as Record<string, unknown>, what, UPSERT_OPTIONS);
  const conflict = columnList(table, opts.conflict, "conflict");
  if (conflict.length === 0) {
    throw new ValidationError(`upsert on table ${table.name}: conflict is an empty list; name a unique key`);
  }
  const keys = uniqueKeys(table);
  if (!keys.some((k) => sameColumns(k, conflict))) {
    throw new ValidationError(
      `upsert on table ${table.name}: conflict [${conflict.join(", ")}] is not a unique key of the table. ` +
        `Unique keys: ${keys.length > 0 ? keys.map((k) => `[${k.join(", ")}]`).join(", ") : "none"}`,
    );
  }
  for (const c of conflict) {
    if (!row.has(c) || row.get(c) === null) {
      throw new ValidationError(
        `upsert on table ${table.name} needs a value for ${c}: conflict columns decide which row is updated`,
      );
    }
  }
  let update: string[];
  if (opts.update === undefined) {
    update = [...row.keys()].filter((c) => !conflict.includes(c));
  } else {
    update = columnList(table, opts.update, "update");
    for (const c of update) {
      if (conflict.includes(c)) {
        throw new ValidationError(`upsert on table ${table.name}: update names ${c}, a conflict column`);
      }
      if (!row.has(c)) {
        throw new ValidationError(`upsert on table ${table.name}: update names ${c}, which the row gives no value`);
      }
    }
  }
  const given = new Set<string>();
  for (const key of Object.keys(values as object)) {
    if ((values as Record<string, unknown>)[key] === undefined) continue;
    const name = table.declaredName(key);
    if (name !== undefined) given.add(name);
  }
  return { conflict, update, given };
}

/** A list of the table's column names, checked, as declared names; duplicates refused. */
function columnList(table: AnyTable, list: unknown, option: string): string[] {
  if (!Array.isArray(list)) {
    throw new ValidationError(
      `upsert on table ${table.name}: ${option} must be an array of column names, got ${describeValue(list)}. ` +
        `Columns: ${table.columnNames.join(", ")}`,
    );
  }
  const out: string[] = [];
  for (const item of list) {
    if (typeof item !== "string") {
      throw new ValidationError(
        `upsert on table ${table.name}: ${option} must hold column names, got ${describeValue(item)}`,
      );
    }
    table.column(item, `upsert ${option} on table ${table.name}`);
    const name = table.declaredName(item)!;
    if (out.includes(name)) throw new ValidationError(`upsert on table ${table.name}: ${option} names ${name} twice`);
    out.push(name);
  }
  return out;
}
