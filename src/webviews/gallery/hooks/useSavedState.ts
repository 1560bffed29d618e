// What VS Code restores when it recreates the webview: the filter, the view, the focused and
// selected products at once, and the scroll position at most every 200 ms while scrolling.
import { useEffect, useLayoutEffect } from 'preact/hooks';
import { saveState, type SavedState } from '../rpc.ts';

/** `snapshot` is saved when any of `now` changes (in the render's own task: VS Code may hide
 * the panel right after a key), and 200 ms after `scrollTop` last changed. */
export function useSavedState(snapshot: () => SavedState, now: readonly unknown[], scrollTop: number): void {
  useLayoutEffect(() => saveState(snapshot()), now);
  useEffect(() => {
    const t = setTimeout(() => saveState(snapshot()), 200);
    return () => clearTimeout(t);
  }, [scrollTop]);
}
