// Civitai-specific edits of parameter files, kept free of `vscode` so they can be tested in
// plain Node: adding a LoRA entry (`{air, strength}`) to `input.loras` of a Civitai file.
import { applyEdits, modify, parse, type Edit, type FormattingOptions } from 'jsonc-parser';

export interface LoraEntry {
  air: string;
  strength: number;
}

/**
 * The edits that append `entry` to `input.loras` (creating the list when missing), or
 * undefined when the text is not a Civitai parameter file this can safely edit (another
 * provider, no `input` object, `loras` that is not a list, or the AIR already listed).
 */
export function addLoraEdits(text: string, entry: LoraEntry, formattingOptions: FormattingOptions = { insertSpaces: true, tabSize: 2, eol: '\n' }): Edit[] | undefined {
  const json = parse(text) as unknown;
  if (!json || typeof json !== 'object' || Array.isArray(json)) return undefined;
  const file = json as { provider?: unknown; input?: unknown };
  if (file.provider !== 'civitai' || !file.input || typeof file.input !== 'object' || Array.isArray(file.input)) return undefined;
  const loras = (file.input as { loras?: unknown }).loras;
  if (loras === undefined) return modify(text, ['input', 'loras'], [entry], { formattingOptions });
  if (!Array.isArray(loras)) return undefined;
  if (loras.some((l: unknown) => l && typeof l === 'object' && (l as { air?: unknown }).air === entry.air)) return undefined;
  return modify(text, ['input', 'loras', -1], entry, { formattingOptions, isArrayInsertion: true });
}

/** The text with the LoRA added, or undefined (see addLoraEdits). */
export function addLora(text: string, entry: LoraEntry, formattingOptions?: FormattingOptions): string | undefined {
  const edits = addLoraEdits(text, entry, formattingOptions);
  return edits ? applyEdits(text, edits) : undefined;
}
