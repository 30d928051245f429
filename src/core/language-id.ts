/**
 * How much of a set of embeddings is language identity: a linear language-ID probe
 * (multinomial logistic regression, L2, k-fold cross-validated), nearest-centroid accuracy, the
 * share of variance between language means, the spectrum of the centred language means with a
 * rank recommendation, and a 2-D PCA map. Pure maths on row-major float64 arrays.
 */
import { createError } from './errors.js';
import { thinSvd, topSymmetricEigen } from './linalg.js';
import { MomentAccumulator } from './moments.js';
import { centredMeans, pooledCovariance } from './projection.js';
import { mulberry32, shuffleInPlace } from './random.js';
import { SimdScorer, simdAvailable } from './wasm/simd.js';

/** Rows with a class label each (0..classes-1). */
export interface Labelled {
  /** n x d, row-major. */
  x: Float64Array;
  rows: number;
  dim: number;
  labels: Int32Array;
  classes: number;
}

/**
 * Stratified fold ids: within each class its rows are shuffled (mulberry32(seed), Fisher-Yates)
 * and dealt to folds 0, 1, ..., k-1, 0, ... in turn.
 */
export function stratifiedFolds(labels: Int32Array, classes: number, k: number, seed: number): Int32Array {
  const folds = new Int32Array(labels.length);
  const rand = mulberry32(seed);
  for (let c = 0; c < classes; c++) {
    const idx: number[] = [];
    labels.forEach((l, i) => {
      if (l === c) idx.push(i);
    });
    shuffleInPlace(idx, rand).forEach((row, p) => (folds[row] = p % k));
  }
  return folds;
}

export interface LogisticOptions {
  /** Inverse regularisation strength, as scikit-learn's C (default 1). */
  C?: number;
  /** Stop when the largest gradient entry of the mean objective is at most this (default 1e-4, as scikit-learn's tol). */
  tol?: number;
  /** L-BFGS iterations at most (default 200). */
  maxIter?: number;
  /** Starting point: the weights (classes x d) then the intercepts, as a model's w and b. */
  init?: Float64Array;
}

export interface LogisticModel {
  /** classes x d weights and classes intercepts. */
  w: Float64Array;
  b: Float64Array;
  classes: number;
  dim: number;
  iterations: number;
  converged: boolean;
}

/**
 * Multinomial logistic regression with an L2 penalty on the weights (not the intercepts), the
 * objective of scikit-learn's LogisticRegression(multi_class="multinomial") divided by n:
 * f = mean_i -log softmax(W x_i + b)[y_i] + |W|^2 / (2 C n), minimised with L-BFGS (10 pairs,
 * backtracking Armijo line search). Strictly convex in the weights (the intercepts are free only
 * up to a common shift, which changes no prediction): any solver reaches the same classifier.
 */
export function fitLogistic(data: Labelled, rows: Int32Array, options: LogisticOptions = {}): LogisticModel {
  const { x, dim: d, labels, classes: L } = data;
  const C = options.C ?? 1;
  const tol = options.tol ?? 1e-4;
  const maxIter = options.maxIter ?? 200;
  const n = rows.length;
  const P = L * d + L;
  const lambda = 1 / (C * n);

  const products = simdAvailable() ? new SimdProducts(x, rows, d, L) : new JsProducts(x, rows, d, L);
  const scores = new Float64Array(n * L);
  const coef = new Float64Array(n * L);
  const evaluate = (theta: Float64Array, grad: Float64Array): number => {
    products.scores(theta, scores);
    let f = 0;
    const gb = new Float64Array(L);
    for (let t = 0; t < n; t++) {
      const o = t * L;
      let max = -Infinity;
      for (let c = 0; c < L; c++) {
        const v = (scores[o + c] as number) + (theta[L * d + c] as number);
        scores[o + c] = v;
        if (v > max) max = v;
      }
      let z = 0;
      for (let c = 0; c < L; c++) z += Math.exp((scores[o + c] as number) - max);
      const logZ = max + Math.log(z);
      const y = labels[rows[t] as number] as number;
      f += logZ - (scores[o + y] as number);
      for (let c = 0; c < L; c++) {
        const g = (Math.exp((scores[o + c] as number) - logZ) - (c === y ? 1 : 0)) / n;
        coef[o + c] = g;
        gb[c] = (gb[c] as number) + g;
      }
    }
    products.gradient(coef, grad);
    grad.set(gb, L * d);
    f /= n;
    let w2 = 0;
    for (let k = 0; k < L * d; k++) {
      w2 += (theta[k] as number) ** 2;
      grad[k] = (grad[k] as number) + lambda * (theta[k] as number);
    }
    return f + (lambda / 2) * w2;
  };

  const theta = new Float64Array(P);
  // a warm start (e.g. the model of a neighbouring fold): the objective is convex with one
  // classifier at its minimum, so only the iterations change, not the predictions
  if (options.init && options.init.length === P) theta.set(options.init);
  const g = new Float64Array(P);
  let f = evaluate(theta, g);
  const m = 10;
  const S: Float64Array[] = [];
  const Y: Float64Array[] = [];
  const rho: number[] = [];
  const dir = new Float64Array(P);
  const next = new Float64Array(P);
  const gNext = new Float64Array(P);
  const alpha = new Float64Array(m);
  let iterations = 0;
  let converged = maxAbs(g) <= tol;
  while (!converged && iterations < maxIter) {
    // two-loop recursion: dir = -H g
    dir.set(g);
    for (let k = S.length - 1; k >= 0; k--) {
      const a = (rho[k] as number) * dotAll(S[k] as Float64Array, dir);
      alpha[k] = a;
      axpy(-a, Y[k] as Float64Array, dir);
    }
    const gamma =
      S.length > 0
        ? dotAll(S.at(-1) as Float64Array, Y.at(-1) as Float64Array) / dotAll(Y.at(-1) as Float64Array, Y.at(-1) as Float64Array)
        : 1 / Math.max(1, maxAbs(g));
    for (let k = 0; k < P; k++) dir[k] = (dir[k] as number) * gamma;
    for (let k = 0; k < S.length; k++) {
      const bta = (rho[k] as number) * dotAll(Y[k] as Float64Array, dir);
      axpy((alpha[k] as number) - bta, S[k] as Float64Array, dir);
    }
    for (let k = 0; k < P; k++) dir[k] = -(dir[k] as number);
    let slope = dotAll(g, dir);
    if (!(slope < 0)) {
      // not a descent direction: restart from steepest descent
      S.length = Y.length = rho.length = 0;
      for (let k = 0; k < P; k++) dir[k] = -(g[k] as number) / Math.max(1, maxAbs(g));
      slope = dotAll(g, dir);
    }
    let step = 1;
    let fNext = Infinity;
    for (let tries = 0; tries < 40; tries++) {
      for (let k = 0; k < P; k++) next[k] = (theta[k] as number) + step * (dir[k] as number);
      fNext = evaluate(next, gNext);
      if (fNext <= f + 1e-4 * step * slope) break;
      step /= 2;
    }
    if (!(fNext <= f + 1e-4 * step * slope)) break; // no progress at machine precision
    const s = new Float64Array(P);
    const yv = new Float64Array(P);
    for (let k = 0; k < P; k++) {
      s[k] = (next[k] as number) - (theta[k] as number);
      yv[k] = (gNext[k] as number) - (g[k] as number);
    }
    const sy = dotAll(s, yv);
    if (sy > 1e-12) {
      if (S.length === m) {
        S.shift();
        Y.shift();
        rho.shift();
      }
      S.push(s);
      Y.push(yv);
      rho.push(1 / sy);
    }
    theta.set(next);
    g.set(gNext);
    f = fNext;
    iterations++;
    converged = maxAbs(g) <= tol;
  }
  return { w: theta.slice(0, L * d), b: theta.slice(L * d), classes: L, dim: d, iterations, converged };
}

/** The most likely class of each of `rows`. */
export function predictLogistic(model: LogisticModel, data: Labelled, rows: Int32Array): Int32Array {
  const { w, b, classes: L, dim: d } = model;
  const out = new Int32Array(rows.length);
  rows.forEach((i, t) => {
    let best = -Infinity;
    for (let c = 0; c < L; c++) {
      let s = b[c] as number;
      for (let j = 0; j < d; j++) s += (w[c * d + j] as number) * (data.x[i * d + j] as number);
      if (s > best) {
        best = s;
        out[t] = c;
      }
    }
  });
  return out;
}

export interface ProbeResult {
  /** Accuracy over all rows, each predicted by the model of the folds it was not in. */
  accuracy: number;
  foldAccuracies: number[];
  /** Folds whose L-BFGS stopped at the iteration limit before the tolerance. */
  unconverged: number;
}

function rowsWhere(folds: Int32Array, pick: (f: number) => boolean): Int32Array {
  const out: number[] = [];
  folds.forEach((f, i) => {
    if (pick(f)) out.push(i);
  });
  return Int32Array.from(out);
}

function checkLabelled(data: Labelled, folds: Int32Array): number {
  if (data.x.length !== data.rows * data.dim || data.labels.length !== data.rows || folds.length !== data.rows) {
    throw createError(
      'INPUT',
      `inconsistent probe data: ${data.rows} rows x ${data.dim}, ${data.labels.length} labels, ${folds.length} fold ids`,
    );
  }
  return Math.max(...folds) + 1;
}

/** k-fold cross-validated accuracy of the multinomial logistic probe (`folds` from stratifiedFolds). */
export function probeAccuracy(data: Labelled, folds: Int32Array, options: LogisticOptions = {}): ProbeResult {
  const k = checkLabelled(data, folds);
  let right = 0;
  let unconverged = 0;
  const foldAccuracies: number[] = [];
  let init: Float64Array | undefined;
  for (let f = 0; f < k; f++) {
    const train = rowsWhere(folds, (x) => x !== f);
    const test = rowsWhere(folds, (x) => x === f);
    const model = fitLogistic(data, train, { ...options, ...(init ? { init } : {}) });
    init = new Float64Array(model.w.length + model.b.length);
    init.set(model.w);
    init.set(model.b, model.w.length);
    if (!model.converged) unconverged++;
    const pred = predictLogistic(model, data, test);
    let r = 0;
    test.forEach((i, t) => (r += pred[t] === data.labels[i] ? 1 : 0));
    right += r;
    foldAccuracies.push(r / test.length);
  }
  return { accuracy: right / data.rows, foldAccuracies, unconverged };
}

/** Each class's mean (classes x d) and row count over the rows `use` accepts. */
function classMeans(data: Labelled, use: (i: number) => boolean = () => true): { means: Float64Array; counts: Float64Array } {
  const { x, dim: d, labels, classes: L } = data;
  const means = new Float64Array(L * d);
  const counts = new Float64Array(L);
  for (let i = 0; i < data.rows; i++) {
    if (!use(i)) continue;
    const c = labels[i] as number;
    counts[c] = (counts[c] as number) + 1;
    for (let j = 0; j < d; j++) means[c * d + j] = (means[c * d + j] as number) + (x[i * d + j] as number);
  }
  for (let c = 0; c < L; c++)
    for (let j = 0; j < d; j++) means[c * d + j] = (means[c * d + j] as number) / Math.max(1, counts[c] as number);
  return { means, counts };
}

/** k-fold accuracy of assigning each row to the nearest (Euclidean) class mean of the other folds. */
export function centroidAccuracy(data: Labelled, folds: Int32Array): number {
  const k = checkLabelled(data, folds);
  const { x, dim: d, labels, classes: L } = data;
  let right = 0;
  for (let f = 0; f < k; f++) {
    const { means, counts } = classMeans(data, (i) => folds[i] !== f);
    for (let i = 0; i < data.rows; i++) {
      if (folds[i] !== f) continue;
      let best = Infinity;
      let arg = -1;
      for (let c = 0; c < L; c++) {
        if (counts[c] === 0) continue;
        let s = 0;
        for (let j = 0; j < d; j++) s += ((x[i * d + j] as number) - (means[c * d + j] as number)) ** 2;
        if (s < best) {
          best = s;
          arg = c;
        }
      }
      if (arg === labels[i]) right++;
    }
  }
  return right / data.rows;
}

/** Share of the total variance (sum of squared distances to the pooled mean) that lies between the class means. */
export function betweenShare(data: Labelled): number {
  const { x, dim: d, classes: L, rows: n } = data;
  const { means, counts } = classMeans(data);
  // the pooled mean: the row-weighted class means
  const mu = new Float64Array(d);
  for (let c = 0; c < L; c++)
    for (let j = 0; j < d; j++) mu[j] = (mu[j] as number) + ((counts[c] as number) * (means[c * d + j] as number)) / n;
  let total = 0;
  for (let i = 0; i < n; i++) for (let j = 0; j < d; j++) total += ((x[i * d + j] as number) - (mu[j] as number)) ** 2;
  let between = 0;
  for (let c = 0; c < L; c++)
    for (let j = 0; j < d; j++) between += (counts[c] as number) * ((means[c * d + j] as number) - (mu[j] as number)) ** 2;
  return total > 0 ? between / total : 0;
}

export interface Spectrum {
  /** Singular values of the d x L matrix of language means centred on their average, descending. */
  singularValues: number[];
  /** Cumulative share of the squared singular values (between-language variance kept by rank K = index + 1). */
  cumulativeShare: number[];
}

/** The spectrum LSAR works on: the centred language means. */
export function meanSpectrum(means: Float64Array[]): Spectrum {
  const L = means.length;
  const d = (means[0] as Float64Array).length;
  // the centred means have rank at most L - 1: the last value is (numerically) zero
  const s = Array.from(thinSvd(centredMeans(means)).s).slice(0, Math.min(L - 1, d));
  const total = s.reduce((a, v) => a + v * v, 0);
  let acc = 0;
  return { singularValues: s, cumulativeShare: s.map((v) => ((acc += v * v), total > 0 ? acc / total : 0)) };
}

export interface RankRecommendation {
  /** The smallest K whose cumulative share reaches `threshold`. */
  share: number;
  threshold: number;
  /**
   * The eigengap: the K < numerical rank with the largest ratio s_K / s_(K+1) of consecutive
   * singular values, both above the tolerance (the numerical rank when there is one such value).
   */
  gap: number;
  /** Singular values above `tolerance` (the rest are rounding noise, ignored by both rules). */
  numericalRank: number;
  tolerance: number;
}

/**
 * Singular values below this share of the largest are taken as zero by the rank rules: embeddings
 * are float32 (about 7 significant digits), so directions this weak are rounding noise (e.g. the
 * sum-zero direction of LayerNorm outputs gives ~1e-9 of the largest on the bundled corpora).
 */
export const SPECTRUM_TOLERANCE = 1e-6;

export function recommendRank(spectrum: Spectrum, threshold = 0.9): RankRecommendation {
  const all = spectrum.singularValues;
  const tolerance = SPECTRUM_TOLERANCE * (all[0] ?? 0);
  const s = all.filter((v) => v > tolerance);
  const numericalRank = Math.max(1, s.length);
  const cs = spectrum.cumulativeShare.slice(0, numericalRank);
  const share = Math.max(1, cs.findIndex((v) => v >= threshold - 1e-12) + 1 || cs.length);
  let gap = numericalRank;
  let best = 0;
  for (let k = 1; k < s.length; k++) {
    const next = s[k] as number;
    const ratio = next > 0 ? (s[k - 1] as number) / next : Infinity;
    if (ratio > best) {
      best = ratio;
      gap = k;
    }
  }
  return { share, threshold, gap, numericalRank, tolerance };
}

/** The rows' coordinates (n x 2) on the top two principal components of the rows themselves. */
export function pca2(x: Float64Array, rows: number, d: number): Float64Array {
  const acc = new MomentAccumulator(d, { secondMoment: true });
  acc.add(x, rows);
  const mu = acc.mean();
  const cov = pooledCovariance([{ lang: '', rows, mean: mu, secondMoment: acc.secondMoment() }], 'population');
  acc.dispose();
  const k = Math.min(2, d);
  const { vectors } = topSymmetricEigen(cov, k);
  const out = new Float64Array(rows * 2);
  for (let i = 0; i < rows; i++) {
    for (let p = 0; p < k; p++) {
      let s = 0;
      for (let j = 0; j < d; j++) s += ((x[i * d + j] as number) - (mu[j] as number)) * (vectors.data[p * d + j] as number);
      out[i * 2 + p] = s;
    }
  }
  return out;
}

/** The two products of the probe: scores X W^T (n x L) and the weight gradient C^T X (L x d). */
interface Products {
  scores(theta: Float64Array, out: Float64Array): void;
  gradient(coef: Float64Array, out: Float64Array): void;
}

/** float64 loops, four classes per pass over a row. */
class JsProducts implements Products {
  constructor(
    private x: Float64Array,
    private rows: Int32Array,
    private d: number,
    private L: number,
  ) {}

  scores(theta: Float64Array, out: Float64Array): void {
    const { x, rows, d, L } = this;
    rows.forEach((i, t) => {
      const off = i * d;
      let c = 0;
      for (; c + 4 <= L; c += 4) {
        const w0 = c * d;
        const w1 = w0 + d;
        const w2 = w1 + d;
        const w3 = w2 + d;
        let s0 = 0;
        let s1 = 0;
        let s2 = 0;
        let s3 = 0;
        for (let j = 0; j < d; j++) {
          const xj = x[off + j] as number;
          s0 += (theta[w0 + j] as number) * xj;
          s1 += (theta[w1 + j] as number) * xj;
          s2 += (theta[w2 + j] as number) * xj;
          s3 += (theta[w3 + j] as number) * xj;
        }
        out[t * L + c] = s0;
        out[t * L + c + 1] = s1;
        out[t * L + c + 2] = s2;
        out[t * L + c + 3] = s3;
      }
      for (; c < L; c++) {
        const wo = c * d;
        let s0 = 0;
        for (let j = 0; j < d; j++) s0 += (theta[wo + j] as number) * (x[off + j] as number);
        out[t * L + c] = s0;
      }
    });
  }

  gradient(coef: Float64Array, out: Float64Array): void {
    const { x, rows, d, L } = this;
    out.fill(0, 0, L * d);
    rows.forEach((i, t) => {
      const off = i * d;
      for (let c = 0; c < L; c++) {
        const g = coef[t * L + c] as number;
        if (g === 0) continue;
        const wo = c * d;
        for (let j = 0; j < d; j++) out[wo + j] = (out[wo + j] as number) + g * (x[off + j] as number);
      }
    });
  }
}

/**
 * float32 products through the WebAssembly SIMD dot-product kernel (about 10x the float64 loops):
 * scores with the weights as targets and rows of X as queries; the gradient with the columns of X
 * (X^T, made once) as targets and the columns of the coefficients as queries. Sums in float32:
 * the probe's tolerance (1e-4 on the gradient) is far above their rounding.
 */
class SimdProducts implements Products {
  private xs: Float32Array;
  private byClass: SimdScorer;
  private byFeature: SimdScorer;
  private w32: Float32Array;
  private q: Float32Array;
  private block: Float32Array;

  constructor(
    x: Float64Array,
    rows: Int32Array,
    private d: number,
    private L: number,
  ) {
    const n = rows.length;
    this.xs = new Float32Array(n * d);
    const xt = new Float32Array(d * n);
    rows.forEach((i, t) => {
      for (let j = 0; j < d; j++) {
        const v = x[i * d + j] as number;
        this.xs[t * d + j] = v;
        xt[j * n + t] = v;
      }
    });
    this.byClass = new SimdScorer(d, L);
    this.byFeature = new SimdScorer(n, d);
    this.byFeature.loadTargets(xt, 0, d);
    this.w32 = new Float32Array(L * d);
    this.q = new Float32Array(4 * n);
    this.block = new Float32Array(4 * Math.max(L, d));
  }

  scores(theta: Float64Array, out: Float64Array): void {
    const { d, L, xs, block } = this;
    for (let k = 0; k < L * d; k++) this.w32[k] = theta[k] as number;
    this.byClass.loadTargets(this.w32, 0, L);
    const n = xs.length / d;
    for (let t = 0; t < n; t += 4) {
      const m = Math.min(4, n - t);
      this.byClass.score(xs, t, m, block);
      for (let k = 0; k < m * L; k++) out[t * L + k] = block[k] as number;
    }
  }

  gradient(coef: Float64Array, out: Float64Array): void {
    const { d, L, q, block } = this;
    const n = this.xs.length / d;
    for (let c = 0; c < L; c += 4) {
      const m = Math.min(4, L - c);
      for (let r = 0; r < m; r++) for (let t = 0; t < n; t++) q[r * n + t] = coef[t * L + c + r] as number;
      this.byFeature.score(q, 0, m, block);
      for (let k = 0; k < m * d; k++) out[c * d + k] = block[k] as number;
    }
  }
}

function dotAll(a: Float64Array, b: Float64Array): number {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += (a[i] as number) * (b[i] as number);
  return s;
}

function axpy(a: number, x: Float64Array, y: Float64Array): void {
  for (let i = 0; i < y.length; i++) y[i] = (y[i] as number) + a * (x[i] as number);
}

function maxAbs(a: Float64Array): number {
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i] as number));
  return m;
}
