// A labelled vscode-single-select that reports the chosen value.
import type { ComponentChildren } from 'preact';
import { valueOf } from '../controls.ts';

export function Select({ label, value, onChange, children }: { label: string; value: string; onChange: (v: string) => void; children: ComponentChildren }) {
  return (
    <vscode-single-select label={label} value={value} onChange={(e) => onChange(valueOf(e))}>
      {children}
    </vscode-single-select>
  );
}
