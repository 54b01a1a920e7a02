/**
 * `irisql pull`: a schema module (table() / col.* / index()) written from introspect(), so
 * an existing database can be adopted. What the catalog does not say is not invented: where
 * introspect() reports no foreign keys or HNSW settings (IRIS) they are left out with a
 * comment; ON DELETE actions, keys over several columns and indexes index() cannot say are
 * comments too; columns whose type cannot be read stop pull with one error naming them all.
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
 * be adopted. Foreign keys and HNSW settings are written where introspect()
 * reports them (PostgreSQL, PGlite); what the module cannot say (ON DELETE
 * actions, keys over several columns, expression or partial indexes) is left
 * out with a comment. Columns whose type cannot be read throw MigrationError,
 * all named at once. Nothing is sent to the database.
 */
export function pullSchema(d: Dialect, tables: readonly TableInfo[], options: PullOptions = {}): string {
  const ignore = new Set((options.ignoreTables ?? []).map((s) => s.toLowerCase()));
  const used = new Set<string>();
  const kept = tables.filter((t) => !ignore.has(t.name.toLowerCase()));
  const vars = new Map(kept.map((t) => [`${t.schema}.${t.name}`.toLowerCase(), varName(t.name, used)]));
  const reportsKeys = kept.some((t) => t.foreignKeys !== undefined);
  const from = JSON.stringify(options.importFrom ?? "irisql");
  const out: string[] = [
    `// Written by irisql pull from a ${d.name} database.` +
    (reportsKeys
      ? ""
      : ` Foreign keys and HNSW index parameters are not\n// read from this catalog: add references() and .hnsw() by hand where the database has them.`),
    "",
    "",
  ];
  const unreadable: string[] = [];
  let usesIndex = false, usesAnyTable = false;
  for (const t of kept) {
    const self = vars.get(`${t.schema}.${t.name}`.toLowerCase())!;
    const pk = new Set(t.primaryKey.map((s) => s.toLowerCase()));
    const uniqueCols = new Set<string>();
    const indexes: string[] = [];
    const notes: string[] = [];
    for (const ix of t.indexes) {
      const cols = ix.columns.map((s) => s.toLowerCase());
      if (ix.unique && cols.length === pk.size && cols.every((c) => pk.has(c))) continue;
      if (
        ix.unique && ix.columns.length === 1 && !ix.custom &&
        ix.name.toLowerCase() === constraintName(t.name, ix.columns[0], "key").toLowerCase()
      ) {
        uniqueCols.add(cols[0]);
        continue;
      }
      if (ix.custom && !ix.hnsw) {
        notes.push(`// index ${ix.name} (${ix.custom.replace(/\s+/g, " ")}) is left out: index() cannot say it`);
        continue;
      }
      usesIndex = true;
      let call = `index(${JSON.stringify(ix.name)}).on(${ix.columns.map((c) => JSON.stringify(c)).join(", ")})`;
      if (ix.unique) call += ".unique()";
      if (ix.hnsw) {
        const h = ix.hnsw;
        const opts = [`metric: ${JSON.stringify(h.metric)}`];
        if (h.m !== 16) opts.push(`m: ${h.m}`);
        if (h.efConstruction !== 64) opts.push(`efConstruction: ${h.efConstruction}`);
        call += `.hnsw({ ${opts.join(", ")} })`;
      }
      indexes.push(call);
    }
    const refs = new Map<string, string>();
    for (const k of t.foreignKeys ?? []) {
      const target = vars.get(`${k.refSchema}.${k.refTable}`.toLowerCase());
      const actions = [
        k.onDelete !== "NO ACTION" ? `ON DELETE ${k.onDelete}` : "",
        k.onUpdate !== "NO ACTION" ? `ON UPDATE ${k.onUpdate}` : "",
      ].filter(Boolean).join(" ");
      if (k.columns.length !== 1 || !target) {
        notes.push(
          `// foreign key ${k.name} (${k.columns.join(", ")}) -> ${k.refTable}(${
            k.refColumns.join(", ")
          }) is left out: ` +
            (k.columns.length !== 1 ? "references() covers one column" : "its table is not in this module"),
        );
        continue;
      }
      if (target === self) usesAnyTable = true;
      const fn = target === self ? `(): AnyTable => ${target}` : `() => ${target}`;
      refs.set(
        k.columns[0].toLowerCase(),
        `.references(${fn}, ${JSON.stringify(k.refColumns[0])})` +
          (actions ? `\u0000${actions} in the database; references() cannot say it` : ""),
      );
    }
    const lines = t.columns.map((c) => {
      let call: string;
      try {
        call = columnCall(d, t.name, c);
      } catch (error) {
        unreadable.push((error as Error).message.replace(/^pull: /, ""));
        return "";
      }
      const kind = /^col\.(\w+)/.exec(call)![1];
      const def = defaultCall(kind, c.default);
      const isPk = pk.has(c.name.toLowerCase());
      if (isPk) call += ".primaryKey()";
      else if (!c.nullable) call += ".notNull()";
      if (uniqueCols.has(c.name.toLowerCase()) && !isPk) call += ".unique()";
      if (c.identity && !def.call) def.call = ".generated()";
      if (def.call === ".generated()" && !["integer", "bigint", "smallint", "uuid"].includes(kind)) def.call = "";
      call += def.call;
      const [ref, refNote] = (refs.get(c.name.toLowerCase()) ?? "").split("\u0000");
      call += ref;
      const note = [def.note, refNote].filter(Boolean).join("; ");
      return `  ${key(c.name)}: ${call},${note ? ` // ${note}` : ""}`;
    });
    const opts = indexes.length ? `, {\n  indexes: [\n    ${indexes.join(",\n    ")},\n  ],\n}` : "";
    out.push(
      ...notes,
      `export const ${self} = table(${JSON.stringify(t.name)}, {\n${lines.join("\n")}\n}${opts});`,
      "",
    );
  }
  if (unreadable.length) {
    throw new MigrationError(
      `pull: irisql cannot express these columns as col.*, so no module was written:\n  - ${
        unreadable.join("\n  - ")
      }\nLeave their tables out (irisql pull --ignore <tables>, and generate --ignore the same), or change the columns' types.`,
    );
  }
  const names = [...(usesAnyTable ? ["type AnyTable"] : []), "col", ...(usesIndex ? ["index"] : []), "table"];
  out[1] = `import { ${names.join(", ")} } from ${from};`;
  return out.join("\n");
}
