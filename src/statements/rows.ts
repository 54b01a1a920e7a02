/**
 * Rows of values for insert and update, checked and converted before any
 * statement is built: unknown columns, values their columns refuse, and
 * required columns left out are a ValidationError; generated uuids are filled
 * in. One row and a batch of rows go through the same checkRow.
 */
import { normalize } from "../codec.ts";
import { ValidationError } from "../errors.ts";
import type { AnyTable, ColumnSpec } from "../schema.ts";
import { columnsOf, isPlainObject, type TableColumns } from "./inputs.ts";

/** A column a row leaves out: it gets its DEFAULT. */
export const LEFT_OUT: unique symbol = Symbol("irisql.leftOut");

/**
 * Checked rows laid out in one flat array: row r, column c (of
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

/** Per table, what checking rows needs beyond resolving keys; made once (insertMany checks every row). */
interface RowPlan {
  columns: TableColumns;
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
      columns: columnsOf(table),
      uuids: indexes((spec) => spec.generated && spec.kind === "uuid"),
      required: indexes((spec) => spec.notNull && !spec.generated && !spec.hasDefault && !spec.defaultNow),
    };
    rowPlans.set(table, plan);
  }
  return plan;
}

/**
 * Check one row into `values` at `at` (see RowBatch), marking in `used` the
 * columns it sets and, when given, listing them in `order` in the order the
 * row names them. `insert`: fill generated uuids and require what is required.
 */
function checkRow(
  table: AnyTable,
  plan: RowPlan,
  row: unknown,
  what: string,
  insert: boolean,
  values: unknown[],
  at: number,
  used: boolean[],
  order?: number[],
): void {
  if (!isPlainObject(row)) throw new ValidationError(`${what} needs an object of column values`);
  for (const key in row) {
    if (!Object.hasOwn(row, key)) continue;
    const value = row[key];
    if (value === undefined) continue;
    const column = plan.columns.get(key, what);
    if (order && values[at + column.index] === LEFT_OUT) order.push(column.index);
    values[at + column.index] = normalize(column.spec, value, column.at);
    used[column.index] = true;
  }
  if (!insert) return;
  for (const i of plan.uuids) {
    if (values[at + i] === LEFT_OUT) {
      values[at + i] = crypto.randomUUID();
      order?.push(i);
    }
    used[i] = true;
  }
  for (const i of plan.required) {
    if (values[at + i] === LEFT_OUT) {
      throw new ValidationError(`${table.name}.${table.columnNames[i]} is required (NOT NULL, no default)`);
    }
  }
}

/**
 * One row for insert (`insert`: generated uuids filled in, required columns
 * checked) or update: declared column name -> value, in the order the row
 * names them (the order of the statement's columns).
 */
export function normalizeRow(
  table: AnyTable,
  row: unknown,
  what: string,
  insert: boolean,
): Map<string, unknown> {
  const width = table.columnNames.length;
  const values = new Array<unknown>(width).fill(LEFT_OUT);
  const order: number[] = [];
  checkRow(table, rowPlan(table), row, what, insert, values, 0, new Array<boolean>(width), order);
  const out = new Map<string, unknown>();
  for (const i of order) out.set(table.columnNames[i], values[i]);
  return out;
}

/** insertMany's rows, checked as normalizeRow does for an insert, with the row number in errors. */
export function normalizeRows(table: AnyTable, rows: readonly unknown[], what: string): RowBatch {
  const plan = rowPlan(table);
  const width = table.columnNames.length;
  const used = new Array<boolean>(width).fill(false);
  const values = new Array<unknown>(rows.length * width).fill(LEFT_OUT);
  for (let r = 0; r < rows.length; r++) {
    try {
      checkRow(table, plan, rows[r], what, true, values, r * width, used);
    } catch (error) {
      if (error instanceof ValidationError) throw new ValidationError(`row ${r}: ${error.message}`, { cause: error });
      throw error;
    }
  }
  return { count: rows.length, width, values, used };
}
