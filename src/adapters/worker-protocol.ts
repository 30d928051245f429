/**
 * What crosses the thread boundary: each task's payload and result, by name, for the shared
 * pool (./worker.ts) and for the dedicated HNSW threads (./hnsw-worker.ts). Types only: the
 * pool, the workers and their callers all import this module and nothing of each other.
 */
import type { ProjectionPlan, RowProblem } from '../core/apply.js';
import type { Metric } from '../core/vector-index.js';
import type { FileMoments } from '../io/moments-file.js';

/** lsar's errors cross as data, with their code and the parameters they name (a thrown clone would lose them). */
export interface WireError {
  code: string;
  /** The message template (parameters marked, see core/errors). */
  template: string;
  param?: string;
  params?: string[];
}

export type TaskResult<T> = { ok: T } | { error: WireError };

/** How to load a model's tokenizer again on a worker (see Encoder.spec). */
export interface TokenizerSpec {
  id: string;
  opts: Record<string, unknown>;
  env: Record<string, unknown>;
}

export interface HnswParams {
  m?: number;
  efConstruction?: number;
  ef?: number;
  seed?: number;
}

/** Results of one shard: k labels and similarities per query (-1 / -Infinity where fewer). */
export interface ShardResult {
  indices: Int32Array;
  scores: Float64Array;
}

/** Tasks of the shared pool. */
export type PoolTasks = {
  fileMoments: {
    payload: { path: string; secondMoment?: boolean; hash?: boolean; blockRows?: number };
    result: TaskResult<FileMoments>;
  };
  projectBlock: {
    payload: { plan: ProjectionPlan & { id: string }; buf: ArrayBuffer; rows: number };
    result: { buf: ArrayBuffer; problem: RowProblem | null };
  };
  tokenize: { payload: { spec: TokenizerSpec; texts: string[] }; result: { lens: Int32Array; flat: Int32Array } };
};

/** Tasks of a dedicated thread holding one HNSW shard. */
export type HnswTasks = {
  hnswInit: {
    payload:
      | { create: { dim: number; metric: Metric; params: HnswParams; capacity: number } }
      | { read: { path: string; dim: number; metric: Metric } };
    result: true;
  };
  hnswSize: { payload: Record<string, never>; result: number };
  hnswAdd: { payload: { data: Float32Array; rows: number; firstLabel: number }; result: true };
  hnswSearch: { payload: { queries: Float32Array; nq: number; k: number; ef: number }; result: ShardResult };
  hnswWrite: { payload: { path: string }; result: true };
};

/** A task table: each task's payload and result. */
export type TaskTable = { [task: string]: { payload: unknown; result: unknown } };
