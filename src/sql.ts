/**
 * Query text with parameters: `text(":named")` and the `sql` tagged template.
 * Both compile to `{ text, params }` with `$1..$n` placeholders. The scanner
 * knows PostgreSQL/IRIS lexical rules well enough never to mistake `::casts`,
 * string literals, quoted identifiers, comments or dollar quotes for parameters.
 */
import { ValidationError } from "./errors.ts";

/** What the server receives. */
export interface CompiledQuery {
  /** The SQL text, with `$1..$n` placeholders. */
  readonly text: string;
  /** The value for each placeholder, in order. */
  readonly params: readonly unknown[];
}

/**
 * How placeholders are numbered. `reuse`: a repeated name keeps its number
 * (PostgreSQL). `repeat`: every occurrence gets its own number, in order,
 * because iris-pgwire rewrites `$n` to `?` positionally.
 */
export type ParamStyle = "reuse" | "repeat";

/** The part of a dialect that compiling needs; kept tiny so sql.ts stays driver-free. */
export interface CompileTarget {
  /** How the dialect numbers placeholders. */
  readonly paramStyle: ParamStyle;
  /** The dialect's identifier quoting, where it refuses more than quoteIdent does (IRIS: ';', '$1'). */
  quoteId?(name: string): string;
}

const COMPILE = Symbol("irisql.compile");

/**
 * Anything `execute` accepts besides a plain string or a {@linkcode CompiledQuery}:
 * `text()`, `` sql`…` ``, `sql.id()`, `sql.raw()`, `similarity()`,
 * `nearestOrder()`. It compiles itself for the engine's dialect; the method
 * is keyed by a private symbol, so only irisql makes them.
 */
export interface Compilable {
  /**
   * Compile for `target`, pushing bound values onto `into`. Keyed by a symbol
   * irisql does not export: hidden from the docs (`@ignore`) but kept in the
   * types, so only irisql's own objects satisfy this interface.
   *
   * @ignore
   */
  [COMPILE](target: CompileTarget, params: unknown, into: unknown[]): string;
}

export function isCompilable(x: unknown): x is Compilable {
  return typeof x === "object" && x !== null && COMPILE in x;
}

/** Compile a query with its parameters for a target dialect. */
export function compile(
  query: string | Compilable | CompiledQuery,
  params: unknown,
  target: CompileTarget,
): CompiledQuery {
  const out: unknown[] = [];
  const text = compileInto(query, params, target, out);
  return { text, params: out };
}

/** compile(), with the values pushed onto `into` and the text returned: no object per statement. */
export function compileInto(
  query: string | Compilable | CompiledQuery,
  params: unknown,
  target: CompileTarget,
  into: unknown[],
): string {
  if (typeof query === "string") {
    if (params !== undefined && params !== null) {
      throw new ValidationError(
        'A plain string query takes no parameters; use text(":name") or the sql`...` template to bind values',
      );
    }
    return nonEmpty(query);
  }
  if (isCompilable(query)) return nonEmpty(query[COMPILE](target, params, into));
  if (typeof query === "object" && query !== null && typeof (query as CompiledQuery).text === "string") {
    const given = (query as CompiledQuery).params;
    if (given) {
      for (const v of given) {
        checkParam(v, "$" + (into.length + 1));
        into.push(v);
      }
    }
    return nonEmpty((query as CompiledQuery).text);
  }
  throw new ValidationError(
    `Cannot execute ${describe(query)}: expected a string, text(), sql\`...\` or { text, params }`,
  );
}

/**
 * The text, unless it holds no statement: only blanks, comments or ";".
 * PostgreSQL answers such text with an empty result, but iris-pgwire never
 * answers it at all, so it is refused on every dialect. Cheap for real SQL:
 * the walk stops at the first character that is not a blank or a comment.
 */
function nonEmpty(text: string): string {
  const n = text.length;
  let i = 0;
  while (i < n) {
    const c = text.charCodeAt(i);
    if (c === 32 || c === 59 /* ; */ || (c >= 9 && c <= 13)) i++;
    else if (c === 45 /* - */ && text.charCodeAt(i + 1) === 45) {
      const nl = text.indexOf("\n", i + 2);
      i = nl < 0 ? n : nl + 1;
    } else if (c === 47 /* / */ && text.charCodeAt(i + 1) === 42 /* * */) {
      let depth = 1;
      i += 2;
      while (i < n && depth > 0) {
        if (text.charCodeAt(i) === 47 && text.charCodeAt(i + 1) === 42) (depth++, i += 2);
        else if (text.charCodeAt(i) === 42 && text.charCodeAt(i + 1) === 47) (depth--, i += 2);
        else i++;
      }
    } else return text;
  }
  throw new ValidationError(
    "Refusing to send an empty statement (only blanks, comments or semicolons): iris-pgwire never answers one",
  );
}

/**
 * Raw parameters (text(), sql`...`) have no column type to convert them, so
 * only values with one plain SQL meaning pass: string, finite number, bigint,
 * boolean, null, a valid Date, Uint8Array (bytea), and arrays of those.
 * Everything else would reach the server as something the caller did not
 * mean ("() => 1", "[object Object]", NaN as NULL) and is a ValidationError.
 * NaN and ±Infinity are refused too: to store them in a float column, pass
 * the strings "NaN" / "Infinity". JSON is passed as JSON.stringify(value).
 */
export function checkParam(value: unknown, name: string): void {
  const why = paramProblem(value, "");
  if (why !== undefined) throw new ValidationError(`Cannot bind parameter ${name}: ${why}`);
}

function paramProblem(value: unknown, path: string): string | undefined {
  switch (typeof value) {
    case "string":
    case "bigint":
    case "boolean":
      return undefined;
    case "number":
      return Number.isFinite(value)
        ? undefined
        : `${path ? "element " + path + " is " : ""}${value} has no portable SQL form; ` +
          'pass the string "NaN", "Infinity" or "-Infinity" to mean the float value';
    case "object": {
      if (value === null || value instanceof Uint8Array) return undefined;
      if (value instanceof Date) {
        return Number.isNaN(value.getTime()) ? `${path ? "element " + path + " is " : ""}an invalid Date` : undefined;
      }
      if (Array.isArray(value)) {
        for (let i = 0; i < value.length; i++) {
          const why = paramProblem(value[i], `${path}[${i}]`);
          if (why !== undefined) return why;
        }
        return undefined;
      }
      return `${path ? "element " + path + " is " : ""}an object, which has no SQL meaning; ` +
        "pass JSON as JSON.stringify(value) (and cast it: ::jsonb), or a string, number, bigint, boolean, " +
        "null, Date, Uint8Array or an array of those";
    }
    default:
      return `${path ? "element " + path + " is " : ""}${
        value === undefined ? "undefined (use null for NULL)" : "a " + typeof value
      }, which has no SQL meaning; ` +
        "pass a string, number, bigint, boolean, null, Date, Uint8Array or an array of those";
  }
}

function describe(x: unknown): string {
  return x === null ? "null" : Array.isArray(x) ? "an array" : typeof x;
}

// ---------------------------------------------------------------------------
// text(":named")

type Piece = string | { name: string };

/**
 * A query with `:name` parameters, parsed once and reused: what `text()`
 * returns. Run it with an object holding a value for every name; a missing
 * name or an unused key is a ValidationError, and values are always bound,
 * never spliced into the text.
 */
export class TextQuery implements Compilable {
  /** The SQL as written, with its `:name` parameters. */
  readonly source: string;
  /** Parameter names in order of first appearance. */
  readonly names: readonly string[];
  #pieces: Piece[];
  #cache = new Map<ParamStyle, { text: string; order: string[] }>();

  /** Parse `source` once; `text()` is the same thing, with a check that it is a string. */
  constructor(source: string) {
    this.source = source;
    this.#pieces = splitNamedParams(source);
    const names: string[] = [];
    for (const p of this.#pieces) {
      if (typeof p !== "string" && !names.includes(p.name)) names.push(p.name);
    }
    this.names = names;
  }

  /** Text and the parameter name behind each `$n`, for one numbering style. */
  layout(style: ParamStyle): { text: string; order: string[] } {
    let hit = this.#cache.get(style);
    if (hit) return hit;
    const order: string[] = [];
    let text = "";
    for (const p of this.#pieces) {
      if (typeof p === "string") {
        text += p;
        continue;
      }
      let n = style === "reuse" ? order.indexOf(p.name) : -1;
      if (n < 0) n = order.push(p.name) - 1;
      text += "$" + (n + 1);
    }
    hit = { text, order };
    this.#cache.set(style, hit);
    return hit;
  }

  /** This query with its values attached, for nesting inside sql`...`. */
  bind(params: Record<string, unknown>): Compilable {
    return { [COMPILE]: (target, _ignored, into) => this[COMPILE](target, params, into) };
  }

  /** Compile for `target`, pushing the values of `params` onto `into`; irisql calls it. */
  [COMPILE](target: CompileTarget, params: unknown, into: unknown[]): string {
    const { text, order } = this.layout(target.paramStyle);
    if (params === undefined || params === null) {
      if (order.length === 0) return text;
      params = {};
    }
    if (typeof params !== "object" || Array.isArray(params)) {
      throw new ValidationError(
        `text() parameters must be an object keyed by name (${order.map((n) => ":" + n).join(", ") || "none"})`,
      );
    }
    const values = params as Record<string, unknown>;
    const base = into.length;
    // Own properties only: `:constructor` must not find Object.prototype.constructor.
    for (const name of order) {
      const v = Object.hasOwn(values, name) ? values[name] : undefined;
      if (v === undefined) {
        throw new ValidationError(`Missing value for parameter :${name}`);
      }
      checkParam(v, ":" + name);
      into.push(v);
    }
    // A key the text does not use is most likely a typo of one it does.
    const unused = Object.keys(values).filter((k) => !this.names.includes(k));
    if (unused.length > 0) {
      throw new ValidationError(
        `Parameters not used by the statement: ${unused.join(", ")}; it uses ${
          this.names.map((n) => ":" + n).join(", ") || "no parameters"
        }`,
      );
    }
    return base === 0 ? text : renumber(text, base);
  }
}

/**
 * A query with `:name` parameters. `::casts`, string literals, quoted
 * identifiers, comments and dollar quotes are never taken for parameters.
 * Pass the values as an object keyed by name, next to the query.
 *
 * @example
 * ```ts
 * import { createEngine, text } from "irisql";
 *
 * const engine = createEngine("pglite://memory");
 * const sum = text("SELECT :a::int + :b::int AS s, ':a is not a parameter here' AS note");
 * const r = await engine.execute(sum, { a: 1, b: 2 });
 * console.log(r.scalar()); // 3
 * await engine.dispose();
 * ```
 */
export function text(source: string): TextQuery {
  if (typeof source !== "string") throw new ValidationError("text() takes the SQL as a string");
  return new TextQuery(source);
}

/** Shift `$n` placeholders by `by` (used when a text() is nested inside sql``). */
function renumber(text: string, by: number): string {
  const out: string[] = [];
  scanSql(text, (kind, start, end) => {
    const chunk = text.slice(start, end);
    out.push(kind === "code" ? chunk.replace(/\$(\d+)/g, (_, d) => "$" + (Number(d) + by)) : chunk);
  });
  return out.join("");
}

/** Split SQL into literal text and `:name` parameters. */
export function splitNamedParams(source: string): Piece[] {
  const pieces: Piece[] = [];
  let buf = "";
  scanSql(source, (kind, start, end) => {
    if (kind !== "code") {
      buf += source.slice(start, end);
      return;
    }
    let i = start;
    while (i < end) {
      const c = source.charCodeAt(i);
      if (c === 58 /* : */) {
        if (source.charCodeAt(i + 1) === 58) {
          // `::type` cast: keep both colons, and the type name after them.
          let j = i + 2;
          while (j < end && isIdentChar(source.charCodeAt(j))) j++;
          buf += source.slice(i, j);
          i = j;
          continue;
        }
        const prev = i > 0 ? source.charCodeAt(i - 1) : 32;
        if (isIdentStart(source.charCodeAt(i + 1)) && !isIdentChar(prev)) {
          let j = i + 1;
          while (j < end && isIdentChar(source.charCodeAt(j))) j++;
          pieces.push(buf, { name: source.slice(i + 1, j) });
          buf = "";
          i = j;
          continue;
        }
      }
      buf += source[i];
      i++;
    }
  });
  pieces.push(buf);
  return pieces.filter((p) => p !== "");
}

function isIdentStart(c: number): boolean {
  return (c >= 65 && c <= 90) || (c >= 97 && c <= 122) || c === 95;
}
function isIdentChar(c: number): boolean {
  return isIdentStart(c) || (c >= 48 && c <= 57);
}

export type SqlTokenKind = "code" | "string" | "ident" | "comment" | "dollar";

/**
 * Walk SQL text and report runs of plain code, string literals, quoted
 * identifiers, comments and dollar-quoted bodies. An unterminated literal or
 * comment runs to the end of the text, as the server would read it.
 */
export function scanSql(
  s: string,
  emit: (kind: SqlTokenKind, start: number, end: number) => void,
): void {
  let i = 0;
  let codeStart = 0;
  const n = s.length;
  const flush = (to: number) => {
    if (to > codeStart) emit("code", codeStart, to);
  };
  while (i < n) {
    const c = s.charCodeAt(i);
    if (c === 39 /* ' */) {
      flush(i);
      const backslashes = i > 0 && (s[i - 1] === "E" || s[i - 1] === "e") &&
        (i < 2 || !isIdentChar(s.charCodeAt(i - 2)));
      let j = i + 1;
      while (j < n) {
        const d = s.charCodeAt(j);
        if (backslashes && d === 92 /* \ */) {
          j += 2;
          continue;
        }
        if (d === 39) {
          if (s.charCodeAt(j + 1) === 39) {
            j += 2;
            continue;
          }
          j++;
          break;
        }
        j++;
      }
      j = Math.min(j, n);
      emit("string", i, j);
      i = codeStart = j;
    } else if (c === 34 /* " */) {
      flush(i);
      let j = i + 1;
      while (j < n) {
        if (s.charCodeAt(j) === 34) {
          if (s.charCodeAt(j + 1) === 34) {
            j += 2;
            continue;
          }
          j++;
          break;
        }
        j++;
      }
      j = Math.min(j, n);
      emit("ident", i, j);
      i = codeStart = j;
    } else if (c === 45 /* - */ && s.charCodeAt(i + 1) === 45) {
      flush(i);
      let j = s.indexOf("\n", i + 2);
      j = j < 0 ? n : j + 1;
      emit("comment", i, j);
      i = codeStart = j;
    } else if (c === 47 /* / */ && s.charCodeAt(i + 1) === 42 /* * */) {
      flush(i);
      let depth = 1;
      let j = i + 2;
      while (j < n && depth > 0) {
        if (s.charCodeAt(j) === 47 && s.charCodeAt(j + 1) === 42) {
          depth++;
          j += 2;
        } else if (s.charCodeAt(j) === 42 && s.charCodeAt(j + 1) === 47) {
          depth--;
          j += 2;
        } else j++;
      }
      emit("comment", i, j);
      i = codeStart = j;
    } else if (c === 36 /* $ */ && (i === 0 || !isIdentChar(s.charCodeAt(i - 1)))) {
      // $tag$ ... $tag$ (tag may be empty); `$1` is a placeholder, not a quote.
      const m = /^\$([A-Za-z_][A-Za-z0-9_]*)?\$/.exec(s.slice(i, i + 64));
      if (!m) {
        i++;
        continue;
      }
      flush(i);
      const tag = m[0];
      const close = s.indexOf(tag, i + tag.length);
      const j = close < 0 ? n : close + tag.length;
      emit("dollar", i, j);
      i = codeStart = j;
    } else {
      i++;
    }
  }
  flush(n);
}

// ---------------------------------------------------------------------------
// sql`...`

/**
 * A piece of SQL built with the `sql` template: the literal text around the
 * `${…}` slots and the values in them. Values are always bound as parameters;
 * a slot holding another fragment (`sql`…``, `sql.id()`, `text().bind()`)
 * is spliced in with its own values.
 */
export class SqlFragment implements Compilable {
  /** The literal text between the slots (one more than `values`). */
  readonly strings: readonly string[];
  /** What the slots hold: values to bind, or fragments to splice in. */
  readonly values: readonly unknown[];
  /** A fragment of these parts; the `sql` tag is the usual way to make one. */
  constructor(strings: readonly string[], values: readonly unknown[]) {
    this.strings = strings;
    this.values = values;
  }
  /** Compile for `target`, pushing the bound values onto `into`; irisql calls it. */
  [COMPILE](target: CompileTarget, _params: unknown, into: unknown[]): string {
    let out = this.strings[0];
    for (let i = 0; i < this.values.length; i++) {
      const v = this.values[i];
      if (isCompilable(v)) out += v[COMPILE](target, undefined, into);
      else {
        checkParam(v, "$" + (into.length + 1));
        out += "$" + into.push(v);
      }
      out += this.strings[i + 1];
    }
    return out;
  }
}

/** SQL text inserted as is. Only for trusted, constant text. */
class RawSql implements Compilable {
  constructor(readonly text: string) {}
  [COMPILE](): string {
    return this.text;
  }
}

/** A fragment whose spelling depends on the dialect (e.g. vector similarity). */
export class DialectFragment<T extends CompileTarget = CompileTarget> implements Compilable {
  constructor(readonly build: (target: T) => Compilable) {}
  [COMPILE](target: CompileTarget, params: unknown, into: unknown[]): string {
    return this.build(target as T)[COMPILE](target, params, into);
  }
}

// deno-lint-ignore no-control-regex
const IDENT_OK = /^[^\u0000"]{1,128}$/;

/** Quote an identifier (`"name"`, `"schema"."name"` for `["schema", "name"]`). */
export function quoteIdent(name: string): string {
  if (typeof name !== "string" || !IDENT_OK.test(name)) {
    throw new ValidationError(
      `Invalid identifier ${JSON.stringify(name)}: 1-128 characters, no double quotes or NUL`,
    );
  }
  return '"' + name + '"';
}

/** The type of {@linkcode sql}: a template tag with helpers for identifiers, raw text and lists. */
export interface SqlTag {
  /** sql`SELECT * FROM docs WHERE id = ${id}`: every `${…}` is bound, or spliced in when it is a fragment. */
  (strings: TemplateStringsArray, ...values: unknown[]): SqlFragment;
  /** A quoted identifier: sql.id("docs") or sql.id("app", "docs"). */
  id(...parts: string[]): Compilable;
  /** Trusted raw SQL text (never user input). */
  raw(text: string): Compilable;
  /** Fragments or values joined by a separator: sql.join([a, b], ", "). */
  join(items: readonly unknown[], separator?: string): SqlFragment;
}

/**
 * The SQL template tag: every `${value}` becomes a bound parameter, never
 * text; a `${fragment}` (another sql`…`, `sql.id()`, `text().bind()`,
 * `similarity()`) is spliced in with its own values. `sql.id()` quotes
 * identifiers, `sql.join()` joins a list, `sql.raw()` inserts trusted text.
 *
 * @example
 * ```ts
 * import { createEngine, sql } from "irisql";
 *
 * const engine = createEngine("pglite://memory");
 * await engine.execute("CREATE TABLE docs (id int PRIMARY KEY, title text)");
 * await engine.execute(sql`INSERT INTO ${sql.id("docs")} VALUES (${1}, ${"it's bound, not spliced"})`);
 * const ids = [1, 2, 3];
 * const r = await engine.execute(sql`SELECT title FROM docs WHERE id IN (${sql.join(ids)})`);
 * console.log(r.rows); // [ { title: "it's bound, not spliced" } ]
 * await engine.dispose();
 * ```
 */
export const sql: SqlTag = Object.assign(
  (strings: TemplateStringsArray, ...values: unknown[]) => new SqlFragment(strings, values),
  {
    id: (...parts: string[]) => {
      // Names no server accepts fail here; the dialect's own rules apply when it compiles.
      for (const part of parts) quoteIdent(part);
      return new DialectFragment((t) =>
        new RawSql(parts.map((p) => t.quoteId ? t.quoteId(p) : quoteIdent(p)).join("."))
      );
    },
    raw: (t: string) => new RawSql(t),
    join: (items: readonly unknown[], separator = ", ") => {
      const strings = [""];
      for (let i = 1; i < items.length; i++) strings.push(separator);
      if (items.length > 0) strings.push("");
      return new SqlFragment(strings, items);
    },
  },
);
