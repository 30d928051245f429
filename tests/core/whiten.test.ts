/**
 * whiten (BERT-whitening): parity with a committed numpy restatement (scripts/whiten_ref.py,
 * outputs in tests/fixtures/whiten) on planted-small, and its properties on random data.
 */
import { readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { outputDim } from '../../src/core/projection.js';
import { apply } from '../../src/core/apply.js';
import { readNpy } from '../../src/io/npy.js';
import { listLanguageFiles } from '../../src/io/inputs.js';
import { loadProjection, saveProjection } from '../../src/io/artifact.js';
import { fitFromArrays, fitFromFiles } from '../../src/pipeline/fit.js';
import { GOLDEN, planted, ROOT } from '../helpers.js';

const FIX = join(ROOT, 'tests', 'fixtures', 'whiten');

function maxDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  expect(a.length).toBe(b.length);
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs((a[i] as number) - (b[i] as number)));
  return m;
}

describe('whiten against the numpy restatement (planted-small)', () => {
  const expected = JSON.parse(readFileSync(join(FIX, 'expected.json'), 'utf8')) as { eigenvalues: number[]; k: number[]; langs: string[] };
  it.each([64, 8])('k = %i: eigenvalues (1e-8 relative) and whitened bitext rows (1e-5)', async (k) => {
    const files = await listLanguageFiles(join(GOLDEN, 'fit'), '.npy');
    const { projection } = await fitFromFiles(files, { method: 'whiten', ...(k !== 64 ? { dims: k } : {}) });
    expect(projection.dims).toBe(k);
    expect(outputDim(projection)).toBe(k);
    projection.singularValues!.forEach((v, j) =>
      expect(Math.abs(v - (expected.eigenvalues[j] as number)) / (expected.eigenvalues[0] as number)).toBeLessThan(1e-8),
    );
    for (const lang of expected.langs) {
      const x = await readNpy(join(GOLDEN, 'bitext', `${lang}.npy`));
      const want = await readNpy(join(FIX, `whiten-${k}.${lang}.npy`));
      expect(want.dim).toBe(k);
      expect(maxDiff(apply(projection, Float64Array.from(x.data)), want.data)).toBeLessThan(1e-5);
      // float32 rows: float32 rounding of inputs and outputs of magnitude ~1-10 (1e-4)
      expect(maxDiff(apply(projection, Float32Array.from(x.data)), want.data)).toBeLessThan(1e-4);
    }
  });
});

describe('whiten properties', () => {
  const d = 16;
  const langs = ['en', 'de', 'fr'];
  const data = planted(langs, 200, d, 5);

  function covariance(y: Float64Array, n: number, k: number): Float64Array {
    const mu = new Float64Array(k);
    for (let r = 0; r < n; r++) for (let j = 0; j < k; j++) mu[j] = (mu[j] as number) + (y[r * k + j] as number) / n;
    const c = new Float64Array(k * k);
    for (let r = 0; r < n; r++)
      for (let a = 0; a < k; a++)
        for (let b = 0; b < k; b++)
          c[a * k + b] =
            (c[a * k + b] as number) + ((y[r * k + a] as number) - (mu[a] as number)) * ((y[r * k + b] as number) - (mu[b] as number));
    return c.map((v) => v / (n - 1));
  }

  it.each([d, 5])('the whitened fit data have zero mean (1e-10) and identity sample covariance (1e-8), k = %i', (k) => {
    const p = fitFromArrays(data, d, { method: 'whiten', dims: k });
    const all = new Float64Array(langs.length * 200 * d);
    langs.forEach((l, i) => all.set(data[l] as Float32Array, i * 200 * d));
    const y = apply(p, all);
    const n = langs.length * 200;
    expect(y.length).toBe(n * k);
    const c = covariance(y, n, k);
    for (let a = 0; a < k; a++)
      for (let b = 0; b < k; b++) expect(Math.abs((c[a * k + b] as number) - (a === b ? 1 : 0))).toBeLessThan(1e-8);
    for (let j = 0; j < k; j++) {
      let m = 0;
      for (let r = 0; r < n; r++) m += (y[r * k + j] as number) / n;
      expect(Math.abs(m)).toBeLessThan(1e-10);
    }
  });

  it('truncation keeps the leading coordinates of the full whitening (1e-10)', () => {
    const full = apply(fitFromArrays(data, d, { method: 'whiten' }), Float64Array.from(data.en as Float32Array));
    const cut = apply(fitFromArrays(data, d, { method: 'whiten', dims: 4 }), Float64Array.from(data.en as Float32Array));
    for (let r = 0; r < 200; r++)
      for (let j = 0; j < 4; j++) expect(Math.abs((cut[r * 4 + j] as number) - (full[r * d + j] as number))).toBeLessThan(1e-10);
  });

  it('dims out of range, on another method, or beyond the numerical rank are refused with the option named', () => {
    expect(() => fitFromArrays(data, d, { method: 'whiten', dims: d + 1 })).toThrow(
      /dims must be an integer from 1 to the dimension 16, got 17/,
    );
    expect(() => fitFromArrays(data, d, { method: 'lsar', dims: 2 })).toThrow(/dims applies only to method "whiten"/);
    expect(() => fitFromArrays(data, d, { method: 'whiten', remove: 2 })).toThrow(/remove does not apply to method "whiten"/);
    // 3 rows per language: 9 rows span at most 8 dimensions of 16; asked for all 16, refused ...
    const few = planted(langs, 3, d, 6);
    expect(() => fitFromArrays(few, d, { method: 'whiten', dims: d })).toThrow(/only \d+ eigenvalues above .* choose dims of at most \d+/);
    // ... and by default fitted with the most that can be whitened (issue 19: defaults run on any data)
    const auto = fitFromArrays(few, d, { method: 'whiten' });
    expect(auto.dims).toBeLessThanOrEqual(8);
    expect(auto.dims).toBeGreaterThanOrEqual(1);
    expect(() => fitFromArrays(few, d, { method: 'whiten', dims: auto.dims as number })).not.toThrow();
  });

  it('saved and loaded (JSON + sidecars), it applies the same (exactly)', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'lsar-whiten-'));
    try {
      const p = fitFromArrays(data, d, { method: 'whiten', dims: 6 });
      const q = await loadProjection(await saveProjection(join(dir, 'w.json'), p));
      expect(q.dims).toBe(6);
      const x = Float64Array.from(data.fr as Float32Array);
      expect(maxDiff(apply(q, x), apply(p, x))).toBe(0);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
