/**
 * Multinomial logistic regression with an L2 penalty on the weights, fitted by L-BFGS (as
 * scikit-learn's LogisticRegression(multi_class="multinomial", solver="lbfgs")): the language-ID
 * probe's model. Float32 products through the WebAssembly SIMD kernel where available.
 */
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
/** The L-BFGS two-loop recursion: dir = -H g from the last pairs (s, y) and their 1 / (s . y). */
function lbfgsDirection(
  g: Float64Array,
  S: Float64Array[],
  Y: Float64Array[],
  rho: number[],
  alpha: Float64Array,
  dir: Float64Array,
): void {
  const P = g.length;
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
}

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
    lbfgsDirection(g, S, Y, rho, alpha, dir);
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
