// Templates are parameter files too (`templates/*.art.json`, per project and global), so
// they get the same IntelliSense. `{{name}}` marks a value to fill in when one is used.
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import { writeFileAtomic } from '../storage/atomic.ts';

export interface TemplateInfo {
  name: string;
  /** Absolute path of the template file. */
  file: string;
  provider: string;
  model: string;
  variables: string[];
}

const VARIABLE = /\{\{\s*([A-Za-z_][\w-]{0,63})\s*\}\}/g;

export function templateVariables(text: string): string[] {
  return [...new Set([...text.matchAll(VARIABLE)].map((m) => m[1]))];
}

/** Fill `{{name}}` with values, escaped for the JSON string they stand in. Unknown names stay.
 * Only the values' own keys count: `{{__proto__}}` or `{{constructor}}` is a variable like any
 * other, never something inherited from Object.prototype. */
export function instantiateTemplate(text: string, values: Record<string, string> | Map<string, string>): string {
  const get = (name: string) => (values instanceof Map ? values.get(name) : Object.hasOwn(values, name) ? values[name] : undefined);
  return text.replace(VARIABLE, (whole, name: string) => {
    const v = get(name);
    return typeof v === 'string' ? JSON.stringify(v).slice(1, -1) : whole;
  });
}

/** A file or folder name from user text: letters, digits and dashes, never empty. */
export function safeFileName(text: string, fallback = 'untitled'): string {
  const base = text
    .normalize('NFKD')
    .replace(/[^\w\s-]/g, '')
    .trim()
    .replace(/[\s_]+/g, '-')
    .toLowerCase()
    .slice(0, 60);
  return base || fallback;
}

export function templateFileName(name: string): string {
  return `${safeFileName(name, 'template')}.art.json`;
}

/** Save a template (replacing one of the same name); returns its path. The name is kept in
 * the file as `"$template"`-free JSON: the file name carries it. */
export async function saveTemplate(dir: string, name: string, paramFileText: string): Promise<string> {
  const file = path.join(dir, templateFileName(name));
  await writeFileAtomic(file, paramFileText.endsWith('\n') ? paramFileText : `${paramFileText}\n`);
  return file;
}

/** Provider and model from the head of a template without a full parse (hundreds are listed). */
function peek(text: string): { provider: string; model: string } {
  const field = (k: string) => new RegExp(`"${k}"\\s*:\\s*"([^"]*)"`).exec(text)?.[1] ?? '?';
  return { provider: field('provider'), model: field('model') };
}

/** Templates in the given folders (missing folders are skipped), sorted by name. */
export async function listTemplates(dirs: string[]): Promise<TemplateInfo[]> {
  const out: TemplateInfo[] = [];
  for (const dir of dirs) {
    let names: string[];
    try {
      names = (await fs.readdir(dir)).filter((n) => n.endsWith('.art.json'));
    } catch {
      continue;
    }
    await Promise.all(
      names.map(async (n) => {
        const file = path.join(dir, n);
        try {
          const text = await fs.readFile(file, 'utf8');
          out.push({ name: n.replace(/\.art\.json$/, ''), file, ...peek(text), variables: templateVariables(text) });
        } catch {
          // unreadable file: not offered
        }
      }),
    );
  }
  return out.sort((a, b) => a.name.localeCompare(b.name));
}

/** Find a template by name in the folders, first folder first. */
export async function findTemplate(dirs: string[], name: string): Promise<string | undefined> {
  for (const dir of dirs) {
    const file = path.join(dir, templateFileName(name));
    try {
      await fs.access(file);
      return file;
    } catch {
      // next folder
    }
  }
  return undefined;
}
