// The command ids are one list (src/extension/commands/ids.ts). package.json must contribute
// exactly those, each with a category; every command package.json names elsewhere (menus,
// keybindings, walkthroughs, welcome views) must be one of ours or VS Code's; and our code runs
// our commands only through that list (runCommand or COMMANDS), never by a string of its own.
// That each id has a handler is the compiler's check (CommandTable in commands/register.ts).
import assert from 'node:assert/strict';
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import { test } from 'node:test';
import { COMMAND_IDS, COMMANDS } from '../../src/extension/commands/ids.ts';
import { walkFiles } from '../files.ts';

const ROOT = path.resolve(__dirname, '../..');

interface Contributes {
  commands: { command: string; title: string; category?: string }[];
  keybindings: { command: string }[];
  menus: Record<string, { command: string }[]>;
  walkthroughs: unknown;
  viewsWelcome: unknown;
}

async function contributes(): Promise<Contributes> {
  return (JSON.parse(await fs.readFile(path.join(ROOT, 'package.json'), 'utf8')) as { contributes: Contributes }).contributes;
}

test('package.json contributes exactly the commands of the one list, each once and with a category', async () => {
  const c = await contributes();
  const declared = c.commands.map((x) => x.command);
  assert.equal(new Set(declared).size, declared.length, 'no command is contributed twice');
  assert.equal(new Set(COMMAND_IDS).size, COMMAND_IDS.length, 'no id is listed twice');
  assert.deepEqual([...declared].sort(), [...COMMAND_IDS].sort());
  assert.deepEqual(c.commands.filter((x) => x.category !== 'Art Factory').map((x) => x.command), [], 'every command has the category');
  for (const [name, id] of Object.entries(COMMANDS)) assert.equal(id, `artFactory.${name}`, 'an id is its name');
});

test('every command package.json names in menus, keybindings, walkthroughs and welcome views is one of ours', async () => {
  const c = await contributes();
  const ours = new Set<string>(COMMAND_IDS);
  const named = [
    ...Object.values(c.menus).flatMap((items) => items.map((i) => i.command)),
    ...c.keybindings.map((k) => k.command),
    ...[...JSON.stringify([c.walkthroughs, c.viewsWelcome]).matchAll(/command:(artFactory\.[A-Za-z]+)/g)].map((m) => m[1]),
  ].filter((id) => id.startsWith('artFactory.'));
  assert.ok(named.length >= 20, `menus and links name our commands (${named.length} found)`);
  assert.deepEqual(named.filter((id) => !ours.has(id)), []);
});

test('our code runs our commands through the list: no "artFactory.<command>" string outside ids.ts', async () => {
  const files = (await walkFiles(path.join(ROOT, 'src'))).filter((f) => /\.tsx?$/.test(f) && f !== 'extension/commands/ids.ts').map((f) => path.join(ROOT, 'src', f));
  assert.ok(files.length > 50, `the sources are read (${files.length})`);
  const ids = new Set<string>(COMMAND_IDS);
  const strays: string[] = [];
  for (const f of files) {
    for (const m of (await fs.readFile(f, 'utf8')).matchAll(/['"`](artFactory\.[A-Za-z]+)['"`]/g)) if (ids.has(m[1])) strays.push(`${path.relative(ROOT, f)}: ${m[1]}`);
  }
  assert.deepEqual(strays, []);
});
