// JSX for the @vscode-elements/elements custom elements the gallery uses. Preact sets a prop
// as a property when the (already defined) element has it, so `value`, `checked`, `label` and
// `disabled` reach the Lit properties; everything else (aria-*, class) becomes an attribute.
import type { JSX } from 'preact';

type Base = JSX.HTMLAttributes<HTMLElement>;

interface ButtonProps extends Omit<Base, 'icon'> {
  secondary?: boolean;
  disabled?: boolean;
}
interface TextfieldProps extends Omit<Base, 'type' | 'value' | 'label'> {
  type?: 'text' | 'search' | 'date';
  value?: string;
  /** The inner input's accessible name (the shadow input cannot see a light-DOM <label>). */
  label?: string;
  placeholder?: string;
}
interface TextareaProps extends Omit<Base, 'value' | 'label'> {
  value?: string;
  label?: string;
  rows?: number;
}
interface SelectProps extends Omit<Base, 'value' | 'label'> {
  value?: string;
  /** The combobox's accessible name; reflected as the `label` attribute. */
  label?: string;
}
interface OptionProps extends Omit<Base, 'value'> {
  value?: string;
}
interface CheckboxProps extends Omit<Base, 'checked' | 'label'> {
  checked?: boolean;
  label?: string;
}

declare module 'preact' {
  namespace JSX {
    interface IntrinsicElements {
      'vscode-button': ButtonProps;
      'vscode-textfield': TextfieldProps;
      'vscode-textarea': TextareaProps;
      'vscode-single-select': SelectProps;
      'vscode-option': OptionProps;
      'vscode-checkbox': CheckboxProps;
      'vscode-divider': Base;
    }
  }
}
