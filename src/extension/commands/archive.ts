// Import Images…, Export Products…, Make Contact Sheet…: the VS Code side (dialogs, progress
// with cancel, summaries) over the vscode-free core in src/archive. The gallery's bulk actions
// call `exportItems` and `contactSheetOf` with the products it holds, not the commands.
import { existsSync } from 'node:fs';
import * as path from 'node:path';
import * as vscode from 'vscode';
import { withCancellableProgress } from '../progress.ts';
import { batchProducts, makeContactSheet, recentBatches, type ContactSheet, type SheetItem } from '../../archive/contactSheet.ts';
import { exportProducts, type ExportFormat } from '../../archive/export.ts';
import { describeSkips, importImages, IMPORT_EXTENSIONS } from '../../archive/import.ts';
import { writeFileAtomic } from '../../storage/atomic.ts';
import { diskFullMessage, isDiskFull } from '../../storage/errors.ts';
import type { ProductQuery, ProductRecord } from '../../storage/types.ts';
import { describeProviderError } from '../errors.ts';
import { settings } from '../settings.ts';
import * as args from './args.ts';
import type { CommandContext } from './context.ts';
import { runCommand, type CommandTable } from './register.ts';

type ArchiveCommands = Pick<CommandTable, 'importImages' | 'exportProducts' | 'makeContactSheet'>;

/** A full disk is said as such (`stopped` tells what it stopped), not as a bare ENOSPC. */
export const diskFull = (stopped: string) => (e: unknown) => (isDiskFull(e) ? { message: diskFullMessage(stopped), actions: ['Retry'] } : describeProviderError(e));

const EXPORT_LIMIT = 10_000;

/** From the palette: which products? Favourites, top rated, a recent Generate, or all.
 * `leftOut` counts the matches beyond EXPORT_LIMIT. */
async function chooseProducts({ projects }: CommandContext, verb: string): Promise<{ items: SheetItem[]; title?: string; leftOut: number } | undefined> {
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
}

/** Export products: format, size and place asked, progress with cancel, a summary. `leftOut`:
 * how many more matched than an export takes. */
export async function exportItems(ctx: CommandContext, chosen: SheetItem[], leftOut = 0): Promise<void> {
  const { log } = ctx;
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
  const last = ctx.context.globalState.get<string>('artFactory.lastExportFolder');
  const start = last && existsSync(last) ? last : chosen[0].projectDir;
  const target = await vscode.window.showOpenDialog({ title: `Export ${n} product${n === 1 ? '' : 's'} to…`, canSelectFolders: true, canSelectFiles: false, openLabel: 'Export Here', defaultUri: vscode.Uri.file(start) });
  if (!target?.[0]) return;
  await ctx.context.globalState.update('artFactory.lastExportFolder', target[0].fsPath);
  const report = await withCancellableProgress(`Art Factory: exporting ${n} product${n === 1 ? '' : 's'}`, (signal, report) =>
    exportProducts(chosen, target[0].fsPath, { format: format.format, maxSide, signal, onProgress: (done, total) => report(done, total, `${done} of ${total}`) }),
  );
  for (const f of report.failed) log.warn(`export ${f.productId}: ${f.reason}`);
  for (const w of report.written) if (w.note) log.info(`export ${w.productId}: ${w.note}`);
  const notAsked = leftOut ? ` ${leftOut} more matched; an export takes at most ${EXPORT_LIMIT.toLocaleString('en')} at a time.` : '';
  const text = `Art Factory: exported ${report.written.length} of ${n}${report.canceled ? ' (canceled)' : ''} to ${target[0].fsPath}.${report.failed.length ? ` ${report.failed.length} failed.` : ''}${notAsked}`;
  const reveal = report.written.length ? ['Reveal'] : [];
  const choice = await (report.failed.length ? vscode.window.showWarningMessage(text, 'Show Log', ...reveal) : vscode.window.showInformationMessage(text, ...reveal));
  if (choice === 'Show Log') log.show();
  if (choice === 'Reveal' && report.written[0]) await vscode.commands.executeCommand('revealFileInOS', vscode.Uri.file(report.written[0].file));
}

/** A contact sheet of products: format and place asked, progress with cancel. */
export async function contactSheetOf(chosen: { items: SheetItem[]; title?: string }): Promise<void> {
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
    sheet = await withCancellableProgress(
      'Art Factory: making the contact sheet',
      (signal, report) => makeContactSheet(chosen.items, { format: format.format, title: chosen.title, signal, onProgress: (done, total) => report(done, total, `${done} of ${total}`) }),
      ac,
    );
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
}

export const EXPORT_STOPPED = 'the export stopped';
export const SHEET_STOPPED = 'the contact sheet could not be saved';

export function archiveCommands(ctx: CommandContext): ArchiveCommands {
  const { projects, projectsView, log } = ctx;
  return {
    importImages: {
      args: args.resources,
      trustedOnly: 'Importing images',
      describe: diskFull('the import stopped (the images imported so far are kept)'),
      run: async (resource, selected) => {
        // From the Explorer: the clicked resource(s), into the project they are in; from the palette: ask.
        const uris = selected?.length ? selected : resource ? [resource] : [];
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
        let thumbnails = 0;
        const report = await withCancellableProgress(`Art Factory: importing into ${session.name}`, (signal, report) =>
          importImages(session.dir, db, sources, {
            signal,
            maxMegapixels: settings.importMaxMegapixels(),
            onProgress: (p) => report(p.done, p.total, `${p.done} of ${p.total} · ${path.basename(p.file)}`),
            onProduct: (p) => projects.announceProduct(session, p),
            onThumbnail: (id) => {
              thumbnails++;
              projects.announceThumbnail(session, id);
            },
          }),
        );
        projectsView.recount(session.dir);
        // Thumbnails are made after the import returns (the gallery shows the originals until
        // then): the status bar says how far they are, as VS Code shows other background work.
        const toThumbnail = report.imported + report.recovered;
        if (toThumbnail) {
          void vscode.window.withProgress({ location: vscode.ProgressLocation.Window, title: 'Art Factory' }, (progress) => {
            const say = () => progress.report({ message: `thumbnails for ${session.name}: ${thumbnails.toLocaleString()} of ${toThumbnail.toLocaleString()}` });
            say();
            const timer = setInterval(say, 500);
            return report.thumbnailsDone.finally(() => clearInterval(timer));
          });
        }
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
        if (report.recovered) parts.push(`${report.recovered} left by an interrupted import finished`);
        const text = `Art Factory: ${report.canceled ? 'import canceled — ' : ''}${parts.join(', ')}.${report.withWarnings ? ` ${report.withWarnings} had metadata that could not be fully read (kept as raw text).` : ''}`;
        const buttons = [...(skipped ? ['Show Why'] : []), ...(report.imported ? ['Open Gallery'] : [])];
        const choice = await (skipped ? vscode.window.showWarningMessage(text, ...buttons) : vscode.window.showInformationMessage(text, ...buttons));
        if (choice === 'Show Why') log.show();
        if (choice === 'Open Gallery') await runCommand('openGallery', session);
      },
    },

    exportProducts: {
      args: args.none,
      describe: diskFull(EXPORT_STOPPED),
      run: async () => {
        const asked = await chooseProducts(ctx, 'Export Products');
        if (asked) await exportItems(ctx, asked.items, asked.leftOut);
      },
    },

    makeContactSheet: {
      args: args.none,
      describe: diskFull(SHEET_STOPPED),
      run: async () => {
        const chosen = await chooseProducts(ctx, 'Make Contact Sheet');
        if (chosen) await contactSheetOf(chosen);
      },
    },
  };
}
