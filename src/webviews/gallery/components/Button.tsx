// A secondary vscode-button. It reflects `disabled` but sets no ARIA state, so `aria-disabled`
// is set here for screen readers (and for tools that ask the accessibility tree).
import type { ComponentChildren, JSX } from 'preact';

export function Button({ disabled, children, ...rest }: JSX.HTMLAttributes<HTMLElement> & { disabled?: boolean; children?: ComponentChildren }) {
  return (
    <vscode-button secondary {...rest} disabled={!!disabled} aria-disabled={disabled ? 'true' : undefined}>
      {children}
    </vscode-button>
  );
}
