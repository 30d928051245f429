/**
 * The one search interface (as faiss's Index): build an index over vectors, `add` more,
 * `search` the top-k of query rows. Exact and approximate (HNSW, src/adapters/hnsw.ts)
 * indexes are interchangeable behind it; saving and loading are in src/pipeline/services/search/store.ts.
 *
 * Metrics: `cosine` (rows L2-normalised by the index, queries too; scores are cosines) or
 * `dot` (raw inner products).
 */
import { concatRows, type Embeddings } from './embeddings.js';
import { createError } from './errors.js';
import { exactTopK, MutualAccumulator, scoreBlocks, TopKAccumulator, type ScoreBlock } from './exact-search.js';
import { normalizeRows, normalizeRowsInPlace } from './rows.js';
import type { TopK } from './topk.js';

export type Metric = 'cosine' | 'dot';
export type IndexKind = 'exact' | 'hnsw';

/** Per-search settings of approximate indexes (exact ones ignore them). */
export interface SearchOptions {
  /** HNSW: candidates kept while searching (default: the index's). */
  ef?: number;
}

export interface VectorIndex {
  readonly kind: IndexKind;
  readonly metric: Metric;
  readonly dim: number;
  /** Rows indexed so far; their labels are 0..size-1 in the order added. */
  readonly size: number;
  /** True for HNSW: results may miss true neighbours. */
  readonly approximate: boolean;
  /** Add rows (with `owned`, the index may keep and change `vectors.data` instead of copying it). */
  add(vectors: Embeddings, options?: { owned?: boolean }): Promise<void>;
  /** Top-k rows of the index for each query row, best first (ties to the lower label). */
  search(queries: Embeddings, k: number, options?: SearchOptions): Promise<TopK>;
  /** Release native memory or worker threads. */
  dispose(): Promise<void>;
}

/**
 * Rows as the metric scores them: cosine indexes keep L2-normalised float32 rows. A copy,
 * unless `owned` float32 rows may be changed in place.
 */
export function prepareRows(vectors: Embeddings, metric: Metric, owned = false): Embeddings<Float32Array> {
  // already normalised float32 rows are what a cosine index keeps: shared, never changed
  if (metric === 'cosine' && vectors.normalized && vectors.data instanceof Float32Array) return vectors as Embeddings<Float32Array>;
  if (owned && vectors.data instanceof Float32Array) {
    if (metric === 'cosine') {
      normalizeRowsInPlace(vectors.data, vectors.dim);
      return { ...(vectors as Embeddings<Float32Array>), normalized: true };
    }
    return vectors as Embeddings<Float32Array>;
  }
  if (metric === 'cosine')
    return { data: normalizeRows(vectors.data, vectors.dim), rows: vectors.rows, dim: vectors.dim, dtype: 'float32', normalized: true };
  return { data: Float32Array.from(vectors.data), rows: vectors.rows, dim: vectors.dim, dtype: 'float32' };
}

/** A faster source of float32 score blocks (a GEMM library), for problems worth it. */
export type BlockSource = (queries: Embeddings<Float32Array>, targets: Embeddings<Float32Array>, k: number) => AsyncIterable<ScoreBlock>;

/** Below this many multiply-adds (queries x rows x dim), the WebAssembly kernel is used as is. */
export const GEMM_MIN_WORK = 2e7;

export function checkDim(index: { dim: number }, vectors: Embeddings, what: string): void {
  if (vectors.dim !== index.dim)
    throw createError('DIM_MISMATCH', `${what}: dimension ${vectors.dim}, but the index has dimension ${index.dim}`);
}

/** Exact search: every query against every row (float32 SIMD, float64 re-scoring of the candidates). */
export class ExactIndex implements VectorIndex {
  readonly kind = 'exact' as const;
  readonly approximate = false;
  private rows: Embeddings<Float32Array>;

  constructor(
    readonly dim: number,
    readonly metric: Metric = 'cosine',
    private readonly gemm?: BlockSource,
  ) {
    this.rows = { data: new Float32Array(0), rows: 0, dim, dtype: 'float32' };
  }

  get size(): number {
    return this.rows.rows;
  }

  /** The indexed rows as searched (normalised for cosine). */
  vectors(): Embeddings<Float32Array> {
    return this.rows;
  }

  async add(vectors: Embeddings, options: { owned?: boolean } = {}): Promise<void> {
    checkDim(this, vectors, 'add');
    const rows = prepareRows(vectors, this.metric, options.owned === true && this.rows.rows === 0);
    this.rows = this.rows.rows === 0 ? rows : concatRows([this.rows, rows], this.dim);
  }

  /** Take rows already prepared for the metric (as `vectors()` returns them, e.g. read back from a saved index). */
  adopt(rows: Embeddings<Float32Array>): void {
    checkDim(this, rows, 'adopt');
    this.rows = rows;
  }

  async search(queries: Embeddings, k: number): Promise<TopK> {
    checkDim(this, queries, 'search');
    const q = prepareRows(queries, this.metric);
    if (this.gemm && q.rows * this.rows.rows * this.dim >= GEMM_MIN_WORK) {
      const acc = new TopKAccumulator(q, this.rows, k);
      for await (const b of this.gemm(q, this.rows, k)) acc.add(b);
      return acc.finish();
    }
    return exactTopK(q, this.rows, k);
  }

  /**
   * Both directions from one pass of scores: each query's top-k rows (`forward`) and each
   * row's top-`kBack` queries (`backward`, labels = query rows); half the work of two searches
   * (margin mining needs both).
   */
  async searchBoth(
    queries: Embeddings,
    k: number,
    kBack: number,
    progress?: (rowsDone: number) => void,
  ): Promise<{ forward: TopK; backward: TopK }> {
    checkDim(this, queries, 'search');
    const q = prepareRows(queries, this.metric);
    const acc = new MutualAccumulator(q, this.rows, k, kBack);
    const blocks =
      this.gemm && q.rows * this.rows.rows * this.dim >= GEMM_MIN_WORK ? this.gemm(q, this.rows, k) : scoreBlocks(q, this.rows);
    for await (const b of blocks) {
      acc.add(b);
      // blocks go through the rows in chunks, each chunk against every query
      if (b.q0 + b.rows === q.rows) progress?.(b.t0 + b.cols);
    }
    return acc.finish();
  }

  async dispose(): Promise<void> {
    this.rows = { data: new Float32Array(0), rows: 0, dim: this.dim, dtype: 'float32' };
  }
}
