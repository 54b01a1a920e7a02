/**
 * What migrations need from an engine, as an interface: src/migrate/ does not import
 * engine.ts (which imports it). The Engine satisfies it.
 */
import type { ResolvedConfig } from "../config.ts";
import type { Connection } from "../connection.ts";
import type { Dialect } from "../dialects/dialect.ts";
import type { TableInfo } from "../dialects/introspection.ts";
import type { Executor } from "../executor.ts";
import type { CreateOptions } from "../metadata.ts";
import type { AnyTable } from "../schema.ts";
import type { Transaction } from "../transaction.ts";

/**
 * What {@linkcode generate} and {@linkcode migrationStatus} need from a
 * database: an {@linkcode Engine} is one, so pass your engine.
 */
export interface MigrationHost extends Executor {
  /** The dialect statements are spelled for. */
  readonly dialect: Dialect;
  /** The engine's settings (its schema above all). */
  readonly config: ResolvedConfig;
  /** Run `fn` in a transaction (see `engine.begin()`). */
  begin<T>(fn: (tx: Transaction) => Promise<T> | T): Promise<T>;
  /** Hold one connection (see `engine.connect()`). */
  connect(): Promise<Connection>;
  /** CREATE TABLE in foreign-key order (see `engine.createAll()`). */
  createAll(tables: readonly AnyTable[], options?: CreateOptions): Promise<void>;
  /** Does the table exist (see `engine.hasTable()`)? */
  hasTable(name: string, schema?: string): Promise<boolean>;
  /** The live tables of a schema (see `engine.introspect()`). */
  introspect(schema?: string): Promise<{ tables: TableInfo[] }>;
}

/** Something that runs statements: the engine, a held connection or a transaction. */
export type StatementRunner = Pick<Executor, "execute">;
