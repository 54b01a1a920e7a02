/** Transaction control as IRIS SQL has it: no RELEASE SAVEPOINT, two isolation levels. */
import { UnsupportedFeatureError } from "../../errors.ts";
import type { BeginOptions } from "../dialect.ts";
import { savepointName } from "./names.ts";

export function beginSql(options?: BeginOptions): string {
  let s = "START TRANSACTION";
  const level = options?.isolationLevel;
  if (level) {
    // IRIS knows READ UNCOMMITTED, READ COMMITTED and READ VERIFIED.
    if (level !== "read uncommitted" && level !== "read committed") {
      throw new UnsupportedFeatureError(
        `IRIS supports isolation levels "read uncommitted" and "read committed", not ${JSON.stringify(level)}`,
      );
    }
    s += " ISOLATION LEVEL " + level.toUpperCase();
  }
  if (options?.readOnly) s += level ? ", READ ONLY" : " READ ONLY";
  return s;
}

export const savepointSql = (name: string): string => "SAVEPOINT " + savepointName(name);
export const rollbackToSavepointSql = (name: string): string => "ROLLBACK TO SAVEPOINT " + savepointName(name);
