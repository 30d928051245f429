/**
 * `lsar inspect`: how much of a set of per-language embeddings is language identity, before and
 * after each method; the spectrum of the centred language means with a rank recommendation (or,
 * with an evaluation, the best rank of a retrieval sweep); 2-D maps of a sample of sentences.
 */
import { takeRows, type Embeddings } from '../core/embeddings.js';
import { createError, opt } from '../core/errors.js';
import { METHODS } from '../core/projection.js';
import { validate, type OptionsOf, type Resolved, type Schema } from '../core/schema.js';
import { checkOutputDir } from '../io/atomic.js';
import type { LanguageInput } from '../io/inputs.js';
import { resolveInputs } from './services/inputs.js';
import { betweenShare, centroidAccuracy, probeAccuracy, stratifiedFolds, type Labelled } from '../core/probe.js';
import { pca2 } from '../core/pca.js';
import { meanSpectrum, recommendRank, type RankRecommendation, type Spectrum } from '../core/spectrum.js';
import { mulberry32, sampleIndices } from '../core/random.js';
import { firstNonFiniteRow } from '../core/rows.js';
import { readEmbeddings } from '../io/embeddings.js';
import { NpyReader } from '../io/npy.js';
import { needsSecondMoment, parseMethod } from '../core/projection.js';
import { warn, warnings, type Events } from '../core/events.js';
import { VERSION } from '../version.js';
import { INSPECT_FORMAT_VERSION, type InspectResult, type MethodInspection } from './inspect-result.js';

export { INSPECT_FORMAT_VERSION, type InspectResult, type MethodInspection } from './inspect-result.js';
import { momentsFromFiles } from './services/moments.js';
import { prepareMethods, projectFor, type MethodOptions, type MethodRun } from './retrieve/methods.js';
import { retrieve, type RetrieveResult } from './retrieve/index.js';

export const DEFAULT_INSPECT_METHODS = ['none', 'demean', 'lsar', 'abtt', 'whiten'];

/** `lsar inspect`: the inputs, the methods, the probe and sample, the rank rule, and a retrieval sweep. */
export const inspectSchema = {
  inputs: {
    type: 'strings',
    positional: 'variadic',
    noSplit: true,
    description:
      'Per-language monolingual embeddings: a directory of <lang>.npy (.parquet, .jsonl) files, or the files (<lang>.npy or <lang>=<file>); the fit data or a held-out part of it',
  },
  projection: {
    type: 'strings',
    alias: 'p',
    noSplit: true,
    description: 'A saved projection (lsar fit --out) to inspect as well; repeatable',
  },
  methods: { type: 'strings', choices: METHODS, default: DEFAULT_INSPECT_METHODS, description: 'Methods fitted on the inputs' },
  rank: { type: 'integers', min: 1, description: 'lsar rank(s); with --eval, the ranks swept', defaultText: 'L-1; with --eval 1..L-1' },
  dims: {
    type: 'integer',
    min: 1,
    description: 'whiten: keep the top k eigenvectors',
    defaultText: 'every dimension that can be whitened',
  },
  sample: {
    type: 'integer',
    min: 2,
    default: 200,
    description: 'Rows per language (seeded sample) for the probe, centroids and variance share',
  },
  mapSample: { type: 'integer', min: 1, default: 60, description: 'Rows per language on the 2-D maps' },
  folds: { type: 'integer', min: 2, max: 50, default: 5, description: 'Cross-validation folds of the probe (stratified)' },
  probeC: { type: 'number', min: 1e-12, default: 1, description: "Inverse L2 strength of the probe, as scikit-learn's C" },
  seed: { type: 'integer', min: 0, default: 0, description: 'Seed of the samples and folds' },
  threshold: { type: 'number', min: 0, max: 1, default: 0.9, description: 'Share of between-language variance the recommended rank keeps' },
  eval: {
    type: 'string',
    choices: ['tatoeba', 'lareqa', 'pairs'],
    description: 'Sweep the lsar rank with lsar retrieve <task> on these data: the recommendation is then the best rank',
    group: 'Rank from a retrieval sweep:',
  },
  data: {
    type: 'string',
    description: '--eval tatoeba/lareqa: the data directory (as lsar retrieve --data)',
    group: 'Rank from a retrieval sweep:',
  },
  embeddings: {
    type: 'string',
    alias: 'e',
    description: '--eval: evaluation embeddings (as lsar retrieve --embeddings)',
    group: 'Rank from a retrieval sweep:',
  },
  queries: { type: 'string', description: '--eval pairs: query embeddings', group: 'Rank from a retrieval sweep:' },
  targets: { type: 'string', description: '--eval pairs: target embeddings', group: 'Rank from a retrieval sweep:' },
  langs: { type: 'strings', description: '--eval: languages to evaluate', group: 'Rank from a retrieval sweep:' },
  report: {
    type: 'string',
    description: 'Write report.md (with SVG plots) and a self-contained interactive report.html into this directory',
  },
} as const satisfies Schema;

export type InspectOptions = OptionsOf<typeof inspectSchema> & { events?: Events };

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

interface Sample {
  lang: string;
  rows: number;
  x: Embeddings;
}

/** Each language's seeded sample (checked: finite, one dimension). */
async function sampleLanguages(inputs: LanguageInput[], sample: number, seed: number): Promise<Sample[]> {
  const samples: Sample[] = [];
  for (const [l, input] of inputs.entries()) {
    const s = await readSample(input.path, sample, seed + l);
    const bad = firstNonFiniteRow(s.x.data, s.x.rows, s.x.dim);
    if (bad >= 0) throw createError('NON_FINITE', `${input.path}: row ${s.index[bad]} holds NaN or Inf`);
    if (samples[0] && s.x.dim !== (samples[0].x.dim as number))
      throw createError('DIM_MISMATCH', `${input.path}: dimension ${s.x.dim}, but ${inputs[0]?.path} has ${samples[0].x.dim}`);
    samples.push({ lang: input.lang, rows: s.rows, x: s.x });
  }
  return samples;
}

/** The probe, centroid accuracy and between share of one method's outputs, and its 2-D map. */
function inspectRun(
  run: MethodRun,
  samples: Sample[],
  labels: Int32Array,
  foldIds: Int32Array,
  mapRows: number[][],
  C: number,
): { inspection: MethodInspection; unconverged: number; map: { points: number[][] } } {
  const projected = samples.map((s) => projectFor(run, s.x, s.lang));
  const dim = (projected[0] as Embeddings).dim;
  const n = labels.length;
  const x = new Float64Array(n * dim);
  let at = 0;
  for (const p of projected) {
    x.set(p.data, at);
    at += p.data.length;
  }
  const data: Labelled = { x, rows: n, dim, labels, classes: samples.length };
  const probe = probeAccuracy(data, foldIds, { C });
  // the map: PCA of the map sample of this method's outputs
  const m = mapRows.reduce((a, r) => a + r.length, 0);
  const mx = new Float64Array(m * dim);
  const owner: number[] = [];
  projected.forEach((p, l) => {
    for (const r of mapRows[l] as number[]) {
      mx.set(p.data.subarray(r * dim, (r + 1) * dim), owner.length * dim);
      owner.push(l);
    }
  });
  const xy = pca2(mx, m, dim);
  return {
    inspection: {
      probeAccuracy: probe.accuracy,
      centroidAccuracy: centroidAccuracy(data, foldIds),
      betweenShare: betweenShare(data),
      dim,
      ...(probe.unconverged > 0 ? { probeUnconvergedFolds: probe.unconverged } : {}),
    },
    unconverged: probe.unconverged,
    map: { points: owner.map((l, i) => [round(xy[2 * i] as number), round(xy[2 * i + 1] as number), l]) },
  };
}

/** The rank recommended by the spectrum of the centred language means (share and eigengap rules). */
function spectrumRecommendation(spectrum: Spectrum, threshold: number): InspectResult['recommendedRank'] {
  const rec: RankRecommendation = recommendRank(spectrum, threshold);
  const ignored = spectrum.singularValues.length - rec.numericalRank;
  return {
    rank: Math.max(rec.share, rec.gap),
    rule: `the larger of: the smallest rank keeping ${Math.round(threshold * 100)}% of the between-language variance (squared singular values of the centred language means; rank ${rec.share}), and the eigengap, the largest ratio of consecutive singular values (rank ${rec.gap}), so the rank neither drops a tenth of the language variance nor cuts through a cluster of similar singular values${ignored > 0 ? `; ${ignored} singular value${ignored > 1 ? 's' : ''} below 1e-6 of the largest (float32 rounding noise) ignored by both rules` : ''}`,
    shareRank: rec.share,
    threshold,
    gapRank: rec.gap,
    numericalRank: rec.numericalRank,
  };
}

/** The lsar rank sweep of lsar retrieve on the --eval data, and the recommendation it makes (the best rank). */
async function sweepRecommendation(
  options: Resolved<typeof inspectSchema>,
  ranks: number[],
  fit: { inputs: LanguageInput[]; moments: MethodOptions['fitMoments'] },
  recommended: InspectResult['recommendedRank'],
  events: Events | undefined,
): Promise<RetrieveResult> {
  const evaluation = await retrieve({
    task: options.eval as 'tatoeba' | 'lareqa' | 'pairs',
    data: options.data,
    embeddings: options.embeddings,
    queries: options.queries,
    targets: options.targets,
    langs: options.langs,
    methods: ['lsar'],
    rank: ranks,
    fitInputs: fit.inputs,
    fitMoments: fit.moments,
    ...(events ? { events } : {}),
  });
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
    const t = Math.round(recommended.threshold * 100);
    recommended.rule = `the best rank of lsar retrieve ${options.eval} (mean ${evaluation.metric}, ${lowerBetter ? 'lowest' : 'highest'}: ${best[1].toFixed(4)}) over ranks ${ranks.join(', ')}; without it, ${t}% of the between-language variance gives rank ${recommended.shareRank} and the eigengap rank ${recommended.gapRank}`;
    recommended.rank = Number(best[0]);
    recommended.sweep = sweep;
    recommended.metric = evaluation.metric;
  }
  return evaluation;
}

export async function inspect(given: InspectOptions): Promise<InspectResult> {
  const options = validate(inspectSchema, given);
  if (!options.inputs?.length)
    throw createError('USAGE', 'lsar inspect needs a directory of <lang>.npy files or the files (see lsar inspect --help)', {
      param: 'inputs',
    });
  const { sample, mapSample, folds, seed, threshold } = options;
  if (options.eval === undefined) {
    const extra = (['data', 'embeddings', 'queries', 'targets', 'langs'] as const).find((k) => options[k] !== undefined);
    if (extra) throw createError('USAGE', `${opt(extra)} applies only with ${opt('eval')} <task>`, { param: extra });
  }
  // a report directory that cannot be made fails before the work, not after it
  if (options.report !== undefined) await checkOutputDir(options.report);
  const w = warnings(given.events);
  const progress = (stage: string, done: number, total: number, unit: string) => given.events?.progress?.(stage, done, total, { unit });
  const inputs = await resolveInputs({ inputs: options.inputs });
  if (inputs.length < 2) throw createError('TOO_FEW_LANGUAGES', `inspecting needs at least 2 languages, got ${inputs.length}`);
  if (sample < folds) throw createError('RANGE', `${opt('sample')} (${sample}) must be at least folds (${folds})`, { param: 'sample' });

  // the inputs are read once: their moments serve the methods fitted here, the spectrum and the rank sweep
  const fitMoments = await momentsFromFiles(inputs, {
    secondMoment: options.methods.some((m) => needsSecondMoment(parseMethod(m))),
    ...(given.events ? { events: given.events } : {}),
  });
  const { runs, provenance } = await prepareMethods({
    methods: options.methods,
    ...(options.rank ? { ranks: options.rank } : {}),
    ...(options.dims !== undefined ? { dims: options.dims } : {}),
    fitEmbeddings: inputs,
    fitMoments,
    ...(options.projection ? { projections: options.projection } : {}),
    events: w.events,
  });

  progress(`sample ${sample} rows per language`, 0, inputs.length, 'languages');
  const samples = await sampleLanguages(inputs, sample, seed);
  const n = samples.reduce((a, s) => a + s.x.rows, 0);
  const labels = new Int32Array(n);
  let o = 0;
  samples.forEach((s, l) => {
    labels.fill(l, o, o + s.x.rows);
    o += s.x.rows;
  });
  const foldIds = stratifiedFolds(labels, samples.length, folds, seed);
  const mapRows = samples.map((s, l) => sampleRows(s.x.rows, mapSample, seed + 1000 + l));
  const results: Record<string, MethodInspection> = {};
  const maps: InspectResult['maps'] = {};
  for (const [i, run] of runs.entries()) {
    progress(`probe ${run.name}`, i, runs.length, 'methods');
    const r = inspectRun(run, samples, labels, foldIds, mapRows, options.probeC);
    if (r.unconverged > 0)
      warn(w.events, 'PROBE_UNCONVERGED', `${run.name}: the probe stopped at its iteration limit in ${r.unconverged} of ${folds} folds`);
    results[run.name] = r.inspection;
    maps[run.name] = r.map;
  }

  // the spectrum of the centred means of the languages (all rows, as lsar fits them)
  const spectrum = meanSpectrum(fitMoments.moments.map((m) => m.mean));
  const recommended = spectrumRecommendation(spectrum, threshold);
  let evaluation: RetrieveResult | undefined;
  if (options.eval !== undefined) {
    // as lsar's rank check: at most L-1 and d-1
    const maxRank = Math.min(samples.length - 1, (samples[0]?.x.dim ?? 2) - 1);
    const ranks = options.rank && options.rank.length > 1 ? options.rank : Array.from({ length: maxRank }, (_, i) => i + 1);
    evaluation = await sweepRecommendation(options, ranks, { inputs, moments: fitMoments }, recommended, given.events);
  }
  return {
    formatVersion: INSPECT_FORMAT_VERSION,
    results,
    chance: Math.max(...samples.map((s) => s.x.rows)) / n,
    languages: samples.map((s) => ({ lang: s.lang, rows: s.rows, sampled: s.x.rows })),
    spectrum: { singularValues: spectrum.singularValues, cumulativeShare: spectrum.cumulativeShare },
    recommendedRank: recommended,
    maps,
    ...(evaluation ? { evaluation } : {}),
    warnings: w.list,
    manifest: {
      lsarVersion: VERSION,
      created: new Date().toISOString(),
      inputs: inputs.map((i) => ({ lang: i.lang, path: i.path })),
      methods: runs.map((r) => r.name),
      ...(options.projection?.length ? { projections: options.projection } : {}),
      probe: {
        model: 'multinomial logistic regression, L2 on the weights, L-BFGS (as scikit-learn LogisticRegression multinomial lbfgs)',
        C: options.probeC,
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
