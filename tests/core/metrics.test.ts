import { describe, expect, it } from 'vitest';
import { embeddings } from '../../src/core/embeddings.js';
import { exactTopK } from '../../src/core/exact-search.js';
import { averagePrecision, averagePrecisionAtK, xsimErrors } from '../../src/core/metrics.js';
import { normalizeRows } from '../../src/core/rows.js';
import { topIndices } from '../../src/core/topk.js';
import { gaussian } from '../helpers.js';

describe('averagePrecision (sklearn semantics: tied scores are one threshold)', () => {
  it('ranks without ties: relevant at ranks 1 and 2 -> 1 (exact)', () => {
    expect(averagePrecision([0.9, 0.1, 0.5], [0, 2])).toBe(1);
  });
  it('relevant at ranks 1 and 3 -> (1/1 + 2/3) / 2 (1e-15)', () => {
    expect(Math.abs(averagePrecision([0.9, 0.5, 0.1], [0, 2]) - (1 + 2 / 3) / 2)).toBeLessThan(1e-15);
  });
  it('a relevant item tied with a non-relevant one above it: precision 1/3 at the tie (1e-15)', () => {
    // ranking: 0.9 (no), then {0.8 yes, 0.8 no}: threshold 0.8 holds 3 items, 1 relevant
    expect(Math.abs(averagePrecision([0.9, 0.8, 0.8, 0.1], [1]) - 1 / 3)).toBeLessThan(1e-15);
  });
  it('two thresholds with ties: 1/2 * 1/2 + 1/2 * 2/3 (1e-15)', () => {
    expect(Math.abs(averagePrecision([0.5, 0.5, 0.2], [0, 2]) - (0.25 + 1 / 3))).toBeLessThan(1e-15);
  });
  it('two relevant items tied at the top with one non-relevant: 2/3 (1e-15)', () => {
    expect(Math.abs(averagePrecision([0.7, 0.7, 0.7, 0.1], [0, 1]) - 2 / 3)).toBeLessThan(1e-15);
  });
});

describe('averagePrecisionAtK (mAP@k, XTREME-R)', () => {
  const rel = new Set([1, 0]);
  it('k = 2: one hit at rank 2 -> (1/2) / 2 (exact)', () => {
    expect(averagePrecisionAtK([3, 1, 2, 0], rel, 2)).toBe(0.25);
  });
  it('k = 4: hits at ranks 2 and 4 -> (1/2 + 2/4) / 2 (exact)', () => {
    expect(averagePrecisionAtK([3, 1, 2, 0], rel, 4)).toBe(0.5);
  });
  it('normalises by min(|relevant|, k)', () => {
    expect(averagePrecisionAtK([0, 9, 9], new Set([0, 5, 6]), 1)).toBe(1);
  });
});

describe('xSIM ratio margin', () => {
  // Unit vectors at angles (degrees): queries 0, 10, 20; targets -12, 9, 25.
  // Cosine sends query 0 to the hub target 1 (cos 9 deg > cos 12 deg): 2/3 right.
  // With k = 2: fwd(q0) = (cos 9 + cos 12) / 2 = .98292, bwd(t0) = (cos 12 + cos 22) / 2 = .95267,
  // bwd(t1) = (cos 1 + cos 9) / 2 = .99377; margins .97815 / .96780 = 1.0107 (t0) and
  // .98769 / .98835 = .99934 (t1): the margin picks t0 and every query is right.
  const vec = (deg: number) => [Math.cos((deg * Math.PI) / 180), Math.sin((deg * Math.PI) / 180)];
  const q = Float32Array.from([0, 10, 20].flatMap(vec));
  const t = Float32Array.from([-12, 9, 25].flatMap(vec));
  it('cosine top-1 makes one error, the margin none', () => {
    expect(Array.from(exactTopK(embeddings(q, 2), embeddings(t, 2), 1).indices)).toEqual([1, 1, 2]);
    expect(xsimErrors(embeddings(q, 2), embeddings(t, 2), 2)).toBe(0);
  });
});

describe('exactTopK', () => {
  it('equals a float64 brute force, ties to the lower index', () => {
    const g = gaussian(12);
    const d = 24;
    const t = normalizeRows(Float32Array.from({ length: 300 * d }, g), d);
    t.set(t.subarray(7 * d, 8 * d), 100 * d); // row 100 duplicates row 7: a tie
    const q = normalizeRows(Float32Array.from({ length: 50 * d }, g), d);
    q.set(t.subarray(7 * d, 8 * d), 0);
    const k = 5;
    const got = exactTopK(embeddings(q, d), embeddings(t, d), k);
    for (let i = 0; i < 50; i++) {
      const scores = Array.from({ length: 300 }, (_, j) => {
        let s = 0;
        for (let c = 0; c < d; c++) s += (q[i * d + c] as number) * (t[j * d + c] as number);
        return s;
      });
      expect(Array.from(got.indices.subarray(i * k, (i + 1) * k))).toEqual(topIndices(scores, k));
    }
    expect(got.indices[0]).toBe(7);
    expect(got.indices[1]).toBe(100);
  });
});
