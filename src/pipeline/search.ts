/** `lsar search`: top-k neighbours of query vectors (or texts) in a set of embeddings, projection applied. */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Readable } from 'node:stream';
import type { Embeddings } from '../core/embeddings.js';
import { checkNumber, createError, opt } from '../core/errors.js';
import type { Projection } from '../core/projection.js';
import { createOperator, projectRows } from '../core/apply.js';
import type { IndexKind } from '../core/vector-index.js';
import type { HnswParams } from '../adapters/hnsw.js';
import { projectionFiles } from '../io/artifact.js';
import { checkColumnApplies, readEmbeddings } from '../io/embeddings.js';
import { refuseOverwrite } from '../io/same-file.js';
import type { ModelOptions } from './embed.js';
import { EmbeddingCache } from './embedding-cache.js';
import { dataKey, projectionKey, runSearch, searchSettings, type SearchMode } from './services/search/index.js';

export interface SearchOptions {
  /** The searched embeddings (.npy, .jsonl). */
  index: string;
  /** Queries: .npy, .jsonl, - (JSON Lines on stdin), or .txt (one text per line) with `embed`. */
  queries: string;
  stdin?: Readable;
  projection?: Projection;
  /** Language of the indexed embeddings and of the queries (lir/demean). */
  lang?: string;
  queryLang?: string;
  /** Parquet inputs: the embedding column of the index and of the queries (default embedding). */
  column?: string;
  k: number;
  /** auto (default: exact or HNSW, whichever is estimated faster for this job), exact or hnsw. */
  search?: SearchMode;
  /** Exact search (the same as search: 'exact'). */
  exact?: boolean;
  /** HNSW: the recall@10 against exact search that ef is chosen to reach (default 0.99; hnsw.ef overrides). */
  recall?: number;
  /** HNSW: queries sampled to measure recall against exact search (default 200). */
  recallSample?: number;
  hnsw?: HnswParams;
  /** Reuse / save the index (refused when it was built from other data or another projection). */
  indexIn?: string;
  indexOut?: string;
  /** A text file with one label per indexed row. */
  labels?: string;
  /** Embed text queries with this model. */
  embed?: ModelOptions;
  /** Where embedded queries are kept (default: the embedding cache, .lsar-cache). */
  embedDir?: string;
}

export interface Neighbor {
  index: number;
  score: number;
  label?: string;
}

export interface SearchResult {
  /** The kind of index searched, and why (auto's estimates, or the mode asked for). */
  search: IndexKind;
  reason: string;
  /** HNSW: the ef used and the recall against exact search measured on a sample of the queries. */
  ef?: number;
  recall?: { at1: number; at10: number; queries: number };
  k: number;
  results: { query: number; neighbors: Neighbor[] }[];
}

/** The projected rows as float32 (in place when `x` is float32 and `owned`, else a copy). */
function project(
  p: Projection | undefined,
  x: Embeddings,
  lang: string | undefined,
  what: string,
  owned = false,
): Embeddings<Float32Array> {
  const data = owned && x.data instanceof Float32Array ? x.data : Float32Array.from(x.data);
  const out: Embeddings<Float32Array> = { data, rows: x.rows, dim: x.dim, dtype: 'float32' };
  if (p && p.method !== 'none') {
    const r = projectRows(createOperator(p, lang !== undefined ? { lang } : {}), out.data, x.rows, what);
    return { ...out, data: r.data, dim: r.dim };
  }
  return out;
}

export async function searchNeighbors(options: SearchOptions): Promise<SearchResult> {
  checkNumber('k', options.k, { min: 1 });
  const settings = searchSettings(options);
  checkColumnApplies(options.column, [options.index, options.queries]);
  if (options.indexOut !== undefined)
    await refuseOverwrite(
      [options.indexOut, `${options.indexOut}.json`].map((path) => ({ path, param: 'indexOut' })),
      [options.index, options.queries, options.labels, options.indexIn, ...projectionFiles(options.projection)],
    );
  const col = options.column !== undefined ? { column: options.column } : {};
  const docs = await readEmbeddings(options.index, col);
  const d = docs.dim;
  if (options.projection && options.projection.method !== 'none' && options.projection.dim !== d) {
    throw createError(
      'DIM_MISMATCH',
      `${options.index}: dimension ${d}, but the projection was fitted on dimension ${options.projection.dim}`,
    );
  }
  const labels = options.labels ? await readLabels(options.labels) : undefined;
  if (labels && labels.length !== docs.rows) {
    throw createError('INPUT', `${options.labels}: ${labels.length} lines, but ${options.index} has ${docs.rows} rows`);
  }
  const key =
    options.indexIn || options.indexOut ? { data: dataKey(docs), projection: projectionKey(options.projection, options.lang) } : undefined;
  // The rows are projected and normalised in place: the index keeps them, with no copy.
  const x = project(options.projection, docs, options.lang, options.index, true);
  let queryFile = options.queries;
  if (/\.txt$/i.test(queryFile)) {
    if (!options.embed)
      throw createError('USAGE', `${queryFile}: text queries need ${opt('model')} to embed them (or give vectors: .npy or .jsonl)`);
    const lang = options.queryLang ?? 'qq';
    const cache = new EmbeddingCache(options.embed, options.embedDir ? { root: options.embedDir } : {});
    try {
      queryFile = join(await cache.embed('search-queries', { inputs: [{ lang, path: queryFile }] }), `${lang}.npy`);
    } finally {
      await cache.dispose();
    }
  }
  const queries = await readEmbeddings(queryFile, {
    ...(options.stdin ? { stdin: options.stdin } : {}),
    dim: d,
    dimOf: 'the index has dimension',
    ...col,
  });
  const q = project(options.projection, queries, options.queryLang ?? options.lang, queryFile === '-' ? '<stdin>' : queryFile);
  const k = Math.min(options.k, docs.rows);
  const { top, report } = await runSearch(x, q, k, {
    ...settings,
    owned: true,
    ...(options.indexIn ? { indexIn: options.indexIn } : {}),
    ...(options.indexOut ? { indexOut: options.indexOut } : {}),
    ...(key ? { key } : {}),
  });
  const { indices, scores } = top;
  const results = Array.from({ length: q.rows }, (_, qi) => ({
    query: qi,
    neighbors: Array.from({ length: k }, (_, j) => {
      const i = indices[qi * k + j] as number;
      return { index: i, score: scores[qi * k + j] as number, ...(labels ? { label: labels[i] as string } : {}) };
    }).filter((n) => n.index >= 0),
  }));
  return {
    search: report.kind,
    reason: report.reason,
    ...(report.ef !== undefined ? { ef: report.ef } : {}),
    ...(report.recall ? { recall: report.recall } : {}),
    k,
    results,
  };
}

async function readLabels(path: string): Promise<string[]> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (e) {
    throw createError('NOT_FOUND', `${path}: no such labels file`, { cause: e });
  }
  const labels = text.split('\n');
  if (labels[labels.length - 1] === '') labels.pop();
  return labels;
}
