/** What a statement builder produces, and the placeholders it binds values through. */
import type { Dialect, ParamFn } from "../dialects/dialect.ts";

export interface Statement {
  text: string;
  params: unknown[];
}

/** Placeholders in text order; PostgreSQL reuses one for the same key. */
export class Params {
  readonly values: unknown[] = [];
  #keys = new Map<string, string>();
  readonly #reuse: boolean;
  constructor(dialect: Dialect) {
    this.#reuse = dialect.paramStyle === "reuse";
  }
  add: ParamFn = (value, key) => {
    if (key !== undefined && this.#reuse) {
      const hit = this.#keys.get(key);
      if (hit) return hit;
    }
    const ph = "$" + this.values.push(value);
    if (key !== undefined) this.#keys.set(key, ph);
    return ph;
  };
}
