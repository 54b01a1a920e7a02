/**
 * Identifiers on IRIS through iris-pgwire. The wire server splits
 * simple-protocol text at every ";" and rewrites every "$<digits>" to "?",
 * inside quoted names too, so such names are refused before anything is sent.
 */
import { ValidationError } from "../../errors.ts";
import { quoteIdent } from "../../sql.ts";

/** The schema IRIS puts tables in when none is named. */
export const DEFAULT_SCHEMA = "SQLUser";

/**
 * A quoted identifier, or a ValidationError for a name iris-pgwire would misread:
 * `x; DROP TABLE victim --` would run as a second statement.
 */
export function quoteId(name: string): string {
  if (typeof name === "string" && (name.includes(";") || /\$\d/.test(name))) {
    throw new ValidationError(
      `The identifier ${JSON.stringify(name)} cannot be used on IRIS: iris-pgwire splits statements at ";" ` +
        `and rewrites "$<digits>" even inside quotes`,
    );
  }
  return quoteIdent(name);
}

/** A table reference, schema-qualified unless it is the default schema (compared case-insensitively). */
export function tableRef(name: string, schema: string): string {
  return schema.toLowerCase() === DEFAULT_SCHEMA.toLowerCase() ? quoteId(name) : quoteId(schema) + "." + quoteId(name);
}

/** IRIS savepoint names: unquoted, case-insensitive, must not start with SYS. */
export function savepointName(name: string): string {
  if (!/^[A-Za-z][A-Za-z0-9_]{0,30}$/.test(name) || /^sys/i.test(name)) {
    throw new ValidationError(
      `Invalid IRIS savepoint name ${JSON.stringify(name)}: a letter, then up to 30 letters, digits or _, ` +
        `not starting with SYS`,
    );
  }
  return name;
}
