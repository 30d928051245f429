/** The vendored fixtures are what ../shared holds (where it is present). */
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { describe, expect, it } from 'vitest';
import { GOLDEN, SHARED_GOLDEN } from './helpers.js';

function files(dir: string): string[] {
  return readdirSync(dir)
    .flatMap((n) => (statSync(join(dir, n)).isDirectory() ? files(join(dir, n)) : [join(dir, n)]))
    .sort();
}

describe('tests/fixtures/planted-small', () => {
  it.skipIf(!existsSync(SHARED_GOLDEN))(`equals ${SHARED_GOLDEN} file for file, byte for byte`, () => {
    const want = files(SHARED_GOLDEN).map((f) => relative(SHARED_GOLDEN, f));
    expect(files(GOLDEN).map((f) => relative(GOLDEN, f))).toEqual(want);
    for (const f of want) expect(readFileSync(join(GOLDEN, f)).equals(readFileSync(join(SHARED_GOLDEN, f))), f).toBe(true);
  });
});
