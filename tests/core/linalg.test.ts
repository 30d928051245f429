import { Matrix, SVD } from 'ml-matrix';
import { describe, expect, it } from 'vitest';
import { thinSvd, topSymmetricEigen, type Dense } from '../../src/core/linalg.js';
import { gaussian } from '../helpers.js';

function random(rows: number, cols: number, seed: number): Dense {
  const g = gaussian(seed);
  return { rows, cols, data: Float64Array.from({ length: rows * cols }, g) };
}

describe('thinSvd', () => {
  // tall (QR + Jacobi), square and wide (transpose) shapes, and a rank-deficient one
  const cases: [string, Dense][] = [
    ['768 x 37', random(768, 37, 1)],
    ['64 x 9', random(64, 9, 2)],
    ['6 x 6', random(6, 6, 3)],
    ['4 x 9', random(4, 9, 4)],
  ];
  const deficient = random(50, 6, 5);
  for (let i = 0; i < 50; i++) deficient.data[i * 6 + 5] = (deficient.data[i * 6] as number) + (deficient.data[i * 6 + 1] as number);
  cases.push(['50 x 6 of rank 5', deficient]);

  for (const [name, a] of cases) {
    it(`${name}: U S V^T = A and U^T U = I (1e-12), singular values as ml-matrix (1e-10)`, () => {
      const { u, s, v } = thinSvd(a);
      const k = Math.min(a.rows, a.cols);
      expect([u.rows, u.cols, v.rows, v.cols, s.length]).toEqual([a.rows, k, a.cols, k, k]);
      let recon = 0;
      for (let i = 0; i < a.rows; i++) {
        for (let j = 0; j < a.cols; j++) {
          let x = 0;
          for (let t = 0; t < k; t++) x += (u.data[i * k + t] as number) * (s[t] as number) * (v.data[j * k + t] as number);
          recon = Math.max(recon, Math.abs(x - (a.data[i * a.cols + j] as number)));
        }
      }
      expect(recon).toBeLessThan(1e-12);
      const rank = Array.from(s).filter((x) => x > 1e-10).length;
      for (let p = 0; p < rank; p++) {
        for (let q = 0; q < rank; q++) {
          let dot = 0;
          for (let i = 0; i < a.rows; i++) dot += (u.data[i * k + p] as number) * (u.data[i * k + q] as number);
          expect(Math.abs(dot - (p === q ? 1 : 0))).toBeLessThan(1e-12);
        }
      }
      for (let t = 1; t < k; t++) expect(s[t] as number).toBeLessThanOrEqual(s[t - 1] as number);
      const m = new Matrix(Array.from({ length: a.rows }, (_, i) => Array.from(a.data.subarray(i * a.cols, (i + 1) * a.cols))));
      const ref = new SVD(m, { autoTranspose: true }).diagonal.sort((x, y) => y - x);
      ref.forEach((x, t) => expect(Math.abs(x - (s[t] as number))).toBeLessThan(1e-10));
    });
  }
});

describe('topSymmetricEigen', () => {
  it('finds the top eigenpairs of A^T A: A^T A v = lambda v (1e-9 relative)', () => {
    const a = random(40, 8, 6);
    const g = new Float64Array(64);
    for (let i = 0; i < 8; i++)
      for (let j = 0; j < 8; j++)
        for (let r = 0; r < 40; r++)
          g[i * 8 + j] = (g[i * 8 + j] as number) + (a.data[r * 8 + i] as number) * (a.data[r * 8 + j] as number);
    const { values, vectors } = topSymmetricEigen({ rows: 8, cols: 8, data: g }, 3);
    expect(values[0] as number).toBeGreaterThanOrEqual(values[1] as number);
    for (let t = 0; t < 3; t++) {
      for (let i = 0; i < 8; i++) {
        let gv = 0;
        for (let j = 0; j < 8; j++) gv += (g[i * 8 + j] as number) * (vectors.data[t * 8 + j] as number);
        expect(Math.abs(gv - (values[t] as number) * (vectors.data[t * 8 + i] as number))).toBeLessThan(1e-9 * (values[0] as number));
      }
    }
    const sv = thinSvd(a).s;
    expect(Math.abs(Math.sqrt(values[0] as number) - (sv[0] as number))).toBeLessThan(1e-9);
  });
});

describe('topSymmetricEigen on a large matrix (subspace iteration path)', () => {
  it('agrees with the full decomposition: eigenvalue 1e-10 relative, vector |cos| 1 - 1e-10', async () => {
    const { EigenvalueDecomposition, Matrix } = await import('ml-matrix');
    const n = 160;
    const g = gaussian(21);
    // A = X^T X of "raw embeddings" with a strong mean direction, as LIR sees them
    const mean = Float64Array.from({ length: n }, () => 2 * g());
    const rows = 400;
    const x = Float64Array.from({ length: rows * n }, (_, i) => (mean[i % n] as number) + g());
    const a = new Float64Array(n * n);
    for (let r = 0; r < rows; r++)
      for (let i = 0; i < n; i++)
        for (let j = 0; j < n; j++) a[i * n + j] = (a[i * n + j] as number) + (x[r * n + i] as number) * (x[r * n + j] as number);
    const got = topSymmetricEigen({ rows: n, cols: n, data: a }, 1);
    const m = new Matrix(Array.from({ length: n }, (_, i) => Array.from(a.subarray(i * n, (i + 1) * n))));
    const f = new EigenvalueDecomposition(m, { assumeSymmetric: true });
    const vals = f.realEigenvalues;
    const top = vals.indexOf(Math.max(...vals));
    expect(Math.abs((got.values[0] as number) - (vals[top] as number)) / (vals[top] as number)).toBeLessThan(1e-10);
    let dot = 0;
    for (let i = 0; i < n; i++) dot += (got.vectors.data[i] as number) * f.eigenvectorMatrix.get(i, top);
    expect(1 - Math.abs(dot)).toBeLessThan(1e-10);
  });
});
