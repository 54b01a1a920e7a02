/** INSERT statements: one row, or multi-row VALUES in chunks (PostgreSQL). */
import type { Dialect } from "../dialects/dialect.ts";
import type { AnyTable, ColumnSpec } from "../schema.ts";
import { quoteIdent } from "../sql.ts";
import { selectList } from "./inputs.ts";
import { Params, type Statement } from "./params.ts";
import { LEFT_OUT, type RowBatch } from "./rows.ts";
import { MAX_PARAMS } from "../adapters/adapter.ts";

/**
 * One row (from normalizeRow); with RETURNING every column where the dialect has it.
 * `head` is the command ("INSERT OR UPDATE INTO" for IRIS's upsert); `tail`, text
 * after VALUES (PostgreSQL's ON CONFLICT), binds nothing.
 */
export function insertStatement(
  dialect: Dialect,
  table: AnyTable,
  schema: string,
  row: Map<string, unknown>,
  head = "INSERT INTO",
  tail = "",
): Statement {
  const params = new Params(dialect);
  const target = dialect.tableRef(table.name, table.schema ?? schema);
  let text: string;
  if (row.size === 0) {
    text = `${head} ${target} DEFAULT VALUES`;
  } else {
    const cols: string[] = [];
    const vals: string[] = [];
    for (const [name, value] of row) {
      const spec = table.columns[name].spec;
      cols.push(quoteIdent(name));
      vals.push(dialect.valueSql(spec, params.add(dialect.encode(spec, value))));
    }
    text = `${head} ${target} (${cols.join(", ")}) VALUES (${vals.join(", ")})`;
  }
  text += tail;
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
  const perChunk = Math.max(1, Math.min(chunkSize, Math.floor(MAX_PARAMS / cols.length)));
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
