// sharp, loaded once and on first use. It is a native module with a binary per platform: a
// VSIX built for another platform (a Linux build on a Mac), or a CPU the prebuilt binary does
// not support, cannot load it. Nothing that can do without it fails then: downloads are
// checked by their bytes (sniff.ts), products are stored, and the gallery shows originals.
// What truly needs it (thumbnails, the Sample provider, converting exports, contact sheets)
// says so with SharpUnavailableError; the process-wide problem is announced once.
export type SharpModule = typeof import('sharp');

export interface SharpProblem {
  /** The VS Code target this process runs on (darwin-arm64, linux-x64, alpine-x64, win32-x64…). */
  target: string;
  /** sharp's own first line, e.g. 'Could not load the "sharp" module using the linux-x64 runtime'. */
  reason: string;
  /** One paragraph for the user: what is missing, what still works, and how to fix it. */
  message: string;
}

/** The VS Code platform target of this process (`vsce package --target` names). */
export function runtimeTarget(): string {
  const report = process.platform === 'linux' ? (process.report?.getReport() as { header?: { glibcVersionRuntime?: string } } | undefined) : undefined;
  const os = process.platform === 'linux' && report?.header && !report.header.glibcVersionRuntime ? 'alpine' : process.platform;
  return `${os}-${process.arch}`;
}

/** How to get a build that has sharp for `target`. */
export function sharpFix(target: string): string {
  return `Install the Art Factory build for ${target}: the Marketplace picks it for you; from a file, install art-factory-${target}.vsix.`;
}

export class SharpUnavailableError extends Error {
  override readonly name = 'SharpUnavailableError';
  constructor(
    /** What needed sharp, as the subject of a sentence: "The Sample provider", "Making contact sheets". */
    readonly what: string,
    readonly problem: SharpProblem,
  ) {
    super(`${what} needs the image library sharp, which could not load on this machine (${problem.target}). ${sharpFix(problem.target)}`);
  }
}

let loading: Promise<SharpModule | undefined> | undefined;
let problem: SharpProblem | undefined;
const listeners = new Set<(p: SharpProblem) => void>();

function describe(e: unknown): SharpProblem {
  const target = runtimeTarget();
  const reason = (e instanceof Error ? e.message : String(e)).split('\n')[0].trim();
  return {
    target,
    reason,
    message:
      `Art Factory's image library (sharp) could not load on this machine (${target}): ${reason}. ` +
      'Generations still work: downloads are checked by their bytes and stored, and the gallery shows the originals. ' +
      `Thumbnails, the Sample provider, converting exports and contact sheets need it. ${sharpFix(target)}`,
  };
}

/** sharp, or undefined when it cannot load here (then `sharpProblem()` says why). */
export function loadSharp(): Promise<SharpModule | undefined> {
  loading ??= import('sharp').then(
    (m) => m.default,
    (e: unknown) => {
      problem = describe(e);
      for (const l of listeners) l(problem);
      return undefined;
    },
  );
  return loading;
}

/** sharp, or a SharpUnavailableError that names `what` needed it. */
export async function requireSharp(what: string): Promise<SharpModule> {
  const sharp = await loadSharp();
  if (!sharp) throw new SharpUnavailableError(what, problem!);
  return sharp;
}

/** Why sharp could not load, once a load was tried and failed. */
export function sharpProblem(): SharpProblem | undefined {
  return problem;
}

/** Called once, when sharp first fails to load (at once if it already has): the one warning. */
export function onSharpUnavailable(listener: (p: SharpProblem) => void): { dispose(): void } {
  if (problem) listener(problem);
  else listeners.add(listener);
  return { dispose: () => listeners.delete(listener) };
}
