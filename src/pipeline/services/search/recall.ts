/**
 * HNSW recall against exact search, and searches whose ef is chosen from it: the smallest ef
 * (doubling from the default) whose recall@10 on a sample of the queries reaches the target.
 */
import type { Embeddings } from '../../../core/embeddings.js';
import type { TopK } from '../../../core/topk.js';
import type { VectorIndex } from '../../../core/vector-index.js';
import { HNSW_DEFAULTS } from '../../../adapters/hnsw.js';
import { buildIndex } from './build.js';

export interface Recall {
  /** Sampled queries. */
  queries: number;
  /** Sum over queries of (top-1 equal to exact top-1). */
  hits1: number;
  /** Sum over queries of |approximate top-k ∩ exact top-k| / k, k = min(10, size). */
  hits10: number;
}

/** Sampled queries with their exact top-k (k = min(10, rows)) over `vectors`. */
export interface RecallProbe {
  sample: Embeddings;
  truth: TopK;
  k: number;
}

/** Up to `size` evenly spaced query rows and their exact neighbours among `vectors`. */
export async function recallProbe(vectors: Embeddings, queries: Embeddings, size: number, index: VectorIndex): Promise<RecallProbe> {
  const n = Math.min(size, queries.rows);
  const d = queries.dim;
  const data = new Float32Array(n * d);
  const stride = queries.rows / Math.max(1, n);
  for (let i = 0; i < n; i++) {
    const r = Math.floor(i * stride);
    data.set(queries.data.subarray(r * d, (r + 1) * d), i * d);
  }
  const sample: Embeddings = { data, rows: n, dim: d, dtype: 'float32' };
  const k = Math.min(10, vectors.rows);
  const exact = await buildIndex(vectors, { kind: 'exact', metric: index.metric });
  try {
    return { sample, truth: await exact.search(sample, k), k };
  } finally {
    await exact.dispose();
  }
}

/** Recall of `index` (at `ef`, for HNSW) on a probe. */
export async function recallOf(index: VectorIndex, probe: RecallProbe, ef?: number): Promise<Recall> {
  const { sample, truth, k } = probe;
  if (sample.rows === 0 || k === 0) return { queries: 0, hits1: 0, hits10: 0 };
  const approx = await index.search(sample, k, ef !== undefined ? { ef } : {});
  let hits1 = 0;
  let hits10 = 0;
  for (let q = 0; q < sample.rows; q++) {
    if (truth.indices[q * k] === approx.indices[q * k]) hits1++;
    const set = new Set(Array.from(truth.indices.subarray(q * k, (q + 1) * k)));
    let hit = 0;
    for (let j = 0; j < k; j++) if (set.has(approx.indices[q * k + j] as number)) hit++;
    hits10 += hit / k;
  }
  return { queries: sample.rows, hits1, hits10 };
}

/** Recall of an approximate index against exact search over the same vectors, on up to `sample` query rows. */
export async function measureRecall(index: VectorIndex, vectors: Embeddings, queries: Embeddings, sample: number): Promise<Recall> {
  if (!index.approximate || sample < 1) return { queries: 0, hits1: 0, hits10: 0 };
  return recallOf(index, await recallProbe(vectors, queries, sample, index));
}

export interface TunedSearch {
  top: TopK;
  /** HNSW: the ef used, and the recall measured at it on the sample. */
  ef?: number;
  recall?: Recall;
}

/** Largest ef tried when tuning: beyond it exact search is the better tool. */
const MAX_TUNED_EF = 4096;

/**
 * Search `queries`; for HNSW, with `ef` if given, else the smallest ef in 64, 128, ... whose
 * recall@10 on `sample` of the queries reaches `recall` (default 0.99). `vectors` are the
 * indexed rows, for the exact neighbours of the sample.
 */
export async function searchTuned(
  index: VectorIndex,
  vectors: Embeddings,
  queries: Embeddings,
  k: number,
  options: { recall?: number; ef?: number; sample?: number } = {},
): Promise<TunedSearch> {
  if (!index.approximate) return { top: await index.search(queries, k) };
  const probe = await recallProbe(vectors, queries, options.sample ?? 100, index);
  let ef = options.ef ?? Math.max(HNSW_DEFAULTS.ef, k);
  let recall = await recallOf(index, probe, ef);
  if (options.ef === undefined) {
    const target = options.recall ?? 0.99;
    while (recall.queries > 0 && recall.hits10 / recall.queries < target && ef < Math.min(MAX_TUNED_EF, index.size)) {
      ef = Math.min(2 * ef, MAX_TUNED_EF);
      recall = await recallOf(index, probe, ef);
    }
  }
  return { top: await index.search(queries, k, { ef }), ef, recall };
}
