/** Row normalisation and aligned-pair accuracy on row-major float blocks. */
import { createError } from './errors.js';
import type { FloatArray } from './moments.js';
import { exactTopK } from './search.js';

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

/** Number of queries whose cosine top-1 target is their own row. */
export function alignedTop1Hits(queries: FloatArray, targets: FloatArray, dim: number): number {
  if (queries.length !== targets.length) {
    throw createError('DIM_MISMATCH', `aligned pairs need as many queries as targets: ${queries.length / dim} vs ${targets.length / dim}`);
  }
  const top = exactTopK(normalizeRows(queries, dim), normalizeRows(targets, dim), dim, 1).indices;
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
