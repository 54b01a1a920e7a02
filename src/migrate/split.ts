/**
 * A .sql migration as statements: split at every `;` that is plain code, never inside a
 * string, quoted name, comment or dollar-quoted body (the scanner of src/sql.ts reads the
 * text as the server would). Pieces that hold only blanks and comments are dropped.
 */
import { scanSql } from "../sql.ts";

export function splitStatements(text: string): string[] {
  const out: string[] = [];
  let start = 0;
  let meaningful = false;
  const push = (end: number) => {
    if (meaningful) out.push(text.slice(start, end).trim());
    meaningful = false;
  };
  scanSql(text, (kind, from, to) => {
    if (kind === "comment") return;
    if (kind !== "code") {
      meaningful = true;
      return;
    }
    for (let i = from; i < to; i++) {
      const c = text[i];
      if (c === ";") {
        push(i);
        start = i + 1;
      } else if (!/\s/.test(c)) meaningful = true;
    }
  });
  push(text.length);
  return out;
}
