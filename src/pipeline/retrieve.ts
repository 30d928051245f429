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
 */
import { mkdir, readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { createError } from '../core/errors.js';
import { averagePrecision, averagePrecisionAtK, xsimErrors } from '../core/metrics.js';
import type { FloatArray } from '../core/moments.js';
import { createOperator, fitProjection, needsLanguage, parseMethod, type Method, type Projection } from '../core/projection.js';
import { meanAccuracy, normalizeRows } from '../core/retrieval.js';
import { exactTopK, scoreBatches } from '../core/search.js';
import { Hnsw, HNSW_DEFAULTS, type HnswOptions } from '../adapters/hnsw.js';
import { loadProjection } from '../io/artifact.js';
import { listLanguageFiles } from '../io/inputs.js';
import { fileSize, readNpy } from '../io/npy.js';
import { XTREME_TATOEBA } from '../io/languages.js';
import { listTatoebaLanguages, loadTatoeba } from '../io/tatoeba.js';
import { loadXquadR } from '../io/xquadr.js';
import { VERSION } from '../version.js';
import { momentsFromFiles, type Provenance } from './fit.js';
import { embedCorpora, type EmbedOptions } from './embed.js';
import { writeFileAtomic } from '../io/atomic.js';

export type Task = 'tatoeba' | 'lareqa' | 'pairs';

export interface MethodRun {
  /** "none", "demean", "lir-1", "lsar-8", "lsar-8-4" (rank 8, remove 4). */
  name: string;
  projection: Projection;
}

export interface RetrieveOptions {
  task: Task;
  /** tatoeba: LASER's Tatoeba directory; lareqa: the XQuAD-R directory. */
  data?: string;
  /**
   * Pre-computed embeddings. tatoeba and pairs: `<lang>.npy` (foreign side) and
   * `<lang>.en.npy` (English side) per language; lareqa: `<lang>.questions.npy` and
   * `<lang>.candidates.npy` in file order.
   */
  embeddings?: string;
  /** pairs: explicit aligned files (instead of `embeddings`). */
  queries?: string;
  targets?: string;
  queryLang?: string;
  targetLang?: string;
  /** Languages to evaluate (default: tatoeba's 36 XTREME languages that are present, or all). */
  langs?: string[];
  methods: string[];
  ranks?: number[];
  removes?: number[];
  /** Directory of `<lang>.npy` monolingual embeddings to fit the methods on. */
  fitEmbeddings?: string;
  /** Saved projections evaluated as they are (name from their method and parameters). */
  projections?: string[];
  exact?: boolean;
  hnsw?: HnswOptions;
  /** tatoeba: 'en-xx' (default), 'xx-en' or 'both'. */
  direction?: 'en-xx' | 'xx-en' | 'both';
  /** tatoeba: also report LASER's xSIM margin error rate. */
  xsim?: boolean;
  /** lareqa: raw dot products (default, as the LSAR and LIR reference code) or cosine. */
  similarity?: 'cosine' | 'dot';
  /** Queries per (method, language) on which HNSW recall is measured against exact (default 200). */
  recallSample?: number;
  /** pairs: save / reuse the HNSW index over the targets (one method only). */
  indexOut?: string;
  indexIn?: string;
  /**
   * Embed with a model instead of reading embeddings: the evaluation texts (tatoeba,
   * lareqa, pairs given as .txt) and, with `corpora`, the fit data. Embeddings are kept
   * in `embedDir` (default .lsar-cache) and reused when current.
   */
  embed?: Omit<EmbedOptions, 'corpora' | 'inputs' | 'out' | 'onProgress' | 'onLanguage'>;
  /** Directory of `<lang>.txt` monolingual corpora to embed (with `embed`) and fit on. */
  corpora?: string;
  embedDir?: string;
  onProgress?: (message: string) => void;
}

export interface MetricTable {
  metric: string;
  search: 'exact' | 'hnsw';
  results: Record<string, { mean: number; per_language: Record<string, number> }>;
}

export interface RetrieveResult extends MetricTable {
  task: Task;
  /** Further metrics of the same run (e.g. the other direction, xSIM, mAP@20). */
  also?: Record<string, MetricTable>;
  /** HNSW recall against exact search on a sample of queries. */
  recall?: { at1: number; at10: number; queries: number };
  /** lsar methods swept over ranks: { "lsar": { "<rank>": mean } } of the main metric. */
  rankSweep?: Record<string, Record<string, number>>;
  manifest: Record<string, unknown>;
}

/** Fit (or load) the methods to compare. */
export async function prepareMethods(
  options: Pick<
    RetrieveOptions,
    'methods' | 'ranks' | 'removes' | 'fitEmbeddings' | 'projections' | 'onProgress' | 'corpora' | 'embed' | 'embedDir'
  >,
): Promise<{ runs: MethodRun[]; provenance?: Provenance }> {
  if (options.corpora !== undefined) {
    if (!options.embed) throw createError('USAGE', '--corpora needs --model to embed them');
    const out = join(embedRoot(options), 'corpora');
    options.onProgress?.(`embedding ${options.corpora} into ${out}`);
    await embedCorpora({ ...options.embed, corpora: options.corpora, out });
    options = { ...options, fitEmbeddings: out };
  }
  const runs: MethodRun[] = [];
  const methods = options.methods.map(parseMethod);
  let provenance: Provenance | undefined;
  const needsFit = methods.some((m) => m !== 'none');
  if (methods.length > 0) {
    let moments: Awaited<ReturnType<typeof momentsFromFiles>>['moments'] = [];
    if (needsFit) {
      if (!options.fitEmbeddings) {
        throw createError(
          'USAGE',
          `methods ${methods.filter((m) => m !== 'none').join(', ')} need fit data: --fit-embeddings <dir of <lang>.npy> (monolingual embeddings, not the evaluation data)`,
        );
      }
      const inputs = await listLanguageFiles(options.fitEmbeddings, '.npy');
      options.onProgress?.(`fitting on ${inputs.length} languages from ${options.fitEmbeddings}`);
      const r = await momentsFromFiles(inputs, { secondMoment: methods.includes('lir') });
      moments = r.moments;
      provenance = r.provenance;
    }
    for (const method of methods) {
      for (const run of expand(method, options.ranks, options.removes)) {
        if (method === 'none' && moments.length === 0) {
          runs.push({ name: 'none', projection: { method: 'none', dim: 0, languages: [], remove: 0, means: {} } });
          continue;
        }
        const projection = fitProjection(moments, { method, ...run.params });
        runs.push({ name: nameOf(projection), projection });
      }
    }
  }
  for (const p of options.projections ?? []) {
    const projection = await loadProjection(p);
    runs.push({ name: nameOf(projection), projection });
  }
  const seen = new Set<string>();
  for (const r of runs) {
    if (seen.has(r.name)) throw createError('USAGE', `method "${r.name}" is listed twice`);
    seen.add(r.name);
  }
  if (runs.length === 0) throw createError('USAGE', 'nothing to evaluate: give --methods and/or --projection');
  return { runs, ...(provenance ? { provenance } : {}) };
}

function expand(
  method: Method,
  ranks: number[] | undefined,
  removes: number[] | undefined,
): { name: string; params: { rank?: number; remove?: number } }[] {
  if (method === 'none' || method === 'demean') return [{ name: method, params: {} }];
  if (method === 'lir') return (removes ?? [1]).map((r) => ({ name: `lir-${r}`, params: { remove: r } }));
  if (!ranks) return (removes ?? [undefined]).map((r) => ({ name: 'lsar', params: r === undefined ? {} : { remove: r } }));
  const out: { name: string; params: { rank?: number; remove?: number } }[] = [];
  for (const rank of ranks) {
    for (const remove of removes ?? [rank]) {
      if (remove > rank) continue;
      out.push({ name: remove === rank ? `lsar-${rank}` : `lsar-${rank}-${remove}`, params: { rank, remove } });
    }
  }
  if (out.length === 0) throw createError('REMOVE_RANGE', '--remove must not exceed --rank for lsar');
  return out;
}

export function nameOf(p: Projection): string {
  if (p.method === 'lsar') return p.remove === p.rank ? `lsar-${p.rank}` : `lsar-${p.rank}-${p.remove}`;
  if (p.method === 'lir') return `lir-${p.remove}`;
  return p.method;
}

/** Apply a method's projection to a block of one language (a copy; `none` is the identity). */
function projectFor(run: MethodRun, x: FloatArray, lang: string): Float32Array {
  const out = Float32Array.from(x);
  if (run.projection.method === 'none') return out;
  if (needsLanguage(run.projection.method) && !run.projection.means[lang]) {
    throw createError(
      'UNKNOWN_LANGUAGE',
      `${run.name} has no fit data for language "${lang}" (fit languages: ${run.projection.languages.map((l) => l.lang).join(', ')}); add ${lang}.npy to --fit-embeddings or leave ${lang} out with --langs`,
    );
  }
  createOperator(run.projection, { lang }).applyInPlace(out);
  return out;
}

async function loadEmbedding(
  path: string,
  what: string,
  rows?: number,
  dim?: number,
): Promise<{ data: FloatArray; rows: number; dim: number }> {
  if ((await fileSize(path)) === undefined) throw createError('NOT_FOUND', `${path}: missing (${what})`);
  const x = await readNpy(path);
  if (rows !== undefined && x.rows !== rows) {
    throw createError('INPUT', `${path}: ${x.rows} rows, but ${what} has ${rows}: embeddings must follow the data line by line`);
  }
  if (dim !== undefined && x.dim !== dim) throw createError('DIM_MISMATCH', `${path}: dimension ${x.dim}, expected ${dim}`);
  return x;
}

function checkDims(runs: MethodRun[], dim: number, file: string): void {
  for (const r of runs) {
    if (r.projection.method !== 'none' && r.projection.dim !== dim) {
      throw createError('DIM_MISMATCH', `${file}: dimension ${dim}, but ${r.name} was fitted on dimension ${r.projection.dim}`);
    }
  }
}

function embedRoot(options: Pick<RetrieveOptions, 'embedDir'>): string {
  return options.embedDir ?? '.lsar-cache';
}

/** Embed text files, one call for all (the model loads once); returns the output directory. */
async function embedFiles(options: RetrieveOptions, files: { lang: string; path: string }[], sub: string): Promise<string> {
  const out = join(embedRoot(options), sub);
  options.onProgress?.(`embedding ${files.length} file(s) into ${out}`);
  await embedCorpora({ ...(options.embed as EmbedOptions), inputs: files.map((f) => `${f.lang}=${f.path}`), out });
  return out;
}

/** Searches and recall bookkeeping shared by the tasks. */
class Searcher {
  readonly mode: 'exact' | 'hnsw';
  private sample: number;
  recallHits1 = 0;
  recallHits10 = 0;
  recallQueries = 0;
  constructor(private options: RetrieveOptions) {
    this.mode = options.exact ? 'exact' : 'hnsw';
    this.sample = options.recallSample ?? 200;
  }

  /** Top-k targets of each query by cosine (rows already L2-normalised). */
  async topK(queries: Float32Array, targets: Float32Array, dim: number, k: number, index?: Hnsw): Promise<Int32Array> {
    if (this.mode === 'exact') return exactTopK(queries, targets, dim, k).indices;
    const h = index ?? Hnsw.build(targets, dim, this.options.hnsw);
    const res = h.search(queries, k);
    this.measureRecall(queries, targets, dim, h);
    return res.indices;
  }

  private measureRecall(queries: Float32Array, targets: Float32Array, dim: number, h: Hnsw): void {
    const nq = queries.length / dim;
    const n = Math.min(this.sample, nq);
    if (n === 0) return;
    const stride = nq / n;
    const sample = new Float32Array(n * dim);
    for (let i = 0; i < n; i++) sample.set(queries.subarray(Math.floor(i * stride) * dim, (Math.floor(i * stride) + 1) * dim), i * dim);
    const k = Math.min(10, targets.length / dim);
    const exact = exactTopK(sample, targets, dim, k);
    const approx = h.search(sample, k);
    for (let q = 0; q < n; q++) {
      if (exact.indices[q * k] === approx.indices[q * k]) this.recallHits1++;
      const truth = new Set(Array.from(exact.indices.subarray(q * k, (q + 1) * k)));
      let hit = 0;
      for (let j = 0; j < k; j++) if (truth.has(approx.indices[q * k + j] as number)) hit++;
      this.recallHits10 += hit / k;
    }
    this.recallQueries += n;
  }

  recall(): RetrieveResult['recall'] {
    if (this.mode !== 'hnsw' || this.recallQueries === 0) return undefined;
    return { at1: this.recallHits1 / this.recallQueries, at10: this.recallHits10 / this.recallQueries, queries: this.recallQueries };
  }
}

/** Languages with both `<lang>.npy` and `<lang>.en.npy` in `dir`, sorted. */
export async function listPairLanguages(dir: string): Promise<string[]> {
  let names: string[];
  try {
    names = await readdir(dir);
  } catch {
    throw createError('NOT_FOUND', `${dir}: no such embeddings directory`);
  }
  const set = new Set(names);
  return names
    .filter((n) => /^[a-z]{2,3}(?:[-_][A-Za-z0-9]{2,8})?\.npy$/.test(n) && set.has(n.replace(/\.npy$/, '.en.npy')))
    .map((n) => n.replace(/\.npy$/, ''))
    .filter((l) => l !== 'en')
    .sort();
}

function hitsOf(top: Int32Array, k: number): number {
  let hits = 0;
  for (let q = 0; q < top.length / k; q++) if (top[q * k] === q) hits++;
  return hits;
}

function table(metric: string, search: 'exact' | 'hnsw'): MetricTable {
  return { metric, search, results: {} };
}

/** Fill results[name] from per-language (count, total) pairs: rates, and their mean rounded once. */
function setRates(t: MetricTable, name: string, counts: Record<string, [number, number]>): void {
  const langs = Object.keys(counts);
  const per: Record<string, number> = {};
  for (const l of langs) per[l] = (counts[l] as [number, number])[0] / (counts[l] as [number, number])[1];
  const mean = meanAccuracy(
    langs.map((l) => (counts[l] as [number, number])[0]),
    langs.map((l) => (counts[l] as [number, number])[1]),
  );
  t.results[name] = { mean, per_language: per };
}

/** Run the evaluation. */
export async function retrieve(options: RetrieveOptions): Promise<RetrieveResult> {
  const { runs, provenance } = await prepareMethods(options);
  const searcher = new Searcher(options);
  const progress = options.onProgress ?? (() => undefined);
  let result: RetrieveResult;
  if (options.task === 'lareqa') result = await runLareqa(options, runs, searcher, progress);
  else result = await runPairs(options, runs, searcher, progress);
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
    ...(options.fitEmbeddings ? { fitEmbeddings: options.fitEmbeddings } : {}),
    ...(provenance ? { fit: provenance } : {}),
    ...(options.projections?.length ? { projections: options.projections } : {}),
    ...(options.embed
      ? { model: options.embed.model, embedDir: embedRoot(options), ...(options.corpora ? { corpora: options.corpora } : {}) }
      : {}),
    search:
      searcher.mode === 'hnsw'
        ? {
            kind: 'hnsw',
            approximate: true,
            m: options.hnsw?.m ?? HNSW_DEFAULTS.m,
            efConstruction: options.hnsw?.efConstruction ?? HNSW_DEFAULTS.efConstruction,
            ef: options.hnsw?.ef ?? HNSW_DEFAULTS.ef,
          }
        : { kind: 'exact' },
  };
  return result;
}

function rankSweep(result: RetrieveResult, runs: MethodRun[]): RetrieveResult['rankSweep'] {
  const lsar = runs.filter((r) => r.projection.method === 'lsar' && r.projection.remove === r.projection.rank);
  if (lsar.length < 2) return undefined;
  const sweep: Record<string, number> = {};
  for (const r of lsar) sweep[String(r.projection.rank)] = (result.results[r.name] as { mean: number }).mean;
  return { lsar: sweep };
}

/** Tatoeba and pairs: aligned query/target sets per language. */
async function runPairs(
  options: RetrieveOptions,
  runs: MethodRun[],
  searcher: Searcher,
  progress: (m: string) => void,
): Promise<RetrieveResult> {
  interface PairSet {
    lang: string;
    foreign: { data: FloatArray; dim: number; lang: string; file: string };
    english: { data: FloatArray; dim: number; lang: string; file: string };
  }
  const sets: PairSet[] = [];
  if (options.task === 'pairs' && options.queries) {
    if (!options.targets) throw createError('USAGE', 'pairs needs --targets with --queries');
    let qFile = options.queries;
    let tFile = options.targets;
    if (/\.txt$/i.test(qFile) || /\.txt$/i.test(tFile)) {
      if (!options.embed) throw createError('USAGE', 'pairs of text files (.txt) need --model to embed them');
      const ql = options.queryLang ?? 'qq';
      const tl = options.targetLang ?? 'tt';
      qFile = join(await embedFiles(options, [{ lang: ql, path: options.queries }], join('pairs', 'queries')), `${ql}.npy`);
      tFile = join(await embedFiles(options, [{ lang: tl, path: options.targets }], join('pairs', 'targets')), `${tl}.npy`);
    }
    const q = await loadEmbedding(qFile, 'queries');
    const t = await loadEmbedding(tFile, 'queries', undefined, q.dim);
    if (q.rows !== t.rows)
      throw createError(
        'INPUT',
        `${options.targets}: ${t.rows} rows, but ${options.queries} has ${q.rows}: aligned pairs need equal lengths`,
      );
    const ql = options.queryLang ?? 'queries';
    sets.push({
      lang: ql,
      foreign: { ...q, lang: ql, file: qFile },
      english: { ...t, lang: options.targetLang ?? 'targets', file: tFile },
    });
  } else if (options.task === 'tatoeba' && options.embed && !options.embeddings) {
    if (!options.data) throw createError('USAGE', 'tatoeba needs --data <Tatoeba directory> (LASER tatoeba.<xxx>-eng.* files)');
    const present = await listTatoebaLanguages(options.data);
    const langs = options.langs ?? XTREME_TATOEBA.filter((l) => present.includes(l));
    const tsets = await Promise.all(langs.map((l) => loadTatoeba(options.data as string, l)));
    const fdir = await embedFiles(
      options,
      tsets.map((t) => ({ lang: t.lang, path: t.files.foreign })),
      join('tatoeba', 'foreign'),
    );
    const edir = await embedFiles(
      options,
      tsets.map((t) => ({ lang: t.lang, path: t.files.english })),
      join('tatoeba', 'english'),
    );
    for (const t of tsets) {
      const f = await loadEmbedding(join(fdir, `${t.lang}.npy`), t.files.foreign, t.foreign.length);
      const e = await loadEmbedding(join(edir, `${t.lang}.npy`), t.files.english, t.english.length, f.dim);
      sets.push({
        lang: t.lang,
        foreign: { ...f, lang: t.lang, file: join(fdir, `${t.lang}.npy`) },
        english: { ...e, lang: 'en', file: join(edir, `${t.lang}.npy`) },
      });
    }
  } else {
    if (!options.embeddings)
      throw createError(
        'USAGE',
        `${options.task} needs --embeddings <dir> with <lang>.npy and <lang>.en.npy${options.task === 'pairs' ? ', or --queries and --targets' : ''}`,
      );
    let langs = options.langs;
    if (!langs) {
      const available = await listPairLanguages(options.embeddings);
      if (options.task === 'tatoeba' && options.data) {
        const present = await listTatoebaLanguages(options.data);
        langs = XTREME_TATOEBA.filter((l) => present.includes(l));
      } else {
        langs = available;
      }
      langs = langs.filter((l) => available.includes(l));
      if (langs.length === 0)
        throw createError('NOT_FOUND', `${options.embeddings}: no <lang>.npy embeddings for the languages to evaluate`);
    }
    for (const lang of langs) {
      let lines: number | undefined;
      let fileLabel = `${lang} pairs`;
      if (options.task === 'tatoeba') {
        if (!options.data) throw createError('USAGE', 'tatoeba needs --data <Tatoeba directory> (LASER tatoeba.<xxx>-eng.* files)');
        const t = await loadTatoeba(options.data, lang);
        lines = t.foreign.length;
        fileLabel = t.files.foreign;
      }
      const f = await loadEmbedding(join(options.embeddings, `${lang}.npy`), fileLabel, lines);
      const e = await loadEmbedding(
        join(options.embeddings, `${lang}.en.npy`),
        lines !== undefined ? fileLabel : `${join(options.embeddings, `${lang}.npy`)}`,
        f.rows,
        f.dim,
      );
      sets.push({
        lang,
        foreign: { ...f, lang, file: join(options.embeddings, `${lang}.npy`) },
        english: { ...e, lang: 'en', file: join(options.embeddings, `${lang}.en.npy`) },
      });
    }
  }
  const direction = options.task === 'tatoeba' ? (options.direction ?? 'en-xx') : 'xx-en';
  const mode = searcher.mode;
  const primary = table(`accuracy@1 (${direction === 'xx-en' ? 'xx->en' : 'en->xx'}, cosine)`, mode);
  const other = direction === 'both' ? table('accuracy@1 (xx->en, cosine)', mode) : undefined;
  const xsim = options.xsim ? table('xSIM error rate (ratio margin, k=4, xx->en)', 'exact') : undefined;
  if (options.indexIn || options.indexOut) {
    if (sets.length !== 1 || runs.length !== 1)
      throw createError('USAGE', '--index-in/--index-out need a single target set and a single method (pairs with --queries/--targets)');
    if (mode !== 'hnsw') throw createError('USAGE', '--index-in/--index-out are for HNSW search (drop --exact)');
  }
  for (const run of runs) {
    const counts: Record<string, [number, number]> = {};
    const countsOther: Record<string, [number, number]> = {};
    const countsX: Record<string, [number, number]> = {};
    for (const s of sets) {
      checkDims([run], s.foreign.dim, s.foreign.file);
      progress(`${run.name}: ${s.lang}`);
      const d = s.foreign.dim;
      const x = normalizeRows(projectFor(run, s.foreign.data, s.foreign.lang), d);
      const e = normalizeRows(projectFor(run, s.english.data, s.english.lang), d);
      const n = x.length / d;
      const [q, t] = direction === 'xx-en' ? [x, e] : [e, x];
      let index: Hnsw | undefined;
      if (mode === 'hnsw' && (options.indexIn || options.indexOut)) {
        const key = `${run.name}:${t.length / d}`;
        index = options.indexIn
          ? await Hnsw.load(options.indexIn, { dim: d, count: t.length / d, key }, options.hnsw?.ef)
          : Hnsw.build(t, d, options.hnsw, key);
        if (options.indexOut) await index.save(options.indexOut);
      }
      counts[s.lang] = [hitsOf(await searcher.topK(q, t, d, 1, index), 1), n];
      if (other) countsOther[s.lang] = [hitsOf(await searcher.topK(x, e, d, 1), 1), n];
      if (xsim) countsX[s.lang] = [xsimErrors(x, e, d, 4), n];
    }
    setRates(primary, run.name, counts);
    if (other) setRates(other, run.name, countsOther);
    if (xsim) setRates(xsim, run.name, countsX);
  }
  const also: Record<string, MetricTable> = {};
  if (other) also['accuracy@1 xx->en'] = other;
  if (xsim) also.xsim = xsim;
  return { task: options.task, ...primary, ...(Object.keys(also).length ? { also } : {}), manifest: {} };
}

/** XQuAD-R: every question against the multilingual pool of candidate sentences. */
async function runLareqa(
  options: RetrieveOptions,
  runs: MethodRun[],
  searcher: Searcher,
  progress: (m: string) => void,
): Promise<RetrieveResult> {
  if (!options.data) throw createError('USAGE', 'lareqa needs --data <XQuAD-R directory>');
  if (!options.embeddings && !options.embed)
    throw createError(
      'USAGE',
      'lareqa needs --embeddings <dir> with <lang>.questions.npy and <lang>.candidates.npy, or --model to embed the texts',
    );
  const xq = await loadXquadR(options.data, options.langs);
  let path = (lang: string, what: 'questions' | 'candidates') => join(options.embeddings as string, `${lang}.${what}.npy`);
  if (!options.embeddings) {
    // Write the texts one per line, embed them, read them back in the same order.
    const textDir = join(embedRoot(options), 'lareqa', 'text');
    await mkdir(textDir, { recursive: true });
    const files: Record<'questions' | 'candidates', { lang: string; path: string }[]> = { questions: [], candidates: [] };
    for (const lang of xq.languages) {
      for (const what of ['questions', 'candidates'] as const) {
        const items = what === 'questions' ? xq.questions.filter((q) => q.lang === lang) : xq.candidates.filter((c) => c.lang === lang);
        const file = join(textDir, `${lang}.${what}.txt`);
        await writeFileAtomic(file, items.map((x) => x.text.replace(/\s+/g, ' ').trim() || '-').join('\n') + '\n');
        files[what].push({ lang, path: file });
      }
    }
    const qdir = await embedFiles(options, files.questions, join('lareqa', 'questions'));
    const cdir = await embedFiles(options, files.candidates, join('lareqa', 'candidates'));
    path = (lang, what) => join(what === 'questions' ? qdir : cdir, `${lang}.npy`);
  }
  const cosine = (options.similarity ?? 'dot') === 'cosine';
  const qs: { lang: string; data: FloatArray; file: string }[] = [];
  const cs: { lang: string; data: FloatArray; file: string }[] = [];
  let dim = 0;
  for (const lang of xq.languages) {
    const nq = xq.questions.filter((q) => q.lang === lang).length;
    const nc = xq.candidates.filter((c) => c.lang === lang).length;
    const qf = path(lang, 'questions');
    const cf = path(lang, 'candidates');
    const q = await loadEmbedding(qf, `${join(options.data, `${lang}.json`)} (questions)`, nq, dim || undefined);
    dim = q.dim;
    const c = await loadEmbedding(cf, `${join(options.data, `${lang}.json`)} (candidate sentences)`, nc, dim);
    qs.push({ lang, data: q.data, file: qf });
    cs.push({ lang, data: c.data, file: cf });
  }
  const full = table(`mAP (full pool, ${cosine ? 'cosine' : 'dot'})`, 'exact');
  const at20 = table(`mAP@20 (${cosine ? 'cosine' : 'dot'})`, cosine ? searcher.mode : 'exact');
  for (const run of runs) {
    checkDims([run], dim, qs[0]?.file ?? '');
    progress(`${run.name}: projecting ${xq.languages.length} languages`);
    const prep = (x: Float32Array) => (cosine ? normalizeRows(x, dim) : x);
    const pool = concat(cs.map((c) => prep(projectFor(run, c.data, c.lang))));
    const queries = concat(qs.map((q) => prep(projectFor(run, q.data, q.lang))));
    const nt = pool.length / dim;
    const aps = new Float64Array(xq.questions.length);
    const ap20 = new Float64Array(xq.questions.length);
    progress(`${run.name}: scoring ${xq.questions.length} questions against ${nt} candidates`);
    for (const b of scoreBatches(queries, pool, dim)) {
      for (let r = 0; r < b.rows; r++) {
        const qi = b.start + r;
        const row = b.scores.subarray(r * nt, (r + 1) * nt);
        aps[qi] = averagePrecision(row, xq.relevant[qi] as number[]);
      }
    }
    const top = cosine ? await searcher.topK(queries, pool, dim, 20) : exactTopK(queries, pool, dim, 20).indices;
    for (let qi = 0; qi < xq.questions.length; qi++) {
      ap20[qi] = averagePrecisionAtK(top.subarray(qi * 20, (qi + 1) * 20), new Set(xq.relevant[qi]), 20);
    }
    setMeans(
      full,
      run.name,
      xq.questions.map((q) => q.lang),
      aps,
    );
    setMeans(
      at20,
      run.name,
      xq.questions.map((q) => q.lang),
      ap20,
    );
  }
  return { task: 'lareqa', ...full, also: { 'mAP@20': at20 }, manifest: {} };
}

function setMeans(t: MetricTable, name: string, langs: string[], values: Float64Array): void {
  const sum: Record<string, number> = {};
  const n: Record<string, number> = {};
  langs.forEach((l, i) => {
    sum[l] = (sum[l] ?? 0) + (values[i] as number);
    n[l] = (n[l] ?? 0) + 1;
  });
  const per: Record<string, number> = {};
  for (const l of Object.keys(sum)) per[l] = (sum[l] as number) / (n[l] as number);
  const vals = Object.values(per);
  t.results[name] = { mean: vals.reduce((a, b) => a + b, 0) / vals.length, per_language: per };
}

function concat(parts: Float32Array[]): Float32Array {
  const out = new Float32Array(parts.reduce((a, p) => a + p.length, 0));
  let o = 0;
  for (const p of parts) {
    out.set(p, o);
    o += p.length;
  }
  return out;
}
