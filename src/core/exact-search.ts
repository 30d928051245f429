/**
 * Exact (brute-force) search on row-major float blocks, chunked so that memory stays
 * bounded: scores come in batches of query rows against every target, computed in
 * float32 with WebAssembly SIMD. Top-k results are then made exact: every target whose
 * float32 score is within the float32 rounding bound of the k-th best is re-scored in
 * float64, so the ranking is the float64 one (ties to the lower target index).
 */
import type { Embeddings } from './embeddings.js';
import { dot64, rowNorms } from './rows.js';
import { emptyTopK, selectTopK, type TopK } from './topk.js';
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
export function* scoreBatches(queries: Embeddings, targets: Embeddings, options: ScoreOptions = {}): Generator<ScoreBatch> {
  const dim = queries.dim;
  const nq = queries.rows;
  const nt = targets.rows;
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
        scorer.loadTargets(targets.data, c, n);
        for (let q = 0; q < rows; q += 4) {
          const m = Math.min(4, rows - q);
          scorer.score(queries.data, start + q, m, tmp);
          for (let r = 0; r < m; r++) scores.set(tmp.subarray(r * n, (r + 1) * n), (q + r) * nt + c);
        }
      } else {
        for (let q = 0; q < rows; q++) {
          for (let j = 0; j < n; j++) scores[q * nt + c + j] = dot64(queries.data, (start + q) * dim, targets.data, (c + j) * dim, dim);
        }
      }
    }
    yield { start, rows, scores };
  }
}

/**
 * Exact top-k targets of every query by dot product (pass normalised rows for cosine).
 * Ties go to the lower target index.
 */
export function exactTopK(queries: Embeddings, targets: Embeddings, k: number, options: ScoreOptions = {}): TopK {
  const dim = queries.dim;
  const nt = targets.rows;
  const kk = Math.min(k, nt);
  const out = emptyTopK(queries.rows, k);
  if (kk === 0) return out;
  const qn = rowNorms(queries.data, dim);
  const tn = rowNorms(targets.data, dim);
  let tmax = 0;
  for (const x of tn) tmax = Math.max(tmax, x);
  // float32 dot products of length d are within ~d * 2^-24 * |q| |t| of the exact value.
  const gamma = 2 * (dim + 2) * 2 ** -24;
  const bestIdx = new Int32Array(kk);
  const best = new Float64Array(kk);
  const cand: number[] = [];
  const cScore: number[] = [];
  for (const b of scoreBatches(queries, targets, options)) {
    for (let r = 0; r < b.rows; r++) {
      const q = b.start + r;
      const row = b.scores.subarray(r * nt, (r + 1) * nt);
      // k-th best float32 score
      selectTopK(nt, (j) => row[j] as number, kk, bestIdx, best);
      const slack = 2 * gamma * (qn[q] as number) * tmax + 1e-30;
      const floor = (best[kk - 1] as number) - slack;
      // Re-score every candidate near or above the k-th best in float64.
      cand.length = 0;
      cScore.length = 0;
      for (let j = 0; j < nt; j++) {
        if ((row[j] as number) >= floor) {
          cand.push(j);
          cScore.push(dot64(queries.data, q * dim, targets.data, j * dim, dim));
        }
      }
      const sel = out.indices.subarray(q * k, q * k + kk);
      const m = selectTopK(cand.length, (i) => cScore[i] as number, kk, sel, best);
      for (let t = 0; t < m; t++) {
        sel[t] = cand[sel[t] as number] as number;
        out.scores[q * k + t] = best[t] as number;
      }
    }
  }
  return out;
}
