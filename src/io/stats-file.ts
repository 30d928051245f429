/**
 * The statistics file of one shard of the data (lsar stats), merged by lsar fit --stats.
 *
 * Format (JSON): {"format": "lsar-stats", "formatVersion": 1, "lsarVersion", "created", "dim",
 * "gram": bool, "languages": [{"lang", "rows", "sum": [d numbers], "gram"?: "<base64 of the
 * d x d upper-triangle float64 little-endian>"}], "source": {"inputs": [...]}}. Numbers are
 * written with the shortest decimal that reads back as the same float64.
 */
import { readFile } from 'node:fs/promises';
import { createError } from '../core/errors.js';
import { VERSION } from '../version.js';
import { writeFileAtomic } from './atomic.js';
import { canonicalLanguage } from './languages.js';

/** Where the statistics' rows came from: the files summarised (with their content hashes). */
/** One input file as read for fitting: its language, content hash, shape and (with a shard) the rows read. */
export interface SourceFile {
  lang: string;
  file: string;
  /** Content hash of the file and its algorithm (xxh3-128; artifacts of lsar 0.1 recorded `sha256`). */
  hash?: string;
  hashAlgorithm?: string;
  rows: number;
  dim: number;
  dtype: string;
  /** A row shard (lsar stats --shard): the rows [start, end) of the file's `total` that were read. */
  range?: { start: number; end: number; total: number };
}

export interface StatsSource {
  inputs: SourceFile[];
  shards?: string[];
  manifest?: unknown;
}

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
  source: StatsSource;
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
    source?: StatsSource;
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
