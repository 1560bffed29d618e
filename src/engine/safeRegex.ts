// Schemas from a project are data, not code. A model's input schema can come from a project
// folder (`.artfactory/schemas/*.input.json`), and JSON Schema's `pattern` is a regular
// expression: with JavaScript's backtracking engine `^(a+)+$` against 34 `a`s and a `!` runs
// for minutes, on the extension host. So every pattern ajv meets runs on RE2JS, a linear-time
// engine (no backtracking: time grows with the input, never exponentially). A pattern RE2
// cannot run (lookaround, backreferences) or one past MAX_PATTERN is not used, and the check
// says so. Before compiling, a schema is bounded (size, depth) and `uniqueItems` (quadratic on
// lists of objects) is left out.
import { RE2JS } from 're2js';
import type { JsonSchema } from '../providers/types.ts';

export const MAX_PATTERN = 2000;
const MAX_DEPTH = 64;
const MAX_NODES = 100_000;

/** A pattern (or keyword) that was not used, and why. */
export interface SchemaNote {
  pattern: string;
  reason: string;
}

interface RegExpLike {
  test(s: string): boolean;
  toString(): string;
}

let collecting: SchemaNote[] | undefined;

function compilePattern(pattern: string): RegExpLike | string {
  if (pattern.length > MAX_PATTERN) return `it is ${pattern.length} characters long (at most ${MAX_PATTERN} are used)`;
  try {
    const re = RE2JS.compile(RE2JS.translateRegExp(pattern));
    return { test: (s: string) => re.test(s), toString: () => `re2:${pattern}` };
  } catch (e) {
    const why = e instanceof Error ? e.message.replace(/^error parsing regexp: /, '') : String(e);
    return `the linear-time engine cannot run it (${why}); lookahead, lookbehind and backreferences are not supported`;
  }
}

/** ajv's `code.regExp`: every `pattern` and `patternProperties` key goes through here. */
export const linearRegExp = Object.assign(
  (pattern: string): RegExpLike => {
    const compiled = compilePattern(pattern);
    if (typeof compiled !== 'string') return compiled;
    collecting?.push({ pattern, reason: compiled });
    // Not used: every value passes this check (the provider still checks its own input).
    return { test: () => true, toString: () => `unused:${pattern}` };
  },
  { code: 'linearRegExp' },
);

/** Run `compile` and return what it produced with the patterns it could not use. */
export function collectNotes<T>(compile: () => T): { value: T; notes: SchemaNote[] } {
  const notes: SchemaNote[] = [];
  const outer = collecting;
  collecting = notes;
  try {
    return { value: compile(), notes };
  } finally {
    collecting = outer;
  }
}

/** A copy of `schema` fit to compile: bounded in size and depth, without `uniqueItems`; or
 * the reason it cannot be used at all. */
export function boundSchema(schema: JsonSchema): { schema: JsonSchema; notes: SchemaNote[] } | { refused: string } {
  const notes: SchemaNote[] = [];
  let nodes = 0;
  const copy = (v: unknown, depth: number): unknown => {
    if (++nodes > MAX_NODES) throw new Error(`it has more than ${MAX_NODES} parts`);
    if (depth > MAX_DEPTH) throw new Error(`it nests deeper than ${MAX_DEPTH} levels`);
    if (Array.isArray(v)) return v.map((x) => copy(x, depth + 1));
    if (!v || typeof v !== 'object') return v;
    const out: Record<string, unknown> = {};
    for (const [k, x] of Object.entries(v as Record<string, unknown>)) {
      if (k === 'uniqueItems' && x === true) {
        notes.push({ pattern: 'uniqueItems', reason: 'checking that list items differ takes quadratic time on lists of objects; left to the provider' });
        continue;
      }
      Object.defineProperty(out, k, { value: copy(x, depth + 1), enumerable: true, writable: true, configurable: true });
    }
    return out;
  };
  try {
    return { schema: copy(schema, 0) as JsonSchema, notes };
  } catch (e) {
    return { refused: e instanceof Error ? e.message : String(e) };
  }
}

/** Whether a backtracking engine (JavaScript's, and so VS Code's own JSON validation) could
 * take exponential time on `pattern`: a quantified group that itself holds a quantifier, as in
 * `(a+)+`, `(\w*\s?)*` or `(x|y+){2,}`. A heuristic: it flags the classic shapes. */
/** `+`, `*` or an open-ended or ranged `{m,n}` at the start of `s` (an exact `{n}` is not ambiguous). */
function repeats(s: string): boolean {
  return s[0] === '+' || s[0] === '*' || /^\{\d*,\d*\}/.test(s);
}

export function backtracksBadly(pattern: string): boolean {
  const groups: boolean[] = [];
  let inner = false;
  for (let i = 0; i < pattern.length; i++) {
    const c = pattern[i];
    if (c === '\\') {
      i++;
      continue;
    }
    if (c === '[') {
      for (i++; i < pattern.length && pattern[i] !== ']'; i++) if (pattern[i] === '\\') i++;
      continue;
    }
    if (c === '(') {
      groups.push(inner);
      inner = false;
      continue;
    }
    if (c === ')') {
      const had: boolean = inner;
      inner = (groups.pop() ?? false) || had;
      if (had && repeats(pattern.slice(i + 1))) return true;
      continue;
    }
    if (repeats(pattern.slice(i))) inner = true;
  }
  return false;
}

/** Every `pattern` and `patternProperties` key in a schema, with where it is. */
export function patternsOf(schema: unknown, at = '', out: { at: string; pattern: string }[] = [], depth = 0): { at: string; pattern: string }[] {
  if (!schema || typeof schema !== 'object' || depth > MAX_DEPTH || out.length > 10_000) return out;
  if (Array.isArray(schema)) {
    schema.forEach((x, i) => patternsOf(x, `${at}/${i}`, out, depth + 1));
    return out;
  }
  for (const [k, v] of Object.entries(schema as Record<string, unknown>)) {
    if (k === 'pattern' && typeof v === 'string') out.push({ at: at || '/', pattern: v });
    if (k === 'patternProperties' && v && typeof v === 'object') for (const p of Object.keys(v)) out.push({ at: `${at}/patternProperties`, pattern: p });
    patternsOf(v, `${at}/${k}`, out, depth + 1);
  }
  return out;
}
