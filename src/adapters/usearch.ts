/**
 * Approximate search with USearch (npm `usearch`, 2.25.x: the last line for Node 20), behind
 * the VectorIndex interface: one HNSW graph, built and searched on every core by USearch's own
 * threads (no worker shards), from flat Float32Arrays (no per-row arrays).
 *
 * USearch's JavaScript API fixes `expansion_search` when the index is made; a search asks for
 * max(k, ef) neighbours instead (USearch searches with max(expansion_search, wanted) candidates,
 * as hnswlib does with max(ef, k)) and keeps the first k: the same candidates as an ef search.
 * Rows are L2-normalised for cosine and searched by inner product (USearch's `ip` distance is
 * 1 - dot), so scores are the cosines; `dot` indexes the rows as they are.
 *
 * Not the default engine: `npm run bench -- hnsw-engines` measured it against the sharded
 * hnswlib-node index on 100,000 x 768 rows (2 cores): slower to build and to search at recall@10
 * 0.99, with less than half the memory (see the README). `usearch` is a development dependency.
 */
import type { Embeddings } from '../core/embeddings.js';
import type { TopK } from '../core/topk.js';
import { checkDim, prepareRows, type Metric, type SearchOptions, type VectorIndex } from '../core/vector-index.js';
import { requireOptional } from '../io/optional.js';
import { poolSize } from './pool.js';
import { HNSW_DEFAULTS } from './hnsw-shard.js';
import type { HnswParams } from './worker-protocol.js';

type Usearch = typeof import('usearch');
type NativeIndex = InstanceType<Usearch['Index']>;

function usearch(): Usearch {
  return requireOptional<Usearch>('usearch', 'The USearch HNSW engine');
}

export class UsearchIndex implements VectorIndex {
  readonly kind = 'hnsw' as const;
  readonly approximate = true;
  readonly engine = 'usearch' as const;
  readonly m: number;
  readonly efConstruction: number;
  readonly ef: number;

  private constructor(
    readonly dim: number,
    readonly metric: Metric,
    private native: NativeIndex,
    params: HnswParams,
    private readonly threads: number,
  ) {
    this.m = params.m ?? HNSW_DEFAULTS.m;
    this.efConstruction = params.efConstruction ?? HNSW_DEFAULTS.efConstruction;
    this.ef = params.ef ?? HNSW_DEFAULTS.ef;
  }

  /** An empty index (USearch grows it as rows are added). */
  static create(dim: number, metric: Metric, params: HnswParams = {}, threads = poolSize()): UsearchIndex {
    const u = usearch();
    const native = new u.Index({
      dimensions: dim,
      metric: u.MetricKind.IP,
      quantization: u.ScalarKind.F32,
      connectivity: params.m ?? HNSW_DEFAULTS.m,
      expansion_add: params.efConstruction ?? HNSW_DEFAULTS.efConstruction,
      expansion_search: 1,
      multi: false,
    });
    return new UsearchIndex(dim, metric, native, params, Math.max(1, threads));
  }

  /** An index saved by `save` (read into memory). */
  static read(path: string, dim: number, metric: Metric, params: HnswParams, threads = poolSize()): UsearchIndex {
    const index = UsearchIndex.create(dim, metric, params, threads);
    index.native.load(path);
    return index;
  }

  get size(): number {
    return Number(this.native.size());
  }

  async add(input: Embeddings, options: { owned?: boolean } = {}): Promise<void> {
    checkDim(this, input, 'add');
    const v = prepareRows(input, this.metric, options.owned === true);
    const first = this.size;
    const keys = new BigUint64Array(v.rows);
    for (let i = 0; i < v.rows; i++) keys[i] = BigInt(first + i);
    this.native.add(keys, v.data.subarray(0, v.rows * this.dim), this.threads);
  }

  async search(input: Embeddings, k: number, options: SearchOptions = {}): Promise<TopK> {
    checkDim(this, input, 'search');
    const q = prepareRows(input, this.metric);
    const ef = options.ef ?? this.ef;
    const wanted = Math.min(Math.max(k, ef), Math.max(1, this.size));
    const r = this.native.search(q.data.subarray(0, q.rows * this.dim), wanted, this.threads) as unknown as {
      keys: BigUint64Array;
      distances: Float32Array;
      counts?: BigUint64Array;
    };
    const indices = new Int32Array(q.rows * k).fill(-1);
    const scores = new Float64Array(q.rows * k).fill(-Infinity);
    for (let i = 0; i < q.rows; i++) {
      const n = Math.min(k, r.counts ? Number(r.counts[i]) : r.keys.length);
      for (let j = 0; j < n; j++) {
        indices[i * k + j] = Number(r.keys[i * wanted + j]);
        scores[i * k + j] = 1 - (r.distances[i * wanted + j] as number);
      }
    }
    return { k, indices, scores };
  }

  save(path: string): void {
    this.native.save(path);
  }

  async dispose(): Promise<void> {
    // USearch frees the graph with its JavaScript object
    this.native = undefined as unknown as NativeIndex;
  }
}
