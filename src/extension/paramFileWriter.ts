// New parameter files: the model's schema written into the project (so `$schema` resolves
// offline), a scaffold of its required fields and defaults, in the project's params/ under a
// name that is not taken yet, opened in the editor. New Parameter File and the gallery's
// "Use as Input…" both make theirs here.
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import * as vscode from 'vscode';
import { modelSchemaPath, scaffoldParamFile, writeModelSchema } from '../engine/schemas.ts';
import { safeFileName } from '../engine/templates.ts';
import type { JsonSchema, ModelInfo, Provider } from '../providers/types.ts';

/** A path that does not exist yet: name.art.json, name-2.art.json, … */
export async function freshPath(dir: string, base: string, ext: string): Promise<string> {
  for (let i = 1; ; i++) {
    const p = path.join(dir, `${base}${i === 1 ? '' : `-${i}`}${ext}`);
    try {
      await fs.access(p);
    } catch {
      return p;
    }
  }
}

/** Write and open a new parameter file for `model`. `adjust` may change the scaffold (the
 * parsed file) before it is written, knowing the model's input schema, or answer false to
 * write nothing (the user backed out). Returns the file, if one was written. */
export async function createParamFile(
  projectDir: string,
  provider: Provider,
  model: ModelInfo,
  opts: { adjust?: (file: Record<string, unknown>, schema: JsonSchema) => Promise<boolean>; baseName?: string; beside?: boolean } = {},
): Promise<string | undefined> {
  const schema = await vscode.window.withProgress({ location: vscode.ProgressLocation.Notification, title: `Art Factory: reading the schema of ${model.id}…` }, () => provider.getInputSchema(model.id));
  await writeModelSchema(projectDir, model.provider, model.id, schema, model);
  const paramsDir = path.join(projectDir, 'params');
  const schemaRel = path.relative(paramsDir, path.join(projectDir, modelSchemaPath(model.provider, model.id))).split(path.sep).join('/');
  let text = scaffoldParamFile(model, schema, schemaRel);
  if (opts.adjust) {
    const body = JSON.parse(text) as Record<string, unknown>;
    if (!(await opts.adjust(body, schema))) return undefined;
    text = `${JSON.stringify(body, null, 2)}\n`;
  }
  await fs.mkdir(paramsDir, { recursive: true });
  const file = await freshPath(paramsDir, safeFileName(opts.baseName ?? model.id.split('/').slice(-2).join('-')), '.art.json');
  await fs.writeFile(file, text, { flag: 'wx' });
  await vscode.window.showTextDocument(await vscode.workspace.openTextDocument(file), opts.beside ? { viewColumn: vscode.ViewColumn.Beside } : undefined);
  return file;
}
