/**
 * Generated SQL for fuzzing the `text()` parameter parser. Each generated query
 * knows its truth: which `:name`s are parameters, what it compiles to, and, for
 * the SELECT form, what the server must return for every column. Literals,
 * quoted identifiers, comments and dollar quotes are filled with things that look
 * like parameters, casts, quotes and comment starts, and with non-ASCII text.
 */
import { prng } from "./load.ts";

export interface Generated {
  source: string;
  /** Parameter names in order of appearance (repeats included). */
  params: string[];
  /** Text after compiling with every occurrence numbered in order (iris style). */
  repeat: string;
  /** Text after compiling with a repeated name keeping its number (PostgreSQL style). */
  reuse: string;
}

export interface GeneratedSelect extends Generated {
  /** Value the server returns for each column c0, c1, ... given `values`. */
  expected: unknown[];
  values: Record<string, string>;
}

const TRAPS = [
  ":fake",
  ":x",
  "::int",
  "'",
  "''",
  '"',
  "--",
  "/*",
  "*/",
  "$$",
  "$1",
  "$tag$",
  "\\",
  "\\'",
  "e'",
  "E'",
  ":=",
  "12:30:00",
  "a[1:2]",
  "é",
  "名前",
  "🦀",
  "\u200d",
  "Ω:ω",
  "\n",
  "\t",
  " ",
  ";",
  "?",
];

const IDENT_START = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ_";
const IDENT_CHAR = IDENT_START + "0123456789";

export class SqlFuzzer {
  readonly #random: () => number;
  constructor(seed: number) {
    this.#random = prng(seed);
  }

  #int(n: number): number {
    return Math.floor(this.#random() * n);
  }
  #pick<T>(xs: readonly T[]): T {
    return xs[this.#int(xs.length)];
  }
  #junk(max = 6): string {
    let s = "";
    for (let i = this.#int(max + 1); i > 0; i--) s += this.#pick(TRAPS);
    return s;
  }
  name(): string {
    let s = this.#pick([...IDENT_START]);
    for (let i = this.#int(8); i > 0; i--) s += this.#pick([...IDENT_CHAR]);
    return s;
  }

  /** Content for a standard '...' literal: quotes doubled, backslashes plain. */
  #standardBody(): { sql: string; value: string } {
    const value = this.#junk();
    return { sql: value.replace(/'/g, "''"), value };
  }

  /** A dollar tag that does not occur in `body`. */
  #tagFor(body: string): string {
    for (;;) {
      const tag = this.#random() < 0.3 ? "" : this.name().replace(/[0-9]/g, "q");
      // The closing tag must be the first occurrence after the opening one.
      if (!body.includes(`$${tag}$`)) return tag;
    }
  }

  /** A piece of code and the value it yields as a SELECT item (undefined: not a value). */
  #piece(params: string[], values: Record<string, string>): { sql: string; value?: unknown; param?: string } {
    const kind = this.#int(9);
    switch (kind) {
      case 0: {
        const p = this.#int(3) === 0 && params.length > 0 ? this.#pick(params) : this.name();
        const value = values[p] ?? (values[p] = this.#junk(3) + p);
        return { sql: `:${p}::text`, value, param: p };
      }
      case 1: {
        const b = this.#standardBody();
        return { sql: `'${b.sql}'`, value: b.value };
      }
      case 2: {
        // E'...': backslash escapes; the value has no backslash here, quotes escaped as \'
        const value = this.#junk().replace(/\\/g, "");
        return { sql: `E'${value.replace(/'/g, "\\'")}'`, value };
      }
      case 3: {
        // A body ending in "$" would run into the closing tag.
        const body = this.#junk().replace(/\$$/, "$ ");
        const tag = this.#tagFor(body);
        return { sql: `$${tag}$${body}$${tag}$`, value: body };
      }
      case 4: {
        const n = this.#int(100);
        return { sql: `/* ${this.#junk().replace(/\/\*|\*\//g, "")} */ ${n}`, value: n };
      }
      case 5: {
        const n = this.#int(100);
        return { sql: `-- ${this.#junk().replace(/\n/g, "")}\n${n}`, value: n };
      }
      case 6: {
        const n = this.#int(1000);
        return { sql: `(${n})::int`, value: n };
      }
      case 7:
        return { sql: `array_length((ARRAY[1,2,3])[1:2], 1)`, value: 2 };
      default:
        return { sql: `'12:30'::time`, value: "12:30:00" };
    }
  }

  /** A SELECT whose every column the server can check. */
  select(): GeneratedSelect {
    const params: string[] = [];
    const values: Record<string, string> = {};
    const items: string[] = [];
    const expected: unknown[] = [];
    const n = 1 + this.#int(6);
    for (let i = 0; i < n; i++) {
      const piece = this.#piece(params, values);
      if (piece.param) params.push(piece.param);
      // Quoted aliases full of traps, too: the column comes back under its real name.
      const alias = `"c${i}${this.#int(2) ? ":" + this.name() + '""' : ""}"`;
      items.push(`${piece.sql} AS ${alias}`);
      expected.push(piece.value);
    }
    const source = `SELECT ${items.join(", ")}`;
    return { ...compileTruth(source, params), expected, values };
  }

  /** Looser text: any mix of pieces, separators and traps between them (not run on a server). */
  statement(): Generated {
    const params: string[] = [];
    const values: Record<string, string> = {};
    let source = "";
    for (let i = 1 + this.#int(12); i > 0; i--) {
      const piece = this.#piece(params, values);
      if (piece.param) params.push(piece.param);
      source += piece.sql + this.#pick([" ", ", ", "(", ") ", " + ", "\n", " = ", " || "]);
    }
    return compileTruth(source, params);
  }

  /** Random characters, mostly the ones the scanner cares about. */
  garbage(): string {
    let s = "";
    for (let i = this.#int(60); i > 0; i--) {
      s += this.#random() < 0.5 ? this.#pick(TRAPS) : this.#pick([..."':\"$-/*\\Ee_a1 ()\n"]);
    }
    return s;
  }
}

/** Number the parameters of `source` the way each style should, from the generator's own record. */
function compileTruth(source: string, params: string[]): Generated {
  let repeat = source;
  let reuse = source;
  const firstSeen: string[] = [];
  let i = 0;
  // Replace parameters left to right: each param occurrence is `:name::text` in the source.
  let cursorRepeat = 0;
  let cursorReuse = 0;
  for (const p of params) {
    i++;
    const token = `:${p}::text`;
    const at = repeat.indexOf(token, cursorRepeat);
    repeat = repeat.slice(0, at) + `$${i}::text` + repeat.slice(at + token.length);
    cursorRepeat = at + `$${i}::text`.length;
    if (!firstSeen.includes(p)) firstSeen.push(p);
    const n = firstSeen.indexOf(p) + 1;
    const at2 = reuse.indexOf(token, cursorReuse);
    reuse = reuse.slice(0, at2) + `$${n}::text` + reuse.slice(at2 + token.length);
    cursorReuse = at2 + `$${n}::text`.length;
  }
  return { source, params, repeat, reuse };
}

/** Keys an option object may hold as its own, which a lookup through the prototype would also find. */
export const PROTO_KEYS = ["__proto__", "constructor", "toString", "hasOwnProperty", "valueOf", "isPrototypeOf"];

/** Which typed call an option object is for. */
export type OptionTarget = "find" | "update" | "delete" | "nearest";

/**
 * Option objects for the typed calls (find, update/delete's where, nearest):
 * real columns and operators mixed with prototype keys (as own properties,
 * `__proto__` included), typos and wrong shapes at every level.
 */
export class OptionFuzzer {
  readonly #random: () => number;
  readonly #columns: readonly string[];
  constructor(seed: number, columns: readonly string[]) {
    this.#random = prng(seed);
    this.#columns = columns;
  }

  #int(n: number): number {
    return Math.floor(this.#random() * n);
  }
  #pick<T>(xs: readonly T[]): T {
    return xs[this.#int(xs.length)];
  }
  #chance(p: number): boolean {
    return this.#random() < p;
  }

  /** An own enumerable property, even for "__proto__" (plain assignment would set the prototype). */
  #put(o: Record<string, unknown>, key: string, value: unknown): void {
    Object.defineProperty(o, key, { value, enumerable: true, writable: true, configurable: true });
  }

  #name(): string {
    const r = this.#random();
    if (r < 0.6) return this.#pick(this.#columns);
    if (r < 0.85) return this.#pick(PROTO_KEYS);
    return this.#pick(["nope", "ID", "or", "and", "", "id; DROP TABLE x"]);
  }

  #scalar(): unknown {
    return this.#pick<unknown>([
      1,
      7,
      "x",
      "a%",
      null,
      undefined,
      true,
      1.5,
      -1,
      NaN,
      Infinity,
      "1",
      2n,
      new Date(0),
      () => 1,
      Symbol("s"),
      [],
      [1, 2],
      {},
    ]);
  }

  #operand(depth: number): unknown {
    if (!this.#chance(0.4)) return this.#scalar();
    const ops: Record<string, unknown> = {};
    for (let i = 1 + this.#int(3); i > 0; i--) {
      const op = this.#pick(["eq", "ne", "gt", "gte", "lt", "lte", "in", "like", "isNull", ...PROTO_KEYS, "between"]);
      const value = op === "in"
        ? this.#pick<unknown>([[1, 2], [], 1, ["x"], [null], [() => 1]])
        : op === "isNull"
        ? this.#pick<unknown>([true, false, "yes", 1])
        : depth < 2 && this.#chance(0.1)
        ? this.#operand(depth + 1)
        : this.#scalar();
      this.#put(ops, op, value);
    }
    return ops;
  }

  where(depth = 0): unknown {
    const r = this.#random();
    if (r < 0.08) return this.#pick<unknown>(["id = 1", [], 1, null, undefined, () => 1]);
    const w: Record<string, unknown> = {};
    for (let i = this.#int(4); i > 0; i--) {
      const key = this.#name();
      if ((key === "or" || key === "and") && depth < 2) {
        const list = this.#chance(0.8)
          ? Array.from({ length: this.#int(3) }, () => this.where(depth + 1))
          : this.#pick<unknown>([{}, "x", null]);
        this.#put(w, key, list);
      } else this.#put(w, key, this.#operand(depth));
    }
    return w;
  }

  orderBy(): unknown {
    if (this.#chance(0.1)) return this.#pick<unknown>(["id", ["id"], 1, null, true]);
    const o: Record<string, unknown> = {};
    for (let i = this.#int(3); i > 0; i--) {
      this.#put(o, this.#name(), this.#pick<unknown>(["asc", "desc", "asc", "desc", "up", "DESC", 1, null]));
    }
    return o;
  }

  columns(): unknown {
    if (this.#chance(0.15)) return this.#pick<unknown>(["id", [], [1], { id: true }, null, [["id"]]]);
    return Array.from({ length: 1 + this.#int(3) }, () => this.#name());
  }

  count(): unknown {
    return this.#pick<unknown>([0, 1, 5, 5, 3, -1, 1.5, "3", NaN, null, Infinity, 2 ** 60, 10n]);
  }

  /** The options argument of one call (for update/delete: the where). */
  options(target: OptionTarget): unknown {
    if (target === "update" || target === "delete") return this.where();
    if (this.#chance(0.05)) return this.#pick<unknown>(["id", 1, null, [], () => 1]);
    const o: Record<string, unknown> = {};
    const keys = target === "find"
      ? ["where", "orderBy", "columns", "limit", "offset"]
      : ["where", "columns", "k", "metric"];
    for (const key of keys) {
      if (this.#chance(0.45)) {
        const value = key === "where"
          ? this.where()
          : key === "orderBy"
          ? this.orderBy()
          : key === "columns"
          ? this.columns()
          : key === "metric"
          ? this.#pick<unknown>(["cosine", "dot", "l2", "euclid", 1])
          : this.count();
        this.#put(o, key, value);
      }
    }
    if (this.#chance(0.15)) this.#put(o, this.#pick([...PROTO_KEYS, "wher", "order", "limt"]), this.#scalar());
    return o;
  }
}

/** An option object as text for an assertion message: own keys (also "__proto__"), functions and symbols named. */
export function showOptions(value: unknown): string {
  const seen = (v: unknown, depth: number): string => {
    if (typeof v === "function") return "<function>";
    if (typeof v === "symbol") return "<symbol>";
    if (typeof v === "bigint") return v + "n";
    if (typeof v === "number" || v === undefined) return String(v);
    if (v instanceof Date) return `Date(${v.getTime()})`;
    if (typeof v !== "object" || v === null) return JSON.stringify(v);
    if (depth > 6) return "…";
    if (Array.isArray(v)) return "[" + v.map((x) => seen(x, depth + 1)).join(", ") + "]";
    return "{ " +
      Object.keys(v).map((k) => JSON.stringify(k) + ": " + seen((v as Record<string, unknown>)[k], depth + 1))
        .join(", ") +
      " }";
  };
  return seen(value, 0);
}
