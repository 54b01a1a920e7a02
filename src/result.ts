/**
 * What a statement returns. `rowCount` is null where the server cannot tell
 * (DML through iris-pgwire, DDL), never a wrong 0.
 */
import type { ColumnInfo } from "./adapters/adapter.ts";
import { RowCountError } from "./errors.ts";

export type Row = Record<string, unknown>;

export class Result<R = Row> {
  readonly rows: R[];
  readonly rowCount: number | null;
  readonly columns: readonly ColumnInfo[];
  /** Command tag word: "SELECT", "INSERT", "CREATE TABLE"... */
  readonly command: string;

  constructor(rows: R[], rowCount: number | null, columns: readonly ColumnInfo[], command: string) {
    this.rows = rows;
    this.rowCount = rowCount;
    this.columns = columns;
    this.command = command;
  }

  /** The first row, or undefined. */
  first(): R | undefined {
    return this.rows[0];
  }

  /** The only row; throws RowCountError for none or several. */
  one(): R {
    if (this.rows.length !== 1) {
      throw new RowCountError(`Expected exactly one row, got ${this.rows.length}`, this.rows.length);
    }
    return this.rows[0];
  }

  /** The first column of the first row, or undefined when there is no row. */
  scalar<T = unknown>(): T | undefined {
    const row = this.rows[0] as Row | undefined;
    if (row === undefined) return undefined;
    const first = this.columns[0]?.name;
    return (first !== undefined && first in row ? row[first] : Object.values(row)[0]) as T;
  }
}
