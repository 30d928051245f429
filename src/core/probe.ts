/**
 * How much of a set of embeddings is language identity: a linear language-ID probe
 * (multinomial logistic regression, L2, k-fold cross-validated), nearest-centroid accuracy and
 * the share of variance between language means. Pure maths on row-major float64 arrays.
 */
import { createError } from './errors.js';
import { mulberry32, shuffleInPlace } from './random.js';
import { fitLogistic, predictLogistic, type Labelled, type LogisticOptions } from './logistic.js';

export type { Labelled } from './logistic.js';

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
