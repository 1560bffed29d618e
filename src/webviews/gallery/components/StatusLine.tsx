// The panel's status line: what an action did or why a key did nothing ("Compare needs 2 to 4
// selected products"), shown for a few seconds and read out by screen readers (role=status).
import { useEffect } from 'preact/hooks';

const SHOW_MS = 6000;

export function StatusLine({ text, onDone }: { text: string; onDone: () => void }) {
  useEffect(() => {
    if (!text) return;
    const t = setTimeout(onDone, SHOW_MS);
    return () => clearTimeout(t);
  }, [text]);
  return (
    <div class={`status-line ${text ? 'shown' : ''}`} role="status" aria-live="polite">
      {text}
    </div>
  );
}
