/** Migrations: the runner, the schema diff (generate) and pull. */
export {
  migrate,
  type MigrateOptions,
  type MigrateResult,
  type MigrationState,
  type MigrationStatus,
  migrationStatus,
  type PendingMigration,
} from "./runner.ts";
export { generate, type GenerateOptions, type GenerateResult } from "./generate.ts";
export { type DiffOptions, diffSchema, type SchemaDiff } from "./diff.ts";
export { type PullOptions, pullSchema } from "./pull.ts";
export { loadSchemaModule } from "./schema-module.ts";
export type { MigrationHost } from "./host.ts";
export { splitStatements } from "./split.ts";
export { DEFAULT_HISTORY_TABLE } from "./history.ts";
export { MigrationChecksumError, MigrationError, MigrationLockedError, UnsafeChangeError } from "./errors.ts";
