import * as fs from 'node:fs';
import * as path from 'node:path';

export class DataDirInUseError extends Error {}

export interface DataDirLock {
  release(): void;
}

const LOCK_FILE = 'threadbridge.pid';

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    // EPERM: the process exists but belongs to someone else — still alive.
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/**
 * Makes this process the only one using the embedded database in `dataDir`. PGlite keeps its own
 * copy of the data in memory and writes it back, so two processes on one directory each see only
 * their own writes and lose the other's at the next start. The lock is a file created exclusively
 * with the owner's pid; a lock whose process is gone (killed, crashed) is taken over.
 */
export function lockDataDir(dataDir: string): DataDirLock {
  fs.mkdirSync(dataDir, { recursive: true });
  const file = path.join(dataDir, LOCK_FILE);
  for (let attempt = 0; attempt < 3; attempt++) {
    try {
      fs.writeFileSync(file, `${process.pid}\n`, { flag: 'wx', mode: 0o644 });
      const release = () => {
        try {
          if (fs.readFileSync(file, 'utf8').trim() === String(process.pid)) fs.unlinkSync(file);
        } catch {
          // already gone
        }
      };
      process.once('exit', release);
      return { release };
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
    }
    const holder = Number.parseInt(fs.readFileSync(file, 'utf8').trim(), 10);
    if (Number.isInteger(holder) && holder > 0 && alive(holder)) {
      throw new DataDirInUseError(
        `the data directory ${dataDir} is in use by process ${holder} (another threadbridge with the embedded database); stop it, or give this one another DATA_DIR`,
      );
    }
    // A stale lock (its process is gone, or the file is damaged): take it over.
    fs.rmSync(file, { force: true });
  }
  throw new DataDirInUseError(`could not lock the data directory ${dataDir}: another process keeps taking it`);
}
