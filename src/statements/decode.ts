/**
 * Reading rows back: keyed by declared column names (IRIS sends them
 * lower-cased) and converted to the column types by codec.ts.
 */
import type { ColumnInfo } from "../adapters/adapter.ts";
import { decode, type ServerValues } from "../codec.ts";
import type { AnyTable } from "../schema.ts";
import { OID } from "../values/oid.ts";

type Decoder = [from: string, to: string, decode: ((raw: unknown) => unknown) | undefined];

/**
 * Rows as the typed calls return them. Result columns that are not table
 * columns (like `score`) keep their name; numeric-looking `score` text
 * becomes a number.
 */
export function decodeRows(
  server: ServerValues,
  table: AnyTable,
  rows: Record<string, unknown>[],
  columns: readonly ColumnInfo[],
): Record<string, unknown>[] {
  if (rows.length === 0) return rows;
  const decoders = columns.length > 0
    ? cachedDecoders(server, table, columns)
    : makeDecoders(server, table, Object.keys(rows[0]), columns);
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

function cachedDecoders(server: ServerValues, table: AnyTable, columns: readonly ColumnInfo[]): Decoder[] {
  let byTable = decoderCache.get(columns);
  let decoders = byTable?.get(table);
  if (!decoders) {
    decoders = makeDecoders(server, table, columns.map((c) => c.name), columns);
    if (!byTable) decoderCache.set(columns, byTable = new Map());
    byTable.set(table, decoders);
  }
  return decoders;
}

function makeDecoders(
  server: ServerValues,
  table: AnyTable,
  names: readonly string[],
  columns: readonly ColumnInfo[],
): Decoder[] {
  return names.map((from, i) => {
    const to = table.declaredName(from);
    if (to === undefined) return [from, from === "score" ? "score" : from, from === "score" ? toNumber : undefined];
    const spec = table.columns[to].spec;
    const oid = columns[i]?.typeOid;
    const jsonParsed = oid === OID.json || oid === OID.jsonb;
    return [from, to, (raw: unknown) => decode(spec, raw, jsonParsed, server)];
  });
}

function toNumber(v: unknown): unknown {
  return typeof v === "string" && v !== "" ? Number(v) : v;
}
