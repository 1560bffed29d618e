// "Art Factory: Browse Civitai Models…": a quick pick over Civitai's public model search that
// searches as you type (debounced, cursor paging with "Load more…"), filtered to checkpoints or
// LoRAs. Picking a checkpoint version adds it as a custom model and opens the ordinary New
// Parameter File flow for it; picking a LoRA adds `{air, strength}` to `input.loras` of the
// Civitai parameter file in the active editor, or copies that entry to the clipboard.
import * as vscode from 'vscode';
import { addLoraEdits } from '../engine/civitaiParams.ts';
import { isCivitaiProvider, type CivitaiProvider } from '../providers/civitai/adapter.ts';
import { AIR_EXAMPLE, parseCheckpointAir } from '../providers/civitai/air.ts';
import type { CivitaiModel, CivitaiModelVersionSummary } from '../providers/civitai/browse.ts';
import { isProviderError } from '../providers/errors.ts';
import type { ProviderRegistry } from '../providers/registry.ts';
import { none } from './commands/args.ts';
import { runCommand, type Command } from './commands/register.ts';
import { describeProviderError } from './errors.ts';
import type { OutputLog } from './log.ts';

export { AIR_EXAMPLE };

/** For input boxes: undefined when `v` is a usable checkpoint AIR, else why not. */
export function civitaiAirProblem(v: string): string | undefined {
  try {
    parseCheckpointAir(v);
    return undefined;
  } catch (e) {
    return e instanceof Error ? e.message : String(e);
  }
}

type TypeFilter = 'Checkpoint' | 'LORA';
interface ModelItem extends vscode.QuickPickItem {
  model?: CivitaiModel;
  action?: 'more' | 'retry';
}

const PAGE = 30;
const DEBOUNCE_MS = 350;

function count(n: unknown): string {
  return typeof n === 'number' && Number.isFinite(n) ? (n >= 1000 ? `${Math.round(n / 100) / 10}k` : String(n)) : '?';
}

function toItem(m: CivitaiModel): ModelItem {
  const versions = m.modelVersions ?? [];
  const bases = [...new Set(versions.map((v) => v.baseModel).filter(Boolean))].join(', ');
  return {
    label: m.name,
    description: [m.type === 'LORA' ? 'LoRA' : m.type, bases].filter(Boolean).join(' · '),
    detail: [m.creator?.username ? `by ${m.creator.username}` : '', `${count(m.stats?.downloadCount)} downloads`, `${versions.length} version${versions.length === 1 ? '' : 's'}`].filter(Boolean).join(' · '),
    alwaysShow: true,
    model: m,
  };
}

/** As any provider error, but offline the site API's error gets a browsing-specific hint. */
function describeBrowseError(e: unknown): { message: string; actions: string[] } {
  if (isProviderError(e) && e.kind === 'network') return { message: 'Could not reach civitai.com. Browsing needs a network connection: check it, then press Enter to retry.', actions: ['Retry'] };
  return describeProviderError(e);
}

/** The search quick pick; resolves with the picked model, or undefined when dismissed. */
function pickModel(provider: CivitaiProvider, log: OutputLog): Promise<CivitaiModel | undefined> {
  return new Promise((resolve) => {
    const qp = vscode.window.createQuickPick<ModelItem>();
    let filter: TypeFilter = 'Checkpoint';
    let items: ModelItem[] = [];
    let cursor: string | undefined;
    let inflight: AbortController | undefined;
    let timer: NodeJS.Timeout | undefined;
    let done = false;
    const button = (): vscode.QuickInputButton => ({ iconPath: new vscode.ThemeIcon(filter === 'Checkpoint' ? 'symbol-class' : 'extensions'), tooltip: filter === 'Checkpoint' ? 'Showing checkpoints: click for LoRAs' : 'Showing LoRAs: click for checkpoints' });
    const retitle = () => {
      qp.title = `Browse Civitai Models: ${filter === 'Checkpoint' ? 'checkpoints' : 'LoRAs'}`;
      qp.placeholder = `Search Civitai ${filter === 'Checkpoint' ? 'checkpoints' : 'LoRAs'} by name (the button switches to ${filter === 'Checkpoint' ? 'LoRAs' : 'checkpoints'})`;
      qp.buttons = [button()];
    };

    const load = async (append: boolean): Promise<void> => {
      inflight?.abort();
      const ac = (inflight = new AbortController());
      qp.busy = true;
      try {
        const query = qp.value.trim();
        const page = await provider.searchModels({ query: query || undefined, types: [filter], limit: PAGE, sort: query ? undefined : 'Highest Rated', cursor: append ? cursor : undefined }, ac.signal);
        if (ac.signal.aborted) return;
        const fresh = page.items.map(toItem);
        items = append ? [...items, ...fresh] : fresh;
        cursor = page.nextCursor;
        const more: ModelItem[] = cursor ? [{ label: '$(chevron-down) Load more…', alwaysShow: true, action: 'more' }] : [];
        qp.items = items.length ? [...items, ...more] : [{ label: query ? `No ${filter === 'LORA' ? 'LoRAs' : 'checkpoints'} match "${query}"` : 'Nothing found', alwaysShow: true }];
        if (append && fresh.length) qp.activeItems = [qp.items[items.length - fresh.length]];
      } catch (e) {
        if (ac.signal.aborted) return;
        log.warn(`civitai: browsing failed: ${e instanceof Error ? e.message : String(e)}`);
        qp.items = [...(append ? items : []), { label: `$(error) ${describeBrowseError(e).message}`, alwaysShow: true, action: 'retry' }];
      } finally {
        if (inflight === ac) qp.busy = false;
      }
    };

    const finish = (m: CivitaiModel | undefined) => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      inflight?.abort();
      resolve(m);
      qp.dispose();
    };

    retitle();
    qp.matchOnDescription = true;
    qp.onDidChangeValue(() => {
      clearTimeout(timer);
      timer = setTimeout(() => void load(false), DEBOUNCE_MS);
    });
    qp.onDidTriggerButton(() => {
      filter = filter === 'Checkpoint' ? 'LORA' : 'Checkpoint';
      retitle();
      void load(false);
    });
    qp.onDidAccept(() => {
      const sel = qp.selectedItems[0];
      if (sel?.action === 'more') return void load(true);
      if (sel?.action === 'retry') return void load(false);
      if (sel?.model) finish(sel.model);
    });
    qp.onDidHide(() => finish(undefined));
    qp.show();
    void load(false);
  });
}

async function pickVersion(model: CivitaiModel): Promise<CivitaiModelVersionSummary | undefined> {
  const versions = model.modelVersions ?? [];
  if (versions.length <= 1) return versions[0];
  const pick = await vscode.window.showQuickPick(
    versions.map((v, i) => ({ label: v.name, description: [v.baseModel, i === 0 ? 'latest' : ''].filter(Boolean).join(' · '), detail: v.trainedWords?.length ? `trained words: ${v.trainedWords.join(', ')}` : undefined, v })),
    { title: `${model.name}: pick a version` },
  );
  return pick?.v;
}

/** Browse Civitai Models…: a checkpoint becomes a custom model (and a new parameter file); a
 * LoRA goes into the open Civitai parameter file's `input.loras`, or onto the clipboard. */
export function browseCivitai(deps: { registry: ProviderRegistry; log: OutputLog }): Command<'browseCivitai'> {
  const { registry, log } = deps;
  return {
    args: none,
    describe: describeBrowseError,
    run: async () => {
      const provider = registry.get('civitai');
      if (!isCivitaiProvider(provider)) {
        void vscode.window.showErrorMessage('Art Factory: the Civitai provider is not available.');
        return;
      }
      const model = await pickModel(provider, log);
      if (!model) return;
      const summary = await pickVersion(model);
      if (!summary) {
        if ((model.modelVersions ?? []).length === 0) void vscode.window.showWarningMessage(`Art Factory: ${model.name} has no published version on Civitai.`);
        return;
      }
      const version = await vscode.window.withProgress({ location: vscode.ProgressLocation.Notification, title: `Art Factory: reading ${model.name} ${summary.name} from Civitai…` }, () =>
        provider.getModelVersion(summary.id),
      );
      const air = version.air;
      if (!air) {
        void vscode.window.showErrorMessage(`Art Factory: Civitai gave no AIR for ${model.name} ${summary.name}, so it cannot be used for generation.`);
        return;
      }
      if (model.type === 'Checkpoint') {
        await vscode.window.withProgress({ location: vscode.ProgressLocation.Notification, title: `Art Factory: adding ${model.name}…` }, () => registry.addCustomModel('civitai', air));
        log.info(`civitai: added ${air} (${model.name} ${summary.name})`);
        await runCommand('newParamFile', { provider: 'civitai', id: air });
        return;
      }
      const entry = { air, strength: 1 };
      const words = (version.trainedWords ?? []).filter(Boolean);
      const hint = words.length ? ` Its trained words: ${words.join(', ')} (add them to the prompt).` : '';
      const editor = vscode.window.activeTextEditor;
      const doc = editor?.document;
      if (editor && doc?.uri.path.endsWith('.art.json')) {
        const edits = addLoraEdits(doc.getText(), entry, {
          insertSpaces: editor.options.insertSpaces !== false,
          tabSize: typeof editor.options.tabSize === 'number' ? editor.options.tabSize : 2,
          eol: doc.eol === vscode.EndOfLine.CRLF ? '\r\n' : '\n',
        });
        if (edits) {
          const we = new vscode.WorkspaceEdit();
          for (const e of edits) we.replace(doc.uri, new vscode.Range(doc.positionAt(e.offset), doc.positionAt(e.offset + e.length)), e.content);
          if (await vscode.workspace.applyEdit(we)) {
            void vscode.window.showInformationMessage(`Art Factory: added the LoRA ${model.name} ${summary.name} to "input.loras".${hint}`);
            return;
          }
        }
      }
      await vscode.env.clipboard.writeText(JSON.stringify(entry));
      void vscode.window.showInformationMessage(`Art Factory: copied a LoRA entry for ${model.name} ${summary.name}. Paste it into "input.loras" of a Civitai parameter file.${hint}`);
    },
  };
}
