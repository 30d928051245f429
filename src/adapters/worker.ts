/**
 * The tasks run on the worker pool (./pool.ts). Each is a plain function of a
 * structured-cloneable payload; results with large buffers are transferred back.
 */
import { createRequire } from 'node:module';
import { move, transferableSymbol, valueSymbol } from 'piscina';
import { createProjector, type ProjectionPlan, type Projector } from '../core/apply.js';
import type { Metric } from '../core/vector-index.js';
import { isLsarError } from '../core/errors.js';
import { readFileMoments } from '../io/moments-file.js';
import { NativeShard, type HnswParams } from './hnsw.js';

/** A result whose buffers are moved (not copied) back to the main thread. */
function transferring<T>(value: T, buffers: ArrayBuffer[]): T {
  return move({ [transferableSymbol]: buffers, [valueSymbol]: value } as never) as T;
}

/** lsar's own errors cross the thread boundary as data (their code would be lost in a thrown clone). */
export type TaskResult<T> = { ok: T } | { error: { code: string; message: string } };

async function wrapped<T>(f: () => Promise<T>): Promise<TaskResult<T>> {
  try {
    return { ok: await f() };
  } catch (e) {
    if (isLsarError(e)) return { error: { code: e.code, message: e.message } };
    throw e;
  }
}

/** One language file's moments and content hash (io/moments-file.ts). */
export async function fileMoments(o: { path: string; secondMoment?: boolean; hash?: boolean; blockRows?: number }) {
  const r = await wrapped(() => readFileMoments(o.path, o));
  if ('ok' in r) return transferring(r, [r.ok.sum.buffer as ArrayBuffer, ...(r.ok.gram ? [r.ok.gram.buffer as ArrayBuffer] : [])]);
  return r;
}

const projectors = new Map<string, Projector>();

/** Project a block of float32 rows with the plan's projector (kept per plan id). */
export function projectBlock({ plan, buf, rows }: { plan: ProjectionPlan & { id: string }; buf: ArrayBuffer; rows: number }) {
  let op = projectors.get(plan.id);
  if (!op) {
    if (projectors.size > 8) projectors.clear();
    op = createProjector(plan);
    projectors.set(plan.id, op);
  }
  const problem = op.apply(new Float32Array(buf, 0, rows * plan.dim), rows);
  return transferring({ buf, problem }, [buf]);
}

/** How to load a model's tokenizer again on a worker (see Encoder.spec). */
export interface TokenizerSpec {
  id: string;
  opts: Record<string, unknown>;
  env: Record<string, unknown>;
}

interface Tok {
  encode(text: string): number[];
}
const tokenizers = new Map<string, Promise<Tok>>();

async function tokenizerFor(spec: TokenizerSpec): Promise<Tok> {
  const key = JSON.stringify(spec);
  let t = tokenizers.get(key);
  if (!t) {
    t = (async () => {
      // transformers.js as CommonJS: the same build the main thread's ESM import resolves to.
      const T = createRequire(import.meta.url)('@huggingface/transformers') as typeof import('@huggingface/transformers');
      Object.assign(T.env, spec.env);
      return (await T.AutoTokenizer.from_pretrained(spec.id, spec.opts)) as unknown as Tok;
    })();
    tokenizers.set(key, t);
  }
  return t;
}

/** Token ids of texts, flattened with their lengths (transferred back). */
export async function tokenize({ spec, texts }: { spec: TokenizerSpec; texts: string[] }) {
  const tok = await tokenizerFor(spec);
  const lens = new Int32Array(texts.length);
  const parts: number[][] = [];
  let total = 0;
  for (let i = 0; i < texts.length; i++) {
    const t = tok.encode(texts[i] as string);
    lens[i] = t.length;
    total += t.length;
    parts.push(t);
  }
  const flat = new Int32Array(total);
  let o = 0;
  for (const p of parts) {
    flat.set(p, o);
    o += p.length;
  }
  return transferring({ lens, flat }, [lens.buffer as ArrayBuffer, flat.buffer as ArrayBuffer]);
}

/** The HNSW shard of this (dedicated) worker: see HnswIndex. */
let shard: NativeShard | undefined;

function theShard(): NativeShard {
  if (!shard) throw new Error('internal: HNSW shard not initialised');
  return shard;
}

export async function hnswInit(init: {
  create?: { dim: number; metric: Metric; params: HnswParams; capacity: number };
  read?: { path: string; dim: number; metric: Metric };
}) {
  if (init.create) shard = NativeShard.create(init.create.dim, init.create.metric, init.create.params, init.create.capacity);
  else if (init.read) shard = await NativeShard.read(init.read.path, init.read.dim, init.read.metric);
  return true;
}

export function hnswSize(): number {
  return theShard().size;
}

export function hnswAdd({ data, rows, firstLabel }: { data: Float32Array; rows: number; firstLabel: number }) {
  theShard().add(data, rows, firstLabel);
  return true;
}

export function hnswSearch({ queries, nq, k, ef }: { queries: Float32Array; nq: number; k: number; ef: number }) {
  const r = theShard().search(queries, nq, k, ef);
  return transferring(r, [r.indices.buffer as ArrayBuffer, r.scores.buffer as ArrayBuffer]);
}

export async function hnswWrite({ path }: { path: string }) {
  await theShard().write(path);
  return true;
}
