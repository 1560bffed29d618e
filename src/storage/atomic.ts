import { closeSync, fsyncSync, openSync, promises as fs } from 'node:fs';
import * as path from 'node:path';

/** Write a file so readers see the old content or the new, never a torn one: a temp file in
 * the same folder, fsync, rename. The temp name is unique per process and call. */
export async function writeFileAtomic(file: string, data: string | Uint8Array): Promise<void> {
  await fs.mkdir(path.dirname(file), { recursive: true });
  const tmp = tempNameFor(file);
  try {
    const fh = await fs.open(tmp, 'w');
    try {
      await fh.writeFile(data);
      await fh.sync();
    } finally {
      await fh.close();
    }
    await fs.rename(tmp, file);
  } catch (e) {
    await fs.rm(tmp, { force: true });
    throw e;
  }
}

/** A temp name beside `file`, unique per process and call, that removeStaleTemps recognises
 * (TEMP_NAME) once its process is gone. */
export function tempNameFor(file: string): string {
  return `${file}.tmp-${process.pid}-${Math.random().toString(36).slice(2)}`;
}

/** True while a process with this id runs (EPERM: it runs, as another user). */
export function pidAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** The temp names of our atomic writers: `NAME.tmp-PID` (the database) and `NAME.tmp-PID-RANDOM`
 * (tempNameFor; thumbnails.ts, below storage, writes the same form). */
const TEMP_NAME = /\.tmp-(\d+)(?:-[a-z0-9]+)?$/;

/** Remove the temp files in `dir` (not recursive) whose writer process is gone. A process
 * killed in the middle of an atomic write leaves its temp file behind, and nothing else would
 * ever remove it (a database temp is a whole copy of the database). Returns the names removed. */
export async function removeStaleTemps(dir: string): Promise<string[]> {
  let names: string[];
  try {
    names = await fs.readdir(dir);
  } catch {
    return [];
  }
  const removed: string[] = [];
  for (const name of names) {
    const m = TEMP_NAME.exec(name);
    if (!m || Number(m[1]) === process.pid || pidAlive(Number(m[1]))) continue;
    await fs.rm(path.join(dir, name), { force: true }).then(
      () => removed.push(name),
      () => undefined,
    );
  }
  return removed;
}

/** fsync a folder, so the renames in it are durable. Folders cannot be opened or fsync'd
 * everywhere (Windows), where the rename is still atomic: then it does nothing. */
export async function fsyncDir(dir: string): Promise<void> {
  const fh = await fs.open(dir, 'r').catch(() => undefined);
  if (!fh) return;
  try {
    await fh.sync().catch(() => undefined);
  } finally {
    await fh.close();
  }
}

/** `fsyncDir` for the database worker's synchronous writes. */
export function fsyncDirSync(dir: string): void {
  try {
    const fd = openSync(dir, 'r');
    try {
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
  } catch {
    // see fsyncDir
  }
}
