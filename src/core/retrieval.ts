/** Exact nearest-neighbour search and accuracy on row-major float blocks. */
import { createError } from './errors.js';
import type { FloatArray } from './moments.js';

/** L2-normalised float32 copy (zero rows stay zero). */
export function normalizeRows(x: FloatArray, dim: number): Float32Array {
  const out = new Float32Array(x.length);
  const n = x.length / dim;
  for (let r = 0; r < n; r++) {
    const o = r * dim;
    let s = 0;
    for (let i = 0; i < dim; i++) s += (x[o + i] as number) * (x[o + i] as number);
    const inv = s > 0 ? 1 / Math.sqrt(s) : 0;
    for (let i = 0; i < dim; i++) out[o + i] = (x[o + i] as number) * inv;
  }
  return out;
}

/**
 * Index of the highest-scoring target for every query (dot product; pass
 * normalised rows for cosine). Ties go to the lowest index.
 */
export function exactTop1(queries: FloatArray, targets: FloatArray, dim: number): Int32Array {
  const nq = queries.length / dim;
  const nt = targets.length / dim;
  const best = new Int32Array(nq).fill(-1);
  const bestScore = new Float64Array(nq).fill(-Infinity);
  for (let q = 0; q < nq; q++) {
    const qo = q * dim;
    for (let t = 0; t < nt; t++) {
      const to = t * dim;
      let s = 0;
      for (let i = 0; i < dim; i++) s += (queries[qo + i] as number) * (targets[to + i] as number);
      if (s > (bestScore[q] as number)) {
        bestScore[q] = s;
        best[q] = t;
      }
    }
  }
  return best;
}

/** Accuracy@1 of cosine retrieval where query i's gold target is target i. */
export function alignedTop1Accuracy(queries: FloatArray, targets: FloatArray, dim: number): number {
  return alignedTop1Hits(queries, targets, dim) / (queries.length / dim);
}

/** Number of queries whose cosine top-1 target is their own row. */
export function alignedTop1Hits(queries: FloatArray, targets: FloatArray, dim: number): number {
  if (queries.length !== targets.length) {
    throw createError('DIM_MISMATCH', `aligned pairs need as many queries as targets: ${queries.length / dim} vs ${targets.length / dim}`);
  }
  const top = exactTop1(normalizeRows(queries, dim), normalizeRows(targets, dim), dim);
  let hits = 0;
  top.forEach((t, i) => {
    if (t === i) hits++;
  });
  return hits;
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
