/** The methods a retrieval run compares: fitted once each on monolingual data, or loaded from saved projections. */
import { createError, opt } from '../../core/errors.js';
import { warnings, type Events } from '../../core/events.js';
import type { Embeddings } from '../../core/embeddings.js';
import {
  needsLanguage,
  needsSecondMoment,
  parseMethod,
  type LanguageMoments,
  type Method,
  type Projection,
} from '../../core/projection.js';
import { fitProjection } from '../../core/fit.js';
import { createOperator, projectRows, type Projector } from '../../core/apply.js';
import { loadProjection } from '../../io/artifact.js';
import { EMBEDDING_EXTS, listLanguageFiles, type LanguageInput } from '../../io/inputs.js';
import { fitWarnings } from '../fit.js';
import { momentsFromFiles, type Provenance } from '../services/moments.js';

export interface MethodRun {
  /** "none", "demean", "lir-1", "lsar-8", "lsar-8-4" (rank 8, remove 4). */
  name: string;
  projection: Projection;
}

export interface MethodOptions {
  methods: string[];
  ranks?: number[];
  removes?: number[];
  /** Directory of `<lang>.npy` monolingual embeddings to fit the methods on (or the language files themselves). */
  fitEmbeddings?: string | LanguageInput[];
  /** The fit data's moments, already read (with X^T X when a method needs it): used instead of reading fitEmbeddings again. */
  fitMoments?: { moments: LanguageMoments[]; provenance: Provenance };
  /** whiten: output dimensions (default: all that can be whitened). */
  dims?: number;
  /** Saved projections evaluated as they are (name from their method and parameters). */
  projections?: string[];
  events?: Events;
}

/** Fit (or load) the methods to compare. */
export async function prepareMethods(options: MethodOptions): Promise<{ runs: MethodRun[]; provenance?: Provenance; warnings: string[] }> {
  const runs: MethodRun[] = [];
  const w = warnings(options.events);
  const methods = options.methods.map(parseMethod);
  let provenance: Provenance | undefined;
  let moments: LanguageMoments[] = [];
  if (options.fitMoments && methods.some((m) => m !== 'none')) {
    ({ moments, provenance } = options.fitMoments);
  } else if (methods.some((m) => m !== 'none')) {
    if (!options.fitEmbeddings) {
      throw createError(
        'USAGE',
        `methods ${methods.filter((m) => m !== 'none').join(', ')} need fit data: ${opt('fitEmbeddings')} <dir of <lang>.npy> (monolingual embeddings, not the evaluation data)`,
        { params: ['fitEmbeddings'] },
      );
    }
    const given = options.fitEmbeddings;
    const inputs = typeof given === 'string' ? await listLanguageFiles(given, EMBEDDING_EXTS) : given;
    options.events?.progress?.(`fit on ${typeof given === 'string' ? given : `${inputs.length} languages`}`, 0, inputs.length, {
      unit: 'languages',
    });
    const r = await momentsFromFiles(inputs, {
      secondMoment: methods.some((m) => needsSecondMoment(m)),
      ...(options.events ? { events: options.events } : {}),
    });
    moments = r.moments;
    provenance = r.provenance;
  }
  for (const method of methods) {
    for (const run of expand(method, options.ranks, options.removes)) {
      if (method === 'none' && moments.length === 0) {
        runs.push({ name: 'none', projection: { method: 'none', dim: 0, languages: [], remove: 0, means: {} } });
        continue;
      }
      const projection = fitProjection(moments, {
        method,
        ...run,
        ...(method === 'whiten' && options.dims !== undefined ? { dims: options.dims } : {}),
      });
      if (method === 'whiten') fitWarnings(projection, undefined, options, w.events);
      runs.push({ name: nameOf(projection), projection });
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
  if (runs.length === 0) throw createError('USAGE', 'nothing to evaluate: give methods and/or saved projections');
  if (options.dims !== undefined && !methods.includes('whiten'))
    throw createError('USAGE', `${opt('dims')} applies to the whiten method only, which is not among the methods`, { param: 'dims' });
  return { runs, ...(provenance ? { provenance } : {}), warnings: w.list };
}

/** The (rank, remove) parameter sets of one method for the requested sweeps. */
function expand(method: Method, ranks: number[] | undefined, removes: number[] | undefined): { rank?: number; remove?: number }[] {
  if (method === 'none' || method === 'demean') return [{}];
  if (method === 'lir') return (removes ?? [1]).map((remove) => ({ remove }));
  if (method === 'abtt') return removes ? removes.map((remove) => ({ remove })) : [{}];
  if (method === 'whiten') return [{}];
  if (!ranks) return (removes ?? [undefined]).map((remove) => (remove === undefined ? {} : { remove }));
  const out: { rank?: number; remove?: number }[] = [];
  for (const rank of ranks) {
    for (const remove of removes ?? [rank]) if (remove <= rank) out.push({ rank, remove });
  }
  if (out.length === 0) throw createError('REMOVE_RANGE', `${opt('remove')} must not exceed rank for lsar`, { param: 'remove' });
  return out;
}

/** The column name of a method: none, demean, lir-<r>, abtt-<D>, whiten (whiten-<k>), lsar-<K> or lsar-<K>-<N>. */
export function nameOf(p: Projection): string {
  if (p.method === 'lsar') return p.remove === p.rank ? `lsar-${p.rank}` : `lsar-${p.rank}-${p.remove}`;
  if (p.method === 'lir') return `lir-${p.remove}`;
  if (p.method === 'abtt') return `abtt-${p.remove}`;
  if (p.method === 'whiten') return p.dims !== undefined && p.dims !== p.dim ? `whiten-${p.dims}` : 'whiten';
  return p.method;
}

/** Operators made once per method (and language, for lir and demean): they hold WebAssembly kernels. */
const operators = new WeakMap<MethodRun, Map<string, Projector>>();

/**
 * Apply a method's projection to one language's vectors: a float32 copy (`none` is the
 * identity), or `x` itself projected in place when `inPlace` and it is float32.
 */
export function projectFor(run: MethodRun, x: Embeddings, lang: string, inPlace = false): Embeddings<Float32Array> {
  const data = x.data instanceof Float32Array ? (inPlace ? x.data : x.data.slice()) : Float32Array.from(x.data);
  const out: Embeddings<Float32Array> = { data, rows: x.rows, dim: x.dim, dtype: 'float32' };
  if (run.projection.method === 'none') return out;
  if (needsLanguage(run.projection.method) && !run.projection.means[lang]) {
    throw createError(
      'UNKNOWN_LANGUAGE',
      `${run.name} has no fit data for language "${lang}" (fit languages: ${run.projection.languages.map((l) => l.lang).join(', ')}); add ${lang}.npy to the fit embeddings or leave ${lang} out of the evaluated languages`,
    );
  }
  const key = needsLanguage(run.projection.method) ? lang : '';
  let op = operators.get(run)?.get(key);
  if (!op) {
    op = createOperator(run.projection, { lang });
    operators.set(run, (operators.get(run) ?? new Map()).set(key, op));
  }
  const r = projectRows(op, out.data, out.rows, lang);
  return { ...out, data: r.data, dim: r.dim };
}

/** Refuse vectors whose dimension differs from what a method was fitted on. */
export function checkDims(runs: MethodRun[], dim: number, file: string): void {
  for (const r of runs) {
    if (r.projection.method !== 'none' && r.projection.dim !== dim) {
      throw createError('DIM_MISMATCH', `${file}: dimension ${dim}, but ${r.name} was fitted on dimension ${r.projection.dim}`);
    }
  }
}
