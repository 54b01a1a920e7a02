/**
 * The schema diff behind `irisql generate`: the tables of a schema module against what
 * introspect() reports, as the DDL statements (spelled by the dialect) that close the gap.
 *
 * What it compares: tables, columns (type, NOT NULL, default), primary keys, single-column
 * UNIQUE, indexes by name (columns, uniqueness and, where the dialect reads them back, HNSW
 * metric, m and ef_construction), and foreign keys: those of new tables and new columns
 * always; added to, retargeted on or removed from existing columns where introspect()
 * reports foreign keys (PostgreSQL, PGlite). What it refuses (UnsafeChangeError): a type
 * change that can lose data (only widening is written), a primary key change, dropping a
 * UNIQUE constraint, retargeting a foreign key whose ON DELETE/ON UPDATE references() cannot
 * say, dropping tables or columns unless `allowDrop` says so, and, even with `allowDrop`, a
 * column dropped while one of the same type is added to the same table (a rename would lose
 * its data that way). A column whose type the catalog cannot say is left alone, with a
 * warning; so is an index that index() cannot express (expression, partial, other methods).
 */
import type { ColumnType } from "../dialects/alter.ts";
import type { Dialect } from "../dialects/dialect.ts";
import { constraintName } from "../dialects/ddl.ts";
import type { ColumnInfoRow, ForeignKeyInfo, IndexInfo, TableInfo } from "../dialects/introspection.ts";
import { type AnyTable, type ColumnSpec, HNSW_DEFAULTS, type IndexSpec, sortByDependencies } from "../schema.ts";
import { UnsafeChangeError } from "./errors.ts";

/** Options of {@linkcode diffSchema} (and of `generate()`). */
export interface DiffOptions {
  /** Write DROP TABLE / DROP COLUMN for what the module no longer has (they delete data). */
  allowDrop?: boolean;
  /** Live tables that are not the module's business (the history and lock tables). */
  ignoreTables?: readonly string[];
}

/** What {@linkcode diffSchema} found: the DDL that makes the database match the tables. */
export interface SchemaDiff {
  /** DDL statements, without trailing semicolons, in the order they must run (empty: nothing to do). */
  statements: string[];
  /** What was not compared or may fail on existing rows; generate writes these as comments. */
  warnings: string[];
}

const lower = (s: string) => s.toLowerCase();

/** Is every value of `from` representable in `to`? */
function widens(from: ColumnType, to: ColumnSpec): boolean {
  const intDigits: Record<string, number> = { smallint: 5, integer: 10, bigint: 19 };
  const rank: Record<string, number> = { smallint: 1, integer: 2, bigint: 3 };
  if (from.kind in rank && to.kind in rank) return rank[to.kind] >= rank[from.kind];
  if (from.kind in intDigits && to.kind === "numeric") {
    return (to.precision ?? 0) - (to.scale ?? 0) >= intDigits[from.kind];
  }
  if ((from.kind === "smallint" || from.kind === "integer") && to.kind === "double") return true;
  if (from.kind === "varchar" && to.kind === "varchar") return (to.length ?? 0) >= (from.length ?? Infinity);
  if (from.kind === "varchar" && to.kind === "text") return true;
  if (from.kind === "numeric" && to.kind === "numeric") {
    return (to.scale ?? 0) >= (from.scale ?? 0) &&
      (to.precision ?? 0) - (to.scale ?? 0) >= (from.precision ?? 0) - (from.scale ?? 0);
  }
  return false;
}

/** A default as text to compare: casts, quotes, parentheses, blanks and case do not count. */
function normDefault(s: string | null | undefined): string {
  if (!s) return "";
  return s.replace(/::[a-z ]+(\(\d+(,\s*\d+)?\))?(\[\])?/gi, "").replace(/['"()\s]/g, "").toLowerCase();
}

function describeType(d: Dialect, t: ColumnType): string {
  return t.kind === "vector" && t.dimensions === undefined ? "vector" : d.columnType(t as ColumnSpec);
}

/**
 * Compare table definitions with the live tables `introspect()` reported for
 * `schema`, and return the DDL statements, spelled for dialect `d`, that bring
 * the database to the definitions. It only computes; nothing is sent. Throws
 * UnsafeChangeError, naming every such change, when closing the gap could lose
 * data (see the module comment for what is compared and what is refused).
 *
 * @example What a new column would take
 * ```ts
 * import { col, createEngine, diffSchema, table } from "irisql";
 *
 * await using engine = createEngine("pglite://memory");
 * await engine.createAll([table("notes", { id: col.integer().primaryKey() })]);
 * const wanted = table("notes", { id: col.integer().primaryKey(), body: col.text() });
 * const { tables } = await engine.introspect();
 * console.log(diffSchema(engine.dialect, "public", [wanted], tables).statements);
 * // [ 'ALTER TABLE "notes" ADD COLUMN "body" text' ]
 * ```
 */
export function diffSchema(
  d: Dialect,
  schema: string,
  tables: readonly AnyTable[],
  live: readonly TableInfo[],
  options: DiffOptions = {},
): SchemaDiff {
  const statements: string[] = [];
  const warnings: string[] = [];
  const unsafe: string[] = [];
  const ignore = new Set((options.ignoreTables ?? []).map(lower));
  for (const t of tables) {
    if ((t.schema ?? schema) !== schema && lower(t.schema ?? schema) !== lower(schema)) {
      unsafe.push(`table ${t.name} is in schema ${t.schema}, generate compares schema ${schema} only`);
    }
  }
  const liveByName = new Map(live.filter((t) => !ignore.has(lower(t.name))).map((t) => [lower(t.name), t]));
  const wanted = new Set(tables.map((t) => lower(t.name)));
  const created: AnyTable[] = [];
  const later: string[] = [];
  const drops: string[] = [];

  for (const table of sortByDependencies(tables)) {
    const info = liveByName.get(lower(table.name));
    if (!info) {
      statements.push(d.createTableSql(table, schema, false));
      for (const ix of table.indexes) later.push(d.createIndexSql(ix, table, schema));
      created.push(table);
      continue;
    }
    const cols = new Map(info.columns.map((c) => [lower(c.name), c]));
    // Primary key
    const pkWant = table.primaryKey.map(lower).join(",");
    const pkHave = info.primaryKey.map(lower).join(",");
    if (pkWant !== pkHave) {
      unsafe.push(`${table.name}: primary key (${pkHave || "none"}) -> (${pkWant || "none"}) is not generated`);
    }
    const fks = info.foreignKeys;
    const fkOf = (column: string) => fks?.find((k) => k.columns.length === 1 && lower(k.columns[0]) === lower(column));
    const added: string[] = [];
    for (const key of table.columnNames) {
      const spec = table.columns[key].spec as ColumnSpec;
      const have = cols.get(lower(key));
      cols.delete(lower(key));
      if (!have) {
        added.push(key);
        statements.push(d.alter.addColumnSql(table, key, schema));
        if (spec.notNull && !spec.hasDefault && !spec.defaultNow && !spec.generated) {
          warnings.push(`${table.name}.${key} is added NOT NULL without a default: this fails if the table has rows`);
        }
        if (spec.unique && !spec.primaryKey) statements.push(d.alter.addUniqueSql(table, key, schema));
        if (spec.references) later.push(d.alter.addForeignKeySql(table, key, schema));
        continue;
      }
      compareColumn(d, table, key, spec, have, schema, statements, warnings, unsafe);
      if (fks) compareForeignKey(d, table, key, spec, fkOf(key), schema, statements, later, warnings, unsafe);
      // UNIQUE on one column
      if (spec.unique && !spec.primaryKey) {
        const backed = info.indexes.some((ix) =>
          ix.unique && ix.columns.length === 1 && lower(ix.columns[0]) === lower(key)
        );
        if (!backed) {
          statements.push(d.alter.addUniqueSql(table, key, schema));
          warnings.push(`${table.name}.${key} becomes UNIQUE: this fails if it holds a value twice`);
        }
      }
    }
    for (const extra of cols.values()) {
      const rename = renamedTo(d, table, extra, added);
      if (rename) {
        const sql = d.alter.renameColumnSql?.(table, extra.name, rename, schema);
        unsafe.push(
          `${table.name}.${extra.name} is not in the module and ${rename} is new, with the same type: if it was ` +
            `renamed, drop + add would lose its data, so write the rename by hand` +
            (sql ? ` (${sql})` : "") + `; if not, generate the new column first and the drop (--allow-drop) after`,
        );
      } else if (options.allowDrop) drops.push(d.alter.dropColumnSql(table, extra.name, schema));
      else {unsafe.push(
          `${table.name}.${extra.name} is not in the module: dropping it deletes its data (use --allow-drop)`,
        );}
    }
    // Foreign keys the module no longer has, on columns it keeps (a dropped column takes its key along).
    for (const k of fks ?? []) {
      if (k.columns.length !== 1) {
        warnings.push(
          `${table.name}: foreign key ${k.name} (${k.columns.join(", ")}) spans several columns, which references() ` +
            `cannot say; left as it is`,
        );
        continue;
      }
      const column = table.declaredName(k.columns[0]);
      if (!column || table.columns[column].spec.references) continue;
      if (!d.alter.dropForeignKeySql) {
        unsafe.push(`${table.name}.${column}: dropping foreign key ${k.name} is not spelled for ${d.name}`);
      } else statements.push(d.alter.dropForeignKeySql(table, k.name, schema));
    }
    // Indexes
    const wantIx = new Map(table.indexes.map((ix) => [lower(ix.name), ix]));
    for (const ix of info.indexes) {
      const want = wantIx.get(lower(ix.name));
      const cols = ix.columns.map(lower);
      if (want) {
        wantIx.delete(lower(ix.name));
        if (indexDiffers(want, ix, info.indexSettings === true)) {
          statements.push(d.alter.dropIndexSql(ix.name, table, schema));
          later.push(d.createIndexSql(want, table, schema));
          if (ix.custom) warnings.push(`${table.name}: index ${ix.name} (${ix.custom}) is rebuilt as index() says`);
        }
        continue;
      }
      if (ix.custom) {
        warnings.push(
          `${table.name}: index ${ix.name} (${ix.custom}) is not in the module and index() cannot say it; left as it is`,
        );
        continue;
      }
      // Indexes behind the primary key and behind UNIQUE columns belong to those constraints.
      if (ix.unique && cols.join(",") === table.primaryKey.map(lower).join(",")) continue;
      if (ix.unique && cols.length === 1) {
        const column = table.declaredName(cols[0]);
        if (column && table.columns[column].spec.unique) continue;
        if (lower(ix.name) === lower(constraintName(table.name, column ?? cols[0], "key"))) {
          unsafe.push(`${table.name}.${column ?? cols[0]}: dropping its UNIQUE constraint is not generated`);
          continue;
        }
      }
      statements.push(d.alter.dropIndexSql(ix.name, table, schema));
    }
    for (const ix of wantIx.values()) later.push(d.createIndexSql(ix, table, schema));
  }
  for (const info of dropOrder([...liveByName.values()].filter((t) => !wanted.has(lower(t.name))))) {
    const twin = created.find((t) =>
      t.columnNames.length === info.columns.length &&
      info.columns.every((c) => t.declaredName(c.name) !== undefined)
    );
    if (twin) {
      unsafe.push(
        `table ${info.name} is not in the module and ${twin.name}, with the same columns, is new: if it was renamed, ` +
          `drop + create would lose its rows, so write ALTER TABLE ... RENAME TO by hand; if not, generate the new ` +
          `table first and the drop (--allow-drop) after`,
      );
    } else if (options.allowDrop) {
      drops.push(d.dropTableSql({ name: info.name, schema: undefined } as unknown as AnyTable, schema, false));
    } else unsafe.push(`table ${info.name} is not in the module: dropping it deletes its data (use --allow-drop)`);
  }
  if (unsafe.length > 0) {
    throw new UnsafeChangeError(
      `generate will not write these changes, which could lose data or cannot be expressed safely:\n  - ` +
        unsafe.join("\n  - ") +
        `\nWrite that part of the migration by hand (e.g. add a new column, copy, drop the old one).`,
    );
  }
  return { statements: [...statements, ...later, ...drops], warnings };
}

function compareColumn(
  d: Dialect,
  table: AnyTable,
  key: string,
  spec: ColumnSpec,
  have: ColumnInfoRow,
  schema: string,
  statements: string[],
  warnings: string[],
  unsafe: string[],
) {
  const type = d.alter.readColumnType(have);
  if (!type) {
    warnings.push(`${table.name}.${key}: the catalog type ${have.dataType} is not one irisql reads; type not compared`);
  } else {
    const same = type.kind === "vector" && type.dimensions === undefined
      ? spec.kind === "vector"
      : d.columnType({ ...spec, ...type } as ColumnSpec) === d.columnType(spec);
    if (!same) {
      if (widens(type, spec)) statements.push(d.alter.alterTypeSql(table, key, schema));
      else {
        unsafe.push(
          `${table.name}.${key}: ${describeType(d, type)} -> ${
            d.columnType(spec)
          } can lose data or fail on existing rows`,
        );
      }
    }
  }
  if (spec.notNull !== !have.nullable) {
    statements.push(d.alter.alterNullSql(table, key, schema));
    if (spec.notNull) warnings.push(`${table.name}.${key} becomes NOT NULL: this fails if it holds NULLs`);
  }
  if (!spec.generated && normDefault(d.alter.defaultText(spec)) !== normDefault(have.default)) {
    statements.push(d.alter.alterDefaultSql(table, key, schema));
  }
}

/** An added column of the same type as the dropped one: what a rename looks like in a diff. */
function renamedTo(d: Dialect, table: AnyTable, dropped: ColumnInfoRow, added: readonly string[]): string | undefined {
  const type = d.alter.readColumnType(dropped);
  if (!type) return undefined;
  return added.find((key) => {
    const spec = table.columns[key].spec as ColumnSpec;
    return spec.kind === type.kind && d.columnType({ ...spec, ...type } as ColumnSpec) === d.columnType(spec);
  });
}

/** Columns, uniqueness, and where the catalog says, HNSW settings and anything index() cannot say. */
function indexDiffers(want: IndexSpec, ix: IndexInfo, settings: boolean): boolean {
  if (want.columns.map(lower).join(",") !== ix.columns.map(lower).join(",") || want.unique !== ix.unique) return true;
  if (!settings) return false; // the dialect does not read index settings back
  if (!want.hnsw) return ix.hnsw !== undefined || ix.custom !== undefined;
  const h = ix.hnsw;
  return !h || h.metric !== want.hnsw.metric || h.m !== (want.hnsw.m ?? HNSW_DEFAULTS.m) ||
    h.efConstruction !== (want.hnsw.efConstruction ?? HNSW_DEFAULTS.efConstruction);
}

const DEFAULT_ACTION = "NO ACTION";

/** An existing column's foreign key against the module's references() (only where foreign keys are introspected). */
function compareForeignKey(
  d: Dialect,
  table: AnyTable,
  key: string,
  spec: ColumnSpec,
  live: ForeignKeyInfo | undefined,
  schema: string,
  statements: string[],
  later: string[],
  warnings: string[],
  unsafe: string[],
) {
  const ref = spec.references;
  if (!ref) return; // a key the module dropped is handled with the table's other keys
  const target = ref.table();
  const targetSchema = target.schema ?? schema;
  const actions = live &&
    [
      live.onDelete !== DEFAULT_ACTION ? `ON DELETE ${live.onDelete}` : "",
      live.onUpdate !== DEFAULT_ACTION ? `ON UPDATE ${live.onUpdate}` : "",
    ].filter(Boolean).join(" ");
  if (live) {
    const same = lower(live.refTable) === lower(target.name) && lower(live.refSchema) === lower(targetSchema) &&
      live.refColumns.length === 1 && lower(live.refColumns[0]) === lower(ref.column);
    if (same) {
      if (actions) {
        warnings.push(
          `${table.name}.${key}: foreign key ${live.name} has ${actions}, which references() cannot say; kept as it is`,
        );
      }
      return;
    }
    if (actions) {
      unsafe.push(
        `${table.name}.${key}: foreign key ${live.name} -> ${live.refTable}(${live.refColumns.join(", ")}) has ` +
          `${actions}, which references() cannot say: retargeting it to ${target.name}(${ref.column}) would lose that`,
      );
      return;
    }
    if (!d.alter.dropForeignKeySql) {
      unsafe.push(`${table.name}.${key}: dropping foreign key ${live.name} is not spelled for ${d.name}`);
      return;
    }
    statements.push(d.alter.dropForeignKeySql(table, live.name, schema));
  }
  later.push(d.alter.addForeignKeySql(table, key, schema));
  warnings.push(
    `${table.name}.${key} gets a foreign key to ${target.name}(${ref.column}): this fails if a row holds a value ` +
      `${target.name} does not have`,
  );
}

/** Live tables to drop, those that reference others first (a referenced table cannot go before them). */
function dropOrder(tables: TableInfo[]): TableInfo[] {
  const out: TableInfo[] = [];
  const left = new Set(tables);
  const names = (set: Set<TableInfo>) => new Set([...set].map((t) => lower(t.name)));
  while (left.size > 0) {
    const pending = names(left);
    // A table no other remaining table references may go now.
    const next = [...left].find((t) =>
      ![...left].some((o) =>
        o !== t && (o.foreignKeys ?? []).some((k) =>
          lower(k.refTable) === lower(t.name) && pending.has(lower(o.name))
        )
      )
    ) ?? [...left][0]; // a cycle: leave the order as it is
    out.push(next);
    left.delete(next);
  }
  return out;
}
