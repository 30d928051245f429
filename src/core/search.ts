/**
 * Exact (brute-force) search on row-major float blocks, chunked so that memory stays
 * bounded: scores come in batches of query rows against every target, computed in
 * float32 with WebAssembly SIMD. Top-k results are then made exact: every target whose
 * float32 score is within the float32 rounding bound of the k-th best is re-scored in
 * float64, so the ranking is the float64 one.
 */
import type { FloatArray } from './moments.js';
import { SimdScorer, simdAvailable } from './wasm/simd.js';

export interface ScoreBatch {
  /** First query row of the batch. */
  start: number;
  rows: number;
  /** rows x targets scores (float32), row-major. */
  scores: Float32Array;
}

export interface ScoreOptions {
  /** Query rows per batch (default: as many as fit in about 32 MiB of scores). */
  batchRows?: number;
  /** Target rows per chunk loaded into the kernel (default 4096). */
  chunkRows?: number;
}

/** Dot-product scores of every query against every target, one batch of queries at a time. */
export function* scoreBatches(queries: FloatArray, targets: FloatArray, dim: number, options: ScoreOptions = {}): Generator<ScoreBatch> {
  const nq = queries.length / dim;
  const nt = targets.length / dim;
  const batch = options.batchRows ?? Math.max(4, Math.min(nq, Math.floor((32 << 20) / (4 * Math.max(1, nt)))));
  const chunk = Math.min(options.chunkRows ?? 4096, Math.max(1, nt));
  const scorer = simdAvailable() ? new SimdScorer(dim, chunk) : undefined;
  const tmp = new Float32Array(4 * chunk);
  for (let start = 0; start < nq; start += batch) {
    const rows = Math.min(batch, nq - start);
    const scores = new Float32Array(rows * nt);
    for (let c = 0; c < nt; c += chunk) {
      const n = Math.min(chunk, nt - c);
      if (scorer) {
        scorer.loadTargets(targets, c, n);
        for (let q = 0; q < rows; q += 4) {
          const m = Math.min(4, rows - q);
          scorer.score(queries, start + q, m, tmp);
          for (let r = 0; r < m; r++) scores.set(tmp.subarray(r * n, (r + 1) * n), (q + r) * nt + c);
        }
      } else {
        for (let q = 0; q < rows; q++) {
          for (let j = 0; j < n; j++) scores[q * nt + c + j] = dot64(queries, (start + q) * dim, targets, (c + j) * dim, dim);
        }
      }
    }
    yield { start, rows, scores };
  }
}

export function dot64(a: FloatArray, ao: number, b: FloatArray, bo: number, d: number): number {
  let s = 0;
  for (let i = 0; i < d; i++) s += (a[ao + i] as number) * (b[bo + i] as number);
  return s;
}

export interface TopK {
  k: number;
  /** nq x k target indices, best first (-1 where there are fewer than k targets). */
  indices: Int32Array;
  /** nq x k float64 scores. */
  scores: Float64Array;
}

function rowNorms(x: FloatArray, dim: number): Float64Array {
  const n = x.length / dim;
  const out = new Float64Array(n);
  for (let r = 0; r < n; r++) out[r] = Math.sqrt(dot64(x, r * dim, x, r * dim, dim));
  return out;
}

/**
 * Exact top-k targets of every query by dot product (pass normalised rows for cosine).
 * Ties go to the lower target index.
 */
export function exactTopK(queries: FloatArray, targets: FloatArray, dim: number, k: number, options: ScoreOptions = {}): TopK {
  const nq = queries.length / dim;
  const nt = targets.length / dim;
  const kk = Math.min(k, nt);
  const indices = new Int32Array(nq * k).fill(-1);
  const scores = new Float64Array(nq * k).fill(-Infinity);
  const qn = rowNorms(queries, dim);
  const tn = rowNorms(targets, dim);
  let tmax = 0;
  for (const x of tn) tmax = Math.max(tmax, x);
  // float32 dot products of length d are within ~d * 2^-24 * |q| |t| of the exact value.
  const gamma = 2 * (dim + 2) * 2 ** -24;
  const best = new Float32Array(kk);
  for (const b of scoreBatches(queries, targets, dim, options)) {
    for (let r = 0; r < b.rows; r++) {
      const q = b.start + r;
      const row = b.scores.subarray(r * nt, (r + 1) * nt);
      // k-th best float32 score
      best.fill(-Infinity);
      for (let j = 0; j < nt; j++) {
        const s = row[j] as number;
        if (s > (best[kk - 1] as number)) {
          let p = kk - 1;
          while (p > 0 && (best[p - 1] as number) < s) {
            best[p] = best[p - 1] as number;
            p--;
          }
          best[p] = s;
        }
      }
      const slack = 2 * gamma * (qn[q] as number) * tmax + 1e-30;
      const floor = (best[kk - 1] as number) - slack;
      // Re-score every candidate near or above the k-th best in float64.
      const cand: { j: number; s: number }[] = [];
      for (let j = 0; j < nt; j++) if ((row[j] as number) >= floor) cand.push({ j, s: dot64(queries, q * dim, targets, j * dim, dim) });
      cand.sort((x, y) => y.s - x.s || x.j - y.j);
      for (let t = 0; t < kk && t < cand.length; t++) {
        indices[q * k + t] = (cand[t] as { j: number }).j;
        scores[q * k + t] = (cand[t] as { s: number }).s;
      }
    }
  }
  return { k, indices, scores };
}
