// Integers a JavaScript number cannot hold, sent and written exactly. A seed past 2^53 (ComfyUI
// and Fooocus seeds reach 2^64 - 1) is kept as its decimal digits, a string. Where it must
// become a JSON integer again (a provider's request body, a parameter file) JSON.stringify
// cannot write it, so the value is replaced by a marker string that no text could contain (it
// starts with a NUL), stringified, and the marker's JSON is then replaced by the bare digits.
// The provider clients (@fal-ai/client, replicate) stringify their bodies themselves; the one
// provider fetch (net.ts) puts the digits back into every string body it sends.

const MARK = '\u0000exact-integer:';
const MARKED = /"\\u0000exact-integer:(-?\d{1,40})"/g;
const DIGITS = /^-?\d{1,40}$/;

/** A string of decimal digits that only a string can hold exactly (past 2^53). */
export function isExactIntegerText(v: unknown): v is string {
  return typeof v === 'string' && DIGITS.test(v) && !Number.isSafeInteger(Number(v));
}

/** A copy of `obj` where each of `fields` holding exact-integer digits holds a marker instead. */
export function markExactIntegers<T extends Record<string, unknown>>(obj: T, fields: string[]): T {
  if (!fields.some((f) => isExactIntegerText(obj[f]))) return obj;
  const out: Record<string, unknown> = { ...obj };
  for (const f of fields) if (isExactIntegerText(out[f])) out[f] = `${MARK}${out[f]}`;
  return out as T;
}

/** JSON text with every marker replaced by its bare digits. */
export function restoreExactIntegers(json: string): string {
  return json.includes('exact-integer:') ? json.replace(MARKED, '$1') : json;
}

/** JSON.stringify, writing `fields` of `obj` that hold exact-integer digits as JSON integers.
 * `path` names the object inside `value` that has those fields (e.g. ['input']). */
export function stringifyExact(value: Record<string, unknown>, path: string[], fields: string[], space?: number): string {
  const mark = (v: unknown, rest: string[]): unknown => {
    if (typeof v !== 'object' || v === null || Array.isArray(v)) return v;
    const o = v as Record<string, unknown>;
    return rest.length === 0 ? markExactIntegers(o, fields) : { ...o, [rest[0]]: mark(o[rest[0]], rest.slice(1)) };
  };
  return restoreExactIntegers(JSON.stringify(mark(value, path), null, space));
}
