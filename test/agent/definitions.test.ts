// The tools are defined once (src/agent/definitions.ts): package.json's contribution, its
// activation events and the MCP provider id must say the same as the code registers.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import { test } from 'node:test';
import { inputJsonSchema, languageModelToolsContribution, TOOLS } from '../../src/agent/definitions.ts';

const ROOT = path.resolve(__dirname, '../..');
const pkg = JSON.parse(readFileSync(path.join(ROOT, 'package.json'), 'utf8')) as {
  activationEvents: string[];
  contributes: { languageModelTools: unknown[]; mcpServerDefinitionProviders: { id: string; label: string }[] };
  engines: { vscode: string };
};

test('package.json contributes exactly the defined tools (run scripts/agent-tools.ts after changing them)', () => {
  assert.deepEqual(pkg.contributes.languageModelTools, languageModelToolsContribution());
  for (const t of TOOLS) assert.ok(pkg.activationEvents.includes(`onLanguageModelTool:${t.name}`), t.name);
  // VS Code's rules for tool names and descriptions.
  for (const t of TOOLS) {
    assert.match(t.name, /^[\w-]+$/);
    assert.ok(t.name.length <= 64);
    assert.ok(t.description.length > 80, `${t.name} tells the model enough`);
    const schema = inputJsonSchema(t) as { type: string; additionalProperties: boolean };
    assert.equal(schema.type, 'object');
    assert.equal(schema.additionalProperties, false, `${t.name} refuses unknown fields`);
  }
});

test('the MCP server definition provider is contributed with the id the extension registers, and the engine stays ^1.100', () => {
  const source = readFileSync(path.join(ROOT, 'src/extension/agentTools.ts'), 'utf8');
  const id = /MCP_PROVIDER_ID = '([^']+)'/.exec(source)?.[1];
  assert.ok(id);
  assert.deepEqual(pkg.contributes.mcpServerDefinitionProviders, [{ id, label: 'Art Factory' }]);
  assert.equal(pkg.engines.vscode, '^1.100.0');
});

test('generation takes the parameter file envelope fields with their limits', () => {
  const gen = inputJsonSchema(TOOLS[0]) as { properties: Record<string, { maximum?: number; maxItems?: number }> };
  assert.equal(gen.properties.count.maximum, 100);
  assert.equal(gen.properties.seeds.maxItems, 100);
});
