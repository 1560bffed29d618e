// The shared real-world test data: ../shared/fixtures next to the repository (PngSuite, broken
// images). Tests read it from there and never commit it. A checkout without it skips the tests
// that need it and says why; under CI=true nothing is skipped, and a missing fixture fails the
// test that needs it, naming the folder. ARTFACTORY_FIXTURES points elsewhere (another checkout's
// copy, or a missing folder to see what CI would say).
import { existsSync, readdirSync } from 'node:fs';
import * as path from 'node:path';

export const FIXTURES = path.resolve(process.env.ARTFACTORY_FIXTURES ?? path.join(__dirname, '..', '..', 'shared', 'fixtures'));
/** PngSuite's images: 175 files, of which the 14 named x*.png are corrupt on purpose. */
export const PNGSUITE = path.join(FIXTURES, 'pngsuite', 'png');
export const PNGSUITE_FILES = 175;
export const PNGSUITE_CORRUPT = 14;
/** Broken images met in the wild: an empty file, 1×1 placeholders, text after the image data. */
export const BAD_IMAGES = path.join(FIXTURES, 'bad_images');

const ON_CI = /^(1|true)$/i.test(process.env.CI ?? '');

/** Test options for a test that reads `dirs`: skipped with the reason when one is missing,
 * except under CI=true, where the test runs and `fixtureFiles` fails it. */
export function needsFixtures(...dirs: string[]): { skip?: string } {
  const missing = dirs.filter((d) => !existsSync(d));
  if (missing.length === 0 || ON_CI) return {};
  return { skip: `fixtures missing: ${missing.join(', ')} (put them in ../shared/fixtures; under CI=true this fails)` };
}

/** The files of a fixture folder (full paths, sorted) that pass `filter`; throws naming the
 * folder when it is missing or holds none. */
export function fixtureFiles(dir: string, filter: (name: string) => boolean = () => true): string[] {
  if (!existsSync(dir)) throw new Error(`fixture missing: ${dir} does not exist (../shared/fixtures must hold PngSuite and bad_images)`);
  const files = readdirSync(dir)
    .filter(filter)
    .sort()
    .map((n) => path.join(dir, n));
  if (files.length === 0) throw new Error(`fixture empty: no matching file in ${dir}`);
  return files;
}
