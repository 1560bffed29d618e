// Ctrl/Cmd+Z: a key that belongs to the whole panel rather than to one view of it.
import { useEffect, useRef } from 'preact/hooks';
import { isEditable } from '../keys.ts';

/** Ctrl/Cmd+Z anywhere in the panel but a text field: `undo`. Heard on the window in the
 * capture phase, so it works whatever in the panel has the focus (the grid, a toolbar button,
 * the detail view). Inside a webview the key reaches the page first; VS Code's own Undo then
 * only runs the document's (empty) undo, so the delete is undone once. */
export function useUndoKey(undo: () => void): void {
  const latest = useRef(undo);
  latest.current = undo;
  useEffect(() => {
    const onKey = (e: KeyboardEvent) => {
      if (!(e.ctrlKey || e.metaKey) || e.shiftKey || e.altKey || e.key.toLowerCase() !== 'z' || isEditable(e)) return;
      e.preventDefault();
      e.stopPropagation();
      latest.current();
    };
    window.addEventListener('keydown', onKey, true);
    return () => window.removeEventListener('keydown', onKey, true);
  }, []);
}
