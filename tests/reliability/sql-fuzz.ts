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
