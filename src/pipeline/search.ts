/** `lsar search`: ad-hoc top-k neighbours of query vectors in a set of embeddings, projection applied. */
import { createReadStream } from 'node:fs';
import { readFile } from 'node:fs/promises';
import type { Readable } from 'node:stream';
import { createHash } from 'node:crypto';
import { createError } from '../core/errors.js';
import type { FloatArray } from '../core/moments.js';
import { createOperator, type Projection } from '../core/projection.js';
import { normalizeRows } from '../core/retrieval.js';
import { exactTopK } from '../core/search.js';
import { Hnsw, type HnswOptions } from '../adapters/hnsw.js';
import { readJsonlBlocks } from '../io/jsonl.js';
import { readNpy } from '../io/npy.js';
import { join } from 'node:path';
import { embedCorpora, type EmbedOptions } from './embed.js';

export interface SearchOptions {
  /** The searched embeddings (.npy). */
  index: string;
  /** Queries: .npy, .jsonl, or - (JSON Lines on stdin). */
  queries: string;
  stdin?: Readable;
  projection?: Projection;
  /** Language of the indexed embeddings and of the queries (lir/demean). */
  lang?: string;
  queryLang?: string;
  k: number;
  exact?: boolean;
  hnsw?: HnswOptions;
  indexIn?: string;
  indexOut?: string;
  /** A text file with one label per indexed row. */
  labels?: string;
  /** Embed text queries (`queries` is a .txt file, one query per line) with this model. */
  embed?: Omit<EmbedOptions, 'corpora' | 'inputs' | 'out'>;
  /** Where embedded queries are kept (default .lsar-cache). */
  embedDir?: string;
}

export interface Neighbor {
  index: number;
  score: number;
  label?: string;
}

export interface SearchResult {
  search: 'exact' | 'hnsw';
  k: number;
  results: { query: number; neighbors: Neighbor[] }[];
}

async function readVectors(path: string, stdin: Readable | undefined, dim: number): Promise<FloatArray> {
  if (/\.npy$/i.test(path)) {
    const q = await readNpy(path);
    if (q.dim !== dim) throw createError('DIM_MISMATCH', `${path}: dimension ${q.dim}, but the index has ${dim}`);
    return q.data;
  }
  const label = path === '-' ? '<stdin>' : path;
  const stream = path === '-' ? (stdin ?? process.stdin) : createReadStream(path);
  const parts: Float64Array[] = [];
  for await (const b of readJsonlBlocks(stream, label, 1024, dim)) parts.push(b.data.slice(0, b.rows * dim));
  const out = new Float64Array(parts.reduce((a, p) => a + p.length, 0));
  let o = 0;
  for (const p of parts) {
    out.set(p, o);
    o += p.length;
  }
  if (out.length === 0) throw createError('EMPTY', `${label}: no query vectors`);
  return out;
}

function project(p: Projection | undefined, x: FloatArray, lang: string | undefined): Float32Array {
  const out = Float32Array.from(x);
  if (p && p.method !== 'none') createOperator(p, lang !== undefined ? { lang } : {}).applyInPlace(out);
  return out;
}

export async function searchNeighbors(options: SearchOptions): Promise<SearchResult> {
  const docs = await readNpy(options.index);
  const d = docs.dim;
  if (options.projection && options.projection.method !== 'none' && options.projection.dim !== d) {
    throw createError(
      'DIM_MISMATCH',
      `${options.index}: dimension ${d}, but the projection was fitted on dimension ${options.projection.dim}`,
    );
  }
  const labels = options.labels ? (await readFile(options.labels, 'utf8')).split('\n') : undefined;
  if (labels && labels[labels.length - 1] === '') labels.pop();
  if (labels && labels.length !== docs.rows) {
    throw createError('INPUT', `${options.labels}: ${labels.length} lines, but ${options.index} has ${docs.rows} rows`);
  }
  const x = normalizeRows(project(options.projection, docs.data, options.lang), d);
  let queryFile = options.queries;
  if (/\.txt$/i.test(queryFile)) {
    if (!options.embed)
      throw createError('USAGE', `${queryFile}: text queries need --model to embed them (or give vectors: .npy or .jsonl)`);
    const lang = options.queryLang ?? 'qq';
    const out = join(options.embedDir ?? '.lsar-cache', 'search-queries');
    await embedCorpora({ ...options.embed, inputs: [`${lang}=${queryFile}`], out });
    queryFile = join(out, `${lang}.npy`);
  }
  const q = normalizeRows(
    project(options.projection, await readVectors(queryFile, options.stdin, d), options.queryLang ?? options.lang),
    d,
  );
  const k = Math.min(options.k, docs.rows);
  let indices: Int32Array;
  let scores: Float64Array;
  if (options.exact) {
    ({ indices, scores } = exactTopK(q, x, d, k));
  } else {
    const key = projectionKey(options.projection, options.lang);
    const index = options.indexIn
      ? await Hnsw.load(options.indexIn, { dim: d, count: docs.rows, key }, options.hnsw?.ef)
      : Hnsw.build(x, d, options.hnsw, key);
    if (options.indexOut) await index.save(options.indexOut);
    ({ indices, scores } = index.search(q, k));
  }
  const nq = q.length / d;
  const results = Array.from({ length: nq }, (_, qi) => ({
    query: qi,
    neighbors: Array.from({ length: k }, (_, j) => {
      const index = indices[qi * k + j] as number;
      return { index, score: scores[qi * k + j] as number, ...(labels ? { label: labels[index] as string } : {}) };
    }).filter((n) => n.index >= 0),
  }));
  return { search: options.exact ? 'exact' : 'hnsw', k, results };
}

/** Identifies what the indexed vectors went through, so a saved index is not reused with another projection. */
function projectionKey(p: Projection | undefined, lang: string | undefined): string {
  if (!p || p.method === 'none') return 'none';
  const h = createHash('sha256').update(`${p.method}:${p.remove}:${lang ?? ''}`);
  const add = (x: Float64Array | undefined) => {
    if (x) h.update(new Uint8Array(x.buffer, x.byteOffset, x.byteLength));
  };
  add(p.basis?.data);
  if (lang !== undefined) {
    add(p.means[lang]);
    add(p.languageBases?.[lang]?.data);
  }
  return `${p.method}-${h.digest('hex').slice(0, 16)}`;
}
