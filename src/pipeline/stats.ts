/**
 * Fitting over shards: `lsar stats` writes each language's row count and float64 sum (and
 * X^T X for lir) of one shard of the data, with provenance; `lsar fit --stats a.json b.json ...`
 * merges any number of them into the projection that fitting all rows at once gives (the sums
 * add; only their float64 rounding order differs). Any job runner can compute the shards
 * (a Slurm array, a Kubernetes Indexed Job, Ray or Spark tasks running the CLI).
 *
 * Format (JSON): {"format": "lsar-stats", "formatVersion": 1, "lsarVersion", "created", "dim",
 * "gram": bool, "languages": [{"lang", "rows", "sum": [d numbers], "gram"?: "<base64 of the
 * d x d upper-triangle float64 little-endian>"}], "source": {"inputs": [...]}}. Numbers are
 * written with the shortest decimal that reads back as the same float64.
 */
import { readFile } from 'node:fs/promises';
import { createError } from '../core/errors.js';
import { needsSecondMoment, parseMethod, type FitOptions, type LanguageMoments, type Projection } from '../core/projection.js';
import { fitProjection, resolveParams } from '../core/fit.js';
import { writeFileAtomic } from '../io/atomic.js';
import { refuseOverwrite } from '../io/same-file.js';
import type { LanguageInput } from '../io/inputs.js';
import { canonicalLanguage } from '../io/languages.js';
import { VERSION } from '../version.js';
import { languageMoments } from '../core/moments.js';
import { readLanguageFiles, type Provenance } from './fit.js';

export const STATS_FORMAT = 'lsar-stats';

export interface LanguageStats {
  lang: string;
  rows: number;
  sum: Float64Array;
  /** Upper triangle of X^T X (row-major d x d), for lir. */
  gram?: Float64Array;
}

export interface ShardStats {
  dim: number;
  gram: boolean;
  languages: LanguageStats[];
  source: Provenance;
}

/** One shard's statistics from per-language files, written to `out` (never over one of the inputs). */
export async function writeStats(
  inputs: LanguageInput[],
  out: string,
  options: { gram?: boolean; onProgress?: (lang: string) => void; column?: string; langColumn?: string } = {},
): Promise<ShardStats> {
  await refuseOverwrite(
    [{ path: out, param: 'out' }],
    inputs.map((i) => i.path),
  );
  const stats = await computeStats(inputs, options);
  await saveStats(out, stats);
  return stats;
}

/** One shard's statistics from per-language files. */
export async function computeStats(
  inputs: LanguageInput[],
  options: { gram?: boolean; onProgress?: (lang: string) => void; column?: string; langColumn?: string } = {},
): Promise<ShardStats> {
  const r = await readLanguageFiles(inputs, {
    secondMoment: options.gram === true,
    ...(options.column !== undefined ? { column: options.column } : {}),
    ...(options.langColumn !== undefined ? { langColumn: options.langColumn } : {}),
    ...(options.onProgress ? { onProgress: (p) => options.onProgress?.(p.lang) } : {}),
  });
  return {
    dim: r.dim,
    gram: options.gram === true,
    languages: r.files.map((f, k) => ({
      lang: (r.inputs[k] as LanguageInput).lang,
      rows: f.rows,
      sum: f.sum,
      ...(f.gram ? { gram: f.gram } : {}),
    })),
    source: r.provenance,
  };
}

function toBase64(x: Float64Array): string {
  return Buffer.from(x.buffer, x.byteOffset, x.byteLength).toString('base64');
}

function fromBase64(s: string, n: number, where: string): Float64Array {
  const b = Buffer.from(s, 'base64');
  if (b.length !== n * 8) throw createError('INPUT', `${where}: gram holds ${b.length / 8} numbers, expected ${n}`);
  const out = new Float64Array(n);
  new Uint8Array(out.buffer).set(b);
  return out;
}

export async function saveStats(path: string, s: ShardStats): Promise<void> {
  const json = {
    format: STATS_FORMAT,
    formatVersion: 1,
    lsarVersion: VERSION,
    created: new Date().toISOString(),
    dim: s.dim,
    gram: s.gram,
    languages: s.languages.map((l) => ({
      lang: l.lang,
      rows: l.rows,
      sum: Array.from(l.sum),
      ...(l.gram ? { gram: toBase64(l.gram) } : {}),
    })),
    source: s.source,
  };
  await writeFileAtomic(path, JSON.stringify(json) + '\n');
}

export async function loadStats(path: string): Promise<ShardStats> {
  let json: {
    format?: string;
    formatVersion?: number;
    dim?: number;
    gram?: boolean;
    languages?: { lang: string; rows: number; sum: number[]; gram?: string }[];
    source?: Provenance;
  };
  try {
    json = JSON.parse(await readFile(path, 'utf8'));
  } catch (e) {
    if ((e as { code?: string }).code === 'ENOENT')
      throw createError('NOT_FOUND', `${path}: no such statistics file (make one with lsar stats)`, { cause: e });
    throw createError('INPUT', `${path}: not valid JSON (${(e as Error).message})`, { cause: e });
  }
  if (json.format !== STATS_FORMAT)
    throw createError('INPUT', `${path}: not lsar statistics (format ${JSON.stringify(json.format)}, expected "${STATS_FORMAT}")`);
  if (json.formatVersion !== 1)
    throw createError('INPUT', `${path}: statistics format version ${json.formatVersion} is not supported (this lsar reads 1)`);
  const d = json.dim;
  if (!Number.isInteger(d) || (d as number) < 1 || !Array.isArray(json.languages))
    throw createError('INPUT', `${path}: missing dim or languages`);
  const dim = d as number;
  const languages = json.languages.map((l, i) => {
    const where = `${path}: language ${i} (${l.lang})`;
    if (!Array.isArray(l.sum) || l.sum.length !== dim || l.sum.some((x) => typeof x !== 'number' || !Number.isFinite(x)))
      throw createError('INPUT', `${where}: sum must be ${dim} finite numbers`);
    if (!Number.isInteger(l.rows) || l.rows < 0) throw createError('INPUT', `${where}: bad row count ${l.rows}`);
    return {
      lang: canonicalLanguage(l.lang, where).lang,
      rows: l.rows,
      sum: Float64Array.from(l.sum),
      ...(json.gram && l.gram ? { gram: fromBase64(l.gram, dim * dim, where) } : {}),
    };
  });
  return { dim, gram: json.gram === true, languages, source: json.source ?? { inputs: [] } };
}

/**
 * Refuse rows that would be counted twice: a statistics file given twice, or one input file
 * (by its content hash) summarised in two shards.
 */
export function checkDisjoint(shards: { path: string; stats: ShardStats }[]): void {
  const seen = new Map<string, { shard: string; file: string }>();
  for (const { path, stats } of shards) {
    const own = new Set<string>();
    for (const i of stats.source.inputs) {
      if (!i.hash) continue;
      const key = `${i.hashAlgorithm ?? ''}:${i.hash}`;
      if (own.has(key)) continue;
      own.add(key);
      const prev = seen.get(key);
      if (prev) {
        throw createError(
          'INPUT',
          prev.shard === path
            ? `${path} is given twice: its rows would be counted twice`
            : `${i.file} (in ${path}) has the same content as ${prev.file} (in ${prev.shard}): its rows would be counted twice; give each shard's statistics once, made from disjoint parts of the data`,
          { param: 'stats' },
        );
      }
      seen.set(key, { shard: path, file: i.file });
    }
  }
}

/** Merge shards: rows and sums (and X^T X) added per language. */
export function mergeStats(shards: { path: string; stats: ShardStats }[]): { languages: LanguageStats[]; dim: number; gram: boolean } {
  if (shards.length === 0) throw createError('USAGE', 'fitting from statistics needs at least one stats file', { param: 'stats' });
  checkDisjoint(shards);
  const first = shards[0] as { path: string; stats: ShardStats };
  const dim = first.stats.dim;
  const gram = shards.every((s) => s.stats.gram);
  const merged = new Map<string, LanguageStats>();
  for (const { path, stats } of shards) {
    if (stats.dim !== dim)
      throw createError(
        'DIM_MISMATCH',
        `${path}: dimension ${stats.dim}, but ${first.path} has ${dim}: shards must come from the same encoder`,
      );
    for (const l of stats.languages) {
      const m = merged.get(l.lang);
      if (!m) {
        merged.set(l.lang, {
          lang: l.lang,
          rows: l.rows,
          sum: Float64Array.from(l.sum),
          ...(gram && l.gram ? { gram: Float64Array.from(l.gram) } : {}),
        });
        continue;
      }
      m.rows += l.rows;
      for (let i = 0; i < dim; i++) m.sum[i] = (m.sum[i] as number) + (l.sum[i] as number);
      if (m.gram && l.gram) for (let i = 0; i < m.gram.length; i++) m.gram[i] = (m.gram[i] as number) + (l.gram[i] as number);
    }
  }
  return { languages: [...merged.values()].sort((a, b) => (a.lang < b.lang ? -1 : a.lang > b.lang ? 1 : 0)), dim, gram };
}

/** Fit a projection from shard statistics files. */
export async function fitFromStats(paths: string[], options: FitOptions): Promise<{ projection: Projection; provenance: Provenance }> {
  const method = parseMethod(options.method);
  const shards = await Promise.all(paths.map(async (path) => ({ path, stats: await loadStats(path) })));
  const { languages, dim, gram } = mergeStats(shards);
  if (needsSecondMoment(method) && !gram) {
    const without = shards.filter((s) => !s.stats.gram).map((s) => s.path);
    throw createError(
      'USAGE',
      `${method} needs X^T X from every shard, but ${without.join(', ')} were made without it (lsar stats --gram)`,
      {
        params: ['gram'],
      },
    );
  }
  resolveParams(options, languages.length, dim);
  const moments: LanguageMoments[] = languages.map((l) => {
    if (l.rows < 1) throw createError('EMPTY', `language "${l.lang}" has no rows in any shard`);
    return languageMoments(l.lang, l.rows, l.sum, needsSecondMoment(method) ? l.gram : undefined, dim);
  });
  const projection = fitProjection(moments, options);
  const provenance: Provenance = { inputs: shards.flatMap((s) => s.stats.source.inputs), shards: paths };
  return { projection, provenance };
}
