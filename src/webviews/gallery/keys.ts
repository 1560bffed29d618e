// Where a key belongs: to a text field, or to the gallery.

/** Whether a key event is typed into a text field (a vscode-textfield's shadow input, a
 * textarea): there Ctrl+Z, letters and arrows are the field's own. */
export function isEditable(e: Event): boolean {
  return e.composedPath().some((n) => {
    if (!(n instanceof HTMLElement)) return false;
    if (n.isContentEditable || n.tagName === 'TEXTAREA' || n.tagName === 'VSCODE-TEXTFIELD' || n.tagName === 'VSCODE-TEXTAREA') return true;
    return n.tagName === 'INPUT' && !['range', 'checkbox', 'radio', 'button'].includes((n as HTMLInputElement).type);
  });
}
