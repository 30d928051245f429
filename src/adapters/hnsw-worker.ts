/** The tasks of a dedicated thread holding one HNSW shard (see ./hnsw.ts), typed by ./worker-protocol.ts. */
import { NativeShard } from './hnsw-shard.js';
import { transferring } from './transfer.js';
import type { HnswTasks } from './worker-protocol.js';

type Task<K extends keyof HnswTasks> = (payload: HnswTasks[K]['payload']) => HnswTasks[K]['result'] | Promise<HnswTasks[K]['result']>;

let shard: NativeShard | undefined;

function theShard(): NativeShard {
  if (!shard) throw new Error('internal: HNSW shard not initialised');
  return shard;
}

export const hnswInit: Task<'hnswInit'> = async (init) => {
  shard =
    'create' in init
      ? NativeShard.create(init.create.dim, init.create.metric, init.create.params, init.create.capacity)
      : await NativeShard.read(init.read.path, init.read.dim, init.read.metric);
  return true as const;
};

export const hnswSize: Task<'hnswSize'> = () => theShard().size;

export const hnswAdd: Task<'hnswAdd'> = ({ data, rows, firstLabel }) => {
  theShard().add(data, rows, firstLabel);
  return true as const;
};

export const hnswSearch: Task<'hnswSearch'> = ({ queries, nq, k, ef }) => {
  const r = theShard().search(queries, nq, k, ef);
  return transferring(r, [r.indices.buffer as ArrayBuffer, r.scores.buffer as ArrayBuffer]);
};

export const hnswWrite: Task<'hnswWrite'> = async ({ path }) => {
  await theShard().write(path);
  return true as const;
};
