/** Retrieval metrics: accuracy@1, xSIM margin error, average precision (full pool and @k). */
import { exactTopK, scoreBatches } from './search.js';
import type { FloatArray } from './moments.js';

/**
 * Average precision of one ranked pool, as sklearn's average_precision_score: tied
 * scores form one threshold, AP = sum over thresholds of (recall gain) x precision.
 * `relevant` lists the indices of the relevant candidates.
 */
export function averagePrecision(scores: ArrayLike<number>, relevant: ArrayLike<number>): number {
  const m = relevant.length;
  if (m === 0) return NaN;
  // Distinct relevant scores, descending, with how many relevant items share each.
  const rel = Array.from({ length: m }, (_, i) => scores[relevant[i] as number] as number).sort((a, b) => b - a);
  const values: number[] = [];
  const relCount: number[] = [];
  for (const v of rel) {
    if (values.length > 0 && values[values.length - 1] === v) relCount[relCount.length - 1] = (relCount[relCount.length - 1] as number) + 1;
    else {
      values.push(v);
      relCount.push(1);
    }
  }
  // atLeast[i] = number of candidates scoring >= values[i].
  const bucket = new Float64Array(values.length + 1);
  for (let j = 0; j < scores.length; j++) {
    const s = scores[j] as number;
    // number of thresholds <= s (values descending): first index i with values[i] <= s
    let lo = 0;
    let hi = values.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if ((values[mid] as number) <= s) hi = mid;
      else lo = mid + 1;
    }
    bucket[lo] = (bucket[lo] as number) + 1; // candidate counts for thresholds lo..end
  }
  let ap = 0;
  let atLeast = 0;
  let tp = 0;
  for (let i = 0; i < values.length; i++) {
    atLeast += bucket[i] as number;
    tp += relCount[i] as number;
    ap += ((relCount[i] as number) / m) * (tp / atLeast);
  }
  return ap;
}

/**
 * AP@k of a ranking (best first): (1 / min(|relevant|, k)) x sum of precision@i over the
 * ranks i <= k that hold a relevant item. `ranked` lists candidate indices.
 */
export function averagePrecisionAtK(ranked: ArrayLike<number>, relevant: Set<number>, k: number): number {
  if (relevant.size === 0) return NaN;
  let hits = 0;
  let sum = 0;
  const n = Math.min(k, ranked.length);
  for (let i = 0; i < n; i++) {
    if (relevant.has(ranked[i] as number)) {
      hits++;
      sum += hits / (i + 1);
    }
  }
  return sum / Math.min(relevant.size, k);
}

/**
 * xSIM (LASER) with the ratio margin: each query's k nearest targets by cosine are
 * re-scored by cos(x, y) / ((mean top-k cos of x + mean top-k cos of y) / 2); the
 * query is an error when the best-scoring candidate is not its own row. Returns the
 * number of errors. Rows must be L2-normalised.
 */
export function xsimErrors(queries: FloatArray, targets: FloatArray, dim: number, k = 4): number {
  const nq = queries.length / dim;
  const nt = targets.length / dim;
  const kk = Math.min(k, nt);
  const fwd = exactTopK(queries, targets, dim, kk);
  const bwd = exactTopK(targets, queries, dim, Math.min(k, nq));
  const mean = (t: typeof fwd, i: number) => {
    let s = 0;
    for (let j = 0; j < t.k; j++) s += t.scores[i * t.k + j] as number;
    return s / t.k;
  };
  let errors = 0;
  for (let q = 0; q < nq; q++) {
    const a = mean(fwd, q);
    let best = -1;
    let bestScore = -Infinity;
    for (let j = 0; j < kk; j++) {
      const t = fwd.indices[q * kk + j] as number;
      const margin = (fwd.scores[q * kk + j] as number) / ((a + mean(bwd, t)) / 2);
      if (margin > bestScore) {
        bestScore = margin;
        best = t;
      }
    }
    if (best !== q) errors++;
  }
  return errors;
}

/** Full-pool average precision for every query; `relevant(q)` lists its relevant targets. */
export function meanAveragePrecisions(
  queries: FloatArray,
  targets: FloatArray,
  dim: number,
  relevant: (q: number) => number[],
  atK?: number,
): Float64Array {
  const nq = queries.length / dim;
  const nt = targets.length / dim;
  const out = new Float64Array(nq);
  for (const b of scoreBatches(queries, targets, dim)) {
    for (let r = 0; r < b.rows; r++) {
      const q = b.start + r;
      const row = b.scores.subarray(r * nt, (r + 1) * nt);
      const rel = relevant(q);
      if (atK === undefined) out[q] = averagePrecision(row, rel);
      else out[q] = averagePrecisionAtK(topIndices(row, atK), new Set(rel), atK);
    }
  }
  return out;
}

/** Indices of the k highest scores, best first, ties to the lower index. */
export function topIndices(row: ArrayLike<number>, k: number): number[] {
  const idx: number[] = [];
  for (let j = 0; j < row.length; j++) {
    const s = row[j] as number;
    if (idx.length < k || s > (row[idx[idx.length - 1] as number] as number)) {
      let p = idx.length < k ? idx.length : k - 1;
      if (idx.length < k) idx.push(j);
      while (p > 0 && (row[idx[p - 1] as number] as number) < s) {
        idx[p] = idx[p - 1] as number;
        p--;
      }
      idx[p] = j;
    }
  }
  return idx;
}
