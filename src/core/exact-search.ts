/**
 * Exact (brute-force) top-k search on row-major float blocks. Scores come in blocks (a batch
 * of queries against a chunk of targets) from a scorer: the WebAssembly SIMD kernel here, or
 * a GEMM library (src/adapters/gemm.ts). They are float32; `TopKAccumulator` keeps, per query,
 * every target within the float32 rounding bound of its running k-th best, and re-scores
 * those candidates in float64 at the end, so the ranking is the exact float64 one (ties to
 * the lower target index), whatever computed the float32 scores and in whatever order.
 */
import type { Embeddings } from './embeddings.js';
import { dot64, rowNorms } from './rows.js';
import { emptyTopK, selectTopK, type TopK } from './topk.js';
import { SimdScorer, simdAvailable } from './wasm/simd.js';

/** Scores of queries [q0, q0 + rows) against targets [t0, t0 + cols): rows x cols float32, row-major. */
export interface ScoreBlock {
  q0: number;
  rows: number;
  t0: number;
  cols: number;
  scores: Float32Array;
  /**
   * Optionally, each row's `k` highest scores (values descending, column indices within the
   * block): rows whose k-th value is below the accumulator's floor are then complete in it.
   */
  top?: { k: number; values: Float32Array; indices: ArrayLike<number | bigint> };
}

export interface BlockOptions {
  /** Query rows per block (default: 32 MiB of scores, at most all queries). */
  queryBatch?: number;
  /** Target rows per block (default 4096). */
  targetChunk?: number;
}

/** Dot-product score blocks with the WebAssembly SIMD kernel (plain JS without SIMD). */
export function* scoreBlocks(queries: Embeddings, targets: Embeddings, options: BlockOptions = {}): Generator<ScoreBlock> {
  const dim = queries.dim;
  const nq = queries.rows;
  const nt = targets.rows;
  const chunk = Math.max(1, Math.min(options.targetChunk ?? 4096, nt));
  const batch = Math.max(1, Math.min(options.queryBatch ?? Math.max(4, Math.floor((32 << 20) / (4 * chunk))), nq));
  const scorer = simdAvailable() ? new SimdScorer(dim, chunk) : undefined;
  const tmp = new Float32Array(4 * chunk);
  const scores = new Float32Array(batch * chunk);
  for (let c = 0; c < nt; c += chunk) {
    const n = Math.min(chunk, nt - c);
    scorer?.loadTargets(targets.data, c, n);
    for (let start = 0; start < nq; start += batch) {
      const rows = Math.min(batch, nq - start);
      if (scorer) {
        for (let q = 0; q < rows; q += 4) {
          const m = Math.min(4, rows - q);
          scorer.score(queries.data, start + q, m, tmp);
          for (let r = 0; r < m; r++) scores.set(tmp.subarray(r * n, (r + 1) * n), (q + r) * n);
        }
      } else {
        for (let q = 0; q < rows; q++) {
          for (let j = 0; j < n; j++) scores[q * n + j] = dot64(queries.data, (start + q) * dim, targets.data, (c + j) * dim, dim);
        }
      }
      yield { q0: start, rows, t0: c, cols: n, scores: scores.subarray(0, rows * n) };
    }
  }
}

/** Full score rows (every target) for batches of queries, for metrics that need whole rows. */
export function* scoreRows(queries: Embeddings, targets: Embeddings): Generator<{ start: number; rows: number; scores: Float32Array }> {
  for (const b of scoreBlocks(queries, targets, { targetChunk: targets.rows })) yield { start: b.q0, rows: b.rows, scores: b.scores };
}

/**
 * Running exact top-k of every query over score blocks that arrive in any order. Per query it
 * keeps the float32 top-k values and the candidates within `slack` of the k-th of them; the
 * slack bounds the float32 rounding error of a dot product (|error| <= 2 (d + 2) u |q| |t|).
 */
export class TopKAccumulator {
  private readonly kk: number;
  private readonly best: Float32Array;
  private readonly slack: Float64Array;
  private readonly cand: number[][];
  private readonly cap: number;
  /** Per query, best[k-1] - slack as of the last update by addTransposed (never above it). */
  private floors?: Float64Array;

  constructor(
    private readonly queries: Embeddings,
    private readonly targets: Embeddings,
    readonly k: number,
  ) {
    this.kk = Math.min(k, targets.rows);
    this.best = new Float32Array(queries.rows * Math.max(1, this.kk)).fill(-Infinity);
    const qn = rowNorms(queries.data, queries.dim);
    let tmax = 0;
    for (const x of rowNorms(targets.data, targets.dim)) tmax = Math.max(tmax, x);
    const gamma = 2 * (queries.dim + 2) * 2 ** -24;
    this.slack = qn.map((n) => 2 * gamma * n * tmax + 1e-30);
    this.cand = Array.from({ length: queries.rows }, () => []);
    this.cap = 4 * this.kk + 64;
  }

  add(b: ScoreBlock): void {
    const kk = this.kk;
    if (kk === 0) return;
    for (let r = 0; r < b.rows; r++) {
      const q = b.q0 + r;
      const best = this.best.subarray(q * kk, (q + 1) * kk);
      const list = this.cand[q] as number[];
      const top = b.top;
      if (top && top.k < b.cols) {
        // The block's own top-k' of this row: enough when its last value is below the floor.
        for (let j = 0; j < top.k; j++) this.offer(best, top.values[r * top.k + j] as number);
        const floor = (best[kk - 1] as number) - (this.slack[q] as number);
        if ((top.values[r * top.k + top.k - 1] as number) < floor) {
          for (let j = 0; j < top.k; j++) {
            const v = top.values[r * top.k + j] as number;
            if (v >= floor) list.push(b.t0 + Number(top.indices[r * top.k + j]), v);
          }
          if (list.length > 2 * this.cap) this.prune(q, floor);
          continue;
        }
      }
      const row = b.scores.subarray(r * b.cols, (r + 1) * b.cols);
      // One pass: keep the float32 top-k values, and every score within the slack of the
      // k-th known so far (the floor only rises; stale candidates are pruned later).
      let floor = (best[kk - 1] as number) - (this.slack[q] as number);
      for (let j = 0; j < row.length; j++) {
        const s = row[j] as number;
        if (s < floor) continue;
        if (s > (best[kk - 1] as number)) {
          this.offer(best, s);
          floor = (best[kk - 1] as number) - (this.slack[q] as number);
        }
        list.push(b.t0 + j, s);
      }
      if (list.length > 2 * this.cap) this.prune(q, floor);
    }
  }

  /**
   * A block whose columns are this accumulator's queries and whose rows are its targets (the
   * scores of the other direction, read row by row: no transpose, no strided reads).
   */
  addTransposed(b: ScoreBlock): void {
    const kk = this.kk;
    if (kk === 0) return;
    const floors = (this.floors ??= new Float64Array(this.queries.rows).fill(-Infinity));
    const { best, slack, cand, cap } = this;
    const { scores, cols, t0 } = b;
    const floor = floors.subarray(t0, t0 + cols);
    for (let r = 0; r < b.rows; r++) {
      const row = scores.subarray(r * cols, (r + 1) * cols);
      const target = b.q0 + r;
      for (let j = 0; j < cols; j++) {
        const s = row[j] as number;
        if (s < (floor[j] as number)) continue;
        const q = t0 + j;
        const last = q * kk + kk - 1;
        if (s > (best[last] as number)) {
          this.offer(best.subarray(q * kk, q * kk + kk), s);
          floors[q] = (best[last] as number) - (slack[q] as number);
        }
        const list = cand[q] as number[];
        list.push(target, s);
        if (list.length > 2 * cap) this.prune(q, floors[q] as number);
      }
    }
  }

  /** Insert a float32 score into a query's descending top-k values. */
  private offer(best: Float32Array, s: number): void {
    const kk = best.length;
    if (!(s > (best[kk - 1] as number))) return;
    let p = kk - 1;
    while (p > 0 && (best[p - 1] as number) < s) {
      best[p] = best[p - 1] as number;
      p--;
    }
    best[p] = s;
  }

  private prune(q: number, floor: number): void {
    const list = this.cand[q] as number[];
    let w = 0;
    for (let i = 0; i < list.length; i += 2) {
      if ((list[i + 1] as number) >= floor) {
        list[w++] = list[i] as number;
        list[w++] = list[i + 1] as number;
      }
    }
    list.length = w;
  }

  /** The exact top-k: candidates re-scored in float64. */
  finish(): TopK {
    const { k, kk, queries, targets } = this;
    const d = queries.dim;
    const out = emptyTopK(queries.rows, k);
    const scores = new Float64Array(kk);
    for (let q = 0; q < queries.rows && kk > 0; q++) {
      this.prune(q, (this.best[q * kk + kk - 1] as number) - (this.slack[q] as number));
      const list = this.cand[q] as number[];
      const n = list.length / 2;
      // candidates in ascending target order, so that ties go to the lower index
      const order = Array.from({ length: n }, (_, i) => list[2 * i] as number).sort((a, b) => a - b);
      const exact = order.map((j) => dot64(queries.data, q * d, targets.data, j * d, d));
      const sel = out.indices.subarray(q * k, q * k + kk);
      const m = selectTopK(n, (i) => exact[i] as number, kk, sel, scores);
      for (let t = 0; t < m; t++) {
        sel[t] = order[sel[t] as number] as number;
        out.scores[q * k + t] = scores[t] as number;
      }
      this.cand[q] = [];
    }
    return out;
  }
}

/** Exact top-k targets of every query by dot product (pass normalised rows for cosine), on this thread. */
export function exactTopK(queries: Embeddings, targets: Embeddings, k: number, options: BlockOptions = {}): TopK {
  const acc = new TopKAccumulator(queries, targets, k);
  for (const b of scoreBlocks(queries, targets, options)) acc.add(b);
  return acc.finish();
}

/**
 * Both directions of an exact k-NN from one pass of score blocks: queries -> targets (`k`,
 * from each block's rows) and targets -> queries (`kBack`, from its columns); the same results
 * as two searches, for half the multiply-adds.
 */
export class MutualAccumulator {
  readonly forward: TopKAccumulator;
  readonly backward: TopKAccumulator;
  constructor(queries: Embeddings, targets: Embeddings, k: number, kBack: number) {
    this.forward = new TopKAccumulator(queries, targets, k);
    this.backward = new TopKAccumulator(targets, queries, kBack);
  }

  add(b: ScoreBlock): void {
    this.forward.add(b);
    this.backward.addTransposed(b);
  }

  finish(): { forward: TopK; backward: TopK } {
    return { forward: this.forward.finish(), backward: this.backward.finish() };
  }
}

/** exactTopK both ways from one pass (the WebAssembly kernel, on this thread). */
export function exactTopKBoth(queries: Embeddings, targets: Embeddings, k: number, kBack: number, options: BlockOptions = {}) {
  const acc = new MutualAccumulator(queries, targets, k, kBack);
  for (const b of scoreBlocks(queries, targets, options)) acc.add(b);
  return acc.finish();
}
