/** The two sides of lsar mine: read (or embedded) and unified, and the pairs written with their texts. */
import { join } from 'node:path';
import type { Embeddings } from '../../core/embeddings.js';
import { createError, opt } from '../../core/errors.js';
import { minePairs, type MinedPairs } from '../../core/margin.js';
import type { TopK } from '../../core/topk.js';
import { AtomicTextWriter } from '../../io/atomic.js';
import { readEmbeddings } from '../../io/embeddings.js';
import { writeText } from '../../io/jsonl.js';
import { readLines } from '../../io/text.js';
import type { EmbeddingCache } from '../services/embedding-cache.js';
import type { MineOptions, MineSummary } from './schema.js';

export interface Side {
  vectors: Embeddings<Float32Array>;
  texts?: string[];
  /** With unify: the original row of each unique text (its first occurrence). */
  rows?: Int32Array;
}

export async function loadSide(
  what: string,
  path: string,
  textFile: string | undefined,
  lang: string,
  cache: EmbeddingCache | undefined,
  o: MineOptions,
): Promise<Side> {
  let file = path;
  let texts = textFile !== undefined ? await readLines(textFile) : undefined;
  if (/\.txt$/i.test(path)) {
    if (!cache)
      throw createError('USAGE', `${path}: the ${what} texts need ${opt('model')} to embed them (or give embeddings: .npy or .jsonl)`, {
        params: ['model'],
      });
    texts ??= await readLines(path);
    file = join(await cache.embed(join('mine', what), { inputs: [{ lang, path }] }), `${lang}.npy`);
  }
  const raw = await readEmbeddings(file, { what: `the ${what} side`, ...(o.column !== undefined ? { column: o.column } : {}) });
  if (raw.rows === 0) throw createError('EMPTY', `${file}: the ${what} side has no rows`);
  const vectors: Embeddings<Float32Array> = {
    data: raw.data instanceof Float32Array ? raw.data : Float32Array.from(raw.data),
    rows: raw.rows,
    dim: raw.dim,
    dtype: 'float32',
  };
  if (texts && texts.length !== raw.rows) {
    throw createError(
      'INPUT',
      `${textFile ?? path}: ${texts.length} non-empty lines, but ${file} has ${raw.rows} embeddings: they must match line by line`,
    );
  }
  if (!o.unify) return { vectors, ...(texts ? { texts } : {}) };
  if (!texts)
    throw createError('USAGE', `${opt('unify')} needs the ${what} texts (a .txt side, or ${what === 'source' ? 'srcText' : 'trgText'})`, {
      params: ['unify', 'srcText', 'trgText'],
    });
  // As LASER's TextLoadUnify: unique texts in order of first occurrence; each takes the
  // embedding of its last occurrence (unique_embeddings); pairs name its first row.
  const first = new Map<string, number>();
  const last = new Map<string, number>();
  texts.forEach((t, i) => {
    if (!first.has(t)) first.set(t, i);
    last.set(t, i);
  });
  const unique = [...first.keys()];
  const d = raw.dim;
  const data = new Float32Array(unique.length * d);
  unique.forEach((t, u) => data.set(vectors.data.subarray((last.get(t) as number) * d, ((last.get(t) as number) + 1) * d), u * d));
  return {
    vectors: { data, rows: unique.length, dim: d, dtype: 'float32' },
    texts: unique,
    rows: Int32Array.from(unique, (t) => first.get(t) as number),
  };
}

export async function writePairs(o: MineOptions, p: MinedPairs, src: Side, trg: Side): Promise<void> {
  const texts = src.texts && trg.texts;
  const clean = (t: string) => t.replace(/[\t\r\n]/g, ' ');
  const line = (i: number) => {
    const s = p.src[i] as number;
    const t = p.trg[i] as number;
    const base = `${p.scores[i]}\t${src.rows ? src.rows[s] : s}\t${trg.rows ? trg.rows[t] : t}`;
    return texts ? `${base}\t${clean(src.texts![s] as string)}\t${clean(trg.texts![t] as string)}\n` : `${base}\n`;
  };
  const chunks = function* () {
    for (let a = 0; a < p.scores.length; a += 4096) {
      let s = '';
      for (let i = a; i < Math.min(p.scores.length, a + 4096); i++) s += line(i);
      yield s;
    }
  };
  if (o.out === '-') {
    for (const c of chunks()) await writeText(o.stdout ?? process.stdout, c);
    return;
  }
  const w = await AtomicTextWriter.create(o.out);
  try {
    for (const c of chunks()) await w.write(c);
    await w.close();
  } catch (e) {
    await w.abort();
    throw e;
  }
}

export function quantiles(x: Float64Array): MineSummary['scores'] {
  if (x.length === 0) return null;
  const s = Float64Array.from(x).sort();
  const q = (f: number) => s[Math.min(s.length - 1, Math.round(f * (s.length - 1)))] as number;
  return { min: s[0] as number, q25: q(0.25), median: q(0.5), q75: q(0.75), max: s[s.length - 1] as number };
}

/** Margin-score the neighbour lists of both directions, write the pairs, and summarise. */
export async function finishMining(
  options: MineOptions,
  r: { fwd: TopK; bwd: TopK; n: number; m: number; k: number; src: Side; trg: Side; search: MineSummary['search']; start: number },
): Promise<{ pairs: MinedPairs; summary: MineSummary }> {
  const pairs = minePairs(r.fwd, r.bwd, r.n, r.m, {
    ...(options.margin ? { margin: options.margin } : {}),
    ...(options.retrieval ? { retrieval: options.retrieval } : {}),
    ...(options.threshold !== undefined ? { threshold: options.threshold } : {}),
  });
  await writePairs(options, pairs, r.src, r.trg);
  const retrieval = options.retrieval ?? 'max';
  const margin = options.margin ?? 'ratio';
  const summary: MineSummary = {
    sources: r.n,
    targets: r.m,
    k: r.k,
    margin,
    retrieval,
    threshold: options.threshold ?? (retrieval === 'max' ? (margin === 'ratio' ? 1 : 0) : null),
    pairs: pairs.scores.length,
    scores: quantiles(pairs.scores),
    search: r.search,
    seconds: (Date.now() - r.start) / 1000,
    output: options.out,
  };
  return { pairs, summary };
}
