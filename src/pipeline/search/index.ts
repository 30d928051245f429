/** `lsar search`: top-k neighbours of query vectors (or texts) in a set of embeddings, projection applied. */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Readable } from 'node:stream';
import type { Embeddings } from '../../core/embeddings.js';
import { createError, opt } from '../../core/errors.js';
import type { Events } from '../../core/events.js';
import { validate, type OptionsOf, type Schema } from '../../core/schema.js';
import type { Projection } from '../../core/projection.js';
import { createOperator, projectRows } from '../../core/apply.js';
import { projectionFiles, projectionOf, projectionOption } from '../../io/artifact.js';
import { checkColumnApplies, readEmbeddings } from '../../io/embeddings.js';
import { refuseOverwrite } from '../../io/same-file.js';
import { EmbeddingCache, cacheFor, cacheSchema } from '../services/embedding-cache.js';
import { columnSchema } from '../services/moments.js';
import { modelSchema } from '../services/model.js';
import { dataKey, projectionKey, runSearch, searchSchema, searchSettings } from '../services/search/index.js';
import { canonicalLanguageOptions } from '../../io/languages.js';
import type { Metric } from '../../core/vector-index.js';
import { outputDim } from '../../core/projection.js';
import { DEFAULT_COLUMN } from '../../io/parquet.js';
import { isStoreTarget, storeLabel } from '../../adapters/pgvector.js';
import { openStoreSearch, searchStore, type StoreSearch } from './store.js';
import type { SearchResult } from './result.js';
export type { Neighbor, SearchResult } from './result.js';
import type { SearchSettings } from '../services/search/index.js';

/** `lsar search`: the searched rows, the queries, the projection, and the search options. */
export const searchVerbSchema = {
  index: {
    type: 'string',
    alias: 'x',
    required: true,
    description:
      'Embeddings to search (.npy, .parquet or .jsonl), or a pgvector table that lsar project wrote: postgresql://user@host/db or pglite:<dir> (with --table; searched by pgvector itself)',
  },
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
  metric: {
    type: 'string',
    choices: ['cosine', 'dot'],
    default: 'cosine',
    description: 'Similarity: cosine, or the dot product of the rows as they are',
  },
  table: {
    type: 'string',
    default: 'lsar_embeddings',
    description: 'Vector store index: the table (its vector column is --column, default embedding)',
    group: 'Vector store:',
  },
  ...cacheSchema,
  column: { ...columnSchema.column, description: `${columnSchema.column.description}; vector store: the vector column` },
  ...searchSchema,
  ...modelSchema,
} as const satisfies Schema;

export type SearchOptions = Omit<OptionsOf<typeof searchVerbSchema>, 'projection'> & {
  /** A projection applied to both sides, or its path. */
  projection?: string | Projection | undefined;
  stdin?: Readable;
  events?: Events;
};

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

/** The options validated, languages canonical, the projection loaded. */
async function resolve(given: SearchOptions) {
  return {
    ...canonicalLanguageOptions(validate(searchVerbSchema, { ...given, projection: projectionOption(given.projection) }), [
      'lang',
      'queryLang',
    ]),
    projection: await projectionOf(given.projection),
  };
}

type Resolved = Awaited<ReturnType<typeof resolve>>;

export async function searchNeighbors(given: SearchOptions): Promise<SearchResult> {
  const options = await resolve(given);
  const settings = searchSettings(options);
  if (isStoreTarget(options.index)) return searchInStore(options, settings, given);
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
  const { queries, queryFile } = await readQueries(options, d, given, col);
  const q = project(options.projection, queries, options.queryLang ?? options.lang, queryFile === '-' ? '<stdin>' : queryFile);
  const k = Math.min(options.k, docs.rows);
  const { top, report } = await runSearch(x, q, k, {
    ...settings,
    metric: options.metric as Metric,
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

/** The queries: vectors as given, or texts embedded with the model (checked against dimension `d`). */
async function readQueries(
  options: Resolved,
  d: number,
  given: SearchOptions,
  col: { column?: string } = {},
): Promise<{ queries: Embeddings; queryFile: string }> {
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
  return { queries, queryFile };
}

/** Search a pgvector table (PostgreSQL or PGlite) with pgvector: the rows there were projected when lsar project wrote them. */
async function searchInStore(options: Resolved, settings: SearchSettings, given: SearchOptions): Promise<SearchResult> {
  for (const param of ['indexIn', 'indexOut', 'labels'] as const)
    if (options[param] !== undefined)
      throw createError(
        'USAGE',
        `${opt(param)}: not with a vector store ${opt('index')} (pgvector keeps its own index${param === 'labels' ? "; the table's text or id column labels the neighbours" : ''})`,
        { param },
      );
  const p = options.projection && options.projection.method !== 'none' ? options.projection : undefined;
  const s: StoreSearch = {
    ...settings,
    target: options.index,
    table: options.table,
    column: options.column ?? DEFAULT_COLUMN,
    metric: options.metric as Metric,
    k: options.k,
    projection: p,
  };
  const { db, dim } = await openStoreSearch(s);
  try {
    if (p && outputDim(p) !== dim)
      throw createError(
        'DIM_MISMATCH',
        `${storeLabel(options.index)} table ${options.table}: dimension ${dim}, but the projection gives ${outputDim(p)}`,
      );
    const { queries, queryFile } = await readQueries(options, p ? p.dim : dim, given);
    const q = project(p, queries, options.queryLang ?? options.lang, queryFile === '-' ? '<stdin>' : queryFile);
    return await searchStore(db, s, q);
  } finally {
    await db.close();
  }
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
