/**
 * The one worker-thread pool (piscina), created on first use and sized to the machine's
 * cores, and dedicated threads for tasks that keep state (an HNSW shard). Every call is typed
 * by the task table of ./worker-protocol.ts; lsar's errors come back as LsarErrors with their
 * code and parameters.
 */
import { availableParallelism } from 'node:os';
import { Piscina } from 'piscina';
import type { ProjectionPlan, RowProblem } from '../core/apply.js';
import { createError, type ErrorCode } from '../core/errors.js';
import type { FileMoments } from '../io/moments-file.js';
import type { PoolTasks, TaskResult, TaskTable, TokenizerSpec, WireError } from './worker-protocol.js';

let pool: Piscina | undefined;

/** The worker module `name` (worker.js, hnsw-worker.js) as built into dist/. */
function workerFile(name: string): string {
  // From the TypeScript sources (tests, benchmarks) the worker runs from dist/, which the test
  // setup and `npm run bench` build first: Node 20 does not apply tsx's loader hooks to workers.
  const fromSource = import.meta.url.endsWith('.ts');
  return fromSource ? new URL(`../../dist/adapters/${name}.js`, import.meta.url).href : new URL(`./${name}.js`, import.meta.url).href;
}

/** Threads in the pool (one per core). */
export function poolSize(): number {
  return Math.max(1, availableParallelism());
}

function workers(): Piscina {
  if (!pool) {
    pool = new Piscina({
      filename: workerFile('worker'),
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

/** An LsarError again from its wire form. */
export function fromWire(e: WireError): Error {
  return createError(e.code as ErrorCode, e.template, {
    ...(e.param !== undefined ? { param: e.param } : {}),
    ...(e.params ? { params: e.params } : {}),
  });
}

function run<K extends keyof PoolTasks>(name: K, payload: PoolTasks[K]['payload'], transferList?: ArrayBuffer[]) {
  return workers().run(payload, { name, ...(transferList ? { transferList } : {}) }) as Promise<PoolTasks[K]['result']>;
}

async function checked<T>(r: Promise<TaskResult<T>>): Promise<T> {
  const out = await r;
  if ('error' in out) throw fromWire(out.error);
  return out.ok;
}

/** A thread of its own, for tasks that keep state between calls; calls typed by its task table. */
export interface DedicatedWorker<Tasks extends TaskTable> {
  run<K extends keyof Tasks & string>(task: K, payload: Tasks[K]['payload']): Promise<Tasks[K]['result']>;
  close(): Promise<void>;
}

const dedicated = new Set<Piscina>();

/** A thread of its own running worker module `name` (a one-thread piscina pool: calls reach the same thread). */
export function dedicatedWorker<Tasks extends TaskTable>(name: string): DedicatedWorker<Tasks> {
  const p = new Piscina({
    filename: workerFile(name),
    minThreads: 1,
    maxThreads: 1,
    idleTimeout: 2 ** 31 - 1,
    concurrentTasksPerWorker: 1,
  });
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

/** A language file's moments (and content hash) read on the pool: files spread over the cores. */
export function fileMomentsInPool(
  path: string,
  options: { secondMoment?: boolean; hash?: boolean; blockRows?: number },
): Promise<FileMoments> {
  return checked(run('fileMoments', { path, ...options }));
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
  return run('projectBlock', { plan, buf, rows }, [buf]);
}

/** Token ids of `texts` with the tokenizer described by `spec` (loaded once per worker). */
export async function tokenizeInPool(spec: TokenizerSpec, texts: string[]): Promise<number[][]> {
  const { lens, flat } = await run('tokenize', { spec, texts });
  const out: number[][] = [];
  let o = 0;
  for (const n of lens) {
    out.push(Array.from(flat.subarray(o, o + n)));
    o += n;
  }
  return out;
}
