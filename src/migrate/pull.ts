/**
 * `irisql pull`: a schema module (table() / col.* / index()) written from introspect(), so
 * an existing database can be adopted. What the catalog does not say is not invented:
 * foreign keys and HNSW parameters (introspect() does not report them) are left out with a
 * comment, identity columns on PostgreSQL are not marked generated(), and a column whose
 * type cannot be read (a pgvector column's dimensions, unknown types) stops pull with an error.
 */
import { constraintName } from "../dialects/ddl.ts";
import type { Dialect } from "../dialects/dialect.ts";
import type { ColumnInfoRow, TableInfo } from "../dialects/introspection.ts";
import { MigrationError } from "./errors.ts";

/** Options of {@linkcode pullSchema}. */
export interface PullOptions {
  /** The module specifier the file imports from (default "irisql"). */
  importFrom?: string;
  /** Live tables to leave out (the history and lock tables). */
  ignoreTables?: readonly string[];
}

const IDENT = /^[A-Za-z_$][A-Za-z0-9_$]*$/;
const RESERVED = new Set([
  "col",
  "index",
  "table",
  "default",
  "class",
  "function",
  "new",
  "delete",
  "import",
  "export",
]);

function varName(name: string, used: Set<string>): string {
  let v = name.replace(/[^A-Za-z0-9_$]/g, "_");
  if (!IDENT.test(v) || RESERVED.has(v)) v = "t_" + v;
  let out = v;
  for (let i = 2; used.has(out); i++) out = `${v}${i}`;
  used.add(out);
  return out;
}

const key = (name: string) => (IDENT.test(name) ? name : JSON.stringify(name));

function columnCall(d: Dialect, table: string, c: ColumnInfoRow): string {
  const t = d.alter.readColumnType(c);
  const where = `${table}.${c.name}`;
  if (!t) throw new MigrationError(`pull: ${where} has type ${c.dataType}, which irisql cannot express as col.*`);
  switch (t.kind) {
    case "numeric":
      return `col.numeric(${t.precision}, ${t.scale ?? 0})`;
    case "varchar":
      return `col.varchar(${t.length})`;
    case "timestamp":
      return t.withTimezone ? "col.timestamp({ withTimezone: true })" : "col.timestamp()";
    case "vector":
      if (t.dimensions === undefined) {
        throw new MigrationError(
          `pull: ${where} is a vector column whose dimensions the catalog does not report; write it by hand`,
        );
      }
      return `col.vector(${t.dimensions})`;
    default:
      return `col.${t.kind}()`;
  }
}

/** The default clause as a col.* modifier, or a comment when it is not a plain constant. */
function defaultCall(kind: string, raw: string | null): { call: string; note?: string } {
  if (raw === null || raw === undefined || raw === "") return { call: "" };
  const text = raw.trim().replace(/^\((.*)\)$/, "$1");
  if (/^nextval\(/i.test(text) || /^gen_random_uuid\(\)$/i.test(text)) return { call: ".generated()" };
  if (/^(now\(\)|current_timestamp|current_date)/i.test(text) || /^\(?now\(\)\s+at time zone/i.test(text)) {
    return { call: ".defaultNow()" };
  }
  const str = /^'((?:[^']|'')*)'(::[\w ]+)?$/.exec(text);
  const num = /^-?\d+(\.\d+)?$/.exec(text.replace(/::[\w ]+$/, ""));
  if (kind === "boolean") {
    if (/^(true|1)$/i.test(text)) return { call: ".default(true)" };
    if (/^(false|0)$/i.test(text)) return { call: ".default(false)" };
  }
  if (num && ["integer", "smallint", "bigint", "double"].includes(kind)) return { call: `.default(${num[0]})` };
  if (num && kind === "numeric") return { call: `.default(${JSON.stringify(num[0])})` };
  if (str && ["varchar", "text", "date", "uuid", "numeric"].includes(kind)) {
    return { call: `.default(${JSON.stringify(str[1].replace(/''/g, "'"))})` };
  }
  return { call: "", note: `default ${raw} not expressed` };
}

/**
 * Write a schema module (TypeScript source with table(), col.* and index())
 * for introspected tables, as `irisql pull` does, so an existing database can
 * be adopted. What the catalog does not say (foreign keys, HNSW parameters) is
 * left out with a comment; a column whose type cannot be read throws
 * MigrationError. Nothing is sent to the database.
 */
export function pullSchema(d: Dialect, tables: readonly TableInfo[], options: PullOptions = {}): string {
  const ignore = new Set((options.ignoreTables ?? []).map((s) => s.toLowerCase()));
  const used = new Set<string>();
  const out: string[] = [
    `// Written by irisql pull from a ${d.name} database. Foreign keys and HNSW index parameters are not`,
    `// read from the catalog: add references() and .hnsw() by hand where the database has them.`,
    `import { col, index, table } from ${JSON.stringify(options.importFrom ?? "irisql")};`,
    "",
  ];
  let usesIndex = false;
  for (const t of tables) {
    if (ignore.has(t.name.toLowerCase())) continue;
    const pk = new Set(t.primaryKey.map((s) => s.toLowerCase()));
    const uniqueCols = new Set<string>();
    const indexes: string[] = [];
    for (const ix of t.indexes) {
      const cols = ix.columns.map((s) => s.toLowerCase());
      if (ix.unique && cols.length === pk.size && cols.every((c) => pk.has(c))) continue;
      if (
        ix.unique && ix.columns.length === 1 &&
        ix.name.toLowerCase() === constraintName(t.name, ix.columns[0], "key").toLowerCase()
      ) {
        uniqueCols.add(cols[0]);
        continue;
      }
      usesIndex = true;
      indexes.push(
        `index(${JSON.stringify(ix.name)}).on(${ix.columns.map((c) => JSON.stringify(c)).join(", ")})${
          ix.unique ? ".unique()" : ""
        }`,
      );
    }
    const lines = t.columns.map((c) => {
      let call = columnCall(d, t.name, c);
      const kind = /^col\.(\w+)/.exec(call)![1];
      const def = defaultCall(kind, c.default);
      const isPk = pk.has(c.name.toLowerCase());
      if (isPk) call += ".primaryKey()";
      else if (!c.nullable) call += ".notNull()";
      if (uniqueCols.has(c.name.toLowerCase()) && !isPk) call += ".unique()";
      if (def.call === ".generated()" && !["integer", "bigint", "smallint", "uuid"].includes(kind)) def.call = "";
      call += def.call;
      return `  ${key(c.name)}: ${call},${def.note ? ` // ${def.note}` : ""}`;
    });
    const opts = indexes.length ? `, {\n  indexes: [\n    ${indexes.join(",\n    ")},\n  ],\n}` : "";
    out.push(
      `export const ${varName(t.name, used)} = table(${JSON.stringify(t.name)}, {\n${lines.join("\n")}\n}${opts});`,
      "",
    );
  }
  if (!usesIndex) out[2] = `import { col, table } from ${JSON.stringify(options.importFrom ?? "irisql")};`;
  return out.join("\n");
}
