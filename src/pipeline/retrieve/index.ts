/**
 * `lsar retrieve`: cross-lingual retrieval evaluation, methods side by side.
 *
 * Tasks:
 * - tatoeba: LASER's Tatoeba v1; accuracy@1 with English querying the foreign side (the
 *   paper's and XTREME's protocol), optionally the other direction and LASER's xSIM
 *   margin error (k = 4, foreign -> English).
 * - lareqa: XQuAD-R; every question against the pool of all candidate sentences in all
 *   languages; mAP over the whole pool (exact) and mAP@20.
 * - pairs: aligned embeddings, row i of the queries translates row i of the targets.
 *
 * Methods are in ./methods.ts, the data in ./datasets.ts, the evaluation loops in ./tasks.ts.
 */
import { createError } from '../../core/errors.js';
import { needsLanguage } from '../../core/projection.js';
import { HNSW_DEFAULTS, type HnswParams } from '../../adapters/hnsw.js';
import { refuseOverwrite } from '../../io/same-file.js';
import { VERSION } from '../../version.js';
import type { ModelOptions } from '../embed.js';
import { EmbeddingCache } from '../embedding-cache.js';
import { SearchLog, searchSettings, type SearchMode } from '../services/search/index.js';
import { loadLareqa, loadPairSets, type DataOptions } from './datasets.js';
import { prepareMethods, type MethodOptions, type MethodRun } from './methods.js';
import { evaluateMining, loadMiningSets } from './mining.js';
import { evaluateLareqa, evaluatePairs, type MetricTable } from './tasks.js';

export { prepareMethods, nameOf, type MethodRun } from './methods.js';
export { listPairLanguages } from './datasets.js';
export type { MetricTable } from './tasks.js';

export type Task = 'tatoeba' | 'lareqa' | 'pairs' | 'mining';

export interface RetrieveOptions extends DataOptions, MethodOptions {
  task: Task;
  /** auto (default: exact or HNSW, whichever is estimated faster per search), exact or hnsw. */
  search?: SearchMode;
  /** Exact search (the same as search: 'exact'). */
  exact?: boolean;
  hnsw?: HnswParams;
  /** HNSW: the recall@10 against exact search that ef is chosen to reach (default 0.99; an explicit hnsw.ef overrides). */
  recall?: number;
  /** tatoeba: 'en-xx' (default), 'xx-en' or 'both'. */
  direction?: 'en-xx' | 'xx-en' | 'both';
  /** tatoeba: also report LASER's xSIM margin error rate. */
  xsim?: boolean;
  /** lareqa: raw dot products (default, as the LSAR and LIR reference code) or cosine. */
  similarity?: 'cosine' | 'dot';
  /** Queries per (method, language) on which HNSW recall is measured against exact (default 200). */
  recallSample?: number;
  /** pairs: save / reuse the index over the targets (one method only). */
  indexOut?: string;
  indexIn?: string;
  /**
   * Embed with a model instead of reading embeddings: the evaluation texts (tatoeba,
   * lareqa, pairs given as .txt) and, with `corpora`, the fit data. Embeddings are kept
   * in `embedDir` (default: the embedding cache, .lsar-cache) and reused when current;
   * the model loads once.
   */
  embed?: ModelOptions;
  /** Directory of `<lang>.txt` monolingual corpora to embed (with `embed`) and fit on. */
  corpora?: string;
  embedDir?: string;
}

export interface RetrieveResult extends MetricTable {
  task: Task;
  /** Further metrics of the same run (e.g. the other direction, xSIM, mAP@20). */
  also?: Record<string, MetricTable>;
  /** Default languages left out, with why (e.g. no fit data for lir or demean). */
  skipped?: Record<string, string>;
  /** HNSW recall against exact search on a sample of queries. */
  recall?: { at1: number; at10: number; queries: number };
  /** Things the user should know (e.g. whiten fitted with fewer dims than asked for by default). */
  warnings?: string[];
  /** lsar methods swept over ranks: { "lsar": { "<rank>": mean } } of the main metric. */
  rankSweep?: Record<string, Record<string, number>>;
  manifest: Record<string, unknown>;
}

/** Run the evaluation. */
export async function retrieve(options: RetrieveOptions): Promise<RetrieveResult> {
  const settings = searchSettings(options);
  if (options.indexOut !== undefined)
    await refuseOverwrite(
      [options.indexOut, `${options.indexOut}.json`].map((path) => ({ path, param: 'indexOut' })),
      [options.queries, options.targets, options.indexIn],
    );
  const progress = options.onProgress ?? (() => undefined);
  if (options.corpora !== undefined && !options.embed) throw createError('USAGE', 'corpora need a model to embed them', { param: 'model' });
  const cache = options.embed ? new EmbeddingCache(options.embed, { ...(options.embedDir ? { root: options.embedDir } : {}) }) : undefined;
  try {
    let fitEmbeddings = options.fitEmbeddings;
    if (options.corpora !== undefined && cache) {
      progress(`embedding ${options.corpora} into ${cache.root}/corpora`);
      fitEmbeddings = await cache.embed('corpora', { corpora: options.corpora });
    }
    const { runs, provenance, warnings } = await prepareMethods({
      ...options,
      ...(fitEmbeddings ? { fitEmbeddings } : {}),
      onProgress: progress,
    });
    const searcher = new SearchLog(settings);
    let tables: { main: MetricTable; also: Record<string, MetricTable> };
    const skipped: Record<string, string> = {};
    if (options.task === 'mining') {
      tables = await evaluateMining(await loadMiningSets(options, cache), runs, searcher, progress);
    } else if (options.task === 'lareqa') {
      tables = await evaluateLareqa(await loadLareqa(options, cache), runs, searcher, options.similarity ?? 'dot', progress);
    } else {
      let sets = await loadPairSets({ ...options, task: options.task }, cache);
      if (!options.langs && !options.queries) {
        // Default languages: evaluate those that every method can handle; say which were left out.
        const missing = (lang: string) =>
          runs.filter((r) => needsLanguage(r.projection.method) && !r.projection.means[lang]).map((r) => r.name);
        for (const s of sets) {
          const m = missing(s.lang);
          if (m.length) skipped[s.lang] = `no fit data for ${m.join(', ')}`;
        }
        sets = sets.filter((s) => skipped[s.lang] === undefined);
        if (sets.length === 0)
          throw createError(
            'NOT_FOUND',
            `no language to evaluate: ${Object.entries(skipped)
              .map(([l, w]) => `${l} (${w})`)
              .join(', ')}`,
          );
      }
      const direction = options.task === 'tatoeba' ? (options.direction ?? 'en-xx') : 'xx-en';
      tables = await evaluatePairs(
        sets,
        runs,
        searcher,
        { direction, ...(options.xsim ? { xsim: true } : {}), ...indexFiles(options) },
        progress,
      );
    }
    const result: RetrieveResult = {
      task: options.task,
      ...tables.main,
      ...(Object.keys(tables.also).length ? { also: tables.also } : {}),
      manifest: {},
    };
    if (Object.keys(skipped).length) result.skipped = skipped;
    if (warnings.length) result.warnings = warnings;
    const recall = searcher.recall();
    if (recall) result.recall = recall;
    const sweep = rankSweep(result, runs);
    if (sweep) result.rankSweep = sweep;
    result.manifest = {
      lsarVersion: VERSION,
      created: new Date().toISOString(),
      task: options.task,
      ...(options.data ? { data: options.data } : {}),
      ...(options.embeddings ? { embeddings: options.embeddings } : {}),
      ...(options.queries ? { queries: options.queries, targets: options.targets } : {}),
      methods: runs.map((r) => r.name),
      ...(fitEmbeddings ? { fitEmbeddings } : {}),
      ...(provenance ? { fit: provenance } : {}),
      ...(options.projections?.length ? { projections: options.projections } : {}),
      ...(options.embed && cache
        ? { model: options.embed.model, embedDir: cache.root, ...(options.corpora ? { corpora: options.corpora } : {}) }
        : {}),
      search: searchManifest(searcher, options.hnsw),
    };
    return result;
  } finally {
    await cache?.dispose();
  }
}

function indexFiles(o: RetrieveOptions): { indexIn?: string; indexOut?: string } {
  return { ...(o.indexIn ? { indexIn: o.indexIn } : {}), ...(o.indexOut ? { indexOut: o.indexOut } : {}) };
}

function searchManifest(searcher: SearchLog, hnsw: HnswParams = {}): Record<string, unknown> {
  const used = Object.fromEntries(
    [...searcher.used].map(([kind, u]) => [
      kind,
      { searches: u.searches, reason: u.reason, ...(u.efs.size ? { ef: [...u.efs].sort((a, b) => a - b) } : {}) },
    ]),
  );
  return {
    mode: searcher.settings.search,
    kind: searcher.kind,
    used,
    ...(searcher.used.has('hnsw')
      ? { approximate: true, m: hnsw.m ?? HNSW_DEFAULTS.m, efConstruction: hnsw.efConstruction ?? HNSW_DEFAULTS.efConstruction }
      : {}),
  };
}

function rankSweep(result: RetrieveResult, runs: MethodRun[]): RetrieveResult['rankSweep'] {
  const lsar = runs.filter((r) => r.projection.method === 'lsar' && r.projection.remove === r.projection.rank);
  if (lsar.length < 2) return undefined;
  const sweep: Record<string, number> = {};
  for (const r of lsar) sweep[String(r.projection.rank)] = (result.results[r.name] as { mean: number }).mean;
  return { lsar: sweep };
}
