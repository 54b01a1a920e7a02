/**
 * What a statement returns. `rowCount` is null where the server cannot tell
 * (DML through iris-pgwire, DDL), never a wrong 0.
 */
import type { ColumnInfo } from "./adapters/adapter.ts";
import { RowCountError } from "./errors.ts";

/** A row of a raw query: column name to value, untyped. */
export type Row = Record<string, unknown>;

/**
 * What `execute()` returns: the rows, how many rows the statement touched,
 * and the result columns. `R` is the row type; pass one to `execute<R>()`
 * to name it (irisql does not check it).
 *
 * @example Reading a result
 * ```ts
 * import { createEngine, text } from "irisql";
 *
 * const engine = createEngine("pglite://memory");
 * const r = await engine.execute<{ n: number }>(text("SELECT :n::int AS n"), { n: 7 });
 * console.log(r.rows, r.first()?.n, r.one().n, r.scalar()); // [ { n: 7 } ] 7 7 7
 * await engine.dispose();
 * ```
 */
export class Result<R = Row> {
  /** Every row, in the order the server sent them. */
  readonly rows: R[];
  /**
   * Rows the statement returned or changed, from the server's command tag;
   * null where the server does not say (DML through iris-pgwire, DDL), never a wrong 0.
   */
  readonly rowCount: number | null;
  /** The result columns, in order, as the server described them (empty for a statement without rows). */
  readonly columns: readonly ColumnInfo[];
  /** Command tag word: "SELECT", "INSERT", "CREATE TABLE"... */
  readonly command: string;

  /** A result made of these parts; irisql builds them, callers only read them. */
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
