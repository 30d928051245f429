/**
 * The language-ID probe against scikit-learn (scripts/probe_ref.py, case in tests/fixtures/probe),
 * and properties of the other language-identity measures.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { betweenShare, centroidAccuracy, probeAccuracy, stratifiedFolds, type Labelled } from '../../src/core/probe.js';
import { fitLogistic } from '../../src/core/logistic.js';
import { pca2 } from '../../src/core/pca.js';
import { meanSpectrum, recommendRank } from '../../src/core/spectrum.js';
import { gaussian, ROOT } from '../helpers.js';

const CASE = JSON.parse(readFileSync(join(ROOT, 'tests', 'fixtures', 'probe', 'case.json'), 'utf8')) as {
  classes: number;
  dim: number;
  x: number[][];
  labels: number[];
  folds: number[];
  expected: Record<string, { accuracy: number; folds: number[] }>;
};

function caseData(): Labelled {
  return {
    x: Float64Array.from(CASE.x.flat()),
    rows: CASE.x.length,
    dim: CASE.dim,
    labels: Int32Array.from(CASE.labels),
    classes: CASE.classes,
  };
}

/** n rows per class around class centres `scale` apart (unit noise), d dims. */
function blobs(classes: number, n: number, d: number, scale: number, seed: number): Labelled {
  const g = gaussian(seed);
  const centres = Array.from({ length: classes }, () => Array.from({ length: d }, () => scale * g()));
  const x = new Float64Array(classes * n * d);
  const labels = new Int32Array(classes * n);
  for (let c = 0; c < classes; c++)
    for (let i = 0; i < n; i++) {
      labels[c * n + i] = c;
      for (let j = 0; j < d; j++) x[(c * n + i) * d + j] = (centres[c]?.[j] as number) + g();
    }
  return { x, rows: classes * n, dim: d, labels, classes };
}

describe('language-ID probe against scikit-learn LogisticRegression (multinomial, lbfgs) on the committed case', () => {
  it.each(Object.keys(CASE.expected))('C = %s: cross-validated accuracy within 1 point (0.01) of scikit-learn on the same folds', (C) => {
    const want = CASE.expected[C] as { accuracy: number; folds: number[] };
    const r = probeAccuracy(caseData(), Int32Array.from(CASE.folds), { C: Number(C) });
    expect(Math.abs(r.accuracy - want.accuracy)).toBeLessThanOrEqual(0.01);
    expect(r.unconverged).toBe(0);
  });

  it('the fitted model is a stationary point: gradient of the mean objective below the tolerance 1e-4', () => {
    const data = caseData();
    const rows = Int32Array.from({ length: data.rows }, (_, i) => i);
    const m = fitLogistic(data, rows, { C: 1 });
    expect(m.converged).toBe(true);
    // gradient check by central differences on one intercept (1e-6)
    const { w, b } = m;
    const f = (bb: Float64Array) => {
      let s = 0;
      for (let i = 0; i < data.rows; i++) {
        const sc = Array.from({ length: data.classes }, (_, c) => {
          let v = bb[c] as number;
          for (let j = 0; j < data.dim; j++) v += (w[c * data.dim + j] as number) * (data.x[i * data.dim + j] as number);
          return v;
        });
        const mx = Math.max(...sc);
        s += mx + Math.log(sc.reduce((a, v) => a + Math.exp(v - mx), 0)) - (sc[data.labels[i] as number] as number);
      }
      return s / data.rows;
    };
    const h = 1e-5;
    const plus = b.slice();
    plus[0] = (plus[0] as number) + h;
    const minus = b.slice();
    minus[0] = (minus[0] as number) - h;
    expect(Math.abs((f(plus) - f(minus)) / (2 * h))).toBeLessThan(1e-4 + 1e-6);
  });
});

describe('language-identity measures: properties', () => {
  it('stratified folds: every class spread evenly (counts differ by at most 1), deterministic for a seed', () => {
    const labels = Int32Array.from({ length: 103 }, (_, i) => i % 3);
    const f = stratifiedFolds(labels, 3, 5, 42);
    expect(stratifiedFolds(labels, 3, 5, 42)).toEqual(f);
    for (let c = 0; c < 3; c++) {
      const counts = [0, 0, 0, 0, 0];
      f.forEach((v, i) => {
        if (labels[i] === c) counts[v] = (counts[v] as number) + 1;
      });
      expect(Math.max(...counts) - Math.min(...counts)).toBeLessThanOrEqual(1);
    }
  });

  it('well separated classes: probe and centroid accuracy 1, between share near 1; identical classes: near chance and share near 0', () => {
    const far = blobs(3, 40, 8, 20, 1);
    const folds = stratifiedFolds(far.labels, 3, 5, 1);
    expect(probeAccuracy(far, folds).accuracy).toBe(1);
    expect(centroidAccuracy(far, folds)).toBe(1);
    expect(betweenShare(far)).toBeGreaterThan(0.9);
    const same = blobs(3, 60, 8, 0, 2);
    const f2 = stratifiedFolds(same.labels, 3, 5, 1);
    // chance is 1/3: 180 rows, so a margin of 0.15 is about 4 standard deviations
    expect(Math.abs(probeAccuracy(same, f2).accuracy - 1 / 3)).toBeLessThan(0.15);
    expect(Math.abs(centroidAccuracy(same, f2) - 1 / 3)).toBeLessThan(0.15);
    expect(betweenShare(same)).toBeLessThan(0.05);
  });

  it('between share is invariant to a shift and a common scale (1e-12)', () => {
    const a = blobs(4, 20, 6, 2, 3);
    const b = { ...a, x: a.x.map((v, i) => 3 * v + (i % 6)) };
    expect(Math.abs(betweenShare(a) - betweenShare(b))).toBeLessThan(1e-12);
  });

  it('spectrum of centred means: L-1 values, descending, cumulative share ends at 1 (1e-12); planted rank 2 is found by both rules (90% share, eigengap)', () => {
    const g = gaussian(9);
    const d = 20;
    const u = [Array.from({ length: d }, g), Array.from({ length: d }, g)];
    const means = Array.from({ length: 6 }, () => {
      const a = 5 * g();
      const b = 3 * g();
      return Float64Array.from({ length: d }, (_, i) => 1 + a * (u[0]?.[i] as number) + b * (u[1]?.[i] as number) + 1e-3 * g());
    });
    const s = meanSpectrum(means);
    expect(s.singularValues).toHaveLength(5);
    for (let k = 1; k < 5; k++) expect(s.singularValues[k] as number).toBeLessThanOrEqual(s.singularValues[k - 1] as number);
    expect(Math.abs((s.cumulativeShare.at(-1) as number) - 1)).toBeLessThan(1e-12);
    const r = recommendRank(s, 0.9);
    expect(r.share).toBeLessThanOrEqual(2);
    expect(r.gap).toBe(2);
  });

  it('rank rules ignore singular values below 1e-6 of the largest (float32 rounding noise): the eigengap never points at one', () => {
    // a planted spectrum with a numerically zero last value, as LayerNorm outputs give (bundled-corpora case: 1.06e-9 of 1.71)
    const sv = [1.7, 1.4, 1.3, 1.2, 0.8, 0.6, 0.3, 0.01, 0.0086, 0.0035, 1.06e-9];
    const total = sv.reduce((a, v) => a + v * v, 0);
    let acc = 0;
    const r = recommendRank({ singularValues: sv, cumulativeShare: sv.map((v) => ((acc += v * v), acc / total)) }, 0.9);
    expect(r.numericalRank).toBe(10);
    expect(r.gap).toBe(7); // 0.3 / 0.01, not 0.0035 / 1.06e-9
    expect(r.gap).toBeLessThan(sv.length);
    // property: on random spectra with a zero tail the gap rank stays below the numerical rank
    const g = gaussian(3);
    for (let t = 0; t < 50; t++) {
      const n = 3 + (t % 10);
      const v = Array.from({ length: n }, () => Math.abs(g()) + 0.01).sort((a, b) => b - a);
      v.push(v[0]! * 1e-9 * Math.abs(g()));
      const tot = v.reduce((a, x) => a + x * x, 0);
      let c = 0;
      const q = recommendRank({ singularValues: v, cumulativeShare: v.map((x) => ((c += x * x), c / tot)) });
      expect(q.gap).toBeLessThan(n + 1);
      expect(q.numericalRank).toBe(n);
    }
  });

  it('pca2 coordinates are centred (1e-9) and the first has the larger variance', () => {
    const a = blobs(3, 30, 10, 3, 4);
    const p = pca2(a.x, a.rows, a.dim);
    let m0 = 0;
    let m1 = 0;
    let v0 = 0;
    let v1 = 0;
    for (let i = 0; i < a.rows; i++) {
      m0 += (p[2 * i] as number) / a.rows;
      m1 += (p[2 * i + 1] as number) / a.rows;
    }
    for (let i = 0; i < a.rows; i++) {
      v0 += ((p[2 * i] as number) - m0) ** 2;
      v1 += ((p[2 * i + 1] as number) - m1) ** 2;
    }
    expect(Math.abs(m0) + Math.abs(m1)).toBeLessThan(1e-9);
    expect(v0).toBeGreaterThanOrEqual(v1);
  });
});
