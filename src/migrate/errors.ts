/** The errors migrations raise; each message says what to do. */
import { IrisqlError } from "../errors.ts";

/** A migration folder, file or history that cannot be used as it is. */
export class MigrationError extends IrisqlError {
  /** Always "MigrationError". */
  override name = "MigrationError";
}

/** An applied migration whose file changed since (checksum differs). */
export class MigrationChecksumError extends MigrationError {
  /** Always "MigrationChecksumError". */
  override name = "MigrationChecksumError";
}

/** Another process holds the migration lock, and it did not come free in time. */
export class MigrationLockedError extends MigrationError {
  /** Always "MigrationLockedError". */
  override name = "MigrationLockedError";
}

/** A schema change generate will not write, because it could lose data or cannot be expressed. */
export class UnsafeChangeError extends MigrationError {
  /** Always "UnsafeChangeError". */
  override name = "UnsafeChangeError";
}
