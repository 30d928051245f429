/**
 * Approximate search with hnswlib-node, behind the VectorIndex interface. Loaded lazily:
 * importing lsar does not load the native module. hnswlib-node is CommonJS, takes plain
 * arrays, returns distances (cosine and inner-product distance = 1 - similarity) and adds
 * points on the calling thread, one at a time.
 *
 * To build on all cores, as C++ hnswlib does with its threads, a large index is split into
 * shards, one per core, each a separate graph in its own worker thread: they are built in
 * parallel, searched in parallel, and their results merged. Labels are the global row
 * numbers in every shard. A small index is one graph on this thread.
 */
import type { HierarchicalNSW } from 'hnswlib-node';
import type { Embeddings } from '../core/embeddings.js';
import { emptyTopK, type TopK } from '../core/topk.js';
import { checkDim, prepareRows, type Metric, type VectorIndex } from '../core/vector-index.js';
import { requireOptional } from '../io/optional.js';
import { dedicatedWorker, poolSize, type DedicatedWorker } from './pool.js';

/** Defaults: M and efConstruction as hnswlib's examples; ef is chosen per search from measured recall (see vector-search.ts). */
export const HNSW_DEFAULTS = { m: 16, efConstruction: 200, ef: 64, seed: 100 } as const;

/** From this many rows an index is built as one shard per core. */
export const SHARD_MIN_ROWS = 5_000;

export interface HnswParams {
  m?: number;
  efConstruction?: number;
  ef?: number;
  seed?: number;
}

function hnswlib(): typeof import('hnswlib-node') {
  return requireOptional<typeof import('hnswlib-node')>('hnswlib-node', 'HNSW search', 'exact search needs no extra package');
}

/** Results of one shard: k labels and similarities per query (-1 / -Infinity where fewer). */
export interface ShardResult {
  indices: Int32Array;
  scores: Float64Array;
}

/** One hnswlib graph on the calling thread. */
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

  search(queries: Float32Array, nq: number, k: number, ef: number): ShardResult {
    const d = this.dim;
    const out = emptyTopK(nq, k);
    const kk = Math.min(k, this.size);
    if (kk === 0) return out;
    this.index.setEf(Math.max(ef, kk));
    const row = new Array<number>(d);
    for (let q = 0; q < nq; q++) {
      for (let i = 0; i < d; i++) row[i] = queries[q * d + i] as number;
      const res = this.index.searchKnn(row, kk);
      const order = res.neighbors
        .map((_, i) => i)
        .sort(
          (a, b) =>
            (res.distances[a] as number) - (res.distances[b] as number) || (res.neighbors[a] as number) - (res.neighbors[b] as number),
        );
      order.forEach((i, j) => {
        out.indices[q * k + j] = res.neighbors[i] as number;
        out.scores[q * k + j] = 1 - (res.distances[i] as number);
      });
    }
    return out;
  }

  async write(path: string): Promise<void> {
    await this.index.writeIndex(path);
  }
}

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

/** A shard in a dedicated worker thread (tasks hnsw* of ./worker.ts). */
async function workerShard(
  init:
    | { create: { dim: number; metric: Metric; params: HnswParams; capacity: number } }
    | { read: { path: string; dim: number; metric: Metric } },
): Promise<Shard> {
  const w: DedicatedWorker = dedicatedWorker();
  try {
    await w.run('hnswInit', init);
  } catch (e) {
    await w.close();
    throw e;
  }
  return {
    size: () => w.run('hnswSize', {}) as Promise<number>,
    add: async (data, rows, firstLabel) => {
      await w.run('hnswAdd', { data, rows, firstLabel });
    },
    search: (queries, nq, k, ef) => w.run('hnswSearch', { queries, nq, k, ef }) as Promise<ShardResult>,
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
  /** ef used when a search gives none (set by recall tuning or the user). */
  ef: number;
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
  async add(input: Embeddings, _options?: { owned?: boolean }): Promise<void> {
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
  async search(input: Embeddings, k: number, ef = this.ef): Promise<TopK> {
    checkDim(this, input, 'search');
    const q = prepareRows(input, this.metric);
    const parts = await Promise.all(this.shards.map((s) => s.search(q.data, q.rows, k, ef)));
    if (parts.length === 1) return { k, ...(parts[0] as ShardResult) };
    const out = emptyTopK(q.rows, k);
    const cand: { i: number; s: number }[] = [];
    for (let r = 0; r < q.rows; r++) {
      cand.length = 0;
      for (const p of parts) {
        for (let j = 0; j < k; j++) {
          const i = p.indices[r * k + j] as number;
          if (i >= 0) cand.push({ i, s: p.scores[r * k + j] as number });
        }
      }
      cand.sort((a, b) => b.s - a.s || a.i - b.i);
      for (let j = 0; j < Math.min(k, cand.length); j++) {
        out.indices[r * k + j] = (cand[j] as { i: number }).i;
        out.scores[r * k + j] = (cand[j] as { s: number }).s;
      }
    }
    return out;
  }

  /** Write shard i to paths[i] (the caller makes it atomic). */
  async writeTo(paths: string[]): Promise<void> {
    await Promise.all(this.shards.map((s, i) => s.write(paths[i] as string)));
  }

  async dispose(): Promise<void> {
    await Promise.all(this.shards.map((s) => s.dispose()));
  }
}
