// `art-factory`: the same core as the extension, from a terminal. Keys come from FAL_KEY,
// REPLICATE_API_TOKEN and CIVITAI_API_TOKEN; ARTFACTORY_*_BASE_URL redirect a provider.
import * as path from 'node:path';
import { parseArgs } from 'node:util';
import { DEFAULT_MAX_INPUT_BYTES } from '../engine/imageInputs.ts';
import { onSharpUnavailable } from '../media/sharp.ts';
import { redact } from '../providers/errors.ts';
import { envKey } from '../providers/index.ts';
import { ArchiveError, backupProject, restoreProject } from '../archive/backup.ts';
import { describeVerify, verifyProject, type VerifyReport } from '../archive/verify.ts';
import { createProject, isProject, openProjectDb, rebuildIndex } from '../storage/index.ts';
import { generate, GenerateUsageError } from './generate.ts';
import { describeBudget, formatCost, projectSpending, spendingReport, userCostDir, userSpending } from '../engine/cost/index.ts';
import { importCommand } from './importCommand.ts';
import { DEFAULT_MAX_JOBS, serveMcp } from './mcp.ts';

const USAGE = `Usage:
  art-factory init DIR [--name NAME]
  art-factory generate FILE.art.json --project DIR [--json] [--verbose] [--allow-unpriced]
  art-factory mcp --project DIR [--max-jobs N] [--verbose]
  art-factory cost --project DIR [--since DATE] [--json]
  art-factory list --project DIR [--json] [--limit N]
  art-factory import PATH... --project DIR [--json] [--max-megapixels N]
  art-factory rebuild-index --project DIR
  art-factory verify --project DIR [--json]
  art-factory backup --project DIR --out FILE.zip
  art-factory restore FILE.zip --to DIR [--json]

verify checks every database row against its sidecar and file (paths, symlinks, size, sha256),
every sidecar against its row, and the schema cache; rows that fail are quarantined. It exits 1
when anything is wrong. restore unpacks into a new or empty folder, within limits, and verifies.
import reads images and folders (with subfolders) made by A1111, Forge, ComfyUI, InvokeAI,
Fooocus, NovelAI, SwarmUI, Easy Diffusion, Draw Things, Midjourney and others into the project,
with their parameters; --json lists each one with what was read, the duplicates and the skipped
files. It exits 0 when all imported, 3 when some files were skipped, 4 when none imported.
mcp serves the agent tools (generate, search, get, list models, rate/tag) of one project over
stdio for an MCP client; a call may start at most --max-jobs jobs (default ${DEFAULT_MAX_JOBS}).

generate prints what the jobs will cost before it sends them. A budget (artfactory.json
"budgets", or ARTFACTORY_BUDGETS for all projects: [{"currency":"USD","per":"day","limit":5}])
stops jobs that would pass it: generate then exits 3. A job whose cost cannot be estimated is
refused under a budget unless --allow-unpriced. cost sums the project's ledger
(.artfactory/ledger.jsonl) per day, provider and model, with what each budget has left.

Keys: FAL_KEY, REPLICATE_API_TOKEN, CIVITAI_API_TOKEN. The Sample provider needs none.
Image inputs (paths, product:<id>) are limited to ARTFACTORY_INPUT_MAX_MB megabytes (default ${DEFAULT_MAX_INPUT_BYTES / 1024 / 1024}).`;

class UsageError extends Error {}

function secrets(): string[] {
  return ['fal', 'replicate', 'civitai'].map((p) => envKey(p)).filter((k): k is string => !!k);
}

function say(stream: NodeJS.WriteStream, text: string): void {
  stream.write(`${redact(text, secrets())}\n`);
}

async function projectDir(value: string | undefined): Promise<string> {
  if (!value) throw new UsageError('--project DIR is required.');
  const dir = path.resolve(value);
  if (!(await isProject(dir))) throw new UsageError(`${dir} is not an Art Factory project (no artfactory.json).`);
  return dir;
}

/** `init DIR [--name NAME]`: a new project; a folder that already is one is left alone. */
async function init(target: string | undefined, opts: { name?: string }): Promise<number> {
  if (!target) throw new UsageError('Name the folder for the new project.');
  const dir = path.resolve(target);
  if (await isProject(dir)) {
    say(process.stderr, `${dir} is already an Art Factory project; nothing was changed.`);
    return 1;
  }
  const name = opts.name?.trim() || path.basename(dir);
  await createProject(dir, name);
  process.stdout.write(`Created the Art Factory project "${name}" in ${dir}.\n`);
  return 0;
}

/** `cost --project DIR [--since DATE] [--json]`: the project's ledger summed. */
async function cost(opts: { project?: string; since?: string; json?: boolean }): Promise<number> {
  const dir = await projectDir(opts.project);
  let since: Date | undefined;
  if (opts.since) {
    // A plain date is the start of that local day.
    const m = /^(\d{4})-(\d{2})-(\d{2})$/.exec(opts.since);
    since = m ? new Date(Number(m[1]), Number(m[2]) - 1, Number(m[3])) : new Date(opts.since);
    if (!Number.isFinite(since.getTime())) throw new UsageError(`--since ${opts.since} is not a date (use YYYY-MM-DD).`);
  }
  const budgets = process.env.ARTFACTORY_BUDGETS;
  let userBudgets: unknown;
  try {
    userBudgets = budgets ? JSON.parse(budgets) : undefined;
  } catch {
    say(process.stderr, 'warning: ARTFACTORY_BUDGETS is not valid JSON; it is ignored.');
  }
  const spending = projectSpending(dir, { user: userSpending(userCostDir(), () => userBudgets) });
  for (const p of await spending.problems()) say(process.stderr, `warning: ${p}`);
  const r = await spendingReport(spending.ledger, { since, scopes: await spending.scopes() });
  if (opts.json) {
    process.stdout.write(`${JSON.stringify(r, null, 2)}\n`);
    return 0;
  }
  const money = (list: { amount: number; currency: string; estimated: boolean }[]) => (list.length ? list.map((c) => formatCost(c)).join(' + ') : '$0.00');
  for (const d of r.days) process.stdout.write(`${d.day}\t${money(d.totals)}\n`);
  for (const row of r.rows) process.stdout.write(`${row.provider}\t${row.model}\t${row.jobs} job${row.jobs === 1 ? '' : 's'}\t${formatCost({ ...row })}\n`);
  process.stdout.write(`total${since ? ` since ${opts.since}` : ''}: ${money(r.totals)}${r.open ? ` (${r.open} job${r.open === 1 ? '' : 's'} still open, counted at the estimate)` : ''}\n`);
  for (const b of r.budgets) process.stdout.write(`${describeBudget(b.budget, b.scope)}: ${formatCost({ amount: b.spent, currency: b.budget.currency })} spent, ${formatCost({ amount: b.left, currency: b.budget.currency })} left\n`);
  return 0;
}

async function list(opts: { project?: string; json?: boolean; limit?: string }): Promise<number> {
  const dir = await projectDir(opts.project);
  const db = await openProjectDb(dir);
  try {
    const page = await db.queryProducts({ limit: Math.min(1000, Number(opts.limit ?? 100) || 100) });
    if (opts.json) process.stdout.write(`${JSON.stringify({ total: page.total, products: page.items }, null, 2)}\n`);
    else {
      for (const p of page.items) process.stdout.write(`${p.id}\t${p.createdAt}\t${p.provider}\t${p.model}\t${p.file}\t${(p.prompt ?? '').slice(0, 60)}\n`);
      process.stderr.write(`${page.items.length} of ${page.total} products\n`);
    }
    return 0;
  } finally {
    await db.close();
  }
}

/** A verify report: JSON on stdout, or its lines on stderr and a summary on stdout. 1 when
 * anything is wrong. */
function printVerify(r: VerifyReport, json: boolean | undefined, extra: Record<string, unknown> = {}): number {
  if (json) process.stdout.write(`${JSON.stringify({ ...extra, ...r }, null, 2)}\n`);
  else {
    const lines = describeVerify(r);
    for (const line of lines.slice(0, -1)) say(process.stderr, line);
    process.stdout.write(`${lines.at(-1)}\n`);
  }
  return r.ok ? 0 : 1;
}

async function verify(opts: { project?: string; json?: boolean }): Promise<number> {
  const dir = await projectDir(opts.project);
  return printVerify(await verifyProject(dir), opts.json);
}

async function backup(opts: { project?: string; out?: string }): Promise<number> {
  const dir = await projectDir(opts.project);
  if (!opts.out) throw new UsageError('--out FILE.zip is required.');
  // The change journal folded into the database file first, as Back Up Project does: the
  // archive then holds one consistent index.db.
  const db = await openProjectDb(dir);
  await db.compact();
  await db.close();
  const r = await backupProject(dir, path.resolve(opts.out));
  process.stdout.write(`Backed up ${dir} to ${path.resolve(opts.out)}: ${r.files} files, ${(r.bytes / 1024 / 1024).toFixed(1)} MB.\n`);
  return 0;
}

async function restore(zip: string | undefined, opts: { to?: string; json?: boolean }): Promise<number> {
  if (!zip) throw new UsageError('Name the backup to restore.');
  if (!opts.to) throw new UsageError('--to DIR is required (a new or empty folder).');
  const target = path.resolve(opts.to);
  const r = await restoreProject(path.resolve(zip), target);
  if (!opts.json) process.stderr.write(`Restored ${r.files} files (${(r.bytes / 1024 / 1024).toFixed(1)} MB) into ${target}.\n`);
  return printVerify(r.verify, opts.json, { restored: { dir: target, files: r.files, bytes: r.bytes } });
}

export async function main(argv: string[]): Promise<number> {
  // One warning for the whole run when sharp cannot load, however many jobs it has.
  const sharpWarning = onSharpUnavailable((p) => say(process.stderr, `warning: ${p.message}`));
  try {
    return await run(argv);
  } finally {
    sharpWarning.dispose();
  }
}

async function run(argv: string[]): Promise<number> {
  let parsed;
  try {
    parsed = parseArgs({
      args: argv,
      allowPositionals: true,
      options: { 'allow-unpriced': { type: 'boolean' }, since: { type: 'string' }, project: { type: 'string', short: 'p' }, json: { type: 'boolean' }, verbose: { type: 'boolean', short: 'v' }, limit: { type: 'string' }, name: { type: 'string' }, out: { type: 'string', short: 'o' }, to: { type: 'string' }, 'max-megapixels': { type: 'string' }, 'max-jobs': { type: 'string' }, help: { type: 'boolean', short: 'h' } },
    });
  } catch (e) {
    say(process.stderr, `${e instanceof Error ? e.message : String(e)}\n\n${USAGE}`);
    return 2;
  }
  const [command, ...rest] = parsed.positionals;
  if (parsed.values.help || !command) {
    process.stdout.write(`${USAGE}\n`);
    return command || parsed.values.help ? 0 : 2;
  }
  try {
    switch (command) {
      case 'init':
        return await init(rest[0], parsed.values);
      case 'generate': {
        if (!rest[0]) throw new UsageError('Name the parameter file to run.');
        const dir = await projectDir(parsed.values.project);
        return await generate(rest[0], dir, { ...parsed.values, allowUnpriced: parsed.values['allow-unpriced'] }, { err: (line) => say(process.stderr, line), out: (text) => process.stdout.write(text) });
      }
      case 'mcp': {
        const dir = await projectDir(parsed.values.project);
        const raw = parsed.values['max-jobs'];
        const maxJobs = raw === undefined ? undefined : Number(raw);
        if (maxJobs !== undefined && !(Number.isInteger(maxJobs) && maxJobs >= 1)) throw new UsageError('--max-jobs takes a whole number of at least 1.');
        return await serveMcp(dir, { maxJobs, verbose: parsed.values.verbose });
      }
      case 'list':
        return await list(parsed.values);
      case 'cost':
        return await cost(parsed.values);
      case 'import': {
        if (rest.length === 0) throw new UsageError('Name the image files or folders to import.');
        const mp = parsed.values['max-megapixels'];
        if (mp !== undefined && !(Number(mp) > 0)) throw new UsageError('--max-megapixels takes a number of megapixels, e.g. 100.');
        return await importCommand(await projectDir(parsed.values.project), rest.map((p) => path.resolve(p)), {
          json: parsed.values.json,
          maxMegapixels: mp === undefined ? undefined : Number(mp),
          err: (line) => say(process.stderr, line),
          out: (text) => process.stdout.write(text),
          progressEvery: process.stderr.isTTY ? 500 : undefined,
        });
      }
      case 'rebuild-index': {
        const dir = await projectDir(parsed.values.project);
        // Ctrl+C stops the rebuild and leaves the database as it was (it is installed only at the end).
        const ac = new AbortController();
        const stop = () => ac.abort();
        process.once('SIGINT', stop);
        const n = await rebuildIndex(dir, {
          signal: ac.signal,
          onSkip: (f, why) => say(process.stderr, `skipped ${f}: ${why}`),
          onProgress: ({ done, total }) => {
            if (process.stderr.isTTY) process.stderr.write(`\r${done}/${total} sidecars`);
          },
        }).finally(() => process.off('SIGINT', stop));
        if (process.stderr.isTTY) process.stderr.write('\n');
        process.stdout.write(`Rebuilt the index of ${dir}: ${n} products.\n`);
        return 0;
      }
      case 'verify':
        return await verify(parsed.values);
      case 'backup':
        return await backup(parsed.values);
      case 'restore':
        return await restore(rest[0], parsed.values);
      default:
        throw new UsageError(`Unknown command "${command}".`);
    }
  } catch (e) {
    if (e instanceof ArchiveError) {
      say(process.stderr, `error: ${e.message}`);
      return 1;
    }
    if (e instanceof UsageError || e instanceof GenerateUsageError) {
      say(process.stderr, `${e.message}\n\n${USAGE}`);
      return 2;
    }
    say(process.stderr, `error: ${e instanceof Error ? e.message : String(e)}`);
    return 1;
  }
}

if (require.main === module) {
  void main(process.argv.slice(2)).then((code) => {
    process.exitCode = code;
  });
}
