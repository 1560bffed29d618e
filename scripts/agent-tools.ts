// Writes package.json's `contributes.languageModelTools` and their activation events from the
// tool definitions (src/agent/definitions.ts). test/agent/definitions.test.ts fails when they differ.
import { readFileSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { languageModelToolsContribution, TOOLS } from '../src/agent/definitions.ts';

const file = path.join(__dirname, '..', 'package.json');
const pkg = JSON.parse(readFileSync(file, 'utf8')) as { activationEvents: string[]; contributes: Record<string, unknown> };
pkg.contributes.languageModelTools = languageModelToolsContribution();
const events = TOOLS.map((t) => `onLanguageModelTool:${t.name}`);
pkg.activationEvents = [...pkg.activationEvents.filter((e) => !e.startsWith('onLanguageModelTool:')), ...events];
writeFileSync(file, `${JSON.stringify(pkg, null, 2)}\n`);
console.log(`package.json: ${TOOLS.length} language model tools`);
