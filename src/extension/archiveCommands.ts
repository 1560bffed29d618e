// Import Images…, Export Products…, Make Contact Sheet…: the VS Code side (dialogs, progress
// with cancel, summaries) over the vscode-free core in src/archive. The gallery's bulk actions
// call the same commands with the selection as `{ items: [{ project, productId }] }`.
import { existsSync } from 'node:fs';
import * as path from 'node:path';
import * as vscode from 'vscode';
import { z } from 'zod';
import { batchProducts, makeContactSheet, recentBatches, type ContactSheet, type SheetItem } from '../archive/contactSheet.ts';
import { exportProducts, type ExportFormat } from '../archive/export.ts';
import { describeSkips, importImages, IMPORT_EXTENSIONS } from '../archive/import.ts';
import { writeFileAtomic } from '../storage/atomic.ts';
import { diskFullMessage, isDiskFull } from '../storage/errors.ts';
import type { ProductQuery, ProductRecord } from '../storage/types.ts';
import { registerSafeCommand } from './command.ts';
import { describeProviderError } from './generate.ts';
import type { OutputLog } from './log.ts';
import type { ProjectManager } from './projects.ts';
import type { ProjectsView } from './projectsView.ts';
import { settings } from './settings.ts';

export interface ArchiveCommandDeps {
  context: vscode.ExtensionContext;
  projects: ProjectManager;
  projectsView: ProjectsView;
  log: OutputLog;
  /** Live gallery updates while importing (optional: the gallery may be closed). */
  gallery?: { onProduct(dir: string, p: ProductRecord): void; onThumbnail(dir: string, productId: string): void };
}

/** The selection the gallery passes. Validated: it crosses from the webview via the host. */
const SelectionArg = z.object({
  items: z.array(z.object({ project: z.string().min(1).max(4096), productId: z.string().regex(/^[\w-]{1,100}$/) })).min(1).max(10_000),
});

const EXPORT_LIMIT = 10_000;

export function registerArchiveCommands(d: ArchiveCommandDeps): vscode.Disposable[] {
  const { projects, log } = d;

  /** A full disk is said as such (`stopped` tells what it stopped), not as a bare ENOSPC. */
  const cmd = (id: string, stopped: string, body: (...args: unknown[]) => Promise<unknown>): vscode.Disposable =>
    registerSafeCommand(id, log, body, (e) => (isDiskFull(e) ? { message: diskFullMessage(stopped), actions: ['Retry'] } : describeProviderError(e)));

  /** Products from the gallery's selection (undefined when the argument is not one); ids that
   * no longer exist, or projects no longer open, are dropped. */
  const fromSelection = async (arg: unknown): Promise<SheetItem[] | undefined> => {
    const parsed = SelectionArg.safeParse(arg);
    if (!parsed.success) return undefined;
    // Asked together (the round trips to the database worker overlap), in the selection's order.
    const found = await Promise.all(
      parsed.data.items.map(async ({ project, productId }) => {
        const s = projects.get(project);
        const product = s ? await (await s.db()).getProduct(productId) : undefined;
        return s && product ? { projectDir: s.dir, product } : undefined;
      }),
    );
    return found.filter((i): i is SheetItem => i !== undefined);
  };

  /** From the palette: which products? Favourites, top rated, a recent Generate, or all.
   * `leftOut` counts the matches beyond EXPORT_LIMIT. */
  const chooseProducts = async (verb: string): Promise<{ items: SheetItem[]; title?: string; leftOut: number } | undefined> => {
    const s = await projects.pick(`${verb} from which project?`);
    if (!s) return undefined;
    const db = await s.db();
    const batches = await recentBatches(db, 30);
    type Pick = vscode.QuickPickItem & { query?: ProductQuery; batchId?: string };
    const picks: Pick[] = [
      { label: '$(heart) Favourites', query: { favorite: true } },
      { label: '$(star-full) Rated 4 stars or more', query: { minRating: 4 } },
      { label: '$(files) Every product in the project', query: {} },
      ...(batches.length ? [{ label: 'Recent generations', kind: vscode.QuickPickItemKind.Separator } as Pick] : []),
      ...batches.map((b) => ({
        label: `$(layers) ${b.sourceFile ? path.basename(b.sourceFile) : b.model}`,
        description: `${b.products} images · ${new Date(b.createdAt).toLocaleString()}`,
        detail: b.model,
        batchId: b.batchId,
      })),
    ];
    const pick = await vscode.window.showQuickPick(picks, { title: `${verb}: which products of "${s.name}"?`, matchOnDescription: true });
    if (!pick) return undefined;
    let products: ProductRecord[] = [];
    let leftOut = 0;
    if (pick.batchId) products = await batchProducts(db, pick.batchId);
    else {
      let after: string | undefined;
      do {
        const page = await db.queryProducts({ ...pick.query, sort: 'oldest', after, limit: 500 });
        products.push(...page.items);
        after = page.next;
        leftOut = after ? page.total - products.length : 0;
      } while (after && products.length < EXPORT_LIMIT);
    }
    if (products.length === 0) {
      void vscode.window.showInformationMessage(`Art Factory: no products match "${pick.label.replace(/\$\([\w-]+\)\s*/, '')}" in ${s.name}.`);
      return undefined;
    }
    return { items: products.map((product) => ({ projectDir: s.dir, product })), title: pick.batchId ? `${pick.label.replace(/\$\([\w-]+\)\s*/, '')} — ${pick.detail ?? ''}` : undefined, leftOut };
  };

  const importCmd = cmd('artFactory.importImages', 'the import stopped (the images imported so far are kept)', async (arg: unknown, all: unknown) => {
    // From the Explorer: the clicked resource(s), into the project they are in; from the palette: ask.
    const uris = (Array.isArray(all) ? all : [arg]).filter((u): u is vscode.Uri => u instanceof vscode.Uri);
    await projects.ready();
    const session = (uris[0] && projects.forUri(uris[0])) || (await projects.pick('Import images into which project?'));
    if (!session) return;
    let sources = uris.map((u) => u.fsPath);
    if (sources.length === 0) {
      const how = await vscode.window.showQuickPick(
        [
          { label: '$(file-media) Image Files…', description: 'PNG, JPEG, WebP, GIF, AVIF', folders: false },
          { label: '$(folder) A Folder…', description: 'with all its subfolders', folders: true },
        ],
        { title: `Import Images into "${session.name}"` },
      );
      if (!how) return;
      const picked = await vscode.window.showOpenDialog({
        title: how.folders ? 'Import every image in a folder (and its subfolders)' : 'Import images',
        canSelectFiles: !how.folders,
        canSelectFolders: how.folders,
        canSelectMany: true,
        openLabel: 'Import',
        filters: how.folders ? undefined : { Images: IMPORT_EXTENSIONS },
      });
      if (!picked?.length) return;
      sources = picked.map((u) => u.fsPath);
    }
    const db = await session.db();
    log.info(`import into ${session.name}: ${sources.join(', ')}`);
    const report = await vscode.window.withProgress(
      { location: vscode.ProgressLocation.Notification, title: `Art Factory: importing into ${session.name}`, cancellable: true },
      (progress, token) => {
        const ac = new AbortController();
        token.onCancellationRequested(() => ac.abort());
        let last = 0;
        return importImages(session.dir, db, sources, {
          signal: ac.signal,
          maxMegapixels: settings.importMaxMegapixels(),
          onProgress: (p) => {
            const pct = p.total ? (p.done / p.total) * 100 : 0;
            progress.report({ increment: pct - last, message: `${p.done} of ${p.total} · ${path.basename(p.file)}` });
            last = pct;
          },
          onProduct: (p) => d.gallery?.onProduct(session.dir, p),
          onThumbnail: (id) => d.gallery?.onThumbnail(session.dir, id),
        });
      },
    );
    d.projectsView.recount(session.dir);
    const skipped = report.skipped.length + report.moreSkipped;
    if (!report.canceled && report.imported + report.duplicates.length + skipped === 0) {
      void vscode.window.showInformationMessage(`Art Factory: no images found to import (${IMPORT_EXTENSIONS.join(', ')}; hidden folders are not searched).`);
      return;
    }
    for (const line of describeSkips(report)) log.warn(`import skipped ${line}`);
    const tools = Object.entries(report.byTool).map(([t, n]) => `${n} ${t}`).join(', ');
    log.info(`import into ${session.name}: ${report.imported} imported (${tools || 'none'}), ${report.duplicates.length} already there, ${skipped} skipped${report.canceled ? ', canceled' : ''}`);
    const parts = [`${report.imported} imported`, `${skipped} skipped`];
    if (report.duplicates.length) parts.push(`${report.duplicates.length} already in the project`);
    const text = `Art Factory: ${report.canceled ? 'import canceled — ' : ''}${parts.join(', ')}.${report.withWarnings ? ` ${report.withWarnings} had metadata that could not be fully read (kept as raw text).` : ''}`;
    const buttons = [...(skipped ? ['Show Why'] : []), ...(report.imported ? ['Open Gallery'] : [])];
    const choice = await (skipped ? vscode.window.showWarningMessage(text, ...buttons) : vscode.window.showInformationMessage(text, ...buttons));
    if (choice === 'Show Why') log.show();
    if (choice === 'Open Gallery') await vscode.commands.executeCommand('artFactory.openGallery', session);
  });

  const exportCmd = cmd('artFactory.exportProducts', 'the export stopped', async (arg: unknown) => {
    // From the gallery: its selection; from the palette: ask which products.
    const fromGallery = await fromSelection(arg);
    const asked = fromGallery ? undefined : await chooseProducts('Export Products');
    const chosen = fromGallery ?? asked?.items;
    if (!chosen) return;
    if (chosen.length === 0) throw new Error('Those products no longer exist.');
    const n = chosen.length;
    const format = await vscode.window.showQuickPick(
      [
        { label: 'Original files', description: 'copied unchanged, with their embedded parameters', format: 'original' as ExportFormat },
        { label: 'PNG', description: 'lossless; A1111 "parameters" text chunk + Art Factory record', format: 'png' as ExportFormat },
        { label: 'JPEG', description: 'parameters in EXIF UserComment (A1111 / Civitai read it)', format: 'jpeg' as ExportFormat },
        { label: 'WebP', description: 'parameters in EXIF UserComment', format: 'webp' as ExportFormat },
      ],
      { title: `Export ${n} product${n === 1 ? '' : 's'}: format` },
    );
    if (!format) return;
    let maxSide: number | undefined;
    if (format.format !== 'original') {
      const size = await vscode.window.showQuickPick(
        [
          { label: 'Full size', side: 0 },
          ...[2048, 1536, 1024, 768, 512].map((side) => ({ label: `${side} px`, description: 'longest side; smaller images are not enlarged', side })),
          { label: 'Custom…', side: -1 },
        ],
        { title: `Export ${n} as ${format.label}: size` },
      );
      if (!size) return;
      if (size.side === -1) {
        const v = await vscode.window.showInputBox({ title: 'Longest side in pixels', validateInput: (t) => (/^\d+$/.test(t.trim()) && Number(t) >= 16 && Number(t) <= 16384 ? undefined : 'A whole number from 16 to 16384.') });
        if (!v) return;
        maxSide = Number(v);
      } else maxSide = size.side || undefined;
    }
    // Where the last export went, else the project's folder, where the contact sheet's dialog starts.
    const last = d.context.globalState.get<string>('artFactory.lastExportFolder');
    const start = last && existsSync(last) ? last : chosen[0].projectDir;
    const target = await vscode.window.showOpenDialog({ title: `Export ${n} product${n === 1 ? '' : 's'} to…`, canSelectFolders: true, canSelectFiles: false, openLabel: 'Export Here', defaultUri: vscode.Uri.file(start) });
    if (!target?.[0]) return;
    await d.context.globalState.update('artFactory.lastExportFolder', target[0].fsPath);
    const report = await vscode.window.withProgress(
      { location: vscode.ProgressLocation.Notification, title: `Art Factory: exporting ${n} product${n === 1 ? '' : 's'}`, cancellable: true },
      (progress, token) => {
        const ac = new AbortController();
        token.onCancellationRequested(() => ac.abort());
        return exportProducts(chosen, target[0].fsPath, { format: format.format, maxSide, signal: ac.signal, onProgress: (done, total) => progress.report({ increment: 100 / total, message: `${done} of ${total}` }) });
      },
    );
    for (const f of report.failed) log.warn(`export ${f.productId}: ${f.reason}`);
    for (const w of report.written) if (w.note) log.info(`export ${w.productId}: ${w.note}`);
    const notAsked = asked?.leftOut ? ` ${asked.leftOut} more matched; an export takes at most ${EXPORT_LIMIT.toLocaleString('en')} at a time.` : '';
    const text = `Art Factory: exported ${report.written.length} of ${n}${report.canceled ? ' (canceled)' : ''} to ${target[0].fsPath}.${report.failed.length ? ` ${report.failed.length} failed.` : ''}${notAsked}`;
    const reveal = report.written.length ? ['Reveal'] : [];
    const choice = await (report.failed.length ? vscode.window.showWarningMessage(text, 'Show Log', ...reveal) : vscode.window.showInformationMessage(text, ...reveal));
    if (choice === 'Show Log') log.show();
    if (choice === 'Reveal' && report.written[0]) await vscode.commands.executeCommand('revealFileInOS', vscode.Uri.file(report.written[0].file));
  });

  const sheetCmd = cmd('artFactory.makeContactSheet', 'the contact sheet could not be saved', async (arg: unknown) => {
    const fromGallery = await fromSelection(arg);
    const chosen = fromGallery ? { items: fromGallery, title: undefined } : await chooseProducts('Make Contact Sheet');
    if (!chosen) return;
    if (chosen.items.length === 0) throw new Error('Those products no longer exist.');
    const format = await vscode.window.showQuickPick(
      [
        { label: 'PNG', description: 'lossless', format: 'png' as const },
        { label: 'JPEG', description: 'smaller', format: 'jpeg' as const },
      ],
      { title: `Contact sheet of ${chosen.items.length} products: format` },
    );
    if (!format) return;
    const stamp = new Date().toISOString().slice(0, 16).replace(/[:T]/g, '-');
    const target = await vscode.window.showSaveDialog({
      title: 'Save the contact sheet as',
      defaultUri: vscode.Uri.file(path.join(chosen.items[0].projectDir, `contact-sheet-${stamp}.${format.format === 'png' ? 'png' : 'jpg'}`)),
      filters: format.format === 'png' ? { 'PNG image': ['png'] } : { 'JPEG image': ['jpg', 'jpeg'] },
    });
    if (!target) return;
    const ac = new AbortController();
    let sheet: ContactSheet;
    try {
      sheet = await vscode.window.withProgress({ location: vscode.ProgressLocation.Notification, title: 'Art Factory: making the contact sheet', cancellable: true }, (progress, token) => {
        token.onCancellationRequested(() => ac.abort());
        return makeContactSheet(chosen.items, { format: format.format, title: chosen.title, signal: ac.signal, onProgress: (done, total) => progress.report({ increment: 100 / total, message: `${done} of ${total}` }) });
      });
    } catch (e) {
      if (ac.signal.aborted) return; // canceled by the user: nothing to report
      throw e;
    }
    try {
      await writeFileAtomic(target.fsPath, sheet.bytes);
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      if (code === 'EACCES' || code === 'EPERM' || code === 'EROFS') throw new Error(`${path.dirname(target.fsPath)} cannot be written to (${code}): save the contact sheet somewhere else.`);
      throw e;
    }
    const layout = sheet.axes ? `rows by ${sheet.axes.rows}, columns by ${sheet.axes.columns}` : 'a grid';
    const more = sheet.leftOut ? ` The first ${sheet.included} are shown; ${sheet.leftOut} were left out (a sheet holds at most ${sheet.included}).` : '';
    const choice = await vscode.window.showInformationMessage(`Art Factory: contact sheet of ${sheet.included} (${layout}, ${sheet.width}×${sheet.height}) saved.${more}`, 'Open', 'Reveal');
    if (choice === 'Open') await vscode.commands.executeCommand('vscode.open', target);
    if (choice === 'Reveal') await vscode.commands.executeCommand('revealFileInOS', target);
  });

  return [importCmd, exportCmd, sheetCmd];
}
