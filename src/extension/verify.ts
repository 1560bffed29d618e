// Verify Project in the editor: the command, and the offer made when a project's database was
// written elsewhere (another folder or machine: a restored backup, a clone, a synced folder).
// The check itself is src/archive/verify.ts, the same one `art-factory verify` runs.
import * as path from 'node:path';
import * as vscode from 'vscode';
import { withCancellableProgress } from './progress.ts';
import { describeVerify, verifyProject, type VerifyReport } from '../archive/verify.ts';
import { markWrittenHere, writtenElsewhere } from '../storage/index.ts';
import type { ProjectDb } from '../storage/types.ts';
import type { OutputLog } from './log.ts';
import type { ProjectManager, ProjectSession } from './projects.ts';

export interface VerifyDeps {
  projects: ProjectManager;
  log: OutputLog;
  /** After a verify moved rows in or out of quarantine: query the gallery again. */
  refreshGallery(): Promise<void>;
  /** The database now counts as written here (verified, or trusted as is): resume its jobs. */
  trusted(): Promise<void>;
}

/** Run Verify Project with progress, log every problem, and say how it went. */
export async function runVerify(s: ProjectSession, d: VerifyDeps): Promise<VerifyReport> {
  const db = await s.db();
  const report = await withCancellableProgress(`Art Factory: verifying ${s.name}`, (signal, report) =>
    verifyProject(s.dir, { db, signal, onProgress: (done, total) => report(done, total, `${done} of ${total} products`) }),
  );
  for (const line of describeVerify(report)) (report.ok ? d.log.info : d.log.warn).call(d.log, `verify ${s.name}: ${line}`);
  await d.refreshGallery();
  await d.trusted();
  if (report.ok) {
    void vscode.window.showInformationMessage(`Art Factory: ${s.name} verified: ${report.verified} products, every file and sidecar as recorded.`);
  } else {
    const q = report.quarantined.length;
    void vscode.window
      .showWarningMessage(`Art Factory: ${s.name} has ${report.problems.length} problem${report.problems.length === 1 ? '' : 's'}${q ? `; ${q} product${q === 1 ? ' is' : 's are'} in quarantine (not shown, never opened, exported or deleted)` : ''}. ${report.problems[0]?.problem ?? ''}`, 'Show Log')
      .then((b) => b && d.log.show());
  }
  return report;
}

/** When a project's database was written in another folder or on another machine, offer to
 * verify it (the path rule protects every file meanwhile; the verify says what is wrong). */
export async function offerVerifyIfElsewhere(dir: string, db: ProjectDb, d: VerifyDeps): Promise<void> {
  if (!(await writtenElsewhere(db, dir))) return;
  const name = path.basename(dir);
  d.log.info(`${name}: its database was written in another folder or on another machine; offering Verify Project`);
  const choice = await vscode.window.showInformationMessage(
    `Art Factory: the database of "${name}" was written in another folder or on another machine (a copy, a restored backup, a cloned repository). Verify that its products are what it says?`,
    'Verify Project',
    'Trust as Is',
  );
  if (choice === 'Trust as Is') {
    await markWrittenHere(db, dir);
    await d.trusted();
  }
  if (choice === 'Verify Project') {
    const s = d.projects.get(dir);
    if (s) await runVerify(s, d);
  }
}
