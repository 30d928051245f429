/**
 * Per-language moments of a set of embedding files (what fit, stats, inspect and retrieve fit
 * on): each file read once by io/moments-file.ts, `.npy` files spread over the worker pool when
 * the data are large, the languages of language columns gathered across files (labels
 * canonicalised: fra and fr rows are one language), and the inputs' provenance recorded.
 */
import type { Shard } from '../../core/shard.js';
import { readFile, stat } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { createError, opt } from '../../core/errors.js';
import type { OptionsOf, Schema } from '../../core/schema.js';
import type { Events } from '../../core/events.js';
import { languageMoments } from '../../core/moments.js';
import type { LanguageMoments } from '../../core/projection.js';
import { fileMomentsInPool, poolSize, warmWorkerPool } from '../../adapters/pool.js';
import { checkUniqueLanguages, languageInput, type LanguageInput } from '../../io/inputs.js';
import { readFileMoments, type FileMoments, type FileMomentsOptions, type LanguageSums } from '../../io/moments-file.js';
import { NpyReader } from '../../io/npy.js';

export type { SourceFile } from '../../io/stats-file.js';
import type { SourceFile } from '../../io/stats-file.js';

export interface Provenance {
  inputs: SourceFile[];
  /** When fitted from shard statistics (lsar stats): their files. */
  shards?: string[];
  /** The embedding manifest (from `lsar embed`) found beside the inputs, if any. */
  manifest?: unknown;
}

/** Where the embeddings are in a Parquet file, and where each row's language is. */
export const columnSchema = {
  column: {
    type: 'string',
    description: 'Parquet inputs: the embedding column (FixedSizeList or List of float16/32/64)',
    defaultText: 'embedding',
    group: 'Parquet:',
  },
  langColumn: {
    type: 'string',
    description: "Parquet inputs: a column of each row's language (one file may then hold many languages)",
    group: 'Parquet:',
  },
} as const satisfies Schema;

export type ColumnOptions = OptionsOf<typeof columnSchema>;

export interface MomentsOptions extends ColumnOptions {
  /** Also accumulate X^T X (lir, abtt, whiten). */
  secondMoment?: boolean;
  blockRows?: number;
  /** Record each input's content hash in the provenance (default true). */
  hash?: boolean;
  /** Called with (languages, dim) once known, before the sums are used. */
  check?: (languages: number, dim: number) => void;
  /** Read only this shard's rows of each file (lsar stats --shard). */
  shard?: Shard;
  events?: Events;
}

/** One language's sums gathered over the files holding it. */
export interface LanguageData {
  input: LanguageInput;
  rows: number;
  sum: Float64Array;
  gram?: Float64Array;
}

/** Below this much .npy data a read runs on this thread alone. */
const POOL_MIN_BYTES = 256 << 20;

/** Files whose rows carry their language: one given twice (by path or through a link) would be counted twice. */
async function refuseRepeatedFiles(paths: string[]): Promise<void> {
  const seen = new Map<string, string>();
  for (const p of paths) {
    const s = await stat(p).catch(() => undefined);
    if (!s) continue;
    const key = `${s.dev}:${s.ino}`;
    const prev = seen.get(key);
    if (prev !== undefined)
      throw createError('INPUT', `${p} is given twice${prev !== p ? ` (as ${prev})` : ''}: its rows would be counted twice`, {
        param: 'inputs',
      });
    seen.set(key, p);
  }
}

/** A `manifest.json` written by `lsar embed` beside the inputs, parsed, if there is exactly one such directory. */
async function findManifest(inputs: LanguageInput[]): Promise<unknown> {
  const dirs = [...new Set(inputs.map((i) => dirname(i.path)))];
  if (dirs.length !== 1) return undefined;
  try {
    return JSON.parse(await readFile(join(dirs[0] as string, 'manifest.json'), 'utf8'));
  } catch {
    return undefined;
  }
}

/** Read every file once: .npy headers first (a dimension mismatch fails before any data), then the data, large .npy reads on the pool. */
async function readFiles(inputs: LanguageInput[], options: MomentsOptions, base: FileMomentsOptions): Promise<FileMoments[]> {
  const npy = inputs.map((i) => /\.npy$/i.test(i.path) && options.langColumn === undefined);
  let bytes = 0;
  let dim: { dim: number; of: string } | undefined;
  for (const [k, i] of inputs.entries()) {
    if (!npy[k]) continue;
    const r = await NpyReader.open(i.path);
    await r.close();
    if (dim && r.dim !== dim.dim)
      throw createError(
        'DIM_MISMATCH',
        `${r.path}: dimension ${r.dim}, but ${dim.of} has ${dim.dim}: all languages must come from the same encoder`,
      );
    dim ??= { dim: r.dim, of: r.path };
    bytes += r.rows * r.dim * 4;
    // as soon as the inputs are known to be large, start the worker threads
    if (bytes >= POOL_MIN_BYTES && inputs.length > 1) warmWorkerPool();
  }
  const files: FileMoments[] = new Array(inputs.length);
  let next = 0;
  const runner = async (onPool: boolean) => {
    while (next < inputs.length) {
      const k = next++;
      const input = inputs[k] as LanguageInput;
      const o = { ...base, ...(dim ? { dim } : {}) };
      files[k] = onPool && npy[k] ? await fileMomentsInPool(input.path, o) : await readFileMoments(input.path, o);
      // the first file read sets the dimension the others must have
      dim ??= { dim: (files[k] as FileMoments).dim, of: input.path };
      options.events?.progress?.(`read ${input.lang || input.path}`, (files[k] as FileMoments).rows, (files[k] as FileMoments).rows, {
        unit: 'rows',
      });
    }
  };
  const helpers = bytes >= POOL_MIN_BYTES && inputs.length > 1 ? poolSize() : 0;
  await Promise.all([runner(false), ...Array.from({ length: helpers }, () => runner(true))]);
  return files;
}

/**
 * Each language's row count and sums (and X^T X) over the input files, with the provenance of
 * every file read.
 */
export async function readLanguageFiles(
  given: LanguageInput[],
  options: MomentsOptions = {},
): Promise<{ languages: LanguageData[]; dim: number; provenance: Provenance }> {
  const byColumn = options.langColumn !== undefined;
  const inputs = byColumn ? given : given.map((i) => languageInput(i.lang, i.path));
  if (byColumn) await refuseRepeatedFiles(inputs.map((i) => i.path));
  else checkUniqueLanguages(inputs);
  const manifest = await findManifest(inputs);
  const inside = (manifest as { model?: { export?: { projection?: { method?: string } | null } } } | undefined)?.model?.export?.projection;
  if (inside && inside.method !== 'none') {
    throw createError(
      'INPUT',
      `${dirname((inputs[0] as LanguageInput).path)}: these embeddings were made by a model with a projection inside (lsar export, ${inside.method}): they are already projected; fit on embeddings of the original model`,
    );
  }
  const hash = options.hash !== false;
  const files = await readFiles(inputs, options, {
    secondMoment: options.secondMoment === true,
    hash,
    ...(options.blockRows ? { blockRows: options.blockRows } : {}),
    ...(options.column !== undefined ? { column: options.column } : {}),
    ...(options.langColumn !== undefined ? { langColumn: options.langColumn } : {}),
    ...(options.shard ? { shard: options.shard } : {}),
  });
  const dim = (files[0] as FileMoments).dim;
  // gather languages: a file's own, or each label of its language column (canonicalised)
  const byLang = new Map<string, { data: LanguageData; files: string[] }>();
  files.forEach((f, k) => {
    const input = inputs[k] as LanguageInput;
    for (const s of f.langs) {
      const li = byColumn ? languageInput(s.lang, f.path, `${f.path} (${options.langColumn} "${s.lang}")`) : input;
      const e = byLang.get(li.lang);
      if (!e) {
        byLang.set(li.lang, { data: { input: li, rows: s.rows, sum: s.sum, ...(s.gram ? { gram: s.gram } : {}) }, files: [f.path] });
        continue;
      }
      add(e.data, s);
      e.files.push(f.path);
    }
  });
  // the inputs' own languages keep the order given; the labels of language columns are sorted
  const languages = [...byLang.values()].map((e) => ({ ...e.data, input: { ...e.data.input, path: e.files.join(', ') } }));
  if (byColumn) languages.sort((a, b) => (a.input.lang < b.input.lang ? -1 : a.input.lang > b.input.lang ? 1 : 0));
  options.check?.(languages.length, dim);
  const sources: SourceFile[] = files.map((f, k) => ({
    lang: byColumn ? `column ${options.langColumn}` : (inputs[k] as LanguageInput).lang,
    file: f.path,
    ...(f.hash ? { hashAlgorithm: f.hash.algorithm, hash: f.hash.digest } : {}),
    rows: f.rows,
    dim: f.dim,
    dtype: f.dtype,
    ...(f.range ? { range: f.range } : {}),
  }));
  return { languages, dim, provenance: { inputs: sources, ...(manifest !== undefined ? { manifest } : {}) } };
}

function add(into: LanguageData, s: LanguageSums): void {
  into.rows += s.rows;
  for (let i = 0; i < into.sum.length; i++) into.sum[i] = (into.sum[i] as number) + (s.sum[i] as number);
  if (into.gram && s.gram) for (let i = 0; i < into.gram.length; i++) into.gram[i] = (into.gram[i] as number) + (s.gram[i] as number);
}

/** Per-language moments (means, row counts, optionally X^T X) of the input files, with their provenance. */
export async function momentsFromFiles(
  inputs: LanguageInput[],
  options: MomentsOptions = {},
): Promise<{ moments: LanguageMoments[]; languages: LanguageInput[]; provenance: Provenance; dim: number }> {
  const r = await readLanguageFiles(inputs, options);
  const moments = r.languages.map((l) => languageMoments(l.input.lang, l.rows, l.sum, l.gram, r.dim));
  if (moments.length === 0) throw createError('EMPTY', `no rows in ${opt('inputs')}`);
  return { moments, languages: r.languages.map((l) => l.input), provenance: r.provenance, dim: r.dim };
}
