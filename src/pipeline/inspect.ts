/**
 * `lsar inspect`: how much of a set of per-language embeddings is language identity, before and
 * after each method; the spectrum of the centred language means with a rank recommendation (or,
 * with an evaluation, the best rank of a retrieval sweep); 2-D maps of a sample of sentences.
 */
import { takeRows, type Embeddings } from '../core/embeddings.js';
import { checkNumber, createError, opt } from '../core/errors.js';
import { betweenShare, centroidAccuracy, probeAccuracy, stratifiedFolds, type Labelled } from '../core/probe.js';
import { pca2 } from '../core/pca.js';
import { meanSpectrum, recommendRank, type RankRecommendation } from '../core/spectrum.js';
import { mulberry32, sampleIndices } from '../core/random.js';
import { firstNonFiniteRow } from '../core/rows.js';
import { readEmbeddings } from '../io/embeddings.js';
import { NpyReader } from '../io/npy.js';
import { checkUniqueLanguages, EMBEDDING_EXTS, languageInput, listLanguageFiles, type LanguageInput } from '../io/inputs.js';
import { needsSecondMoment, parseMethod } from '../core/projection.js';
import { VERSION } from '../version.js';
import { momentsFromFiles } from './fit.js';
import { prepareMethods, projectFor } from './retrieve/methods.js';
import { retrieve, type RetrieveOptions, type RetrieveResult } from './retrieve/index.js';

export const DEFAULT_INSPECT_METHODS = ['none', 'demean', 'lsar', 'abtt', 'whiten'];

export interface InspectOptions {
  /** A directory of `<lang>.npy` (or .parquet/.jsonl) files, or the files as `<lang>=<path>` / `<lang>.npy` paths. */
  inputs: string | string[];
  /** Methods fitted on the inspected data (default none, demean, lsar, abtt, whiten). */
  methods?: string[];
  /** lsar ranks (default L-1). */
  ranks?: number[];
  /** Saved projections to inspect as well. */
  projections?: string[];
  /** Rows per language for the probe, the centroid accuracy and the between share (default 200; seeded sample). */
  sample?: number;
  /** Rows per language on the 2-D maps (default 60). */
  mapSample?: number;
  /** Probe folds (default 5). */
  folds?: number;
  /** Probe inverse regularisation, as scikit-learn's C (default 1). */
  probeC?: number;
  /** Seed of the row sample and the folds (default 0). */
  seed?: number;
  /** Share of between-language variance the recommended rank keeps (default 0.9). */
  threshold?: number;
  /** whiten: output dimensions (default: all that can be whitened). */
  dims?: number;
  /**
   * Evaluate an lsar rank sweep with `lsar retrieve` (its task and data options; the methods are
   * fitted on the inspected data): the recommendation is then the best rank on it.
   */
  evaluate?: Omit<RetrieveOptions, 'methods' | 'fitEmbeddings' | 'fitMoments' | 'projections'>;
  onProgress?: (message: string) => void;
}

export interface MethodInspection {
  probe_accuracy: number;
  centroid_accuracy: number;
  between_share: number;
  /** Output dimension of the method. */
  dim: number;
  /** Folds whose probe stopped at the iteration limit before the tolerance (absent when none). */
  probe_unconverged_folds?: number;
}

export interface InspectResult {
  results: Record<string, MethodInspection>;
  /** Chance accuracy of the probe (the largest language's share of the sample). */
  chance: number;
  languages: { lang: string; rows: number; sampled: number }[];
  spectrum: { singular_values: number[]; cumulative_share: number[] };
  recommended_rank: {
    rank: number;
    rule: string;
    share_rank: number;
    threshold: number;
    gap_rank: number;
    /** Singular values above the tolerance (1e-6 of the largest); the rules ignore the others. */
    numerical_rank: number;
    /** With an evaluation: its mean metric per lsar rank. */
    sweep?: Record<string, number>;
    metric?: string;
  };
  /** Per method, the 2-D PCA map of the map sample: [x, y, language index] triples. */
  maps: Record<string, { points: number[][] }>;
  /** With an evaluation: the retrieval result. */
  evaluation?: RetrieveResult;
  /** Things the user should know (whiten's dims lowered, a probe that stopped at its iteration limit). */
  warnings: string[];
  manifest: Record<string, unknown>;
}

async function resolveInputs(given: string | string[]): Promise<LanguageInput[]> {
  if (typeof given === 'string') return listLanguageFiles(given, EMBEDDING_EXTS);
  if (given.length === 1 && !/=/.test(given[0] as string) && !/\.(npy|parquet|jsonl)$/i.test(given[0] as string))
    return listLanguageFiles(given[0] as string, EMBEDDING_EXTS);
  const inputs = given.map((g) => {
    const eq = g.indexOf('=');
    if (eq > 0) return languageInput(g.slice(0, eq), g.slice(eq + 1));
    const stem = (g.split(/[\\/]/).pop() as string).replace(/\.(npy|parquet|jsonl)$/i, '');
    return languageInput(stem, g);
  });
  checkUniqueLanguages(inputs);
  return inputs;
}

/** A seeded sample of a file's rows: from .npy only the sampled rows are read; other formats are read whole. */
async function readSample(path: string, n: number, seed: number): Promise<{ rows: number; x: Embeddings; index: number[] }> {
  if (/\.npy$/i.test(path)) {
    const r = await NpyReader.open(path);
    try {
      if (r.rows === 0) throw createError('EMPTY', `${path}: no rows`);
      const idx = sampleRows(r.rows, n, seed);
      const data = await r.readRows(idx);
      return {
        rows: r.rows,
        index: idx,
        x: { data, rows: idx.length, dim: r.dim, dtype: data instanceof Float64Array ? 'float64' : 'float32' },
      };
    } finally {
      await r.close();
    }
  }
  const all = await readEmbeddings(path);
  const idx = sampleRows(all.rows, n, seed);
  return { rows: all.rows, index: idx, x: takeRows(all, idx, 'keep-dtype') };
}

/** A seeded sample of `n` rows (all when fewer), in file order. */
function sampleRows(rows: number, n: number, seed: number): number[] {
  return sampleIndices(rows, n, mulberry32(seed));
}

export async function inspect(options: InspectOptions): Promise<InspectResult> {
  const sample = options.sample ?? 200;
  const mapSample = options.mapSample ?? 60;
  const folds = options.folds ?? 5;
  const seed = options.seed ?? 0;
  const threshold = options.threshold ?? 0.9;
  checkNumber('sample', sample, { min: 2 });
  checkNumber('mapSample', mapSample, { min: 1 });
  checkNumber('folds', folds, { min: 2, max: 50 });
  checkNumber('seed', seed, { min: 0 });
  checkNumber('threshold', threshold, { min: 0, max: 1, integer: false });
  if (options.probeC !== undefined) checkNumber('probeC', options.probeC, { min: Number.MIN_VALUE, integer: false });
  const progress = options.onProgress ?? (() => undefined);
  const inputs = await resolveInputs(options.inputs);
  if (inputs.length < 2) throw createError('TOO_FEW_LANGUAGES', `inspecting needs at least 2 languages, got ${inputs.length}`);
  if (sample < folds) throw createError('RANGE', `${opt('sample')} (${sample}) must be at least folds (${folds})`, { param: 'sample' });

  // the inputs are read once: their moments serve the methods fitted here, the spectrum and the
  // evaluation's rank sweep
  const methods = options.methods ?? DEFAULT_INSPECT_METHODS;
  progress(`reading ${inputs.length} languages`);
  const fitMoments = await momentsFromFiles(inputs, { secondMoment: methods.some((m) => needsSecondMoment(parseMethod(m))) });
  const { runs, provenance, warnings } = await prepareMethods({
    methods,
    ...(options.ranks ? { ranks: options.ranks } : {}),
    ...(options.dims !== undefined ? { dims: options.dims } : {}),
    fitEmbeddings: inputs,
    fitMoments,
    ...(options.projections ? { projections: options.projections } : {}),
    onProgress: progress,
  });

  // the sample: read each language, keep a seeded subset
  progress(`sampling up to ${sample} rows of ${inputs.length} languages`);
  const samples: { lang: string; rows: number; x: Embeddings }[] = [];
  for (const [l, input] of inputs.entries()) {
    const s = await readSample(input.path, sample, seed + l);
    const bad = firstNonFiniteRow(s.x.data, s.x.rows, s.x.dim);
    if (bad >= 0) throw createError('NON_FINITE', `${input.path}: row ${s.index[bad]} holds NaN or Inf`);
    if (samples[0] && s.x.dim !== (samples[0].x.dim as number))
      throw createError('DIM_MISMATCH', `${input.path}: dimension ${s.x.dim}, but ${inputs[0]?.path} has ${samples[0].x.dim}`);
    samples.push({ lang: input.lang, rows: s.rows, x: s.x });
  }
  const L = samples.length;
  const n = samples.reduce((a, s) => a + s.x.rows, 0);
  const labels = new Int32Array(n);
  let o = 0;
  samples.forEach((s, l) => {
    labels.fill(l, o, o + s.x.rows);
    o += s.x.rows;
  });
  const foldIds = stratifiedFolds(labels, L, folds, seed);
  const mapRows = samples.map((s, l) => sampleRows(s.x.rows, mapSample, seed + 1000 + l));

  const results: Record<string, MethodInspection> = {};
  const maps: InspectResult['maps'] = {};
  for (const run of runs) {
    progress(`probing ${run.name}`);
    const projected = samples.map((s) => projectFor(run, s.x, s.lang));
    const dim = (projected[0] as Embeddings).dim;
    const x = new Float64Array(n * dim);
    let at = 0;
    for (const p of projected) {
      x.set(p.data, at);
      at += p.data.length;
    }
    const data: Labelled = { x, rows: n, dim, labels, classes: L };
    const probe = probeAccuracy(data, foldIds, options.probeC !== undefined ? { C: options.probeC } : {});
    if (probe.unconverged > 0)
      warnings.push(`${run.name}: the probe stopped at its iteration limit in ${probe.unconverged} of ${folds} folds`);
    results[run.name] = {
      probe_accuracy: probe.accuracy,
      centroid_accuracy: centroidAccuracy(data, foldIds),
      between_share: betweenShare(data),
      dim,
      ...(probe.unconverged > 0 ? { probe_unconverged_folds: probe.unconverged } : {}),
    };
    // the map: PCA of the map sample of this method's outputs
    const m = mapRows.reduce((a, r) => a + r.length, 0);
    const mx = new Float64Array(m * dim);
    const owner: number[] = [];
    let k = 0;
    projected.forEach((p, l) => {
      for (const r of mapRows[l] as number[]) {
        mx.set(p.data.subarray(r * dim, (r + 1) * dim), k * dim);
        owner.push(l);
        k++;
      }
    });
    const xy = pca2(mx, m, dim);
    maps[run.name] = { points: owner.map((l, i) => [round(xy[2 * i] as number), round(xy[2 * i + 1] as number), l]) };
  }

  // the spectrum of the centred means of the languages (all rows, as lsar fits them)
  const spectrum = meanSpectrum(fitMoments.moments.map((m) => m.mean));
  const rec: RankRecommendation = recommendRank(spectrum, threshold);
  const ignored = spectrum.singularValues.length - rec.numericalRank;
  const recommended: InspectResult['recommended_rank'] = {
    rank: Math.max(rec.share, rec.gap),
    rule: `the larger of: the smallest rank keeping ${Math.round(threshold * 100)}% of the between-language variance (squared singular values of the centred language means; rank ${rec.share}), and the eigengap, the largest ratio of consecutive singular values (rank ${rec.gap}), so the rank neither drops a tenth of the language variance nor cuts through a cluster of similar singular values${ignored > 0 ? `; ${ignored} singular value${ignored > 1 ? 's' : ''} below 1e-6 of the largest (float32 rounding noise) ignored by both rules` : ''}`,
    share_rank: rec.share,
    threshold,
    gap_rank: rec.gap,
    numerical_rank: rec.numericalRank,
  };

  let evaluation: RetrieveResult | undefined;
  if (options.evaluate) {
    // as lsar's rank check: at most L-1 and d-1
    const maxRank = Math.min(L - 1, (samples[0]?.x.dim ?? 2) - 1);
    const ranks = options.ranks && options.ranks.length > 1 ? options.ranks : Array.from({ length: maxRank }, (_, i) => i + 1);
    progress(`evaluating lsar ranks ${ranks[0]}..${ranks.at(-1)} with lsar retrieve ${options.evaluate.task}`);
    evaluation = await retrieve({ ...options.evaluate, methods: ['lsar'], ranks, fitEmbeddings: inputs, fitMoments, onProgress: progress });
    const sweep: Record<string, number> = {};
    for (const r of ranks) {
      const v = evaluation.results[`lsar-${r}`] as { mean: number } | undefined;
      if (v) sweep[String(r)] = v.mean;
    }
    const lowerBetter = /error/i.test(evaluation.metric);
    const best = Object.entries(sweep).reduce<[string, number] | undefined>(
      (b, e) => (b === undefined || (lowerBetter ? e[1] < b[1] : e[1] > b[1]) ? e : b),
      undefined,
    );
    if (best) {
      recommended.rank = Number(best[0]);
      recommended.rule = `the best rank of lsar retrieve ${options.evaluate.task} (mean ${evaluation.metric}, ${lowerBetter ? 'lowest' : 'highest'}: ${best[1].toFixed(4)}) over ranks ${ranks.join(', ')}; without it, ${Math.round(threshold * 100)}% of the between-language variance gives rank ${rec.share} and the eigengap rank ${rec.gap}`;
      recommended.sweep = sweep;
      recommended.metric = evaluation.metric;
    }
  }

  return {
    results,
    chance: Math.max(...samples.map((s) => s.x.rows)) / n,
    languages: samples.map((s) => ({ lang: s.lang, rows: s.rows, sampled: s.x.rows })),
    spectrum: { singular_values: spectrum.singularValues, cumulative_share: spectrum.cumulativeShare },
    recommended_rank: recommended,
    maps,
    ...(evaluation ? { evaluation } : {}),
    warnings,
    manifest: {
      lsarVersion: VERSION,
      created: new Date().toISOString(),
      inputs: inputs.map((i) => ({ lang: i.lang, path: i.path })),
      methods: runs.map((r) => r.name),
      ...(options.projections?.length ? { projections: options.projections } : {}),
      probe: {
        model: 'multinomial logistic regression, L2 on the weights, L-BFGS (as scikit-learn LogisticRegression multinomial lbfgs)',
        C: options.probeC ?? 1,
        folds,
        stratified: true,
        seed,
        tol: 1e-4,
        maxIter: 200,
      },
      sample: { rowsPerLanguage: sample, mapRowsPerLanguage: mapSample, seed },
      ...(provenance ? { fit: provenance } : {}),
    },
  };
}

function round(v: number): number {
  return Math.round(v * 1e4) / 1e4;
}
