/**
 * `lsar fit`: per-language moments of embedding files (or of shard statistics, or of corpora
 * embedded first) into a projection, saved as an artifact.
 */
import { join } from 'node:path';
import { createError, opt } from '../core/errors.js';
import { warn, warnings, type Events } from '../core/events.js';
import { fitProjection, resolveParams } from '../core/fit.js';
import { MomentAccumulator } from '../core/moments.js';
import { METHODS, needsSecondMoment, parseMethod, type FitOptions, type LanguageMoments, type Projection } from '../core/projection.js';
import type { FloatArray } from '../core/rows.js';
import { validate, type OptionsOf, type Schema } from '../core/schema.js';
import { artifactPaths, saveProjection } from '../io/artifact.js';
import { labelWarnings, languageInput, type LanguageInput } from '../io/inputs.js';
import { canonicalLanguage } from '../io/languages.js';
import { refuseOverwrite } from '../io/same-file.js';
import { VERSION } from '../version.js';
import { EmbeddingCache, defaultEmbedDir, cacheSchema } from './services/embedding-cache.js';
import { resolveInputs, languageFilesSchema } from './services/inputs.js';
import { modelOptions, modelSchema } from './services/model.js';
import { columnSchema, momentsFromFiles, type ColumnOptions, type Provenance } from './services/moments.js';
import { fitFromStats } from './stats.js';

export type { ColumnOptions, Provenance, SourceFile } from './services/moments.js';

export interface FitResult {
  projection: Projection;
  provenance: Provenance;
  /** Things the caller should know (labels that are no language code, most dimensions removed, a test model). */
  warnings: string[];
}

export interface FitFileOptions extends FitOptions, ColumnOptions {
  /** Rows per read block (default: about 8 MiB). */
  blockRows?: number;
  /** Record each input's content hash in the provenance (default true; computed while reading). */
  hash?: boolean;
  /** The embedding model was loaded (and warned about) in this run: no second test-model warning from the manifest. */
  modelWarned?: boolean;
  events?: Events;
}

/** Checks that need only the languages: fail before opening any file (`where` names a single one). */
function precheck(options: FitOptions, languages: number, where?: string): void {
  parseMethod(options.method);
  if (languages < 2) {
    throw createError(
      'TOO_FEW_LANGUAGES',
      `fitting needs at least 2 languages, got ${languages}${languages === 1 && where ? ` (${where})` : ''}`,
    );
  }
}

/** Fit from embedding files, one per language (or files with a language column). Holds only O(d) (lir: O(d^2)) per language in memory. */
export async function fitFromFiles(given: LanguageInput[], options: FitFileOptions): Promise<FitResult> {
  const byColumn = options.langColumn !== undefined;
  const inputs = byColumn ? given : given.map((i) => languageInput(i.lang, i.path));
  if (byColumn) parseMethod(options.method);
  else precheck(options, inputs.length, inputs[0] && `${inputs[0].lang} from ${inputs[0].path}`);
  const w = warnings(options.events);
  const r = await momentsFromFiles(inputs, {
    ...options,
    events: w.events,
    secondMoment: needsSecondMoment(parseMethod(options.method)),
    check: (L, d) => {
      if (byColumn) precheck(options, L, `${inputs.map((i) => i.path).join(', ')}, column ${options.langColumn}`);
      resolveParams(options, L, d);
    },
  });
  const projection = fitProjection(r.moments, options);
  for (const m of labelWarnings(r.languages)) warn(w.events, 'LABEL', m);
  fitWarnings(projection, options.modelWarned ? undefined : r.provenance, options, w.events);
  return { projection, provenance: r.provenance, warnings: w.list };
}

/** Warnings about a fit (raised through `events`): most dimensions removed, whiten's dims lowered, a test model's embeddings. */
/** Below this many rows a language's mean is reported as noisy. */
const FEW_ROWS = 10;

export function fitWarnings(p: Projection, provenance: Provenance | undefined, asked: Pick<FitOptions, 'dims'>, events: Events = {}): void {
  if (p.method === 'whiten' && asked.dims === undefined && p.dims !== undefined && p.dims < p.dim) {
    warn(
      events,
      'WHITEN_DIMS',
      `whiten: the pooled covariance has only ${p.dims} of ${p.dim} eigenvalues that are not (numerically) zero: fitted with ${opt('dims')} ${p.dims}, the most that can be whitened, so outputs have ${p.dims} dimensions (give ${opt('dims')} to choose)`,
    );
  }
  const removed = p.method === 'lsar' || p.method === 'lir' || p.method === 'abtt' ? p.remove : 0;
  if (removed > p.dim / 2) {
    warn(
      events,
      'REMOVES_MOST',
      `the projection removes ${removed} of ${p.dim} dimensions${p.method === 'lsar' ? ` (rank ${p.rank}); little is left: choose a smaller rank (e.g. the rank sweep of lsar retrieve)` : ''}`,
    );
  }
  const few = p.languages.filter((l) => l.rows < FEW_ROWS);
  if (few.length)
    warn(
      events,
      'FEW_ROWS',
      `${few.map((l) => `${l.lang} has ${l.rows} row${l.rows === 1 ? '' : 's'}`).join(', ')}: a language mean from so few sentences is mostly noise (use at least hundreds)`,
    );
  const byBase = new Map<string, string[]>();
  for (const { lang } of p.languages) {
    const base = lang.split('-')[0] as string;
    byBase.set(base, [...(byBase.get(base) ?? []), lang]);
  }
  for (const [base, langs] of byBase)
    if (langs.length > 1)
      warn(
        events,
        'LANGUAGE_VARIANT',
        `${langs.join(' and ')} are fitted as ${langs.length} languages (variants of ${base}); if they are one language, name their files alike (${base}.npy)`,
      );
  const model = (provenance?.manifest as { model?: { note?: string; id?: string } } | undefined)?.model;
  if (model?.note) warn(events, 'TEST_MODEL', `the embeddings come from ${model.id}: ${model.note}`);
}

/** Fit from in-memory arrays: `{ de: Float32Array (rows x dim), ... }`. */
export function fitFromArrays(data: Record<string, FloatArray>, dim: number, options: FitOptions): Projection {
  const entries = Object.entries(data);
  precheck(options, entries.length);
  const method = parseMethod(options.method);
  const langs: LanguageMoments[] = entries.map(([label, x]) => {
    const { lang } = canonicalLanguage(label, 'fitFromArrays');
    if (x.length === 0) throw createError('EMPTY', `language "${lang}": no rows`);
    if (x.length % dim !== 0) throw createError('DIM_MISMATCH', `language "${lang}": length ${x.length} is not a multiple of dim ${dim}`);
    const acc = new MomentAccumulator(dim, { secondMoment: needsSecondMoment(method) });
    try {
      const bad = acc.add(x, x.length / dim);
      if (bad >= 0) throw createError('NON_FINITE', `language "${lang}": row ${bad} holds NaN or Inf`);
      return { lang, rows: acc.count, mean: acc.mean(), ...(acc.gram ? { secondMoment: acc.secondMoment() } : {}) };
    } finally {
      acc.dispose();
    }
  });
  return fitProjection(langs, options);
}

/** `lsar fit`: where the data come from, the method and its parameters, the artifact. */
export const fitSchema = {
  dir: {
    type: 'string',
    positional: true,
    description:
      'Directory of <lang>.npy (.parquet, .jsonl) files (language = file stem, ISO 639-1 or 639-3); with --lang-column, a Parquet file or a directory of them',
  },
  ...languageFilesSchema,
  corpora: {
    type: 'string',
    alias: 'c',
    description: 'Embed this directory of <lang>.txt corpora with --model first, then fit (embeddings are kept and reused)',
  },
  ...cacheSchema,
  stats: {
    type: 'strings',
    noSplit: true,
    description: 'Shard statistics (lsar stats) to merge and fit on, instead of the data: the same projection as fitting all rows at once',
  },
  method: {
    type: 'string',
    alias: 'm',
    choices: METHODS,
    default: 'lsar',
    description:
      'lsar (language-agnostic), abtt (all-but-the-top: pooled mean and top principal components removed), whiten (BERT-whitening: pooled mean removed, covariance made the identity), lir or demean (need the language when applied), none (identity)',
  },
  rank: { type: 'integer', description: 'lsar: rank K of the language subspace, 1..L-1', defaultText: 'L-1' },
  remove: {
    type: 'integer',
    alias: 'r',
    description:
      'lsar: directions removed, 1..K (default K); lir: directions removed per language (default 1); abtt: principal components removed (default d/100)',
  },
  dims: {
    type: 'integer',
    min: 1,
    description: 'whiten: keep the top k eigenvectors, so outputs have k dimensions',
    defaultText: 'every dimension that can be whitened',
  },
  out: { type: 'string', alias: 'o', required: true, description: 'Output: projection.json (with .npy sidecars) or a directory' },
  ...columnSchema,
  ...modelSchema,
} as const satisfies Schema;

export type FitToArtifactOptions = OptionsOf<typeof fitSchema> & { events?: Events };

export interface FitSummary {
  method: string;
  dim: number;
  rank?: number;
  remove: number;
  /** whiten: the output dimension. */
  dims?: number;
  languages: { lang: string; rows: number }[];
  singularValues?: number[];
  projection: string;
  /** With corpora: where their embeddings were kept. */
  embeddings?: string;
  /** Things the user should know about this fit. */
  warnings: string[];
  lsarVersion: string;
}

/** The library call behind `lsar fit`: fit (from files, statistics or corpora) and save the artifact. */
export async function fitToArtifact(given: FitToArtifactOptions): Promise<{ projection: Projection; path: string; summary: FitSummary }> {
  let options = validate(fitSchema, given);
  const sources = [options.dir !== undefined, options.input !== undefined, options.corpora !== undefined, options.stats !== undefined];
  if (sources.filter(Boolean).length !== 1)
    throw createError(
      'USAGE',
      `lsar fit needs a directory of <lang>.npy files, ${opt('input')} <lang>=<file>, ${opt('corpora')} <dir> with ${opt('model')}, or ${opt('stats')} <shard.stats.json...> (one of them)`,
      { param: 'input' },
    );
  const method = parseMethod(options.method);
  const params = {
    method,
    ...(options.rank !== undefined ? { rank: options.rank } : {}),
    ...(options.remove !== undefined ? { remove: options.remove } : {}),
    ...(options.dims !== undefined ? { dims: options.dims } : {}),
  };
  const outputs = (await artifactPaths(options.out)).map((path) => ({ path, param: 'out' }));
  let embedded: string | undefined;
  if (options.corpora !== undefined) {
    const cache = new EmbeddingCache(modelOptions(options), {
      root: options.embedDir ?? defaultEmbedDir(),
      ...(given.events ? { events: given.events } : {}),
    });
    try {
      embedded = await cache.embed('corpora', { corpora: options.corpora });
    } finally {
      await cache.dispose();
    }
    options = { ...options, dir: embedded, corpora: undefined };
  }
  if (options.stats) {
    await refuseOverwrite(outputs, options.stats);
    const w = warnings(given.events);
    const { projection, provenance } = await fitFromStats(options.stats, params);
    fitWarnings(projection, undefined, options, w.events);
    const path = await saveProjection(options.out, projection, provenance);
    return { projection, path, summary: summaryOf(projection, path, w.list) };
  }
  const inputs = await resolveInputs({
    ...(options.dir !== undefined ? { dir: options.dir } : {}),
    ...(options.input !== undefined ? { inputs: options.input } : {}),
    ...(options.langColumn !== undefined ? { langColumn: options.langColumn } : {}),
  });
  await refuseOverwrite(
    outputs,
    inputs.map((i) => (i.lang ? { path: i.path, what: `language ${i.lang}` } : i.path)),
  );
  const {
    projection,
    provenance,
    warnings: list,
  } = await fitFromFiles(inputs, {
    ...params,
    ...(options.column !== undefined ? { column: options.column } : {}),
    ...(options.langColumn !== undefined ? { langColumn: options.langColumn } : {}),
    ...(given.events ? { events: given.events } : {}),
    ...(embedded ? { modelWarned: true } : {}),
  });
  const path = await saveProjection(options.out, projection, provenance);
  return { projection, path, summary: summaryOf(projection, path, list, embedded) };
}

function summaryOf(projection: Projection, path: string, list: string[], embedded?: string): FitSummary {
  return {
    method: projection.method,
    dim: projection.dim,
    ...(projection.rank !== undefined ? { rank: projection.rank } : {}),
    remove: projection.remove,
    ...(projection.dims !== undefined ? { dims: projection.dims } : {}),
    languages: projection.languages,
    ...(projection.singularValues ? { singularValues: projection.singularValues } : {}),
    projection: path,
    ...(embedded ? { embeddings: join(embedded) } : {}),
    warnings: list,
    lsarVersion: VERSION,
  };
}
