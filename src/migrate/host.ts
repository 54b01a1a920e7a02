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

export interface MigrationHost extends Executor {
  readonly dialect: Dialect;
  readonly config: ResolvedConfig;
  begin<T>(fn: (tx: Transaction) => Promise<T> | T): Promise<T>;
  connect(): Promise<Connection>;
  createAll(tables: readonly AnyTable[], options?: CreateOptions): Promise<void>;
  hasTable(name: string, schema?: string): Promise<boolean>;
  introspect(schema?: string): Promise<{ tables: TableInfo[] }>;
}

/** Something that runs statements: the engine, a held connection or a transaction. */
export type StatementRunner = Pick<Executor, "execute">;
