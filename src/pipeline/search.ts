/** `lsar search`: top-k neighbours of query vectors (or texts) in a set of embeddings, projection applied. */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Readable } from 'node:stream';
import type { Embeddings } from '../core/embeddings.js';
import { createError, opt } from '../core/errors.js';
import type { Events } from '../core/events.js';
import { validate, type OptionsOf, type Schema } from '../core/schema.js';
import type { Projection } from '../core/projection.js';
import { createOperator, projectRows } from '../core/apply.js';
import type { IndexKind } from '../core/vector-index.js';
import { projectionFiles, projectionOf, projectionOption } from '../io/artifact.js';
import { checkColumnApplies, readEmbeddings } from '../io/embeddings.js';
import { refuseOverwrite } from '../io/same-file.js';
import { EmbeddingCache, cacheFor, cacheSchema } from './services/embedding-cache.js';
import { columnSchema } from './services/moments.js';
import { modelSchema } from './services/model.js';
import { dataKey, projectionKey, runSearch, searchSchema, searchSettings } from './services/search/index.js';
import { canonicalLanguageOptions } from '../io/languages.js';

/** `lsar search`: the searched rows, the queries, the projection, and the search options. */
export const searchVerbSchema = {
  index: { type: 'string', alias: 'x', required: true, description: 'Embeddings to search (.npy, .parquet or .jsonl)' },
  queries: {
    type: 'string',
    default: '-',
    description: 'Query vectors (.npy, .parquet, .jsonl, or - for JSON Lines on stdin), or query texts (.txt, one per line) with --model',
  },
  projection: { type: 'string', alias: 'p', description: 'Apply this projection (lsar fit --out) to both sides' },
  lang: { type: 'string', alias: 'l', description: 'Language of the indexed embeddings (lir, demean)' },
  queryLang: { type: 'string', description: 'Language of the queries (lir, demean)', defaultText: '--lang' },
  k: { type: 'integer', min: 1, max: 1_000_000, default: 10, description: 'Neighbours per query' },
  labels: { type: 'string', description: 'Text file with one label per indexed row, shown with each neighbour' },
  ...cacheSchema,
  column: columnSchema.column,
  ...searchSchema,
  ...modelSchema,
} as const satisfies Schema;

export type SearchOptions = Omit<OptionsOf<typeof searchVerbSchema>, 'projection'> & {
  /** A projection applied to both sides, or its path. */
  projection?: string | Projection | undefined;
  stdin?: Readable;
  events?: Events;
};

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

export async function searchNeighbors(given: SearchOptions): Promise<SearchResult> {
  const options = {
    ...canonicalLanguageOptions(validate(searchVerbSchema, { ...given, projection: projectionOption(given.projection) }), [
      'lang',
      'queryLang',
    ]),
    projection: await projectionOf(given.projection),
  };
  const settings = searchSettings(options);
  checkColumnApplies(options.column, [options.index, options.queries]);
  if (options.indexOut !== undefined)
    await refuseOverwrite(
      [
        { path: options.indexOut, param: 'indexOut', mayBeDirectory: true },
        { path: `${options.indexOut}.json`, param: 'indexOut' },
      ],
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
    if (options.model === undefined)
      throw createError('USAGE', `${queryFile}: text queries need ${opt('model')} to embed them (or give vectors: .npy or .jsonl)`);
    const lang = options.queryLang ?? 'qq';
    const cache = cacheFor(options, given.events) as EmbeddingCache;
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
