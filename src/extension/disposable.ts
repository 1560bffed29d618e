import type * as vscode from 'vscode';

/** A disposable that owns children and disposes them with itself, in reverse order. */
export class Disposable implements vscode.Disposable {
  private readonly children: { dispose(): unknown }[] = [];
  private disposed = false;

  protected register<T extends { dispose(): unknown }>(child: T): T {
    if (this.disposed) child.dispose();
    else this.children.push(child);
    return child;
  }

  get isDisposed(): boolean {
    return this.disposed;
  }

  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    for (const c of this.children.splice(0).reverse()) {
      try {
        c.dispose();
      } catch {
        // One child failing to dispose must not keep the others alive.
      }
    }
  }
}
