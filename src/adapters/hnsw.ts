/**
 * Approximate search with hnswlib-node, behind the VectorIndex interface.
 *
 * hnswlib-node adds points on the calling thread, one at a time. To build on all cores, as
 * C++ hnswlib does with its threads, a large index is split into shards, one per core, each a
 * separate graph in its own worker thread (./hnsw-worker.ts): they are built in parallel,
 * searched in parallel, and their results merged (core/topk). Labels are the global row
 * numbers in every shard. A small index is one graph on this thread.
 */
import type { Embeddings } from '../core/embeddings.js';
import { mergeTopK, type TopK } from '../core/topk.js';
import { checkDim, prepareRows, type Metric, type SearchOptions, type VectorIndex } from '../core/vector-index.js';
import { HNSW_DEFAULTS, NativeShard } from './hnsw-shard.js';
import { dedicatedWorker, poolSize } from './pool.js';
import type { HnswParams, HnswTasks, ShardResult } from './worker-protocol.js';

export { HNSW_DEFAULTS } from './hnsw-shard.js';
export type { HnswParams } from './worker-protocol.js';

/** From this many rows an index is built as one shard per core. */
export const SHARD_MIN_ROWS = 5_000;

/** A shard as the index sees it: in this thread, or in a worker thread of its own. */
interface Shard {
  size(): Promise<number>;
  add(data: Float32Array, rows: number, firstLabel: number): Promise<void>;
  search(queries: Float32Array, nq: number, k: number, ef: number): Promise<ShardResult>;
  write(path: string): Promise<void>;
  dispose(): Promise<void>;
}

function localShard(s: NativeShard): Shard {
  return {
    size: async () => s.size,
    add: async (data, rows, first) => s.add(data, rows, first),
    search: async (q, nq, k, ef) => s.search(q, nq, k, ef),
    write: (path) => s.write(path),
    dispose: async () => undefined,
  };
}

/** A shard in a dedicated worker thread. */
async function workerShard(init: HnswTasks['hnswInit']['payload']): Promise<Shard> {
  const w = dedicatedWorker<HnswTasks>('hnsw-worker');
  try {
    await w.run('hnswInit', init);
  } catch (e) {
    await w.close();
    throw e;
  }
  return {
    size: () => w.run('hnswSize', {}),
    add: async (data, rows, firstLabel) => {
      await w.run('hnswAdd', { data, rows, firstLabel });
    },
    search: (queries, nq, k, ef) => w.run('hnswSearch', { queries, nq, k, ef }),
    write: async (path) => {
      await w.run('hnswWrite', { path });
    },
    dispose: () => w.close(),
  };
}

export class HnswIndex implements VectorIndex {
  readonly kind = 'hnsw' as const;
  readonly approximate = true;
  readonly m: number;
  readonly efConstruction: number;
  /** ef used when a search gives none. */
  readonly ef: number;
  private count = 0;

  private constructor(
    readonly dim: number,
    readonly metric: Metric,
    private readonly shards: Shard[],
    params: HnswParams,
    count = 0,
  ) {
    this.m = params.m ?? HNSW_DEFAULTS.m;
    this.efConstruction = params.efConstruction ?? HNSW_DEFAULTS.efConstruction;
    this.ef = params.ef ?? HNSW_DEFAULTS.ef;
    this.count = count;
  }

  /** An empty index for about `capacity` rows: one shard per core from SHARD_MIN_ROWS rows, else one on this thread. */
  static async create(dim: number, metric: Metric, params: HnswParams = {}, capacity = 1024): Promise<HnswIndex> {
    const n = capacity >= SHARD_MIN_ROWS ? poolSize() : 1;
    const per = Math.ceil(capacity / n);
    const shards =
      n === 1
        ? [localShard(NativeShard.create(dim, metric, params, capacity))]
        : await Promise.all(Array.from({ length: n }, () => workerShard({ create: { dim, metric, params, capacity: per } })));
    return new HnswIndex(dim, metric, shards, params);
  }

  /** Shards written by `writeTo` (one file per shard); `count` rows in all. */
  static async readFrom(paths: string[], dim: number, metric: Metric, params: HnswParams, count: number): Promise<HnswIndex> {
    const shards =
      paths.length === 1
        ? [localShard(await NativeShard.read(paths[0] as string, dim, metric))]
        : await Promise.all(paths.map((path) => workerShard({ read: { path, dim, metric } })));
    const index = new HnswIndex(dim, metric, shards, params, count);
    const sizes = await Promise.all(shards.map((s) => s.size()));
    const total = sizes.reduce((a, b) => a + b, 0);
    if (total !== count) {
      await index.dispose();
      throw new Error(`its shards hold ${total} vectors, its description says ${count}`);
    }
    return index;
  }

  get size(): number {
    return this.count;
  }

  get shardCount(): number {
    return this.shards.length;
  }

  /** Rows are split into contiguous parts, one per shard, built in parallel. */
  async add(input: Embeddings): Promise<void> {
    checkDim(this, input, 'add');
    const v = prepareRows(input, this.metric);
    const d = this.dim;
    const n = this.shards.length;
    const per = Math.ceil(v.rows / n);
    await Promise.all(
      this.shards.map((s, i) => {
        const a = Math.min(v.rows, i * per);
        const b = Math.min(v.rows, a + per);
        return b > a ? s.add(v.data.slice(a * d, b * d), b - a, this.count + a) : Promise.resolve();
      }),
    );
    this.count += v.rows;
  }

  /** Top-k of every query, each shard searched with `ef` (default: this.ef), results merged. */
  async search(input: Embeddings, k: number, options: SearchOptions = {}): Promise<TopK> {
    checkDim(this, input, 'search');
    const q = prepareRows(input, this.metric);
    const ef = options.ef ?? this.ef;
    const parts = await Promise.all(this.shards.map((s) => s.search(q.data, q.rows, k, ef)));
    if (parts.length === 1) return { k, ...(parts[0] as ShardResult) };
    return mergeTopK(
      parts.map((p) => ({ ...p, k })),
      q.rows,
      k,
    );
  }

  /** Write shard i to paths[i] (the caller makes it atomic). */
  async writeTo(paths: string[]): Promise<void> {
    await Promise.all(this.shards.map((s, i) => s.write(paths[i] as string)));
  }

  async dispose(): Promise<void> {
    await Promise.all(this.shards.map((s) => s.dispose()));
  }
}
