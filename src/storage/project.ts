// The project manifest (artfactory.json) and the folder layout.
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import { z } from 'zod';
import { writeFileAtomic } from './atomic.ts';
import { StorageError } from './errors.ts';
import type { ProjectManifest } from './types.ts';

export const MANIFEST = 'artfactory.json';

/** The absolute path of a project-relative path as records keep it (`products/2026/01/02/x.png`,
 * forward slashes on every platform). */
export function projectFile(projectDir: string, rel: string): string {
  return path.join(projectDir, ...rel.split('/'));
}

/** The day folder of a product made at `when` (UTC): `products/YYYY/MM/DD`, project-relative
 * like `ProductRecord.file`. Generated and imported products are stored alike. */
export function productDayDir(when: Date | string): string {
  const d = new Date(when);
  return ['products', String(d.getUTCFullYear()), String(d.getUTCMonth() + 1).padStart(2, '0'), String(d.getUTCDate()).padStart(2, '0')].join('/');
}

/** Where a project's (rebuildable) thumbnails live. */
export function thumbsDir(projectDir: string): string {
  return path.join(projectDir, '.artfactory', 'thumbs');
}

const ManifestSchema = z.object({
  name: z.string().min(1).max(200),
  version: z.literal(1),
  createdAt: z.string(),
  defaults: z.object({ provider: z.string().optional(), model: z.string().optional() }).optional(),
  // Checked where they are used (src/engine/cost/budgets.ts), so a mistyped budget is said as
  // such and does not make the whole project unreadable.
  budgets: z.unknown().optional(),
});

const GITIGNORE = '# Rebuildable or machine-local: the index is rebuilt from the sidecars.\nthumbs/\nbackups/\npending/\n*.lock\n*.tmp-*\n';

export async function isProject(dir: string): Promise<boolean> {
  try {
    return (await fs.stat(path.join(dir, MANIFEST))).isFile();
  } catch {
    return false;
  }
}

export async function readManifest(dir: string): Promise<ProjectManifest> {
  const file = path.join(dir, MANIFEST);
  let text: string;
  try {
    text = await fs.readFile(file, 'utf8');
  } catch {
    throw new StorageError('not-a-project', `${dir} has no ${MANIFEST}.`);
  }
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (e) {
    const at = /position (\d+)/.exec(String(e))?.[1];
    const line = at ? text.slice(0, Number(at)).split('\n').length : undefined;
    throw new StorageError('corrupt-manifest', `${MANIFEST} is not valid JSON${line ? ` (line ${line})` : ''}: ${e instanceof Error ? e.message : String(e)}`);
  }
  const parsed = ManifestSchema.safeParse(raw);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new StorageError('corrupt-manifest', `${MANIFEST}: "${issue.path.join('.') || 'file'}" ${issue.message}.`);
  }
  return parsed.data as ProjectManifest;
}

async function writeManifest(dir: string, m: ProjectManifest): Promise<void> {
  await writeFileAtomic(path.join(dir, MANIFEST), `${JSON.stringify(m, null, 2)}\n`);
}

/** Make `dir` (new or existing) a project: manifest and layout. Existing files are kept. */
export async function createProject(dir: string, name: string): Promise<ProjectManifest> {
  if (await isProject(dir)) throw new StorageError('exists', `${dir} is already an Art Factory project.`);
  try {
    await fs.mkdir(dir, { recursive: true });
    for (const sub of ['params', 'templates', 'products', '.artfactory']) await fs.mkdir(path.join(dir, sub), { recursive: true });
    await fs.writeFile(path.join(dir, '.artfactory', '.gitignore'), GITIGNORE, { flag: 'w' });
    const manifest: ProjectManifest = { name: name.trim(), version: 1, createdAt: new Date().toISOString() };
    await writeManifest(dir, manifest);
    return manifest;
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'EACCES' || code === 'EPERM' || code === 'EROFS') throw new StorageError('not-writable', `${dir} is not writable (${code}). Pick a folder you can write to.`);
    throw e;
  }
}

/** Replace the project's budgets (Raise Budget…); everything else in the manifest is kept. */
export async function setProjectBudgets(dir: string, budgets: unknown[]): Promise<void> {
  const m = await readManifest(dir);
  await writeManifest(dir, { ...m, budgets: budgets.length ? budgets : undefined });
}

export async function renameProject(dir: string, name: string): Promise<void> {
  const m = await readManifest(dir);
  await writeManifest(dir, { ...m, name: name.trim() });
}
