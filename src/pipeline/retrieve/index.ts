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
import { createError, opt } from '../../core/errors.js';
import { METHODS } from '../../core/projection.js';
import { validate, type OptionsOf, type Schema } from '../../core/schema.js';
import { checkOutputDir } from '../../io/atomic.js';
import type { LanguageInput } from '../../io/inputs.js';
import { writeReport } from '../report/markdown.js';
import { modelSchema } from '../services/model.js';
import { needsLanguage } from '../../core/projection.js';
import { HNSW_DEFAULTS } from '../../adapters/hnsw.js';
import { warn, warnings, type Events } from '../../core/events.js';
import { refuseOverwrite } from '../../io/same-file.js';
import { VERSION } from '../../version.js';
import { cacheFor, cacheSchema } from '../services/embedding-cache.js';
import { SearchLog, searchSchema, searchSettings } from '../services/search/index.js';
import { loadLareqa, loadPairSets } from './datasets.js';
import { prepareMethods, type MethodOptions, type MethodRun } from './methods.js';
import { evaluateMining, loadMiningSets } from './mining-task.js';
import { evaluateLareqa, evaluatePairs } from './tasks.js';
import { RETRIEVE_FORMAT_VERSION, type MetricTable, type RetrieveResult } from './result.js';
import { canonicalLanguageOptions } from '../../io/languages.js';

export { RETRIEVE_FORMAT_VERSION, type MetricTable, type RetrieveResult, type Task } from './result.js';

export { prepareMethods, nameOf, type MethodRun } from './methods.js';
export { listPairLanguages } from './datasets.js';

/** `lsar retrieve`: the task and its data, the methods compared, how to search, and the report. */
export const retrieveSchema = {
  task: {
    type: 'string',
    positional: true,
    required: true,
    choices: ['tatoeba', 'lareqa', 'pairs', 'mining'],
    description:
      'tatoeba: LASER Tatoeba v1, accuracy@1; lareqa: XQuAD-R, mAP and mAP@20; pairs: aligned embeddings, accuracy@1; mining: BUCC-style bitext mining (built from Tatoeba, or BUCC files), F1',
  },
  data: {
    type: 'string',
    description: 'tatoeba: directory of tatoeba.<xxx>-eng.* files; lareqa: directory of XQuAD-R <lang>.json; mining: Tatoeba or BUCC files',
  },
  embeddings: {
    type: 'string',
    alias: 'e',
    description:
      'Embeddings of the evaluation data: <lang>.npy + <lang>.en.npy (tatoeba, pairs), <lang>.questions.npy + <lang>.candidates.npy (lareqa)',
  },
  queries: {
    type: 'string',
    description: 'pairs: query embeddings (.npy, .parquet, .jsonl), or texts (.txt) with --model; row i translates row i of --targets',
  },
  targets: { type: 'string', description: 'pairs: target embeddings (.npy, .parquet, .jsonl), or texts (.txt) with --model' },
  queryLang: { type: 'string', description: 'pairs: language of --queries (needed by lir and demean)' },
  targetLang: { type: 'string', description: 'pairs: language of --targets (needed by lir and demean)' },
  column: { type: 'string', description: 'pairs: the embedding column of Parquet --queries and --targets', defaultText: 'embedding' },
  langColumn: {
    type: 'string',
    description: "pairs: a column of Parquet --queries with each row's language: each language evaluated on its own rows",
  },
  langs: { type: 'strings', description: 'Languages to evaluate', defaultText: 'tatoeba: the 36 XTREME languages present; otherwise all' },
  methods: {
    type: 'strings',
    choices: METHODS,
    default: ['none', 'lsar'],
    description: 'Methods fitted on --fit-embeddings (or --corpora) and compared',
  },
  rank: { type: 'integers', min: 1, description: 'lsar rank(s), comma-separated to sweep', defaultText: 'L-1' },
  remove: {
    type: 'integers',
    alias: 'r',
    min: 1,
    description: 'Directions removed: lsar (default = rank) and lir (default 1); comma-separated to sweep',
  },
  dims: {
    type: 'integer',
    min: 1,
    description: 'whiten: keep the top k eigenvectors',
    defaultText: 'every dimension that can be whitened',
  },
  fitEmbeddings: {
    type: 'string',
    description: 'Directory of <lang>.npy monolingual embeddings to fit the methods on (never the evaluation data)',
  },
  corpora: { type: 'string', description: 'With --model: embed this directory of <lang>.txt corpora and fit the methods on it' },
  projection: {
    type: 'strings',
    alias: 'p',
    noSplit: true,
    description: 'A saved projection (lsar fit --out) to evaluate as well; repeatable',
  },
  direction: {
    type: 'string',
    choices: ['en-xx', 'xx-en', 'both'],
    default: 'en-xx',
    description: 'tatoeba: English queries the foreign side (en-xx, the paper and XTREME), the reverse, or both',
  },
  xsim: { type: 'boolean', default: false, description: "tatoeba: also report LASER's xSIM error rate (ratio margin, k=4)" },
  similarity: {
    type: 'string',
    choices: ['cosine', 'dot'],
    default: 'dot',
    description: 'lareqa: score candidates by raw dot product (as the LSAR and LIR code) or by cosine',
  },
  report: {
    type: 'string',
    description: 'Write report.md (with SVG plots) and a self-contained interactive report.html into this directory',
  },
  ...cacheSchema,
  ...searchSchema,
  ...modelSchema,
} as const satisfies Schema;

export type RetrieveOptions = OptionsOf<typeof retrieveSchema> & {
  /** The fit data as language files (instead of fitEmbeddings), and their moments already read (inspect's sweep). */
  fitInputs?: LanguageInput[];
  fitMoments?: MethodOptions['fitMoments'];
  events?: Events;
};

/** Run the evaluation. */
export async function retrieve(given: RetrieveOptions): Promise<RetrieveResult> {
  const options = canonicalLanguageOptions(validate(retrieveSchema, given), ['queryLang', 'targetLang']);
  const settings = searchSettings(options);
  // a report directory that cannot be made fails before the work, not after it
  if (options.report !== undefined) await checkOutputDir(options.report);
  if (options.indexOut !== undefined)
    await refuseOverwrite(
      [
        { path: options.indexOut, param: 'indexOut', mayBeDirectory: true },
        { path: `${options.indexOut}.json`, param: 'indexOut' },
      ],
      [options.queries, options.targets, options.indexIn],
    );
  const w = warnings(given.events);
  const progress = (stage: string, done = 0, total?: number, unit?: string) =>
    given.events?.progress?.(stage, done, total, unit !== undefined ? { unit } : {});
  if (options.corpora !== undefined && options.model === undefined)
    throw createError('USAGE', `${opt('corpora')} need a ${opt('model')} to embed them`, { param: 'model' });
  const cache = cacheFor(options, given.events);
  try {
    let fitEmbeddings: string | LanguageInput[] | undefined = given.fitInputs ?? options.fitEmbeddings;
    if (options.corpora !== undefined && cache) {
      fitEmbeddings = await cache.embed('corpora', { corpora: options.corpora });
    }
    const { runs, provenance } = await prepareMethods({
      methods: options.methods,
      ...(options.rank ? { ranks: options.rank } : {}),
      ...(options.remove ? { removes: options.remove } : {}),
      ...(options.dims !== undefined ? { dims: options.dims } : {}),
      ...(options.projection ? { projections: options.projection } : {}),
      ...(fitEmbeddings ? { fitEmbeddings } : {}),
      ...(given.fitMoments ? { fitMoments: given.fitMoments } : {}),
      events: w.events,
    });
    const searcher = new SearchLog(settings);
    let tables: { main: MetricTable; also: Record<string, MetricTable> };
    const skipped: Record<string, string> = {};
    if (options.task === 'mining') {
      tables = await evaluateMining(await loadMiningSets(options, cache), runs, searcher, progress);
    } else if (options.task === 'lareqa') {
      tables = await evaluateLareqa(await loadLareqa(options, cache), runs, searcher, options.similarity ?? 'dot', progress);
    } else {
      const perLanguage = runs.filter((r) => needsLanguage(r.projection.method)).map((r) => r.name);
      if (
        options.queries !== undefined &&
        perLanguage.length &&
        ((options.queryLang === undefined && options.langColumn === undefined) || options.targetLang === undefined)
      ) {
        throw createError(
          'USAGE',
          `${perLanguage.join(', ')} need each side's language: give ${opt('queryLang')} (or ${opt('langColumn')}) and ${opt('targetLang')}`,
          { params: ['queryLang', 'targetLang'] },
        );
      }
      let sets = await loadPairSets({ ...options, task: options.task }, cache);
      if (!options.langs && !options.queries) {
        // Default languages: evaluate those that every method can handle; say which were left out.
        const missing = (lang: string) =>
          runs.filter((r) => needsLanguage(r.projection.method) && !r.projection.means[lang]).map((r) => r.name);
        for (const s of sets) {
          const m = missing(s.lang);
          if (m.length) {
            skipped[s.lang] = `no fit data for ${m.join(', ')}`;
            warn(w.events, 'SKIPPED', `${s.lang} not evaluated: ${skipped[s.lang]}`);
          }
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
      formatVersion: RETRIEVE_FORMAT_VERSION,
      task: options.task,
      ...tables.main,
      ...(Object.keys(tables.also).length ? { also: tables.also } : {}),
      manifest: {},
    };
    if (Object.keys(skipped).length) result.skipped = skipped;
    if (w.list.length) result.warnings = w.list;
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
      ...(options.projection?.length ? { projections: options.projection } : {}),
      ...(options.model !== undefined && cache
        ? { model: options.model, embedDir: cache.root, ...(options.corpora ? { corpora: options.corpora } : {}) }
        : {}),
      search: searchManifest(searcher),
    };
    if (options.report !== undefined) result.reportPath = await writeReport(options.report, result);
    return result;
  } finally {
    await cache?.dispose();
  }
}

function indexFiles(o: RetrieveOptions): { indexIn?: string; indexOut?: string } {
  return { ...(o.indexIn ? { indexIn: o.indexIn } : {}), ...(o.indexOut ? { indexOut: o.indexOut } : {}) };
}

function searchManifest(searcher: SearchLog): Record<string, unknown> {
  const hnsw = searcher.settings.hnsw ?? {};
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
