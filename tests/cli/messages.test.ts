/** A few CLI messages kept word for word (the library's tests assert codes and parameters; these, what a user reads). */
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { GOLDEN, runCli, tempDir } from '../helpers.js';

describe('CLI messages', () => {
  it('usage, range, repeated option, missing file, a directory for a file', async () => {
    const dir = await tempDir();
    await mkdir(join(dir, 'sub.npy'));
    const cases = await Promise.all([
      runCli(['fit', join(GOLDEN, 'fit'), '--out', join(dir, 'p.json'), '--method', 'pca']),
      runCli(['search', '-x', 'x.npy', '--queries', 'q.npy', '-k', '2.5']),
      runCli(['project', '-p', 'a.json', '-p', 'b.json']),
      runCli(['project', '-p', join(dir, 'none.json')]),
      runCli(['fit', '-i', `en=${join(dir, 'sub.npy')}`, '-i', `de=${join(GOLDEN, 'fit', 'de.npy')}`, '--out', join(dir, 'p.json')]),
    ]);
    const lines = cases.map((r) => `${r.code} ${r.stderr.replaceAll(dir, '<dir>').replaceAll(GOLDEN, '<golden>')}`);
    expect(lines).toMatchInlineSnapshot(`
      [
        "2 lsar: --method must be one of lsar, lir, demean, abtt, whiten, none; got "pca"
      ",
        "2 lsar: -k must be a whole number from 1 to 1000000, got 2.5
      ",
        "2 lsar: --projection takes one value, but was given 2
      ",
        "1 lsar: <dir>/none.json: no such projection file (make one with lsar fit --out)
      ",
        "1 lsar: <dir>/sub.npy: is a directory, expected a .npy file
      ",
      ]
    `);
  });
});
