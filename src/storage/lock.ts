// The cross-process lock of one project database (`index.db.lock`): two VS Code windows, or a
// window and the command line, serialise their writes through it. It is a file created with
// O_EXCL holding "PID TIME"; one left by a process that died (or held far too long) is taken over.
import { closeSync, constants, openSync, promises as fs, readFileSync, rmSync, statSync, writeSync } from 'node:fs';
import * as path from 'node:path';
import { pidAlive } from './atomic.ts';
import { diskFullMessage, isDiskFull, StorageError } from './errors.ts';

const LOCK_STALE_MS = 30_000;
const LOCK_UNREADABLE_MS = 1_000;
const LOCK_TIMEOUT_MS = 20_000;

/** A full disk while saving, said the way the user can act on. */
export function diskFull(e: unknown, what = 'the project database could not be saved'): StorageError {
  if (e instanceof StorageError) return e;
  return new StorageError('disk-full', diskFullMessage(`${what} (${(e as NodeJS.ErrnoException).code}); what was saved before is intact`));
}

export class ProjectLock {
  constructor(readonly file: string) {}

  async acquire(): Promise<void> {
    const started = Date.now();
    for (;;) {
      let fd: number | undefined;
      try {
        fd = openSync(this.file, constants.O_CREAT | constants.O_EXCL | constants.O_WRONLY);
        writeSync(fd, `${process.pid} ${Date.now()}`);
        closeSync(fd);
        return;
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code !== 'EEXIST') {
          // Created but not written (a full disk): close it and take it away again.
          if (fd !== undefined) {
            closeSync(fd);
            rmSync(this.file, { force: true });
          }
          if (isDiskFull(e)) throw diskFull(e);
          throw new StorageError('not-writable', `Cannot write in ${path.dirname(this.file)}: ${(e as Error).message}`);
        }
      }
      // Someone holds it: take it over when its owner is gone or it is old.
      try {
        const [pid] = readFileSync(this.file, 'utf8').split(' ').map(Number);
        const age = Date.now() - statSync(this.file).mtimeMs;
        // A lock without a readable pid was left by a process killed between create and write.
        const orphaned = pid ? !pidAlive(pid) : age > LOCK_UNREADABLE_MS;
        if (orphaned || age > LOCK_STALE_MS) await fs.rm(this.file, { force: true });
      } catch {
        // it vanished meanwhile: try again
      }
      if (Date.now() - started > LOCK_TIMEOUT_MS) throw new StorageError('locked', 'Another window has held the project database lock for too long. Close other windows on this project and try again.');
      await new Promise((r) => setTimeout(r, 5 + Math.random() * 20));
    }
  }

  release(): void {
    rmSync(this.file, { force: true });
  }

  /** Run `fn` holding the lock. */
  async with<T>(fn: () => Promise<T> | T): Promise<T> {
    await this.acquire();
    try {
      return await fn();
    } finally {
      this.release();
    }
  }
}
