// What the commands work with (rust-analyzer's ctx.ts): made once at activation.
import type * as vscode from 'vscode';
import type { ProviderRegistry } from '../../providers/registry.ts';
import type { Gallery } from '../galleryPanel.ts';
import type { Generator } from '../generate.ts';
import type { JobsView } from '../jobsView.ts';
import type { OutputLog } from '../log.ts';
import type { ProjectManager } from '../projects.ts';
import type { ProjectsView } from '../projectsView.ts';
import type { KeyStore } from '../secrets.ts';
import type { VerifyDeps } from '../verify.ts';

export interface CommandContext {
  context: vscode.ExtensionContext;
  projects: ProjectManager;
  projectsView: ProjectsView;
  jobsView: JobsView;
  registry: ProviderRegistry;
  keys: KeyStore;
  generator: Generator;
  log: OutputLog;
  gallery: Gallery;
  verify: VerifyDeps;
  /** A `$schema` reference for a parameter file in `fromDir`, the model's schema made first. */
  schemaRef(dir: string, provider: string, model: string, fromDir: string): Promise<string>;
}
