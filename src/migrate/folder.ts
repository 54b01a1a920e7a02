/**
 * A migration folder: files named `<timestamp>_<name>.sql` or `.ts`/`.js`/`.mjs` (the
 * timestamp is 8 to 17 digits, e.g. 20250102030405), applied in name order. A `.sql`
 * file is statements separated by `;`; a script exports `up(engine)`. Each has a
 * SHA-256 checksum of its bytes (line endings as they are: an edited file is edited).
 */
import { createHash } from "node:crypto";
import { readdir, readFile } from "node:fs/promises";
import { join, resolve } from "node:path";
import { pathToFileURL } from "node:url";
import { MigrationError } from "./errors.ts";
import { splitStatements } from "./split.ts";

export const MIGRATION_NAME = /^(\d{8,17})[_-][A-Za-z0-9_.-]+\.(sql|ts|js|mjs)$/;

export interface MigrationFile {
  /** The file name: the migration's id in the history table. */
  name: string;
  path: string;
  kind: "sql" | "script";
  checksum: string;
  /** The statements of a .sql file. */
  statements: string[];
}

export async function readFolder(folder: string): Promise<MigrationFile[]> {
  const dir = resolve(folder);
  let names: string[];
  try {
    names = await readdir(dir);
  } catch (error) {
    throw new MigrationError(`Cannot read the migration folder ${dir}: ${(error as Error).message}`, { cause: error });
  }
  const out: MigrationFile[] = [];
  for (const name of names.sort()) {
    if (!/\.(sql|ts|js|mjs)$/.test(name) || name.endsWith(".d.ts")) continue;
    if (!MIGRATION_NAME.test(name)) {
      throw new MigrationError(
        `${join(dir, name)} is not named <timestamp>_<name>.sql|ts (e.g. 20250102030405_add_users.sql): ` +
          `migrations run in name order, so each needs its timestamp`,
      );
    }
    const path = join(dir, name);
    const bytes = await readFile(path);
    const checksum = createHash("sha256").update(bytes).digest("hex");
    const kind = name.endsWith(".sql") ? "sql" : "script";
    const statements = kind === "sql" ? splitStatements(new TextDecoder().decode(bytes)) : [];
    out.push({ name, path, kind, checksum, statements });
  }
  return out;
}

/** A script migration's up(); its module must export one. */
export async function loadScript(file: MigrationFile): Promise<(engine: never) => unknown> {
  const mod = await import(pathToFileURL(file.path).href);
  if (typeof mod.up !== "function") {
    throw new MigrationError(`${file.path} exports no up(engine) function`);
  }
  return mod.up;
}
