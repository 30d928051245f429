/**
 * abtt (all-but-the-top): parity with a committed numpy restatement (scripts/abtt_ref.py, outputs in
 * tests/fixtures/abtt) on planted-small, and its properties on random data.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { pooledMean } from '../../src/core/projection.js';
import { apply } from '../../src/core/apply.js';
import { readNpy } from '../../src/io/npy.js';
import { listLanguageFiles } from '../../src/io/inputs.js';
import { fitFromArrays, fitFromFiles } from '../../src/pipeline/fit.js';
import { GOLDEN, planted, ROOT } from '../helpers.js';

const FIX = join(ROOT, 'tests', 'fixtures', 'abtt');

describe('abtt against the numpy restatement (planted-small)', () => {
  const expected = JSON.parse(readFileSync(join(FIX, 'expected.json'), 'utf8')) as { eigenvalues: number[]; D: number[]; langs: string[] };
  it.each([1, 4])('D = %i: eigenvalues (1e-8 relative) and projected bitext rows (1e-5)', async (D) => {
    const files = await listLanguageFiles(join(GOLDEN, 'fit'), '.npy');
    const { projection } = await fitFromFiles(files, { method: 'abtt', remove: D });
    expect(projection.remove).toBe(D);
    projection.singularValues!.forEach((v, k) =>
      expect(Math.abs(v - (expected.eigenvalues[k] as number)) / (expected.eigenvalues[0] as number)).toBeLessThan(1e-8),
    );
    for (const lang of expected.langs) {
      const x = await readNpy(join(GOLDEN, 'bitext', `${lang}.npy`));
      const want = await readNpy(join(FIX, `abtt-${D}.${lang}.npy`));
      const got = apply(projection, Float64Array.from(x.data));
      let m = 0;
      for (let i = 0; i < got.length; i++) m = Math.max(m, Math.abs((got[i] as number) - (want.data[i] as number)));
      expect(m).toBeLessThan(1e-5);
      // the float32 path (SIMD kernel) too
      const got32 = apply(projection, Float32Array.from(x.data));
      let m32 = 0;
      for (let i = 0; i < got32.length; i++) m32 = Math.max(m32, Math.abs((got32[i] as number) - (want.data[i] as number)));
      expect(m32).toBeLessThan(1e-4);
    }
  });
});

describe('abtt properties', () => {
  const d = 24;
  const data = planted(['en', 'de', 'fr', 'ja'], 120, d, 11);
  const p = fitFromArrays(data, d, { method: 'abtt', remove: 3 });

  it('the basis is orthonormal (1e-10) and outputs are orthogonal to it (1e-9); the pooled mean is removed', () => {
    const B = p.basis!;
    for (let a = 0; a < 3; a++) {
      for (let b = 0; b < 3; b++) {
        let s = 0;
        for (let i = 0; i < d; i++) s += (B.data[a * d + i] as number) * (B.data[b * d + i] as number);
        expect(Math.abs(s - (a === b ? 1 : 0))).toBeLessThan(1e-10);
      }
    }
    const x = Float64Array.from(data.de as Float32Array);
    const y = apply(p, x);
    for (let r = 0; r < 120; r++) {
      for (let a = 0; a < 3; a++) {
        let s = 0;
        for (let i = 0; i < d; i++) s += (y[r * d + i] as number) * (B.data[a * d + i] as number);
        expect(Math.abs(s)).toBeLessThan(1e-9);
      }
    }
    // the pooled mean maps to 0
    const mu = pooledMean(p);
    expect(Math.max(...Array.from(apply(p, Float64Array.from(mu)), Math.abs))).toBeLessThan(1e-12);
  });

  it('default D = d/100 (at least 1); remove out of range refused; rank refused', () => {
    expect(fitFromArrays(data, d, { method: 'abtt' }).remove).toBe(1);
    expect(() => fitFromArrays(data, d, { method: 'abtt', remove: d })).toThrow(
      /remove must be an integer from 1 to the dimension - 1 \(23\), got 24/,
    );
    expect(() => fitFromArrays(data, d, { method: 'abtt', rank: 2 })).toThrow(/rank does not apply to method "abtt"/);
  });

  it('the top eigenvalues are those of the pooled covariance, descending', () => {
    const ev = p.singularValues!;
    expect(ev).toHaveLength(3);
    expect(ev[0]).toBeGreaterThanOrEqual(ev[1] as number);
    expect(ev[1]).toBeGreaterThanOrEqual(ev[2] as number);
  });
});
