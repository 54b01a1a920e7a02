/**
 * PGlite keeps its files in a folder and has no lock of its own: two
 * processes on one folder would corrupt it. A lock file next to the folder
 * holds the owner's process id; a second start fails with a clear message,
 * and a lock left behind by a process that no longer runs is taken over.
 */
import { closeSync, mkdirSync, openSync, readFileSync, rmSync, writeSync } from "node:fs";
import { dirname } from "node:path";
import process from "node:process";

/** Lock `dataDir`; returns the function that unlocks it. */
export function lockDataDir(dataDir: string): () => void {
  mkdirSync(dirname(dataDir), { recursive: true });
  const lockFile = `${dataDir}.lock`;
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      const fd = openSync(lockFile, "wx");
      writeSync(fd, String(process.pid));
      closeSync(fd);
      return () => rmSync(lockFile, { force: true });
    } catch (error) {
      if ((error as { code?: string }).code !== "EEXIST") throw error;
      const owner = Number(readFileSync(lockFile, "utf8"));
      if (owner > 0 && owner !== process.pid && isRunning(owner)) {
        throw new Error(
          `The data folder ${dataDir} is locked by process ${owner}. If that server still runs, stop it or point ` +
            `DATABASE_URL at another folder; if it does not, delete ${lockFile}.`,
        );
      }
      rmSync(lockFile, { force: true });
    }
  }
  throw new Error(`Could not lock the data folder ${dataDir}`);
}

/** Signal 0 only asks whether the process exists. Unsure (no permission to ask, as on Deno without --allow-run) counts as yes. */
function isRunning(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as { code?: string }).code !== "ESRCH";
  }
}
