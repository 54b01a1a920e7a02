/**
 * Catalog questions on PostgreSQL: information_schema, pg_attribute for what it leaves
 * out (pgvector's dimensions: the type modifier), pg_indexes for indexes
 * (information_schema has none; pg_indexes is a plain view), and pg_constraint for
 * foreign keys, which come back through the indexes query (rows with `fk` set), so
 * introspect() keeps its four queries.
 */
import { QueryError } from "../../errors.ts";
import type { CompiledQuery } from "../../sql.ts";
import { HNSW_DEFAULTS } from "../../schema.ts";
import type { IntrospectionSql } from "../dialect.ts";
import {
  type ForeignKeyInfo,
  type IndexInfo,
  type IntrospectionRows,
  pick,
  readTables,
  str,
  type TableInfo,
} from "../introspection.ts";

export function hasTableSql(schema: string, name: string): CompiledQuery {
  return {
    text: "SELECT table_name FROM information_schema.tables WHERE table_schema = $1 AND table_name = $2",
    params: [schema, name],
  };
}

export function hasIndexSql(schema: string, table: string, index: string): CompiledQuery {
  return {
    text: "SELECT indexname FROM pg_indexes WHERE schemaname = $1 AND tablename = $2 AND indexname = $3",
    params: [schema, table, index],
  };
}

/** 42P07 duplicate_table: a table or an index (a relation too) of that name exists. */
export function alreadyExists(error: unknown): boolean {
  return error instanceof QueryError && error.sqlstate === "42P07";
}

export function introspectionSql(schema: string): IntrospectionSql {
  return {
    tables: {
      text:
        "SELECT table_name FROM information_schema.tables WHERE table_schema = $1 AND table_type = 'BASE TABLE' ORDER BY table_name",
      params: [schema],
    },
    columns: {
      text: "SELECT c.table_name, c.column_name, c.data_type, c.udt_name, c.is_nullable, c.character_maximum_length, " +
        "c.numeric_precision, c.numeric_scale, c.column_default, c.is_identity, " +
        "CASE WHEN c.data_type = 'USER-DEFINED' AND a.atttypmod > 0 THEN a.atttypmod END AS vector_dimensions " +
        "FROM information_schema.columns c " +
        "LEFT JOIN pg_catalog.pg_namespace n ON n.nspname = c.table_schema " +
        "LEFT JOIN pg_catalog.pg_class r ON r.relnamespace = n.oid AND r.relname = c.table_name " +
        "LEFT JOIN pg_catalog.pg_attribute a ON a.attrelid = r.oid AND a.attname = c.column_name " +
        "WHERE c.table_schema = $1 ORDER BY c.table_name, c.ordinal_position",
      params: [schema],
    },
    primaryKeys: {
      text: "SELECT k.table_name, k.column_name FROM information_schema.table_constraints c " +
        "JOIN information_schema.key_column_usage k ON k.constraint_name = c.constraint_name " +
        "AND k.table_schema = c.table_schema AND k.table_name = c.table_name " +
        "WHERE c.table_schema = $1 AND c.constraint_type = 'PRIMARY KEY' ORDER BY k.table_name, k.ordinal_position",
      params: [schema],
    },
    indexes: {
      text: "SELECT tablename::text AS table_name, indexname::text AS index_name, indexdef, NULL::text AS fk " +
        "FROM pg_indexes WHERE schemaname = $1 " +
        "UNION ALL " +
        "SELECT r.relname::text, k.conname::text, NULL::text, json_build_object(" +
        "'columns', (SELECT json_agg(a.attname ORDER BY u.i) FROM unnest(k.conkey) WITH ORDINALITY u(n, i) " +
        "JOIN pg_catalog.pg_attribute a ON a.attrelid = k.conrelid AND a.attnum = u.n), " +
        "'refSchema', fn.nspname, 'refTable', f.relname, " +
        "'refColumns', (SELECT json_agg(a.attname ORDER BY u.i) FROM unnest(k.confkey) WITH ORDINALITY u(n, i) " +
        "JOIN pg_catalog.pg_attribute a ON a.attrelid = k.confrelid AND a.attnum = u.n), " +
        "'onDelete', k.confdeltype, 'onUpdate', k.confupdtype)::text " +
        "FROM pg_catalog.pg_constraint k JOIN pg_catalog.pg_class r ON r.oid = k.conrelid " +
        "JOIN pg_catalog.pg_namespace n ON n.oid = r.relnamespace " +
        "JOIN pg_catalog.pg_class f ON f.oid = k.confrelid " +
        "JOIN pg_catalog.pg_namespace fn ON fn.oid = f.relnamespace " +
        "WHERE k.contype = 'f' AND n.nspname = $1 ORDER BY 1, 2",
      params: [schema],
    },
  };
}

/** Extension types such as vector are USER-DEFINED; the udt name says which. */
function dataType(row: Record<string, unknown>): string {
  const type = str(pick(row, "data_type"));
  const udt = str(pick(row, "udt_name"));
  return type === "USER-DEFINED" && udt ? udt : type.toLowerCase();
}

const ACTIONS: Record<string, string> = {
  a: "NO ACTION",
  r: "RESTRICT",
  c: "CASCADE",
  n: "SET NULL",
  d: "SET DEFAULT",
};
const METRICS: Record<string, "cosine" | "dot" | "l2"> = {
  vector_cosine_ops: "cosine",
  vector_ip_ops: "dot",
  vector_l2_ops: "l2",
};

/** Index rows from their definition text (pg_indexes.indexdef); foreign keys from `fk`. */
export function readIntrospection(schema: string, rows: IntrospectionRows): TableInfo[] {
  const { tables, find } = readTables(schema, rows, dataType);
  for (const t of tables) {
    t.foreignKeys = [];
    t.indexSettings = true;
  }
  for (const row of rows.indexes) {
    const t = find(row);
    if (!t) continue;
    const fk = pick(row, "fk");
    if (fk !== null && fk !== undefined) {
      const k = (typeof fk === "string" ? JSON.parse(fk) : fk) as Record<string, unknown>;
      const key: ForeignKeyInfo = {
        name: str(pick(row, "index_name")),
        columns: (k.columns as string[] | null) ?? [],
        refSchema: str(k.refSchema),
        refTable: str(k.refTable),
        refColumns: (k.refColumns as string[] | null) ?? [],
        onDelete: ACTIONS[str(k.onDelete)] ?? str(k.onDelete),
        onUpdate: ACTIONS[str(k.onUpdate)] ?? str(k.onUpdate),
      };
      t.foreignKeys!.push(key);
      continue;
    }
    t.indexes.push(readIndexDef(str(pick(row, "index_name")), str(pick(row, "indexdef"))));
  }
  return tables;
}

/** One identifier as PostgreSQL prints it (quoted where needed), and what follows it. */
function ident(s: string): { name: string; rest: string } | undefined {
  const quoted = /^"((?:[^"]|"")*)"/.exec(s);
  if (quoted) return { name: quoted[1].replace(/""/g, '"'), rest: s.slice(quoted[0].length).trim() };
  const plain = /^[a-z_][a-z0-9_$]*/.exec(s);
  return plain ? { name: plain[0], rest: s.slice(plain[0].length).trim() } : undefined;
}

/** Split at the commas outside parentheses and double quotes. */
function splitTop(s: string): string[] {
  const out: string[] = [];
  let depth = 0, quote = false, start = 0;
  for (let i = 0; i < s.length; i++) {
    const c = s[i];
    if (c === '"') quote = !quote;
    else if (!quote && c === "(") depth++;
    else if (!quote && c === ")") depth--;
    else if (!quote && depth === 0 && c === ",") {
      out.push(s.slice(start, i).trim());
      start = i + 1;
    }
  }
  out.push(s.slice(start).trim());
  return out;
}

/**
 * An index from `CREATE [UNIQUE] INDEX name ON table USING method (elements) [INCLUDE (...)]
 * [WITH (...)] [WHERE ...]`: its columns, method, HNSW settings (pgvector's defaults where the
 * definition has none), and `custom` for anything index() cannot say (expressions, operator
 * classes, DESC, INCLUDE, WHERE, other methods).
 */
export function readIndexDef(name: string, def: string): IndexInfo {
  const unique = /^CREATE UNIQUE INDEX/i.test(def);
  const head = /USING (\w+) \(/.exec(def);
  if (!head) return { name, columns: [], unique, custom: def };
  const method = head[1];
  const open = head.index + head[0].length;
  let i = open, depth = 1, quote = false;
  for (; i < def.length && depth > 0; i++) {
    const c = def[i];
    if (c === '"') quote = !quote;
    else if (!quote && c === "(") depth++;
    else if (!quote && c === ")") depth--;
  }
  const tail = def.slice(i).trim();
  const columns: string[] = [];
  const odd: string[] = [];
  let opclass: string | undefined;
  for (const element of splitTop(def.slice(open, i - 1))) {
    const id = ident(element);
    if (!id) {
      odd.push(element);
      continue;
    }
    columns.push(id.name);
    if (!id.rest) continue;
    if (method === "hnsw" && METRICS[id.rest] && opclass === undefined) opclass = id.rest;
    else odd.push(element);
  }
  const info: IndexInfo = { name, columns, unique };
  const withs = /^WITH \((.*?)\)/.exec(tail);
  const rest = withs ? tail.slice(withs[0].length).trim() : tail;
  if (rest) odd.push(rest);
  if (method === "hnsw" && opclass && columns.length === 1) {
    const opt = (key: string, fallback: number) => {
      const m = new RegExp(`\\b${key}='?(\\d+)'?`).exec(withs?.[1] ?? "");
      return m ? Number(m[1]) : fallback;
    };
    info.hnsw = {
      metric: METRICS[opclass],
      m: opt("m", HNSW_DEFAULTS.m),
      efConstruction: opt("ef_construction", HNSW_DEFAULTS.efConstruction),
    };
  } else if (method !== "btree") odd.push(`USING ${method}`);
  else if (withs) odd.push(withs[0]);
  if (odd.length) info.custom = odd.join(" ");
  return info;
}
