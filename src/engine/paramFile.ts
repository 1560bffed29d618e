// Parameter files (`*.art.json`): parse with positions, validate the envelope and the
// model's input, and expand count × seeds × sweep axes into jobs. Every problem carries the
// source range of the field it is about, for the Problems panel.
import Ajv, { type ErrorObject } from 'ajv';
import { findNodeAtLocation, getNodePath, parseTree, printParseErrorCode, type Node as JsonNode, type ParseError } from 'jsonc-parser';
import { z } from 'zod';
import type { JsonSchema } from '../providers/types.ts';
import { stringifyExact } from '../providers/exactJson.ts';
import type { Seed } from '../storage/types.ts';
import { addToSeed, asSeed } from './exactSeed.ts';
import { boundSchema, collectNotes, linearRegExp, type SchemaNote } from './safeRegex.ts';

export interface Position {
  line: number;
  character: number;
}

export interface Diagnostic {
  message: string;
  severity: 'error' | 'warning';
  path: (string | number)[];
  range: { start: Position; end: Position };
  /** A JSON syntax error: VS Code's JSON language service reports these itself. */
  syntax?: true;
}

/** Limits that keep a hostile or mistaken file from exhausting memory or the provider. */
export const LIMITS = { maxBytes: 1024 * 1024, maxDepth: 32, maxJobs: 1000, maxSweepValues: 100, maxCount: 100 };

const scalar = z.union([z.string(), z.number(), z.boolean(), z.null()]);

/** The largest seed: ComfyUI's and Fooocus's are unsigned 64-bit. */
const MAX_SEED = 2n ** 64n - 1n;

export const ParamFileEnvelope = z
  .object({
    $schema: z.string().optional(),
    provider: z.string().min(1, 'Name a provider: fal, replicate, civitai or sample.'),
    model: z.string().min(1, 'Name the model, e.g. fal-ai/flux/dev.'),
    input: z.record(z.string(), z.unknown()),
    count: z.number().int().min(1).max(LIMITS.maxCount).optional(),
    // A seed past 2^53 is written as a plain integer and read as its digits (exactDigits below).
    seeds: z.array(z.union([z.number().int().min(0), z.string().regex(/^\d{1,40}$/).refine((s) => BigInt(s) <= MAX_SEED, `A seed is at most ${MAX_SEED} (2^64 − 1, the largest any tool uses).`)])).min(1).max(LIMITS.maxSweepValues).optional(),
    sweep: z.record(z.string(), z.array(z.union([scalar, z.record(z.string(), z.unknown()), z.array(z.unknown())])).min(1).max(LIMITS.maxSweepValues)).optional(),
    template: z.string().optional(),
    variables: z.record(z.string(), z.string()).optional(),
  })
  .strict();

export type ParamFileEnvelope = z.infer<typeof ParamFileEnvelope>;

export interface ParsedParamFile {
  text: string;
  tree?: JsonNode;
  value?: ParamFileEnvelope;
  diagnostics: Diagnostic[];
}

export interface JobSpec {
  provider: string;
  model: string;
  input: Record<string, unknown>;
  seed?: Seed;
  /** The sweep values this job took, for contact sheets and the gallery. */
  sweepValues?: Record<string, unknown>;
}

/** Offsets → 0-based line/character, computed once per text. */
function lineIndex(text: string): (offset: number) => Position {
  const starts = [0];
  for (let i = 0; i < text.length; i++) if (text.charCodeAt(i) === 10) starts.push(i + 1);
  return (offset: number) => {
    let lo = 0;
    let hi = starts.length - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if (starts[mid] <= offset) lo = mid;
      else hi = mid - 1;
    }
    return { line: lo, character: offset - starts[lo] };
  };
}

/** Where brackets first nest deeper than `max`, by a linear scan that skips strings and comments.
 * jsonc-parser parses recursively: a file nested thousands of levels deep would overflow the
 * stack before the depth check on its tree could run. */
function tooDeepAt(text: string, max: number): number | undefined {
  let level = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (c === '"') {
      for (i++; i < text.length && text[i] !== '"'; i++) if (text[i] === '\\') i++;
    } else if (c === '/' && text[i + 1] === '/') {
      while (i < text.length && text[i] !== '\n') i++;
    } else if (c === '/' && text[i + 1] === '*') {
      const end = text.indexOf('*/', i + 2);
      i = end < 0 ? text.length : end + 1;
    } else if (c === '{' || c === '[') {
      if (++level > max) return i;
    } else if (c === '}' || c === ']') {
      level--;
    }
  }
  return undefined;
}

/** Numbers JSON can write but not hold (1e400 reads as Infinity and would be sent as null). */
function nonFiniteNumbers(node: JsonNode, out: JsonNode[] = []): JsonNode[] {
  if (node.type === 'number' && !Number.isFinite(node.value)) out.push(node);
  for (const c of node.children ?? []) nonFiniteNumbers(c, out);
  return out;
}

function depth(node: JsonNode | undefined, d = 0): number {
  if (!node?.children || d > LIMITS.maxDepth) return d;
  let max = d;
  for (const c of node.children) max = Math.max(max, depth(c, d + 1));
  return max;
}

/** The range of the deepest node that exists along `path` (a missing property points at its parent). */
function rangeOf(text: string, tree: JsonNode | undefined, path: (string | number)[]): { start: Position; end: Position } {
  const pos = lineIndex(text);
  let node: JsonNode | undefined;
  for (let i = path.length; i >= 0 && !node; i--) node = tree ? findNodeAtLocation(tree, path.slice(0, i)) : undefined;
  if (!node) return { start: { line: 0, character: 0 }, end: { line: 0, character: 1 } };
  // For a property, underline its key and value together.
  const target = node.parent?.type === 'property' ? node.parent : node;
  return { start: pos(target.offset), end: pos(target.offset + Math.min(target.length, 2000)) };
}

function diag(text: string, tree: JsonNode | undefined, path: (string | number)[], message: string, severity: Diagnostic['severity'] = 'error'): Diagnostic {
  return { message, severity, path, range: rangeOf(text, tree, path) };
}

/** A problem at `path` of a parsed file (e.g. ['input', 'image_urls', 1]), for checks made
 * outside this module (image inputs). */
export function diagnosticAt(parsed: ParsedParamFile, path: (string | number)[], message: string, severity: Diagnostic['severity'] = 'error'): Diagnostic {
  return diag(parsed.text, parsed.tree, path, message, severity);
}

export function parseParamFile(text: string): ParsedParamFile {
  if (text.length > LIMITS.maxBytes) {
    return { text, diagnostics: [{ message: `The file is ${Math.round(text.length / 1024)} KB; parameter files are limited to ${LIMITS.maxBytes / 1024} KB.`, severity: 'error', path: [], range: { start: { line: 0, character: 0 }, end: { line: 0, character: 1 } } }] };
  }
  const pos = lineIndex(text);
  const deepAt = tooDeepAt(text, LIMITS.maxDepth);
  if (deepAt !== undefined) {
    return { text, diagnostics: [{ message: `The file nests deeper than ${LIMITS.maxDepth} levels.`, severity: 'error', path: [], range: { start: pos(deepAt), end: pos(deepAt + 1) } }] };
  }
  const errors: ParseError[] = [];
  const tree = parseTree(text, errors, { allowTrailingComma: true, disallowComments: false });
  const diagnostics: Diagnostic[] = errors.map((e) => ({
    message: `JSON syntax: ${printParseErrorCode(e.error)}`,
    severity: 'error',
    path: [],
    range: { start: pos(e.offset), end: pos(e.offset + Math.max(1, e.length)) },
    syntax: true,
  }));
  if (errors.length > 0 || !tree) return { text, tree, diagnostics };
  if (depth(tree) > LIMITS.maxDepth) {
    return { text, tree, diagnostics: [diag(text, tree, [], `The file nests deeper than ${LIMITS.maxDepth} levels.`)] };
  }
  const huge = nonFiniteNumbers(tree);
  if (huge.length > 0) {
    return {
      text,
      tree,
      diagnostics: huge.map((n) => ({
        message: `${text.slice(n.offset, n.offset + Math.min(n.length, 40))} is too large for a number: use a finite value.`,
        severity: 'error' as const,
        path: getNodePath(n),
        range: { start: pos(n.offset), end: pos(n.offset + n.length) },
      })),
    };
  }
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch {
    // jsonc allows comments and trailing commas; evaluate through the tree instead.
    raw = evaluate(tree);
  }
  const parsed = ParamFileEnvelope.safeParse(exactDigits(text, tree, raw));
  if (!parsed.success) {
    for (const issue of parsed.error.issues) {
      const path = issue.path.filter((p): p is string | number => typeof p === 'string' || typeof p === 'number');
      const field = path.length ? `"${path.join('.')}"` : 'The file';
      const message = issue.code === 'unrecognized_keys' ? `Unknown field${issue.keys.length > 1 ? 's' : ''} ${issue.keys.map((k) => `"${k}"`).join(', ')}. Model inputs go inside "input".` : `${field}: ${issue.message}`;
      diagnostics.push(diag(text, tree, issue.code === 'unrecognized_keys' ? [...path, issue.keys[0]] : path, message));
    }
    return { text, tree, diagnostics };
  }
  const value = parsed.data;
  const jobs = countJobs(value);
  if (jobs > LIMITS.maxJobs) diagnostics.push(diag(text, tree, ['sweep'], `This file makes ${jobs} jobs; the limit is ${LIMITS.maxJobs}. Split the sweep.`));
  for (const field of Object.keys(value.sweep ?? {})) {
    if (field === 'seed' && value.seeds) diagnostics.push(diag(text, tree, ['sweep', field], 'Use either "seeds" or a "seed" sweep, not both.'));
  }
  return { text, tree, value, diagnostics };
}

/** Seeds written as integers past 2^53 (`input.seed`, `seeds`, a `seed` sweep) keep their
 * digits: JSON.parse would round them to another seed. The rest of the file reads as parsed. */
function exactDigits(text: string, tree: JsonNode, raw: unknown): unknown {
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) return raw;
  const digits = (path: (string | number)[]): string | undefined => {
    const node = findNodeAtLocation(tree, path);
    const literal = node?.type === 'number' ? text.slice(node.offset, node.offset + node.length) : undefined;
    return literal && /^-?\d{16,40}$/.test(literal) && !Number.isSafeInteger(Number(literal)) ? literal : undefined;
  };
  const value = { ...(raw as Record<string, unknown>) };
  const seed = digits(['input', 'seed']);
  if (seed && typeof value.input === 'object') value.input = { ...(value.input as object), seed };
  if (Array.isArray(value.seeds)) value.seeds = value.seeds.map((s, i) => digits(['seeds', i]) ?? s);
  const sweep = value.sweep as Record<string, unknown> | undefined;
  if (sweep && typeof sweep === 'object' && Array.isArray(sweep.seed)) value.sweep = { ...sweep, seed: sweep.seed.map((s, i) => digits(['sweep', 'seed', i]) ?? s) };
  return value;
}

/** For checking against a schema: exact seed digits as the (rounded) number JSON would give. */
function asChecked(v: unknown): unknown {
  return typeof v === 'string' && /^-?\d{16,40}$/.test(v) ? Number(v) : v;
}

function evaluate(node: JsonNode): unknown {
  switch (node.type) {
    case 'object':
      return Object.fromEntries((node.children ?? []).map((p) => [p.children![0].value as string, evaluate(p.children![1])]));
    case 'array':
      return (node.children ?? []).map(evaluate);
    default:
      return node.value;
  }
}

let ajv: Ajv | undefined;
export type Compiled = { validate?: ReturnType<Ajv['compile']>; notes: SchemaNote[]; refused?: string };
const compiled = new WeakMap<object, Compiled>();

/** A schema compiled for checking: bounded (see safeRegex.ts), every pattern on the linear-time
 * engine; with what was left out and why. Cached per schema object. */
export function compileSchema(schema: JsonSchema): Compiled {
  let c = compiled.get(schema);
  if (c) return c;
  ajv ??= new Ajv({ allErrors: true, strict: false, validateFormats: false, code: { regExp: linearRegExp } });
  const bounded = boundSchema(schema);
  if ('refused' in bounded) c = { notes: [], refused: bounded.refused };
  else {
    try {
      const { value, notes } = collectNotes(() => ajv!.compile(bounded.schema));
      c = { validate: value, notes: [...bounded.notes, ...notes] };
    } catch (e) {
      c = { notes: [], refused: e instanceof Error ? e.message : String(e) };
    }
  }
  compiled.set(schema, c);
  return c;
}

/** What a schema left unchecked, as one warning each (patterns named, shortened). */
function noteDiagnostics(parsed: ParsedParamFile, notes: SchemaNote[]): Diagnostic[] {
  return notes.slice(0, 5).map((n) =>
    diag(parsed.text, parsed.tree, ['model'], n.pattern === 'uniqueItems' ? `The model's schema asks for distinct list items; that is not checked here (${n.reason}).` : `The model's schema has a pattern that was not used for checking: ${JSON.stringify(n.pattern.slice(0, 80))}${n.pattern.length > 80 ? '…' : ''}: ${n.reason}. Values for it are sent unchecked.`, 'warning'),
  );
}

function ajvMessage(e: ErrorObject): string {
  const p = e.params as Record<string, unknown>;
  switch (e.keyword) {
    case 'required':
      return `Missing required field "${String(p.missingProperty)}".`;
    case 'additionalProperties':
      return `The model has no field "${String(p.additionalProperty)}".`;
    case 'enum':
      return `Must be one of: ${(p.allowedValues as unknown[]).map((v) => JSON.stringify(v)).join(', ')}.`;
    case 'type':
      return `Must be ${String(p.type)}.`;
    default:
      return `${e.message ?? 'Invalid value'}.`.replace(/^must/, 'Must');
  }
}

/** An anyOf/oneOf failure makes ajv report every branch's complaint ("must be object", "must
 * be one of …", "must match a schema in anyOf") at one spot. Fold them into one message that
 * lists what would be accepted. */
const TYPE_WORDS: Record<string, string> = { object: 'an object', array: 'a list', integer: 'a whole number', number: 'a number', string: 'a string', boolean: 'true or false', null: 'null' };

function collapseAlternatives(errors: ErrorObject[]): ErrorObject[] {
  const groups = errors.filter((e) => e.keyword === 'anyOf' || e.keyword === 'oneOf');
  if (groups.length === 0) return errors;
  const out: ErrorObject[] = [];
  for (const e of errors) {
    const group = groups.find((g) => g !== e && e.schemaPath.startsWith(`${g.schemaPath}/`));
    if (group) continue;
    if (e.keyword !== 'anyOf' && e.keyword !== 'oneOf') {
      out.push(e);
      continue;
    }
    const branches = errors.filter((b) => b.schemaPath.startsWith(`${e.schemaPath}/`) && b.instancePath === e.instancePath);
    const values = branches.flatMap((b) => (b.keyword === 'enum' ? ((b.params as { allowedValues: unknown[] }).allowedValues ?? []) : b.keyword === 'const' ? [(b.params as { allowedValue: unknown }).allowedValue] : []));
    const types = [...new Set(branches.filter((b) => b.keyword === 'type').map((b) => String((b.params as { type: unknown }).type)))];
    const options = [...values.map((v) => JSON.stringify(v)), ...types.map((t) => TYPE_WORDS[t] ?? t)];
    out.push(options.length ? { ...e, keyword: 'alternatives', message: `must be ${options.length > 1 ? `${options.slice(0, -1).join(', ')} or ${options.at(-1)}` : options[0]}` } : e);
  }
  return out;
}

/** Validate `input` against the model's schema; each problem points at the field in the text. */
export function validateInput(parsed: ParsedParamFile, schema: JsonSchema): Diagnostic[] {
  if (!parsed.value) return [];
  const { validate, notes, refused } = compileSchema(schema);
  if (!validate) return [diag(parsed.text, parsed.tree, ['model'], `The model's schema could not be used for checking (${refused ?? 'invalid'}); the input is sent unchecked.`, 'warning')];
  // Sweep values replace fields, so a required field supplied by the sweep is present.
  const input = { ...parsed.value.input };
  if ('seed' in input) input.seed = asChecked(input.seed);
  for (const [k, values] of Object.entries(parsed.value.sweep ?? {})) if (!(k in input)) input[k] = k === 'seed' ? asChecked(values[0]) : values[0];
  const out: Diagnostic[] = noteDiagnostics(parsed, notes);
  if (!validate(input)) {
    for (const e of collapseAlternatives(validate.errors ?? [])) {
      const path = ['input', ...e.instancePath.split('/').filter(Boolean).map((s) => (/^\d+$/.test(s) ? Number(s) : s.replace(/~1/g, '/').replace(/~0/g, '~')))];
      if (e.keyword === 'additionalProperties') path.push(String((e.params as Record<string, unknown>).additionalProperty));
      const field = path.length > 1 && e.keyword !== 'required' && e.keyword !== 'additionalProperties' ? `"${path.slice(1).join('.')}" ` : '';
      out.push(diag(parsed.text, parsed.tree, path, field ? `${field}${ajvMessage(e).replace(/^Must/, 'must')}` : ajvMessage(e)));
    }
  }
  // Each sweep value must be valid for its field too.
  const props = (schema.properties ?? {}) as Record<string, JsonSchema>;
  for (const [field, values] of Object.entries(parsed.value.sweep ?? {})) {
    if (!props[field]) {
      if (schema.additionalProperties === false) out.push(diag(parsed.text, parsed.tree, ['sweep', field], `The model has no field "${field}" to sweep.`));
      continue;
    }
    const one = props[field] && typeof props[field] === 'object' ? compileSchema(props[field]).validate : undefined;
    values.forEach((v, i) => {
      if (one && !one(field === 'seed' ? asChecked(v) : v)) out.push(diag(parsed.text, parsed.tree, ['sweep', field, i], `${field}: ${ajvMessage(one.errors![0])}`));
    });
  }
  return out;
}

/** The checks a parameter file gets, for a job made elsewhere (a gallery Re-run): the envelope,
 * then the input against the model's schema. Only errors: what would stop a Generate. */
export function checkSpec(spec: Pick<JobSpec, 'provider' | 'model' | 'input'>, schema: JsonSchema | undefined): Diagnostic[] {
  const parsed = parseParamFile(JSON.stringify({ provider: spec.provider, model: spec.model, input: spec.input }, null, 2));
  const problems = schema && parsed.value ? [...parsed.diagnostics, ...validateInput(parsed, schema)] : parsed.diagnostics;
  return problems.filter((d) => d.severity === 'error');
}

/** A problem as one clause for a sentence: "\"width\" must be <= 1536 (line 6)", its own full
 * stop dropped so the sentence around it ends once. */
export function problemClause(d: Diagnostic, withLine = true): string {
  const text = d.message.replace(/[.\s]+$/, '');
  return withLine ? `${text} (line ${d.range.start.line + 1})` : text;
}

export function countJobs(f: Pick<ParamFileEnvelope, 'count' | 'seeds' | 'sweep'>): number {
  let n = (f.count ?? 1) * (f.seeds?.length ?? 1);
  for (const values of Object.values(f.sweep ?? {})) n *= values.length;
  return n;
}

/** count × seeds × the cartesian product of sweep axes, in a stable order. */
export function expandJobs(f: ParamFileEnvelope, seedField = 'seed'): JobSpec[] {
  const axes = Object.entries(f.sweep ?? {});
  let combos: Record<string, unknown>[] = [{}];
  for (const [field, values] of axes) combos = combos.flatMap((c) => values.map((v) => ({ ...c, [field]: v })));
  const seeds: (Seed | undefined)[] = f.seeds ?? [asSeed(f.input[seedField])];
  const specs: JobSpec[] = [];
  for (const combo of combos) {
    for (const seed of seeds) {
      for (let i = 0; i < (f.count ?? 1); i++) {
        const input: Record<string, unknown> = { ...f.input, ...combo };
        // With a fixed seed and count > 1, successive jobs take successive seeds so they differ.
        const s = seed === undefined ? undefined : addToSeed(seed, i);
        if (s !== undefined) input[seedField] = s;
        specs.push({ provider: f.provider, model: f.model, input, seed: s, sweepValues: axes.length ? combo : undefined });
      }
    }
  }
  return specs;
}

/** A parameter file's text, with a seed past 2^53 in `input` written as the exact integer. */
export function stringifyParamFile(body: object, seedField = 'seed'): string {
  return `${stringifyExact(body as Record<string, unknown>, ['input'], [seedField], 2)}\n`;
}
