/**
 * The `irisql` command line: generate, migrate (up, status, --dry-run), pull. The URL comes
 * from --url or DATABASE_URL and is only ever shown with its password as ***. Exit codes:
 * 0 done, 1 failed (the message says why), 2 the command line itself is wrong.
 */
import { writeFile } from "node:fs/promises";
import { createEngine, type Engine } from "../engine.ts";
import { generate } from "../migrate/generate.ts";
import { DEFAULT_HISTORY_TABLE } from "../migrate/history.ts";
import { pullSchema } from "../migrate/pull.ts";
import { migrationStatus } from "../migrate/runner.ts";
import { loadSchemaModule } from "../migrate/schema-module.ts";

export const HELP = `irisql: migrations for IRIS (iris-pgwire), PostgreSQL and PGlite

Usage:
  irisql generate --schema <module.ts> [--folder migrations] [--name <name>] [--allow-drop] [--ignore t1,t2]
  irisql migrate [up] [--folder migrations] [--dry-run]
  irisql migrate status [--folder migrations]
  irisql pull [--out schema.ts] [--import-from irisql] [--ignore t1,t2]

Options:
  --url <url>          database URL (default: $DATABASE_URL), e.g. postgres://u:p@host/db,
                       iris://u:p@host:5432/USER?transactions=server, pglite:./data
  --folder <dir>       migration folder (default: migrations); keep one folder per dialect
  --table <name>       history table (default: ${DEFAULT_HISTORY_TABLE})
  --ignore <t1,t2>     live tables that are not the module's business (generate neither
                       drops nor compares them; pull leaves them out)
  --lock-timeout <ms>  how long to wait for another migrate (default: 60000)
  -h, --help           this text
`;

export interface CliIo {
  out(line: string): void;
  err(line: string): void;
  env(name: string): string | undefined;
}

class UsageError extends Error {}

const FLAGS = new Set(["--dry-run", "--allow-drop", "-h", "--help"]);
const VALUES = new Set([
  "--url",
  "--folder",
  "--table",
  "--schema",
  "--name",
  "--out",
  "--import-from",
  "--lock-timeout",
  "--ignore",
]);

function parse(argv: readonly string[]) {
  const words: string[] = [];
  const opts = new Map<string, string | true>();
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    const eq = a.indexOf("=");
    const name = a.startsWith("--") && eq > 0 ? a.slice(0, eq) : a;
    if (FLAGS.has(name)) opts.set(name, true);
    else if (VALUES.has(name)) {
      const v = eq > 0 && a.startsWith("--") ? a.slice(eq + 1) : argv[++i];
      if (v === undefined) throw new UsageError(`${name} needs a value`);
      opts.set(name, v);
    } else if (a.startsWith("-")) throw new UsageError(`unknown option ${a}`);
    else words.push(a);
  }
  return { words, opts };
}

/** A URL part as written and percent-decoded. */
function forms(raw: string): string[] {
  const out = [raw];
  try {
    out.push(decodeURIComponent(raw));
  } catch { /* not encoded */ }
  return out.filter((s) => s.length > 0);
}

/**
 * Blanks every form of the URL's password out of a text, except inside the user name: a password
 * that is part of the user name (user _SYSTEM, password SYS) is no secret the name does not already
 * show, and `_***TEM` helps nobody.
 */
function scrubberOf(url: string | undefined): (text: string) => string {
  const m = url ? /^[a-z]+:\/\/([^:@/]*):([^@]*)@/i.exec(url) : null;
  if (!m || !m[2]) return (text) => text;
  const secrets = forms(m[2]);
  const blank = (text: string) => secrets.reduce((t, p) => t.split(p).join("***"), text);
  const users = forms(m[1]).filter((u) => secrets.some((p) => u.includes(p)));
  const outside = (text: string, [user, ...rest]: string[]): string =>
    user === undefined ? blank(text) : text.split(user).map((t) => outside(t, rest)).join(user);
  return (text) => outside(text, users);
}

export async function main(argv: readonly string[], io: CliIo): Promise<number> {
  let scrub = (s: string) => s;
  const out = (s: string) => io.out(scrub(s));
  const err = (s: string) => io.err(scrub(s));
  let engine: Engine | undefined;
  try {
    const { words, opts } = parse(argv);
    if (opts.has("-h") || opts.has("--help") || words.length === 0) {
      out(HELP);
      return words.length === 0 && !opts.has("-h") && !opts.has("--help") ? 2 : 0;
    }
    const str = (k: string) => (typeof opts.get(k) === "string" ? opts.get(k) as string : undefined);
    const [command, sub] = words;
    if (!["generate", "migrate", "pull"].includes(command)) throw new UsageError(`unknown command ${command}`);
    if (command === "migrate" && sub !== undefined && sub !== "up" && sub !== "status") {
      throw new UsageError(`unknown migrate command ${sub} (up or status)`);
    }
    const url = str("--url") ?? io.env("DATABASE_URL");
    scrub = scrubberOf(url);
    if (!url) throw new UsageError("no database URL: pass --url or set DATABASE_URL");
    const folder = str("--folder") ?? "migrations";
    const table = str("--table");
    const ignoreTables = (str("--ignore") ?? "").split(",").map((s) => s.trim()).filter(Boolean);
    engine = createEngine(url);
    out(`irisql ${command}${sub ? " " + sub : ""}: ${engine.url}`);

    if (command === "migrate" && sub === "status") {
      const status = await migrationStatus(engine, { folder, table });
      if (status.length === 0) out(`no migrations in ${folder}`);
      for (const s of status) out(`${s.state.padEnd(9)} ${s.name}${s.detail ? `  (${s.detail})` : ""}`);
      return status.some((s) => s.state !== "applied" && s.state !== "pending") ? 1 : 0;
    }
    if (command === "migrate") {
      const lockTimeout = str("--lock-timeout") === undefined ? undefined : Number(str("--lock-timeout"));
      if (lockTimeout !== undefined && !(lockTimeout >= 0)) throw new UsageError("--lock-timeout takes milliseconds");
      const dryRun = opts.has("--dry-run");
      const r = await engine.migrate({ folder, table, dryRun, lockTimeout, onProgress: (l) => out(l) });
      if (dryRun) {
        if (r.pending.length === 0) out("nothing to apply");
        for (const m of r.pending) {
          out(`-- ${m.name}${r.transactional ? "" : " (not transactional)"}`);
          if (m.kind === "script") out("-- a script: its up(engine) runs");
          for (const s of m.statements) out(s + ";");
        }
      } else out(`${r.applied.length} migration(s) applied`);
      return 0;
    }
    if (command === "generate") {
      const schema = str("--schema");
      if (!schema) {
        throw new UsageError("generate needs --schema <module.ts>, the module exporting your table() definitions");
      }
      const tables = await loadSchemaModule(schema);
      out(`comparing ${tables.length} table(s) with the database`);
      const r = await generate(engine, {
        tables,
        folder,
        name: str("--name"),
        allowDrop: opts.has("--allow-drop"),
        historyTable: table,
        ignoreTables,
      });
      for (const w of r.warnings) out(`warning: ${w}`);
      out(r.file ? `wrote ${r.file} (${r.statements.length} statements)` : "no changes: nothing to generate");
      return 0;
    }
    // pull
    const live = await engine.introspect();
    const history = table ?? DEFAULT_HISTORY_TABLE;
    const text = pullSchema(engine.dialect, live.tables, {
      importFrom: str("--import-from"),
      ignoreTables: [...ignoreTables, history, history + "_lock"],
    });
    const file = str("--out");
    if (file) {
      await writeFile(file, text);
      out(`wrote ${file}`);
    } else io.out(scrub(text));
    return 0;
  } catch (error) {
    if (error instanceof UsageError) {
      err(`irisql: ${error.message}\nRun irisql --help for usage.`);
      return 2;
    }
    const e = error as Error;
    err(`irisql: ${e?.name ?? "Error"}: ${e?.message ?? String(error)}`);
    if (e?.name === "MigrationError" && /Cannot load the schema module .*\.ts/.test(e.message)) {
      err(
        "irisql: Node loads .ts modules from version 22.6 (--experimental-strip-types) or through tsx; Bun and Deno load them as they are.",
      );
    }
    return 1;
  } finally {
    await engine?.dispose().catch(() => {});
  }
}
