/**
 * The tasks of the shared pool (./pool.ts), typed by ./worker-protocol.ts: file moments,
 * projecting blocks (the same projector as the main thread) and tokenising. Each is a plain
 * function of a structured-cloneable payload; large buffers are transferred back.
 */
import { createRequire } from 'node:module';
import { createProjector, type Projector } from '../core/apply.js';
import { readFileMoments } from '../io/moments-file.js';
import { transferring, wrapped } from './transfer.js';
import type { PoolTasks, TokenizerSpec } from './worker-protocol.js';

type Task<K extends keyof PoolTasks> = (payload: PoolTasks[K]['payload']) => PoolTasks[K]['result'] | Promise<PoolTasks[K]['result']>;

/** One language file's moments and content hash (io/moments-file.ts). */
export const fileMoments: Task<'fileMoments'> = async (o) => {
  const r = await wrapped(() => readFileMoments(o.path, o));
  if ('ok' in r)
    return transferring(
      r,
      r.ok.langs.flatMap((l) => [l.sum.buffer as ArrayBuffer, ...(l.gram ? [l.gram.buffer as ArrayBuffer] : [])]),
    );
  return r;
};

const projectors = new Map<string, Projector>();

/** Project a block of float32 rows with the plan's projector (kept per plan id). */
export const projectBlock: Task<'projectBlock'> = ({ plan, buf, rows }) => {
  let op = projectors.get(plan.id);
  if (!op) {
    if (projectors.size > 8) projectors.clear();
    op = createProjector(plan);
    projectors.set(plan.id, op);
  }
  const problem = op.apply(new Float32Array(buf, 0, rows * plan.dim), rows);
  return transferring({ buf, problem }, [buf]);
};

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
export const tokenize: Task<'tokenize'> = async ({ spec, texts }) => {
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
};
