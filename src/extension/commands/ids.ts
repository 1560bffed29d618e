// Every command of the extension: its id (the one list; test/extension/commands.test.ts holds
// it to package.json's contributes.commands) and the arguments it takes. VS Code hands a
// command whatever the caller passed (a tree item, the Explorer's Uri, nothing from the
// palette), so each command parses its raw arguments into these types (./args.ts) before it
// runs; code of ours that runs a command calls `runCommand` (./register.ts), which the compiler
// holds to them. Nothing here is loaded at run time but the list (a test reads it without VS Code).
import type * as vscode from 'vscode';
import type { JobEntry } from '../jobsView.ts';
import type { ProjectSession } from '../projects.ts';

export const COMMANDS = {
  // Projects
  newProject: 'artFactory.newProject',
  openProject: 'artFactory.openProject',
  addFolderAsProject: 'artFactory.addFolderAsProject',
  renameProject: 'artFactory.renameProject',
  removeProject: 'artFactory.removeProject',
  selectProject: 'artFactory.selectProject',
  refreshProjects: 'artFactory.refreshProjects',
  // Providers and models
  setApiKey: 'artFactory.setApiKey',
  clearApiKey: 'artFactory.clearApiKey',
  testConnection: 'artFactory.testConnection',
  addCustomModel: 'artFactory.addCustomModel',
  browseCivitai: 'artFactory.browseCivitai',
  // Parameter files, templates and generating
  newParamFile: 'artFactory.newParamFile',
  generate: 'artFactory.generate',
  generateFromFile: 'artFactory.generateFromFile',
  saveAsTemplate: 'artFactory.saveAsTemplate',
  newFromTemplate: 'artFactory.newFromTemplate',
  // Gallery and jobs
  openGallery: 'artFactory.openGallery',
  openGalleryAll: 'artFactory.openGalleryAll',
  showJobs: 'artFactory.showJobs',
  cancelJob: 'artFactory.cancelJob',
  retryJob: 'artFactory.retryJob',
  showLog: 'artFactory.showLog',
  // A project's safety: backups, the index, verify
  backupProject: 'artFactory.backupProject',
  restoreProject: 'artFactory.restoreProject',
  rebuildIndex: 'artFactory.rebuildIndex',
  restoreBackup: 'artFactory.restoreBackup',
  verifyProject: 'artFactory.verifyProject',
  // Import and export
  importImages: 'artFactory.importImages',
  exportProducts: 'artFactory.exportProducts',
  makeContactSheet: 'artFactory.makeContactSheet',
} as const;

export type CommandName = keyof typeof COMMANDS;
export type CommandId = (typeof COMMANDS)[CommandName];
export const COMMAND_IDS: readonly CommandId[] = Object.values(COMMANDS);

/** A model as New Parameter File takes it (Add Custom Model, Browse Civitai pass one). */
export interface ModelArg {
  provider: string;
  id: string;
}

/** What each command takes; every argument is optional where a palette run passes none. */
export interface CommandArgs {
  newProject: [];
  openProject: [];
  /** The Explorer's folder. */
  addFolderAsProject: [folder?: vscode.Uri];
  renameProject: [project?: ProjectSession];
  removeProject: [project?: ProjectSession];
  selectProject: [];
  refreshProjects: [];
  /** A provider id (a failure's "Set API Key" names the provider). */
  setApiKey: [provider?: string];
  clearApiKey: [provider?: string];
  testConnection: [provider?: string];
  addCustomModel: [];
  browseCivitai: [];
  newParamFile: [model?: ModelArg];
  generate: [];
  /** The file (CodeLens, editor title, Explorer); else the active editor's. */
  generateFromFile: [file?: vscode.Uri];
  saveAsTemplate: [file?: vscode.Uri];
  newFromTemplate: [];
  openGallery: [project?: ProjectSession];
  openGalleryAll: [];
  showJobs: [];
  /** The Jobs view's item. */
  cancelJob: [entry?: JobEntry];
  retryJob: [entry?: JobEntry];
  showLog: [];
  backupProject: [project?: ProjectSession];
  restoreProject: [];
  rebuildIndex: [project?: ProjectSession];
  restoreBackup: [project?: ProjectSession];
  verifyProject: [project?: ProjectSession];
  /** The Explorer's clicked resource and its whole selection. */
  importImages: [resource?: vscode.Uri, selected?: vscode.Uri[]];
  exportProducts: [];
  makeContactSheet: [];
}
