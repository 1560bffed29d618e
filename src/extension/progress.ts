// A long task in a cancellable progress notification: the notification's Cancel aborts the
// signal the task gets, and `report(done, total, message)` moves the bar to done/total.
import * as vscode from 'vscode';

export type ReportProgress = (done: number, total: number, message: string) => void;

/** Run `task` under a notification titled `title`. Reports move the bar in steps of at least 1%
 * (a task of 100,000 items does not post 100,000 updates); the first and the last always show.
 * Pass `abort` to look at the signal afterwards (was it the user who stopped it?). */
export function withCancellableProgress<T>(title: string, task: (signal: AbortSignal, report: ReportProgress) => Promise<T>, abort = new AbortController()): Thenable<T> {
  return vscode.window.withProgress({ location: vscode.ProgressLocation.Notification, title, cancellable: true }, (progress, token) => {
    token.onCancellationRequested(() => abort.abort());
    let last: number | undefined;
    return task(abort.signal, (done, total, message) => {
      const pct = total ? (done / total) * 100 : 100;
      if (last !== undefined && pct - last < 1 && done < total) return;
      progress.report({ increment: pct - (last ?? 0), message });
      last = pct;
    });
  });
}
