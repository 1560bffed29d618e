// A project's safety: Back Up, Restore Project, Rebuild Index, Restore Database Backup, Verify.
import * as path from 'node:path';
import * as vscode from 'vscode';
import { withCancellableProgress } from '../progress.ts';
import { backupProject, restoreProject } from '../../archive/backup.ts';
import { describeVerify } from '../../archive/verify.ts';
import { safeFileName } from '../../engine/templates.ts';
import { rebuildIndex, restoreLatestBackup, StorageError } from '../../storage/index.ts';
import { freshPath } from '../paramFileWriter.ts';
import { runVerify } from '../verify.ts';
import * as args from './args.ts';
import type { CommandContext } from './context.ts';
import { addToWorkspace } from './projects.ts';
import type { CommandTable } from './register.ts';

type BackupCommands = Pick<CommandTable, 'backupProject' | 'restoreProject' | 'rebuildIndex' | 'restoreBackup' | 'verifyProject'>;

export function backupCommands({ projects, projectsView, log, verify }: CommandContext): BackupCommands {
  return {
    backupProject: {
      args: args.project,
      run: async (project) => {
        const s = project ?? (await projects.pick('Back up which project?'));
        if (!s) return;
        const stamp = new Date().toISOString().slice(0, 16).replace(/[:T]/g, '-');
        const target = await vscode.window.showSaveDialog({
          title: `Back up "${s.name}"`,
          defaultUri: vscode.Uri.file(path.join(path.dirname(s.dir), `${safeFileName(s.name)}-${stamp}.zip`)),
          filters: { 'Zip archive': ['zip'] },
        });
        if (!target) return;
        // The database goes into the zip as one file, its change journal folded in.
        await (await s.db()).compact();
        const report = await withCancellableProgress(`Art Factory: backing up ${s.name}`, (signal, report) =>
          backupProject(s.dir, target.fsPath, { signal, onProgress: (done, total) => report(done, total, `${done}/${total} files`) }),
        );
        const mb = (report.bytes / 1024 / 1024).toFixed(1);
        void vscode.window.showInformationMessage(`Art Factory: ${s.name} backed up (${report.files} files, ${mb} MB).`, 'Reveal').then((b) => b && vscode.commands.executeCommand('revealFileInOS', target));
      },
    },

    restoreProject: {
      args: args.none,
      trustedOnly: 'Restoring a project',
      run: async () => {
        const zip = await vscode.window.showOpenDialog({ title: 'Restore Project from Backup', canSelectFiles: true, filters: { 'Zip archive': ['zip'] }, openLabel: 'Restore' });
        if (!zip?.[0]) return;
        const parent = await vscode.window.showOpenDialog({ title: 'Restore into a new folder inside…', canSelectFolders: true, canSelectFiles: false, openLabel: 'Restore Here' });
        if (!parent?.[0]) return;
        const dir = await freshPath(parent[0].fsPath, safeFileName(path.basename(zip[0].fsPath, '.zip')), '');
        const result = await vscode.window.withProgress({ location: vscode.ProgressLocation.Notification, title: 'Art Factory: restoring…' }, () => restoreProject(zip[0].fsPath, dir));
        const { verify: checked } = result;
        for (const line of describeVerify(checked)) log[checked.ok ? 'info' : 'warn'](`restore ${dir}: ${line}`);
        if (!checked.ok) {
          void vscode.window
            .showWarningMessage(`Art Factory: restored into ${dir}, but it has ${checked.problems.length} problem${checked.problems.length === 1 ? '' : 's'} (${checked.quarantined.length} product${checked.quarantined.length === 1 ? '' : 's'} quarantined: not shown, never opened, exported or deleted).`, 'Show Log')
            .then((b) => b && log.show());
        } else {
          void vscode.window.showInformationMessage(`Art Factory: restored into ${dir}; all ${checked.verified} products verified.`);
        }
        addToWorkspace(dir);
        await projects.rescan();
      },
    },

    rebuildIndex: {
      args: args.project,
      trustedOnly: 'Rebuilding the index',
      run: async (project) => {
        const s = project ?? (await projects.pick('Rebuild the index of…'));
        if (!s) return;
        const ok = await vscode.window.showWarningMessage(
          `Rebuild the index of "${s.name}" from its sidecar files?`,
          { modal: true, detail: 'The current database is kept in .artfactory/backups/. Products, ratings, tags and notes come back from the sidecars; job history does not.' },
          'Rebuild',
        );
        if (!ok) return;
        await s.close();
        let skipped = 0;
        const n = await withCancellableProgress(`Art Factory: rebuilding ${s.name}`, (signal, report) =>
          rebuildIndex(s.dir, {
            signal,
            onSkip: (file, why) => {
              skipped++;
              log.warn(`rebuild ${s.dir}: skipped ${file}: ${why}`);
            },
            onProgress: ({ done, total, saving }) => report(done, total, `${done.toLocaleString()}/${total.toLocaleString()} sidecars${saving ? ', saving the index (too late to cancel)…' : ''}`),
          }),
        )
          .then(
            (count) => count,
            (e: unknown) => {
              // Canceled: the database is as it was (the rebuild is installed only at its end).
              if (e instanceof StorageError && e.kind === 'canceled') return undefined;
              throw e;
            },
          );
        projectsView.recount(s.dir);
        if (n === undefined) {
          void vscode.window.showInformationMessage(`Art Factory: rebuilding ${s.name} was canceled; its index is as it was.`);
          return;
        }
        const note = skipped ? ` ${skipped} unreadable sidecar${skipped === 1 ? ' was' : 's were'} skipped (see the log).` : '';
        void vscode.window.showInformationMessage(`Art Factory: ${s.name} rebuilt from sidecars (${n} products).${note}`, ...(skipped ? ['Show Log'] : [])).then((b) => b && log.show());
      },
    },

    restoreBackup: {
      args: args.project,
      trustedOnly: 'Restoring the database',
      run: async (project) => {
        const s = project ?? (await projects.pick('Restore the database of…'));
        if (!s) return;
        const ok = await vscode.window.showWarningMessage(`Restore the latest database backup of "${s.name}"?`, { modal: true, detail: 'The current database is moved aside first, not deleted.' }, 'Restore');
        if (!ok) return;
        await s.close();
        await restoreLatestBackup(s.dir);
        projectsView.recount(s.dir);
        void vscode.window.showInformationMessage(`Art Factory: ${s.name} restored from its latest backup.`);
      },
    },

    verifyProject: {
      args: args.project,
      run: async (project) => {
        const s = project ?? (await projects.pick('Verify which project?'));
        if (s) await runVerify(s, verify);
      },
    },
  };
}
