/**
 * The one worker-thread pool (piscina), created on first use and sized to the machine's
 * cores. Its tasks live in ./worker.ts: hashing files, projecting blocks (with the same
 * projector as the main thread) and tokenising texts.
 */
import { availableParallelism } from 'node:os';
import { Piscina } from 'piscina';
import type { ProjectionPlan, RowProblem } from '../core/apply.js';
import { createError, type ErrorCode } from '../core/errors.js';
import type { FileMoments } from '../io/moments-file.js';
import type { TaskResult, TokenizerSpec } from './worker.js';

let pool: Piscina | undefined;

function workerFile(): string {
  // From the TypeScript sources (tests, benchmarks) the worker runs from dist/, which the test
  // setup and `npm run bench` build first: Node 20 does not apply tsx's loader hooks to workers.
  const fromSource = import.meta.url.endsWith('.ts');
  return fromSource ? new URL('../../dist/adapters/worker.js', import.meta.url).href : new URL('./worker.js', import.meta.url).href;
}

/** Threads in the pool (one per core). */
export function poolSize(): number {
  return Math.max(1, availableParallelism());
}

function workers(): Piscina {
  if (!pool) {
    pool = new Piscina({
      filename: workerFile(),
      minThreads: poolSize(),
      maxThreads: poolSize(),
      idleTimeout: 2000,
      concurrentTasksPerWorker: 1,
    });
    // A worker that fails rejects its task; the pool itself must not crash the process.
    pool.on('error', () => undefined);
  }
  return pool;
}

/** A worker of its own, for tasks that keep state between calls (an HNSW shard). */
export interface DedicatedWorker {
  run(task: string, payload: unknown): Promise<unknown>;
  close(): Promise<void>;
}

const dedicated = new Set<Piscina>();

/** A thread of its own running the same worker module (a one-thread piscina pool: calls reach the same thread). */
export function dedicatedWorker(): DedicatedWorker {
  const p = new Piscina({ filename: workerFile(), minThreads: 1, maxThreads: 1, idleTimeout: 2 ** 31 - 1, concurrentTasksPerWorker: 1 });
  p.on('error', () => undefined);
  dedicated.add(p);
  return {
    run: (task, payload) => p.run(payload, { name: task }),
    close: async () => {
      dedicated.delete(p);
      await p.destroy();
    },
  };
}

/** Start the pool's threads now (they take a fraction of a second), ahead of the tasks that will need them. Idle threads never keep the process alive. */
export function warmWorkerPool(): void {
  workers();
}

/** Stop the pool's threads (they are started again on the next task), and any dedicated ones left. */
export async function closeWorkerPool(): Promise<void> {
  const p = pool;
  pool = undefined;
  const rest = [...dedicated];
  dedicated.clear();
  await Promise.all([p?.destroy(), ...rest.map((d) => d.destroy())]);
}

/** Run a task of ./worker.ts that reports lsar's errors as data; rethrow them here as LsarErrors. */
async function runChecked<T>(name: string, payload: unknown): Promise<T> {
  const r = (await workers().run(payload, { name })) as TaskResult<T>;
  if ('error' in r) throw createError(r.error.code as ErrorCode, r.error.message);
  return r.ok;
}

/** A language file's moments (and content hash) read on the pool: files spread over the cores. */
export function fileMomentsInPool(
  path: string,
  options: { secondMoment?: boolean; hash?: boolean; blockRows?: number },
): Promise<FileMoments> {
  return runChecked<FileMoments>('fileMoments', { path, ...options });
}

/**
 * Project `rows` float32 rows held in `buf` (transferred to a worker and back). Resolves with
 * the buffer and the first row that could not be projected (null when none).
 */
export function projectInPool(
  plan: ProjectionPlan & { id: string },
  buf: ArrayBuffer,
  rows: number,
): Promise<{ buf: ArrayBuffer; problem: RowProblem | null }> {
  return workers().run({ plan, buf, rows }, { name: 'projectBlock', transferList: [buf] }) as Promise<{
    buf: ArrayBuffer;
    problem: RowProblem | null;
  }>;
}

/** Token ids of `texts` with the tokenizer described by `spec` (loaded once per worker). */
export async function tokenizeInPool(spec: TokenizerSpec, texts: string[]): Promise<number[][]> {
  const { lens, flat } = (await workers().run({ spec, texts }, { name: 'tokenize' })) as { lens: Int32Array; flat: Int32Array };
  const out: number[][] = [];
  let o = 0;
  for (const n of lens) {
    out.push(Array.from(flat.subarray(o, o + n)));
    o += n;
  }
  return out;
}
