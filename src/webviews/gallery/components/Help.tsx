// The keyboard help (`?`): every key next to what it does.
import { useEffect, useRef } from 'preact/hooks';
import { Button } from './Button.tsx';

const KEYS: [string, string][] = [
  ['← → ↑ ↓', 'Move between tiles'],
  ['Home / End', 'First / last tile'],
  ['Page Up / Page Down', 'Move a screen'],
  ['Enter', 'Open the detail view (← → for the previous / next product)'],
  ['Space', 'Select or unselect'],
  ['Shift + arrows / click', 'Extend the selection'],
  ['Ctrl/Cmd + click', 'Add to the selection'],
  ['f', 'Favourite'],
  ['1 – 5, 0', 'Rate, or clear the rating'],
  ['c', 'Compare the selected (2–4)'],
  ['Delete', 'Delete'],
  ['Ctrl/Cmd + Z', 'Undo the last delete (while the panel is open)'],
  ['/', 'Search prompts (Escape clears the search)'],
  ['Escape', 'Close, or clear the selection'],
  ['?', 'This list'],
];

export function Help({ onClose }: { onClose: () => void }) {
  const ref = useRef<HTMLDivElement>(null);
  useEffect(() => ref.current?.focus(), []);
  return (
    <div class="overlay" role="dialog" aria-modal="true" aria-labelledby="help-title" tabIndex={-1} ref={ref} onKeyDown={(e) => {
        if (e.key === 'Escape' || e.key === '?') {
          e.stopPropagation();
          onClose();
        }
      }}>
      <div class="panel help">
        <h2 id="help-title">Keyboard</h2>
        <table>
          <tbody>
            {KEYS.map(([k, v]) => (
              <tr key={k}>
                <th scope="row">
                  <kbd>{k}</kbd>
                </th>
                <td>{v}</td>
              </tr>
            ))}
          </tbody>
        </table>
        <Button onClick={onClose}>Close</Button>
      </div>
    </div>
  );
}
