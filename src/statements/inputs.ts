/**
 * Checks shared by the typed calls' inputs: objects, options, counts, column
 * names. Every failure is a ValidationError naming the table and what is
 * accepted, raised before anything is sent.
 */
import { ValidationError } from "../errors.ts";
import { type AnyTable, type ColumnSpec, describeValue } from "../schema.ts";
import { quoteIdent } from "../sql.ts";

export function isPlainObject(v: unknown): v is Record<string, unknown> {
  if (typeof v !== "object" || v === null || Array.isArray(v)) return false;
  const proto = Object.getPrototypeOf(v);
  return proto === Object.prototype || proto === null;
}

/** A key of a caller's object (declared name or another casing), resolved on its table. */
export interface TableColumn {
  /** Declared name. */
  name: string;
  /** Position in table.columnNames. */
  index: number;
  spec: ColumnSpec;
  /** "docs.title", for error messages. */
  at: string;
}

/** The keys callers used on one table, resolved once (rows and wheres look up every key of every call). */
export class TableColumns {
  readonly #byKey = new Map<string, TableColumn | null>();
  constructor(readonly table: AnyTable) {}

  /** The column a key names, or undefined. */
  find(key: string): TableColumn | undefined {
    let column = this.#byKey.get(key);
    if (column === undefined) {
      const table = this.table;
      const name = table.declaredName(key);
      column = name !== undefined && Object.hasOwn(table.columns, name)
        ? { name, index: table.columnNames.indexOf(name), spec: table.columns[name].spec, at: `${table.name}.${name}` }
        : null;
      // Keys come from callers' objects: remember a bounded number of them.
      if (this.#byKey.size < 1024) this.#byKey.set(key, column);
    }
    return column ?? undefined;
  }

  /** The column a key names, or the usual unknown-column ValidationError for `what` ("insert", "where"). */
  get(key: string, what: string): TableColumn {
    const column = this.find(key);
    if (column) return column;
    const table = this.table;
    table.column(key, `${what} on table ${table.name}`);
    throw new ValidationError(`Unknown column ${JSON.stringify(key)} in ${what} on table ${table.name}`);
  }
}

const tableColumns = new WeakMap<AnyTable, TableColumns>();

export function columnsOf(table: AnyTable): TableColumns {
  let columns = tableColumns.get(table);
  if (!columns) tableColumns.set(table, columns = new TableColumns(table));
  return columns;
}

/** The options object of a typed call: undefined is {}, anything but a plain object with known keys is refused. */
export function checkOptions<O>(table: AnyTable, options: O | undefined, what: string, keys: readonly string[]): O {
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

export function wholeNumber(name: string, v: unknown, table: AnyTable, min = 0): number | undefined {
  if (v === undefined) return undefined;
  if (typeof v !== "number" || !Number.isSafeInteger(v) || v < min) {
    throw new ValidationError(
      `${name} on table ${table.name} must be a whole number >= ${min}, got ${describeValue(v)}`,
    );
  }
  return v;
}

/** The quoted column list of a SELECT (or RETURNING): `columns` as given, or every column. */
export function selectList(table: AnyTable, columns?: unknown): string {
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
