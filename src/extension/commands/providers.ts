// Providers and models: API keys, Test Connection, custom models, Browse Civitai, and New
// Parameter File for a model.
import * as vscode from 'vscode';
import { withCancellableProgress } from '../progress.ts';
import { AIR_EXAMPLE, browseCivitai, civitaiAirProblem } from '../civitaiBrowse.ts';
import { describeProviderError } from '../errors.ts';
import { createParamFile } from '../paramFileWriter.ts';
import type { ProjectSession } from '../projects.ts';
import { PROVIDERS_WITH_KEYS } from '../settings.ts';
import * as args from './args.ts';
import type { CommandContext } from './context.ts';
import type { ModelArg } from './ids.ts';
import { runCommand, type CommandTable } from './register.ts';

type ProviderCommands = Pick<CommandTable, 'setApiKey' | 'clearApiKey' | 'testConnection' | 'addCustomModel' | 'browseCivitai' | 'newParamFile'>;

export function providerCommands(ctx: CommandContext): ProviderCommands {
  const { projects, registry, keys, log } = ctx;

  const pickProvider = async (title: string, preselect?: string): Promise<string | undefined> => {
    if (preselect && (PROVIDERS_WITH_KEYS as readonly string[]).includes(preselect)) return preselect;
    const items = await Promise.all(
      PROVIDERS_WITH_KEYS.filter((id) => registry.get(id)).map(async (id) => {
        const source = await keys.source(id);
        return { label: registry.get(id)?.displayName ?? id, description: source === 'secret-storage' ? 'key set' : source === 'environment' ? 'key from environment' : 'no key', id };
      }),
    );
    return (await vscode.window.showQuickPick(items, { title }))?.id;
  };

  const testConnection = async (providerId: string): Promise<boolean> => {
    const provider = registry.get(providerId);
    if (!provider) throw new Error(`Unknown provider ${providerId}.`);
    try {
      await withCancellableProgress(`Art Factory: testing ${provider.displayName}…`, (signal) => provider.testConnection(signal));
      log.info(`${providerId}: connection test passed`);
      void vscode.window.showInformationMessage(`Art Factory: ${provider.displayName} is connected.`);
      return true;
    } catch (e) {
      const { message: text } = describeProviderError(e);
      log.warn(`${providerId}: connection test failed: ${text}`);
      const auth = e instanceof Error && 'kind' in e && (e as { kind: string }).kind === 'auth';
      const choice = await vscode.window.showErrorMessage(`Art Factory: ${provider.displayName} connection failed: ${log.scrub(text)}`, ...(auth ? ['Set Key Again'] : ['Retry']), 'Show Log');
      if (choice === 'Set Key Again') await runCommand('setApiKey', providerId);
      if (choice === 'Retry') return testConnection(providerId);
      if (choice === 'Show Log') log.show();
      return false;
    }
  };

  const newParamFileFor = async (project: ProjectSession, modelArg?: ModelArg): Promise<void> => {
    const model = modelArg ? registry.models().find((m) => m.provider === modelArg.provider && m.id === modelArg.id) : await ctx.generator.pickModel('New Parameter File: pick a model');
    if (!model) return;
    const provider = registry.get(model.provider);
    if (!provider) throw new Error(`Unknown provider ${model.provider}.`);
    await createParamFile(project.dir, provider, model);
  };

  return {
    setApiKey: {
      args: args.providerId,
      run: async (preselect) => {
        const id = await pickProvider('Set API Key for…', preselect);
        if (!id) return;
        const name = registry.get(id)?.displayName ?? id;
        const key = await vscode.window.showInputBox({
          title: `${name} API key`,
          prompt: `Stored in VS Code's secret storage and sent only to ${name}.`,
          password: true,
          ignoreFocusOut: true,
          validateInput: (v) => (v.trim().length >= 8 ? undefined : 'That is too short to be a key.'),
        });
        if (!key) return;
        await keys.set(id, key.trim());
        log.info(`${id}: API key stored in secret storage`);
        await testConnection(id);
      },
    },

    clearApiKey: {
      args: args.providerId,
      run: async (preselect) => {
        const id = await pickProvider('Clear API Key of…', preselect);
        if (!id) return;
        await keys.clear(id);
        void vscode.window.showInformationMessage(`Art Factory: the ${registry.get(id)?.displayName ?? id} key was removed from secret storage.`);
      },
    },

    testConnection: {
      args: args.providerId,
      run: async (preselect) => {
        const id = await pickProvider('Test Connection to…', preselect);
        if (id) await testConnection(id);
      },
    },

    addCustomModel: {
      args: args.none,
      run: async () => {
        const provider = (
          await vscode.window.showQuickPick(
            [
              { label: 'fal.ai', description: 'an endpoint id, e.g. fal-ai/recraft-v3', id: 'fal' },
              { label: 'Replicate', description: 'owner/name or owner/name:version', id: 'replicate' },
              { label: 'Civitai', description: 'a checkpoint AIR, e.g. urn:air:sdxl:checkpoint:civitai:101055@128078', id: 'civitai' },
            ],
            { title: 'Add Custom Model' },
          )
        )?.id;
        if (!provider) return;
        const id = await vscode.window.showInputBox({
          title: `Custom ${provider} model`,
          placeHolder: provider === 'fal' ? 'fal-ai/recraft-v3' : provider === 'civitai' ? AIR_EXAMPLE : 'stability-ai/sdxl',
          prompt: provider === 'civitai' ? 'Paste a checkpoint AIR, or use "Browse Civitai Models…" to find one.' : undefined,
          validateInput: (v) => (provider === 'civitai' ? civitaiAirProblem(v.trim()) : /^[\w.-]+\/[\w./-]+(:[\w]+)?$/.test(v.trim()) ? undefined : 'Use owner/name (with a sub-path for fal, or :version for Replicate).'),
        });
        if (!id) return;
        const model = await vscode.window.withProgress({ location: vscode.ProgressLocation.Notification, title: `Art Factory: reading ${id}…` }, () => registry.addCustomModel(provider, id.trim()));
        const next = await vscode.window.showInformationMessage(`Art Factory: ${model.title} added.`, 'New Parameter File');
        const project = next ? await projects.pick() : undefined;
        if (project) await newParamFileFor(project, model);
      },
    },

    browseCivitai: browseCivitai({ registry, log }),

    newParamFile: {
      args: args.model,
      run: async (model) => {
        const project = await projects.pick('Project for the new parameter file');
        if (project) await newParamFileFor(project, model);
      },
    },
  };
}
