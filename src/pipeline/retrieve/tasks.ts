/** The evaluation loops of the tasks: aligned pairs (tatoeba, pairs) and LAReQA, over the search backend. */
import { concatRows, type Embeddings } from '../../core/embeddings.js';
import { createError, opt } from '../../core/errors.js';
import { scoreRows } from '../../core/exact-search.js';
import { alignedHits, averagePrecision, averagePrecisionAtK, meanAccuracy, xsimErrors } from '../../core/metrics.js';
import { normalizeRows, normalizeRowsInPlace } from '../../core/rows.js';
import type { IndexKind, VectorIndex } from '../../core/vector-index.js';
import { dataKey, openIndex, projectionKey, type SearchLog } from '../services/search/index.js';
import type { MetricTable } from './result.js';

export type { MetricTable } from './result.js';
import type { LareqaSet, LazyPairSet } from './datasets.js';
import { checkDims, projectFor, type MethodRun } from './methods.js';

function table(metric: string, search: IndexKind): MetricTable {
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
  t.results[name] = { mean, perLanguage: per };
}

/** Per-language means of per-query values, and their unweighted mean. */
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
  t.results[name] = { mean: vals.reduce((a, b) => a + b, 0) / vals.length, perLanguage: per };
}

export interface PairTaskOptions {
  direction: 'en-xx' | 'xx-en' | 'both';
  xsim?: boolean;
  /** pairs: save / reuse the index over the targets (one set, one method). */
  indexIn?: string;
  indexOut?: string;
}

/** Tatoeba and pairs: accuracy@1 of aligned sets, optionally the other direction and xSIM. */
export async function evaluatePairs(
  sets: LazyPairSet[],
  runs: MethodRun[],
  searcher: SearchLog,
  o: PairTaskOptions,
  progress: (stage: string, done?: number, total?: number, unit?: string) => void,
): Promise<{ main: MetricTable; also: Record<string, MetricTable> }> {
  const { direction } = o;
  const primary = table(`accuracy@1 (${direction === 'xx-en' ? 'xx->en' : 'en->xx'}, cosine)`, searcher.kind);
  const other = direction === 'both' ? table('accuracy@1 (xx->en, cosine)', searcher.kind) : undefined;
  const xsim = o.xsim ? table('xSIM error rate (ratio margin, k=4, xx->en)', 'exact') : undefined;
  if (o.indexIn || o.indexOut) {
    if (sets.length !== 1 || runs.length !== 1) {
      throw createError(
        'USAGE',
        `${opt('indexIn')}/${opt('indexOut')} need a single target set and a single method (pairs with ${opt('queries')}/${opt('targets')})`,
        {
          params: ['indexIn', 'indexOut', 'queries', 'targets'],
        },
      );
    }
  }
  type Counts = Record<string, [number, number]>;
  const counts = new Map<MethodRun, { main: Counts; other: Counts; xsim: Counts }>(runs.map((r) => [r, { main: {}, other: {}, xsim: {} }]));
  // One language at a time (its rows read, evaluated by every method, then released).
  // The rows of each language are read into the buffers of the previous one (no new memory).
  let reuse: { foreign?: Float32Array; english?: Float32Array } = {};
  for (const lazy of sets) {
    const s = await lazy.load(reuse);
    if (s.foreign.vectors.data instanceof Float32Array && s.english.vectors.data instanceof Float32Array) {
      const whole = (a: Float32Array) => new Float32Array(a.buffer, 0, a.buffer.byteLength / 4);
      reuse = { foreign: whole(s.foreign.vectors.data), english: whole(s.english.vectors.data) };
    }
    for (const run of runs) {
      const c = counts.get(run) as { main: Counts; other: Counts; xsim: Counts };
      checkDims([run], s.foreign.vectors.dim, s.foreign.file);
      progress(`evaluate ${run.name}`, sets.indexOf(lazy), sets.length, 'languages');
      // The last method may project the loaded rows in place; every method's rows are then
      // normalised once, and cosine indexes and xSIM use them as they are (no further copies).
      const last = run === runs[runs.length - 1] && !o.indexIn && !o.indexOut;
      const x = unit(projectFor(run, s.foreign.vectors, s.foreign.lang, last));
      const e = unit(projectFor(run, s.english.vectors, s.english.lang, last));
      const n = x.rows;
      const [q, t] = direction === 'xx-en' ? [x, e] : [e, x];
      let index: VectorIndex | undefined;
      if (o.indexIn || o.indexOut) {
        const raw = direction === 'xx-en' ? s.english : s.foreign;
        const key = { data: dataKey(raw.vectors), projection: projectionKey(run.projection, raw.lang) };
        ({ index } = await openIndex(t, q.rows, {
          ...searcher.settings,
          key,
          ...(o.indexIn ? { indexIn: o.indexIn } : {}),
          ...(o.indexOut ? { indexOut: o.indexOut } : {}),
        }));
      }
      c.main[s.lang] = [alignedHits(await searcher.search(t, q, 1, index ? { index } : {})), n];
      if (other) c.other[s.lang] = [alignedHits(await searcher.search(e, x, 1)), n];
      if (xsim) c.xsim[s.lang] = [xsimErrors(x, e, 4), n];
      await index?.dispose();
    }
  }
  for (const run of runs) {
    const c = counts.get(run) as { main: Counts; other: Counts; xsim: Counts };
    setRates(primary, run.name, c.main);
    if (other) setRates(other, run.name, c.other);
    if (xsim) setRates(xsim, run.name, c.xsim);
  }
  primary.search = searcher.kind;
  if (other) other.search = searcher.kind;
  const also: Record<string, MetricTable> = {};
  if (other) also['accuracy@1 xx->en'] = other;
  if (xsim) also.xsim = xsim;
  return { main: primary, also };
}

/** Rows L2-normalised in place, and marked so. */
function unit(x: Embeddings<Float32Array>): Embeddings<Float32Array> {
  normalizeRowsInPlace(x.data, x.dim);
  return { ...x, normalized: true };
}

function normalized(x: Embeddings): Embeddings<Float32Array> {
  return { data: normalizeRows(x.data, x.dim), rows: x.rows, dim: x.dim, dtype: 'float32' };
}

/** XQuAD-R: every question against the multilingual pool of candidate sentences; mAP (exhaustive) and mAP@20. */
export async function evaluateLareqa(
  set: LareqaSet,
  runs: MethodRun[],
  searcher: SearchLog,
  similarity: 'cosine' | 'dot',
  progress: (stage: string, done?: number, total?: number, unit?: string) => void,
): Promise<{ main: MetricTable; also: Record<string, MetricTable> }> {
  const { xq, dim } = set;
  const cosine = similarity === 'cosine';
  const full = table(`mAP (full pool, ${similarity})`, 'exact');
  const at20 = table(`mAP@20 (${similarity})`, cosine ? searcher.kind : 'exact');
  const langs = xq.questions.map((q) => q.lang);
  for (const run of runs) {
    checkDims([run], dim, set.questions[0]?.file ?? '');
    progress(`evaluate ${run.name}: project`, 0, xq.languages.length, 'languages');
    const pool = concatRows(
      set.candidates.map((c) => projectFor(run, c.vectors, c.lang)),
      dim,
    );
    const queries = concatRows(
      set.questions.map((q) => projectFor(run, q.vectors, q.lang)),
      dim,
    );
    const scored = cosine ? normalized(pool) : pool;
    const scoredQ = cosine ? normalized(queries) : queries;
    const nt = pool.rows;
    const aps = new Float64Array(xq.questions.length);
    const ap20 = new Float64Array(xq.questions.length);
    progress(`evaluate ${run.name}: score ${nt} candidates`, 0, xq.questions.length, 'questions');
    for (const b of scoreRows(scoredQ, scored)) {
      for (let r = 0; r < b.rows; r++) {
        const qi = b.start + r;
        aps[qi] = averagePrecision(b.scores.subarray(r * nt, (r + 1) * nt), xq.relevant[qi] as number[]);
      }
    }
    const top = await searcher.search(pool, queries, 20, cosine ? { metric: 'cosine' } : { metric: 'dot', search: 'exact' });
    for (let qi = 0; qi < xq.questions.length; qi++) {
      ap20[qi] = averagePrecisionAtK(top.indices.subarray(qi * 20, (qi + 1) * 20), new Set(xq.relevant[qi]), 20);
    }
    setMeans(full, run.name, langs, aps);
    setMeans(at20, run.name, langs, ap20);
  }
  if (cosine) at20.search = searcher.kind;
  return { main: full, also: { 'mAP@20': at20 } };
}
