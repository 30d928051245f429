/** Retrieval metrics: accuracy@1, xSIM margin error, average precision (full pool and @k). */
import type { Embeddings } from './embeddings.js';
import { createError } from './errors.js';
import { exactTopK } from './exact-search.js';
import { minePairs } from './margin.js';
import { normalizeRows } from './rows.js';
import type { TopK } from './topk.js';

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
export function xsimErrors(queries: Embeddings, targets: Embeddings, k = 4): number {
  const fwd = exactTopK(queries, targets, Math.min(k, targets.rows));
  const bwd = exactTopK(targets, queries, Math.min(k, queries.rows));
  // each query's best candidate by the ratio margin: LASER's mining in mode fwd, no threshold
  const best = minePairs(fwd, bwd, queries.rows, targets.rows, { margin: 'ratio', retrieval: 'fwd' });
  let errors = 0;
  for (let q = 0; q < queries.rows; q++) if (best.trg[q] !== q) errors++;
  return errors;
}

/** Number of queries whose top-1 target (in `top`) is their own row. */
export function alignedHits(top: TopK): number {
  let hits = 0;
  for (let q = 0; q < top.indices.length / top.k; q++) if (top.indices[q * top.k] === q) hits++;
  return hits;
}

/** Number of queries whose cosine top-1 target is their own row (rows L2-normalised). */
export function alignedTop1Hits(queries: Embeddings, targets: Embeddings): number {
  if (queries.rows !== targets.rows) {
    throw createError('DIM_MISMATCH', `aligned pairs need as many queries as targets: ${queries.rows} vs ${targets.rows}`);
  }
  const unit = (e: Embeddings): Embeddings => ({ data: normalizeRows(e.data, e.dim), rows: e.rows, dim: e.dim, dtype: 'float32' });
  return alignedHits(exactTopK(unit(queries), unit(targets), 1));
}

/**
 * Unweighted mean over languages of hits[i] / totals[i], rounded once: with equal
 * totals it is sum(hits) / (total * L), exactly the correctly rounded rational.
 */
export function meanAccuracy(hits: number[], totals: number[]): number {
  if (hits.length === 0) return NaN;
  const t0 = totals[0] as number;
  if (totals.every((t) => t === t0)) return hits.reduce((a, b) => a + b, 0) / (t0 * hits.length);
  return hits.reduce((a, h, i) => a + h / (totals[i] as number), 0) / hits.length;
}
