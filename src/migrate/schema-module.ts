/** The tables a schema module exports (every exported table() definition). */
import { resolve } from "node:path";
import { pathToFileURL } from "node:url";
import { type AnyTable, Table } from "../schema.ts";
import { MigrationError } from "./errors.ts";

/** A Table, also one made by another copy of irisql (the module may import the package, the CLI its own). */
function isTable(v: unknown): v is AnyTable {
  if (v instanceof Table) return true;
  const t = v as Partial<AnyTable> | null;
  return !!t && typeof t === "object" && typeof t.name === "string" && Array.isArray(t.columnNames) &&
    typeof t.column === "function" && typeof t.dependencies === "function";
}

/**
 * Import the module at `path` (relative to the working directory) and return
 * every table() definition it exports, as `irisql generate` reads a schema
 * module. Throws MigrationError when it cannot be imported or exports no table.
 */
export async function loadSchemaModule(path: string): Promise<AnyTable[]> {
  let mod: Record<string, unknown>;
  try {
    mod = await import(pathToFileURL(resolve(path)).href);
  } catch (error) {
    throw new MigrationError(`Cannot load the schema module ${path}: ${(error as Error).message}`, { cause: error });
  }
  const tables = [...new Set(Object.values(mod).filter(isTable))];
  if (tables.length === 0) throw new MigrationError(`The schema module ${path} exports no table() definitions`);
  return tables;
}
