/**
 * Fitting over shards: `lsar stats` writes each language's row count and float64 sum (and
 * X^T X for lir, abtt and whiten) of one shard of the data, with provenance (io/stats-file.ts);
 * `lsar fit --stats a.json b.json ...` merges any number of them into the projection that
 * fitting all rows at once gives (the sums add; only their float64 rounding order differs). Any
 * job runner can compute the shards (a Slurm array, a Kubernetes Indexed Job, Ray or Spark
 * tasks running the CLI).
 */
import { shardSchema, taskShard } from './services/shard.js';
import type { Shard } from '../core/shard.js';
import { createError } from '../core/errors.js';
import { needsSecondMoment, parseMethod, type FitOptions, type LanguageMoments, type Projection } from '../core/projection.js';
import { fitProjection, resolveParams } from '../core/fit.js';
import { refuseOverwrite } from '../io/same-file.js';
import type { LanguageInput } from '../io/inputs.js';
import { languageMoments } from '../core/moments.js';
import type { Events } from '../core/events.js';
import { loadStats, saveStats, type LanguageStats, type ShardStats } from '../io/stats-file.js';
import { validate, type OptionsOf, type Schema } from '../core/schema.js';
import { resolveInputs, languageFilesSchema } from './services/inputs.js';
import { columnSchema, readLanguageFiles, type ColumnOptions, type Provenance } from './services/moments.js';

export { loadStats, saveStats, type LanguageStats, type ShardStats } from '../io/stats-file.js';

/** `lsar stats`: one shard of the data. */
export const statsSchema = {
  dir: {
    type: 'string',
    positional: true,
    description: 'Directory of <lang>.npy (.parquet, .jsonl) files (this shard); with --lang-column, a Parquet file or a directory of them',
  },
  ...languageFilesSchema,
  gram: { type: 'boolean', default: false, description: 'Also X^T X per language (d x d): needed to fit lir, abtt and whiten' },
  out: { type: 'string', alias: 'o', required: true, description: 'Output: shard.stats.json (written atomically)' },
  ...columnSchema,
  ...shardSchema,
} as const satisfies Schema;

export type StatsVerbOptions = OptionsOf<typeof statsSchema> & { events?: Events };

export interface StatsOptions extends ColumnOptions {
  /** Also X^T X per language (lir, abtt and whiten need it). */
  gram?: boolean;
  /** Only this task's rows of each file (every row of every file is in exactly one shard). */
  shard?: Shard;
  events?: Events;
}

/** The library call behind `lsar stats`: the statistics of one shard, written to `out`. */
export async function stats(options: StatsVerbOptions): Promise<ShardStats> {
  const o = validate(statsSchema, options);
  const inputs = await resolveInputs({
    ...(o.dir !== undefined ? { dir: o.dir } : {}),
    ...(o.input !== undefined ? { inputs: o.input } : {}),
    ...(o.langColumn !== undefined ? { langColumn: o.langColumn } : {}),
  });
  const shard = taskShard(o, options.events);
  return writeStats(inputs, o.out, {
    gram: o.gram,
    ...(shard ? { shard } : {}),
    ...(o.column !== undefined ? { column: o.column } : {}),
    ...(o.langColumn !== undefined ? { langColumn: o.langColumn } : {}),
    ...(options.events ? { events: options.events } : {}),
  });
}

/** One shard's statistics from per-language files, written to `out` (never over one of the inputs). */
export async function writeStats(inputs: LanguageInput[], out: string, options: StatsOptions = {}): Promise<ShardStats> {
  await refuseOverwrite(
    [{ path: out, param: 'out' }],
    inputs.map((i) => i.path),
  );
  const stats = await computeStats(inputs, options);
  await saveStats(out, stats);
  return stats;
}

/** One shard's statistics from per-language files. */
export async function computeStats(inputs: LanguageInput[], options: StatsOptions = {}): Promise<ShardStats> {
  const r = await readLanguageFiles(inputs, {
    secondMoment: options.gram === true,
    ...(options.shard ? { shard: options.shard } : {}),
    ...(options.column !== undefined ? { column: options.column } : {}),
    ...(options.langColumn !== undefined ? { langColumn: options.langColumn } : {}),
    ...(options.events ? { events: options.events } : {}),
  });
  return {
    dim: r.dim,
    gram: options.gram === true,
    languages: r.languages.map((l) => ({ lang: l.input.lang, rows: l.rows, sum: l.sum, ...(l.gram ? { gram: l.gram } : {}) })),
    source: r.provenance,
  };
}

/**
 * Refuse rows that would be counted twice: a statistics file given twice, or one input file
 * (by its content hash) summarised in two shards.
 */
export function checkDisjoint(shards: { path: string; stats: ShardStats }[]): void {
  // per file content: the row ranges counted, by whom (a whole file is one range)
  const seen = new Map<string, { shard: string; file: string; start: number; end: number; total?: number }[]>();
  for (const { path, stats } of shards) {
    const own = new Set<string>();
    for (const i of stats.source.inputs) {
      if (!i.hash) continue;
      const key = `${i.hashAlgorithm ?? ''}:${i.hash}`;
      if (own.has(key)) continue;
      own.add(key);
      const r = i.range ?? { start: 0, end: Infinity };
      const list = seen.get(key) ?? [];
      const clash = list.find((p) => p.start < r.end && r.start < p.end);
      if (clash) {
        throw createError(
          'INPUT',
          clash.shard === path
            ? `${path} is given twice: its rows would be counted twice`
            : `${i.file} (in ${path}${i.range ? `, rows ${r.start}-${r.end}` : ''}) has the same content as ${clash.file} (in ${clash.shard}${Number.isFinite(clash.end) ? `, rows ${clash.start}-${clash.end}` : ''}): its rows would be counted twice; give each shard's statistics once, made from disjoint parts of the data`,
          { param: 'stats' },
        );
      }
      list.push({ shard: path, file: i.file, start: r.start, end: r.end, ...(i.range ? { total: i.range.total } : {}) });
      seen.set(key, list);
    }
  }
  // a file read in row shards (lsar stats --shard) must be read whole: a missing task would fit on part of it
  for (const list of seen.values()) {
    const total = list.find((p) => p.total !== undefined)?.total;
    if (total === undefined) continue;
    const sorted = [...list].sort((a, b) => a.start - b.start);
    let next = 0;
    for (const p of sorted) {
      if (p.start > next) break;
      next = Math.max(next, p.end);
    }
    if (next < total) {
      const gap = sorted.find((p) => p.start > next)?.start ?? total;
      throw createError(
        'INPUT',
        `rows ${next}-${gap} of ${(list[0] as { file: string }).file} (of ${total}) are in none of the stats files given: give every shard's statistics (did a task fail?)`,
        { param: 'stats' },
      );
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
