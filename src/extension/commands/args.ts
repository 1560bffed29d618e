// Raw command arguments as each command's types (./ids.ts CommandArgs): what is not one is
// dropped, and the command asks instead (a palette run passes nothing).
import * as vscode from 'vscode';
import { isJobEntry, type JobEntry } from '../jobsView.ts';
import { ProjectSession } from '../projects.ts';
import type { ModelArg } from './ids.ts';

export const none = (): [] => [];

/** The Projects view's item, or the project a toast's button names. */
export const project = (raw: unknown[]): [ProjectSession?] => [raw[0] instanceof ProjectSession ? raw[0] : undefined];

/** A file or folder (the Explorer, the editor's title, a CodeLens). */
export const uri = (raw: unknown[]): [vscode.Uri?] => [raw[0] instanceof vscode.Uri ? raw[0] : undefined];

/** The Explorer's clicked resource and its whole selection. */
export const resources = (raw: unknown[]): [vscode.Uri?, vscode.Uri[]?] => [
  raw[0] instanceof vscode.Uri ? raw[0] : undefined,
  Array.isArray(raw[1]) ? raw[1].filter((u): u is vscode.Uri => u instanceof vscode.Uri) : undefined,
];

export const providerId = (raw: unknown[]): [string?] => [typeof raw[0] === 'string' ? raw[0] : undefined];

export const jobEntry = (raw: unknown[]): [JobEntry?] => [isJobEntry(raw[0]) ? raw[0] : undefined];

export const model = (raw: unknown[]): [ModelArg?] => {
  const m = raw[0];
  return [m && typeof m === 'object' && 'provider' in m && 'id' in m && typeof m.provider === 'string' && typeof m.id === 'string' ? { provider: m.provider, id: m.id } : undefined];
};
