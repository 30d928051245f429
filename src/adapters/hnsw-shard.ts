/**
 * One hnswlib-node graph on the calling thread (loaded lazily: importing lsar does not load
 * the native module). hnswlib-node is CommonJS, takes plain arrays, returns distances (cosine
 * and inner-product distance = 1 - similarity) and adds points one at a time.
 */
import type { HierarchicalNSW } from 'hnswlib-node';
import { mergeTopK, type TopK } from '../core/topk.js';
import type { Metric } from '../core/vector-index.js';
import { requireOptional } from '../io/optional.js';
import type { HnswParams, ShardResult } from './worker-protocol.js';

/** Defaults: M and efConstruction as hnswlib's examples; ef is chosen per search from measured recall. */
export const HNSW_DEFAULTS = { m: 16, efConstruction: 200, ef: 64, seed: 100 } as const;

function hnswlib(): typeof import('hnswlib-node') {
  return requireOptional<typeof import('hnswlib-node')>('hnswlib-node', 'HNSW search', 'exact search needs no extra package');
}

export class NativeShard {
  private constructor(
    private readonly index: HierarchicalNSW,
    readonly dim: number,
  ) {}

  static create(dim: number, metric: Metric, params: HnswParams, capacity: number): NativeShard {
    const index = new (hnswlib().HierarchicalNSW)(metric === 'cosine' ? 'cosine' : 'ip', dim);
    index.initIndex(
      Math.max(1, capacity),
      params.m ?? HNSW_DEFAULTS.m,
      params.efConstruction ?? HNSW_DEFAULTS.efConstruction,
      params.seed ?? HNSW_DEFAULTS.seed,
    );
    return new NativeShard(index, dim);
  }

  static async read(path: string, dim: number, metric: Metric): Promise<NativeShard> {
    const index = new (hnswlib().HierarchicalNSW)(metric === 'cosine' ? 'cosine' : 'ip', dim);
    await index.readIndex(path);
    return new NativeShard(index, dim);
  }

  get size(): number {
    return this.index.getCurrentCount();
  }

  /** Add `rows` rows of `data` with labels firstLabel, firstLabel + 1, ... */
  add(data: Float32Array, rows: number, firstLabel: number): void {
    const d = this.dim;
    const need = this.size + rows;
    if (need > this.index.getMaxElements()) this.index.resizeIndex(Math.max(need, 2 * this.index.getMaxElements()));
    const row = new Array<number>(d);
    for (let r = 0; r < rows; r++) {
      for (let i = 0; i < d; i++) row[i] = data[r * d + i] as number;
      this.index.addPoint(row, firstLabel + r);
    }
  }

  /** Top-k of each query (best first, ties to the lower label), as similarities. */
  search(queries: Float32Array, nq: number, k: number, ef: number): ShardResult {
    const d = this.dim;
    const kk = Math.min(k, this.size);
    const raw: TopK = {
      k: Math.max(kk, 1),
      indices: new Int32Array(nq * Math.max(kk, 1)).fill(-1),
      scores: new Float64Array(nq * Math.max(kk, 1)),
    };
    if (kk > 0) {
      this.index.setEf(Math.max(ef, kk));
      const row = new Array<number>(d);
      for (let q = 0; q < nq; q++) {
        for (let i = 0; i < d; i++) row[i] = queries[q * d + i] as number;
        const res = this.index.searchKnn(row, kk);
        res.neighbors.forEach((label, j) => {
          raw.indices[q * kk + j] = label;
          raw.scores[q * kk + j] = 1 - (res.distances[j] as number);
        });
      }
    }
    const { indices, scores } = mergeTopK([raw], nq, k);
    return { indices, scores };
  }

  async write(path: string): Promise<void> {
    await this.index.writeIndex(path);
  }
}
