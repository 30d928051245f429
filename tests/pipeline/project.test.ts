import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { encodeNpy, readNpy } from '../../src/io/npy.js';
import { fitFromArrays } from '../../src/pipeline/fit.js';
import { projectStream } from '../../src/pipeline/project/index.js';
import { gaussian, listFiles, planted, tempDir } from '../helpers.js';

const D = 64;
const ROWS = 20_000; // above the worker-thread threshold
const langs = planted(['en', 'de', 'fr', 'ru'], 50, D, 9);

async function bigInput(dir: string, nanRow?: number): Promise<string> {
  const g = gaussian(4);
  const x = Float32Array.from({ length: ROWS * D }, g);
  if (nanRow !== undefined) x[nanRow * D + 3] = NaN;
  const p = join(dir, 'big.npy');
  await writeFile(p, encodeNpy(x, [ROWS, D]));
  return p;
}

describe('projectStream on worker threads', () => {
  for (const [method, lang] of [
    ['lsar', undefined],
    ['lir', 'de'],
  ] as const) {
    it(`${method}: workers give exactly the single-thread result (with --normalize)`, async () => {
      const dir = await tempDir();
      const input = await bigInput(dir);
      const p = fitFromArrays(langs, D, { method });
      const opts = { normalize: true, ...(lang ? { lang } : {}) };
      await projectStream(p, { input, output: join(dir, 'par.npy'), workers: 2, ...opts });
      await projectStream(p, { input, output: join(dir, 'ser.npy'), workers: 0, ...opts });
      const a = await readNpy(join(dir, 'par.npy'));
      const b = await readNpy(join(dir, 'ser.npy'));
      expect(a.rows).toBe(ROWS);
      expect(Buffer.from(a.data.buffer).equals(Buffer.from(b.data.buffer))).toBe(true);
    });
  }

  it('names the row holding NaN and leaves no output', async () => {
    const dir = await tempDir();
    const input = await bigInput(dir, 17_001);
    const out = join(await tempDir(), 'o.npy');
    await expect(projectStream(fitFromArrays(langs, D, { method: 'lsar' }), { input, output: out, workers: 2 })).rejects.toThrow(
      /big\.npy: row 17001 holds NaN or Inf/,
    );
    expect(await listFiles(join(out, '..'))).toEqual([]);
  });
});
