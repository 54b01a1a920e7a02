/**
 * Table definitions: `table()`, `col.*`, `index()`. A definition knows its
 * columns and constraints and how to check and convert values; the dialect
 * turns it into DDL. Row types are inferred: `InferRow<typeof docs>`,
 * `InferInsert<typeof docs>`.
 */
import { normalize } from "./codec.ts";
import { ConfigError, ValidationError } from "./errors.ts";

export type { ColumnKind, ColumnSpec, VectorElement } from "./values/column-spec.ts";
import type { ColumnKind, ColumnSpec, VectorElement } from "./values/column-spec.ts";

/**
 * A column definition, made with `col.*` and refined by chaining; every
 * method returns a new, frozen column. The type parameters carry, for the
 * type checker only, the JavaScript value type, whether NULL is impossible,
 * whether an insert may leave it out, and (for vector columns, which
 * nearest() needs) the kind.
 *
 * @example
 * ```ts
 * import { col } from "irisql";
 *
 * const id = col.bigint().primaryKey().generated(); // NOT NULL, optional on insert
 * const title = col.varchar(200).notNull().unique();
 * console.log(id.spec.primaryKey, title.spec.length); // true 200
 * ```
 */
export class Column<
  T = unknown,
  NotNull extends boolean = false,
  Optional extends boolean = false,
  Kind extends ColumnKind = ColumnKind,
> {
  /** Type-level only: the JavaScript value type. Never set at run time. */
  declare readonly _type: T;
  /** Type-level only: true when the column is NOT NULL. Never set at run time. */
  declare readonly _notNull: NotNull;
  /** Type-level only: true when an insert may leave the column out. Never set at run time. */
  declare readonly _optional: Optional;
  /** Type-level only: the column kind. Never set at run time. */
  declare readonly _kind: Kind;
  /** The definition as plain data, frozen: what the dialects and value checks read. */
  readonly spec: Readonly<ColumnSpec>;

  /** A column with this definition; use `col.*` rather than calling it. The spec is frozen, not copied. */
  constructor(spec: ColumnSpec) {
    this.spec = Object.freeze(spec);
  }

  #with(patch: Partial<ColumnSpec>): never {
    return new Column({ ...this.spec, ...patch }) as never;
  }

  /** Part of the primary key (implies NOT NULL). */
  primaryKey(): Column<T, true, Optional, Kind> {
    return this.#with({ primaryKey: true, notNull: true });
  }
  /** The server (or irisql, for uuid) fills it in: optional on insert. */
  generated(): Column<T, NotNull, true, Kind> {
    if (!["integer", "bigint", "smallint", "uuid"].includes(this.spec.kind)) {
      throw new ConfigError(`generated() works on integer, bigint, smallint and uuid columns, not ${this.spec.kind}`);
    }
    return this.#with({ generated: true });
  }
  /** NULL is refused: the value type loses `| null`. */
  notNull(): Column<T, true, Optional, Kind> {
    return this.#with({ notNull: true });
  }
  /** A UNIQUE constraint on this column alone. */
  unique(): Column<T, NotNull, Optional, Kind> {
    return this.#with({ unique: true });
  }
  /** A constant default, written into the DDL: optional on insert. */
  default(value: T): Column<T, NotNull, true, Kind> {
    // Checked and converted like a stored value (JSON to text, ...), so the DDL spells what the column holds.
    let stored: unknown;
    try {
      stored = normalize({ ...this.spec, notNull: false }, value, `default() of a ${this.spec.kind} column`);
    } catch (error) {
      if (error instanceof ValidationError) throw new ConfigError(error.message, { cause: error });
      throw error;
    }
    return this.#with({ hasDefault: true, defaultValue: stored });
  }
  /** Defaults to the current date/time: optional on insert. */
  defaultNow(): Column<T, NotNull, true, Kind> {
    if (this.spec.kind !== "timestamp" && this.spec.kind !== "date") {
      throw new ConfigError(`defaultNow() works on timestamp and date columns, not ${this.spec.kind}`);
    }
    return this.#with({ defaultNow: true });
  }
  /** A foreign key: references(() => users, "id"). */
  references(table: () => AnyTable, column: string): Column<T, NotNull, Optional, Kind> {
    if (typeof table !== "function") {
      throw new ConfigError('references() takes a function returning the table, e.g. references(() => users, "id")');
    }
    return this.#with({ references: { table, column } });
  }
}

/** Any column, whatever its types: what a table's column map holds. */
// deno-lint-ignore no-explicit-any
export type AnyColumn = Column<any, boolean, boolean>;

function make<T>(kind: ColumnKind, extra: Partial<ColumnSpec> = {}): Column<T> {
  return new Column<T>({
    kind,
    primaryKey: false,
    generated: false,
    notNull: false,
    unique: false,
    hasDefault: false,
    defaultNow: false,
    ...extra,
  });
}

function positiveInt(what: string, n: unknown, max: number): number {
  if (typeof n !== "number" || !Number.isInteger(n) || n < 1 || n > max) {
    throw new ConfigError(`${what} must be a whole number from 1 to ${max}, got ${String(n)}`);
  }
  return n;
}

/**
 * The column constructors, one per {@linkcode ColumnKind}. Each returns a
 * NULL-able {@linkcode Column} that an insert must set; chain
 * `.notNull()`, `.primaryKey()`, `.default(v)` and so on to change that.
 * Lengths, precisions and dimensions are checked here (a ConfigError).
 *
 * @example
 * ```ts
 * import { col, table } from "irisql";
 *
 * const docs = table("docs", {
 *   id: col.bigint().primaryKey().generated(),
 *   title: col.varchar(200).notNull(),
 *   price: col.numeric(10, 2), // read and written as a string
 *   tags: col.json<string[]>(),
 *   createdAt: col.timestamp().defaultNow(),
 *   embedding: col.vector(3),
 * });
 * console.log(docs.columnNames.join(", ")); // id, title, price, tags, createdAt, embedding
 * ```
 */
export const col = {
  integer: (): Column<number> => make<number>("integer"),
  smallint: (): Column<number> => make<number>("smallint"),
  /** 64-bit integer; read as number (exact to 2^53) or, with { mode: "bigint" }, as bigint. */
  bigint: <M extends "number" | "bigint" = "number">(
    options?: { mode?: M },
  ): Column<M extends "bigint" ? bigint : number> =>
    make<M extends "bigint" ? bigint : number>("bigint", { bigintMode: options?.mode ?? "number" }),
  double: (): Column<number> => make<number>("double"),
  /** Exact decimal, read and written as a string to keep every digit. */
  numeric: (precision: number, scale = 0): Column<string> => {
    positiveInt("numeric precision", precision, 1000);
    if (!Number.isInteger(scale) || scale < 0 || scale > precision) {
      throw new ConfigError(
        `numeric scale must be a whole number from 0 to the precision (${precision}), got ${scale}`,
      );
    }
    return make<string>("numeric", { precision, scale });
  },
  varchar: (length: number): Column<string> =>
    make<string>("varchar", { length: positiveInt("varchar length", length, 3_641_144) }),
  /** Long text. On IRIS a VARCHAR(65535), so it can be compared and searched. */
  text: (): Column<string> => make<string>("text"),
  boolean: (): Column<boolean> => make<boolean>("boolean"),
  /** A calendar day, as "YYYY-MM-DD". */
  date: (): Column<string> => make<string>("date"),
  /** A point in time, as a Date. Stored as UTC (`withTimezone` uses timestamptz on PostgreSQL). */
  timestamp: (options?: { withTimezone?: boolean }): Column<Date> =>
    make<Date>("timestamp", { withTimezone: options?.withTimezone ?? false }),
  json: <T = unknown>(): Column<T> => make<T>("json"),
  uuid: (): Column<string> => make<string>("uuid"),
  /** A vector of `dimensions` numbers (pgvector `vector(n)`, IRIS `VECTOR(DOUBLE, n)`). */
  vector: (dimensions: number, options?: { element?: VectorElement }): Column<number[], false, false, "vector"> => {
    const element = options?.element ?? "double";
    if (element !== "double" && element !== "float") {
      throw new ConfigError(`vector element must be "double" or "float", got ${JSON.stringify(element)}`);
    }
    return make<number[]>("vector", {
      dimensions: positiveInt("vector dimensions", dimensions, 16_000),
      element,
    }) as Column<number[], false, false, "vector">;
  },
};

// --- indexes ---------------------------------------------------------------

/**
 * How vectors are compared: "cosine" (cosine similarity) and "dot" (inner
 * product), where higher is closer, or "l2" (Euclidean distance), where lower
 * is closer.
 */
export type VectorMetric = "cosine" | "dot" | "l2";

/** The settings of an HNSW vector index. */
export interface HnswOptions {
  /** The metric the index serves; a query with another metric cannot use it. */
  metric: VectorMetric;
  /** Max links per node (IRIS and pgvector default 16). */
  m?: number;
  /** Candidate list size while building (default 64). */
  efConstruction?: number;
}

/**
 * @internal What an HNSW index gets where `m` or `efConstruction` is not given: pgvector's own
 * defaults (also IRIS's for M), so an index made without WITH reads back as one made by irisql.
 */
export const HNSW_DEFAULTS = { m: 16, efConstruction: 64 } as const;

/** An index definition as plain data: what `index()` builds and the dialect turns into DDL. */
export interface IndexSpec {
  /** The index name. */
  name: string;
  /** The indexed columns, by their names in the table definition. */
  columns: string[];
  /** A UNIQUE index. */
  unique: boolean;
  /** Present for an HNSW vector index. */
  hnsw?: HnswOptions;
}

/**
 * An index being defined: start with `index(name)`, then `.on(...)` and
 * optionally `.unique()` or `.hnsw(...)`; each step returns a new builder.
 * Pass it in a table's `indexes` option.
 */
export class IndexBuilder {
  /** The definition so far, frozen. */
  readonly spec: Readonly<IndexSpec>;
  /** A builder for this definition; use `index()` rather than calling it. */
  constructor(spec: IndexSpec) {
    this.spec = Object.freeze(spec);
  }
  /** The indexed columns, by their names in the table definition. */
  on(...columns: string[]): IndexBuilder {
    if (columns.length === 0) throw new ConfigError(`index ${this.spec.name}: on() needs at least one column`);
    return new IndexBuilder({ ...this.spec, columns });
  }
  /** A UNIQUE index. */
  unique(): IndexBuilder {
    return new IndexBuilder({ ...this.spec, unique: true });
  }
  /** An approximate nearest-neighbour index on one vector column. */
  hnsw(options: HnswOptions): IndexBuilder {
    if (!["cosine", "dot", "l2"].includes(options?.metric)) {
      throw new ConfigError(`index ${this.spec.name}: hnsw metric must be "cosine", "dot" or "l2"`);
    }
    if (options.m !== undefined) positiveInt(`index ${this.spec.name}: hnsw m`, options.m, 100);
    if (options.efConstruction !== undefined) {
      positiveInt(`index ${this.spec.name}: hnsw efConstruction`, options.efConstruction, 1000);
    }
    return new IndexBuilder({ ...this.spec, hnsw: { ...options } });
  }
}

/** index("docs_title").on("title"), index("x").on("embedding").hnsw({ metric: "cosine" }) */
export function index(name: string): IndexBuilder {
  if (typeof name !== "string" || name.length === 0) throw new ConfigError("index() needs a name");
  return new IndexBuilder({ name, columns: [], unique: false });
}

// --- tables ----------------------------------------------------------------

/** A table's columns: property name to column definition. The property name is the column name. */
export type ColumnMap = Record<string, AnyColumn>;

/** Options of `table()`. */
export interface TableOptions {
  /** Schema; by default the engine's (SQLUser on IRIS, public on PostgreSQL). */
  schema?: string;
  /** Indexes created with the table by `createAll()`; each must name columns of the table. */
  indexes?: IndexBuilder[];
}

/**
 * A table definition, made with {@linkcode table}: its name, columns,
 * primary key and indexes, checked when it is made (a ConfigError for a
 * bad name, an unknown index column, or two column names that differ only
 * in case). Sessions use it for typed CRUD; `createAll()` creates it.
 */
export class Table<Name extends string = string, Cols extends ColumnMap = ColumnMap> {
  /** The table name, as written in SQL (quoted). */
  readonly name: Name;
  /** The schema given in the options; undefined means the engine's. */
  readonly schema: string | undefined;
  /** The column definitions, frozen. */
  readonly columns: Readonly<Cols>;
  /** The index definitions. */
  readonly indexes: readonly IndexSpec[];
  /** Primary key column names, in definition order. */
  readonly primaryKey: readonly string[];
  /** Column names in definition order. */
  readonly columnNames: readonly string[];
  /** lower-case name -> declared name (IRIS sends names lower-cased). */
  readonly #lookup = new Map<string, string>();

  /** A checked table definition; `table()` is the same thing, shorter. */
  constructor(name: Name, columns: Cols, options: TableOptions = {}) {
    if (typeof name !== "string" || name.length === 0 || name.length > 128 || name.includes('"')) {
      throw new ConfigError(`Invalid table name ${JSON.stringify(name)}: 1-128 characters, no double quotes`);
    }
    this.name = name;
    this.schema = options.schema;
    this.columns = Object.freeze({ ...columns });
    this.columnNames = Object.keys(columns);
    if (this.columnNames.length === 0) throw new ConfigError(`Table ${name} has no columns`);
    for (const key of this.columnNames) {
      const c = columns[key];
      if (!(c instanceof Column)) throw new ConfigError(`Table ${name}: column ${key} is not a col.* definition`);
      if (key.length > 128 || key.includes('"') || key.length === 0) {
        throw new ConfigError(`Table ${name}: invalid column name ${JSON.stringify(key)}`);
      }
      const lower = key.toLowerCase();
      if (this.#lookup.has(lower)) {
        throw new ConfigError(
          `Table ${name}: columns ${
            this.#lookup.get(lower)
          } and ${key} differ only in case, which IRIS cannot tell apart`,
        );
      }
      this.#lookup.set(lower, key);
    }
    this.primaryKey = this.columnNames.filter((k) => columns[k].spec.primaryKey);
    this.indexes = (options.indexes ?? []).map((ix) => {
      const spec = ix.spec;
      if (spec.columns.length === 0) {
        throw new ConfigError(`index ${spec.name}: call .on(column) to say what it indexes`);
      }
      for (const c of spec.columns) this.column(c, `index ${spec.name}`, ConfigError);
      if (spec.hnsw && (spec.columns.length !== 1 || columns[spec.columns[0]].spec.kind !== "vector")) {
        throw new ConfigError(`index ${spec.name}: an HNSW index covers exactly one vector column`);
      }
      return spec;
    });
  }

  /** The declared column for a name (exact, else case-insensitive), or a ValidationError. */
  column(name: string, context = `table ${this.name}`, Err: typeof ValidationError = ValidationError): AnyColumn {
    if (typeof name !== "string") {
      throw new Err(
        `A column name in ${context} must be a string, got ${describeValue(name)}. Columns: ${
          this.columnNames.join(", ")
        }`,
      );
    }
    const declared = this.declaredName(name);
    if (declared === undefined) {
      throw new Err(`Unknown column ${JSON.stringify(name)} in ${context}. Columns: ${this.columnNames.join(", ")}`);
    }
    return this.columns[declared];
  }

  /**
   * Declared name for a result column name, or undefined. Own columns only:
   * "constructor" or "toString" must not find what Object.prototype holds.
   */
  declaredName(resultName: string): string | undefined {
    return Object.hasOwn(this.columns, resultName) ? resultName : this.#lookup.get(resultName.toLowerCase());
  }

  /** Tables this one references (for create/drop order). */
  dependencies(): AnyTable[] {
    const out: AnyTable[] = [];
    for (const key of this.columnNames) {
      const ref = this.columns[key].spec.references;
      if (ref) {
        const t = ref.table();
        if (!(t instanceof Table)) {
          throw new ConfigError(`${this.name}.${key} references something that is not a table`);
        }
        t.column(ref.column, `table ${t.name} (referenced by ${this.name}.${key})`, ConfigError);
        if (t !== this) out.push(t);
      }
    }
    return out;
  }
}

/** Any table, whatever its name and columns: what functions taking a table accept. */
// deno-lint-ignore no-explicit-any
export type AnyTable = Table<string, any>;

/** A caller's value, named for an error message without echoing it at length. */
export function describeValue(v: unknown): string {
  if (v === null) return "null";
  if (Array.isArray(v)) return "an array";
  if (typeof v === "string") return v.length <= 40 ? JSON.stringify(v) : `a string of ${v.length} characters`;
  if (typeof v === "number" || typeof v === "boolean" || typeof v === "bigint") return String(v);
  return typeof v === "object" ? "an object" : `a ${typeof v}`;
}

/**
 * Define a table. The column map's property names are the column names;
 * the row types follow from it (`InferRow<typeof docs>`, `InferInsert<typeof docs>`).
 * Nothing is sent: `engine.createAll([docs])` creates it.
 *
 * @example
 * ```ts
 * import { col, index, type InferInsert, type InferRow, table } from "irisql";
 *
 * const users = table("users", {
 *   id: col.bigint().primaryKey().generated(),
 *   email: col.varchar(200).notNull().unique(),
 * });
 * const docs = table("docs", {
 *   id: col.bigint().primaryKey().generated(),
 *   owner: col.bigint().references(() => users, "id"),
 *   title: col.varchar(200).notNull(),
 *   embedding: col.vector(3),
 * }, { indexes: [index("docs_embedding_hnsw").on("embedding").hnsw({ metric: "cosine" })] });
 *
 * type Doc = InferRow<typeof docs>; // { id: number; owner: number | null; title: string; embedding: number[] | null }
 * const draft: InferInsert<typeof docs> = { title: "IRIS vectors" }; // id, owner and embedding may be left out
 * console.log(docs.primaryKey, draft.title, docs.dependencies()[0]?.name); // [ "id" ] IRIS vectors users
 * ```
 */
export function table<Name extends string, Cols extends ColumnMap>(
  name: Name,
  columns: Cols,
  options?: TableOptions,
): Table<Name, Cols> {
  return new Table(name, columns, options);
}

// --- type inference --------------------------------------------------------

/** The type a column's values are read as: its value type, with `| null` unless it is NOT NULL. */
export type ColumnValue<C> = C extends Column<infer T, infer NN, boolean> ? (NN extends true ? T : T | null) : never;
/** `true` when an insert may leave the column out (generated, defaulted or NULL-able), else `false`. */
export type ColumnIsOptional<C> = C extends Column<unknown, infer NN, infer O>
  ? (O extends true ? true : NN extends true ? false : true)
  : never;
/** The same object type with intersections flattened, so editors show one object type. */
// deno-lint-ignore ban-types
export type Simplify<T> = { [K in keyof T]: T[K] } & {};

/** A row as read back: every column, NULL-able unless NOT NULL. */
export type InferRow<T> = T extends Table<string, infer Cols> ? Simplify<{ [K in keyof Cols]: ColumnValue<Cols[K]> }>
  : never;

/** Names of a table's columns. */
export type ColumnName<T> = keyof InferRow<T> & string;

/** Names of a table's vector columns (col.vector(); a json column of numbers is not one). */
export type VectorColumnOf<T> = T extends Table<string, infer Cols> ? Extract<
    { [K in keyof Cols]: Cols[K] extends Column<unknown, boolean, boolean, "vector"> ? K : never }[keyof Cols],
    string
  >
  : never;

/**
 * A row as find() and nearest() return it for the `columns` chosen: those
 * columns only; every column when `columns` is left out (C is then every name).
 */
export type Selected<T, C extends string> = [ColumnName<T>] extends [C] ? InferRow<T>
  : { [K in C & keyof InferRow<T>]: InferRow<T>[K] };

/** What insert() takes: generated, defaulted and NULL-able columns may be left out. */
export type InferInsert<T> = T extends Table<string, infer Cols> ? Simplify<
    & { [K in keyof Cols as ColumnIsOptional<Cols[K]> extends true ? never : K]: ColumnValue<Cols[K]> }
    & { [K in keyof Cols as ColumnIsOptional<Cols[K]> extends true ? K : never]?: ColumnValue<Cols[K]> }
  >
  : never;

/** Tables in dependency order (referenced first). A cycle is a ConfigError. */
export function sortByDependencies(tables: readonly AnyTable[]): AnyTable[] {
  const out: AnyTable[] = [];
  const state = new Map<AnyTable, "visiting" | "done">();
  const inSet = new Set(tables);
  const visit = (t: AnyTable, path: string[]) => {
    const s = state.get(t);
    if (s === "done") return;
    if (s === "visiting") throw new ConfigError(`Foreign keys form a cycle: ${[...path, t.name].join(" -> ")}`);
    state.set(t, "visiting");
    for (const dep of t.dependencies()) if (inSet.has(dep)) visit(dep, [...path, t.name]);
    state.set(t, "done");
    out.push(t);
  };
  for (const t of tables) visit(t, []);
  return out;
}
