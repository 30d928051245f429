/** `lsar fit`: stream per-language embedding files into moments, then fit a projection. */
import { readFile, stat } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { createError } from '../core/errors.js';
import { languageMoments, MomentAccumulator } from '../core/moments.js';
import type { FloatArray } from '../core/rows.js';
import { needsSecondMoment, parseMethod, type FitOptions, type LanguageMoments, type Projection } from '../core/projection.js';
import { fitProjection, resolveParams } from '../core/fit.js';
import { checkUniqueLanguages, labelWarnings, languageInput, type LanguageInput } from '../io/inputs.js';
import { fileMomentsInPool, poolSize, warmWorkerPool } from '../adapters/pool.js';
import { readFileMoments, type FileMoments } from '../io/moments-file.js';
import { canonicalLanguage } from '../io/languages.js';
import { NpyReader } from '../io/npy.js';
import { openEmbeddings } from '../io/embeddings.js';
import { CONTENT_HASH, contentHashFile } from '../io/hash.js';

export interface SourceFile {
  lang: string;
  file: string;
  /** Content hash of the file and its algorithm (xxh3-128; artifacts of lsar 0.1 recorded `sha256`). */
  hash?: string;
  hashAlgorithm?: string;
  rows: number;
  dim: number;
  dtype: string;
}

export interface Provenance {
  inputs: SourceFile[];
  /** When fitted from shard statistics (lsar stats): their files. */
  shards?: string[];
  /** The embedding manifest (from `lsar embed`) found beside the inputs, if any. */
  manifest?: unknown;
}

export interface FitResult {
  projection: Projection;
  provenance: Provenance;
  /** Things the caller should know (labels that are no language code, most dimensions removed, a test model). */
  warnings: string[];
}

export interface FitProgress {
  lang: string;
  file: string;
  rowsDone: number;
  rowsTotal: number;
}

/** Where the embeddings are in a file (Parquet) and where each row's language is. */
export interface ColumnOptions {
  /** Parquet: the embedding column (default `embedding`). */
  column?: string;
  /** Parquet: a column with each row's language; the inputs' own languages are then ignored (one file may hold many). */
  langColumn?: string;
}

export interface FitFileOptions extends FitOptions, ColumnOptions {
  /** Called after each block read. */
  onProgress?: (p: FitProgress) => void;
  /** Rows per read block (default: about 8 MiB). */
  blockRows?: number;
  /** Record each input's SHA-256 in the provenance (default true; computed on a worker thread). */
  hash?: boolean;
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

/** Fit from `.npy` files, one per language. Holds only O(d) (lir: O(d^2)) per language in memory. */
export async function fitFromFiles(given: LanguageInput[], options: FitFileOptions): Promise<FitResult> {
  const byColumn = options.langColumn !== undefined;
  const inputs = byColumn ? given : given.map((i) => languageInput(i.lang, i.path));
  if (byColumn) parseMethod(options.method);
  else precheck(options, inputs.length, inputs[0] && `${inputs[0].lang} from ${inputs[0].path}`);
  const r = await readLanguageFiles(inputs, {
    ...options,
    secondMoment: needsSecondMoment(parseMethod(options.method)),
    check: (L, d) => {
      if (byColumn) precheck(options, L, `${inputs.map((i) => i.path).join(', ')}, column ${options.langColumn}`);
      resolveParams(options, L, d);
    },
  });
  const moments = toMoments(r);
  const projection = fitProjection(moments, options);
  return {
    projection,
    provenance: r.provenance,
    warnings: [...labelWarnings(r.inputs), ...fitWarnings(projection, r.provenance, options)],
  };
}

/** Warnings about a fit: most dimensions removed, whiten's dims lowered, embeddings from a model that says it is a test model. */
export function fitWarnings(p: Projection, provenance?: Provenance, asked: Pick<FitOptions, 'dims'> = {}): string[] {
  const out: string[] = [];
  if (p.method === 'whiten' && asked.dims === undefined && p.dims !== undefined && p.dims < p.dim) {
    out.push(
      `whiten: the pooled covariance has only ${p.dims} of ${p.dim} eigenvalues that are not (numerically) zero: fitted with dims ${p.dims}, the most that can be whitened, so outputs have ${p.dims} dimensions (give dims to choose)`,
    );
  }
  const removed = p.method === 'lsar' || p.method === 'lir' || p.method === 'abtt' ? p.remove : 0;
  if (removed > p.dim / 2) {
    out.push(
      `the projection removes ${removed} of ${p.dim} dimensions${p.method === 'lsar' ? ` (rank ${p.rank}); little is left: choose a smaller rank (e.g. the rank sweep of lsar retrieve)` : ''}`,
    );
  }
  const note = (provenance?.manifest as { model?: { note?: string; id?: string } } | undefined)?.model;
  if (note?.note) out.push(`the embeddings come from ${note.id}: ${note.note}`);
  return out;
}

/** Below this much data a fit runs on this thread alone. */
const POOL_MIN_BYTES = 256 << 20;

export interface MomentsOptions extends ColumnOptions {
  /** Also accumulate X^T X (for lir). */
  secondMoment?: boolean;
  onProgress?: (p: FitProgress) => void;
  blockRows?: number;
  hash?: boolean;
  /** Called with (languages, dim) once the headers are read, before any data. */
  check?: (languages: number, dim: number) => void;
}

/**
 * Per-language moments (means, row counts, optionally X^T X) of `.npy` files: every header is
 * checked first, then the files are read on the worker pool, one per core at a time, each in
 * one pass that sums and hashes its rows.
 */
export async function momentsFromFiles(
  inputs: LanguageInput[],
  options: MomentsOptions = {},
): Promise<{ moments: LanguageMoments[]; provenance: Provenance }> {
  const r = await readLanguageFiles(inputs, options);
  return { moments: toMoments(r), provenance: r.provenance };
}

function toMoments(r: { inputs: LanguageInput[]; files: FileMoments[]; dim: number }): LanguageMoments[] {
  return r.files.map((m, k) => languageMoments((r.inputs[k] as LanguageInput).lang, m.rows, m.sum, m.gram, r.dim));
}

/** Each language file read in one pass: its sums (and X^T X), rows and content hash, with the provenance record. */
export async function readLanguageFiles(
  inputs: LanguageInput[],
  options: MomentsOptions = {},
): Promise<{ inputs: LanguageInput[]; files: FileMoments[]; dim: number; provenance: Provenance }> {
  if (options.langColumn === undefined) {
    inputs = inputs.map((i) => languageInput(i.lang, i.path));
    checkUniqueLanguages(inputs);
  }
  const manifest = await findManifest(inputs);
  const inside = (manifest as { model?: { export?: { projection?: { method?: string } | null } } } | undefined)?.model?.export?.projection;
  if (inside && inside.method !== 'none') {
    throw createError(
      'INPUT',
      `${dirname((inputs[0] as LanguageInput).path)}: these embeddings were made by a model with a projection inside (lsar export, ${inside.method}): they are already projected; fit on embeddings of the original model`,
    );
  }
  if (options.langColumn !== undefined) await refuseRepeatedFiles(inputs.map((i) => i.path));
  // .npy files are read in one pass each on the worker pool; Parquet and JSON Lines through the one loader
  if (options.langColumn !== undefined || inputs.some((i) => !/\.npy$/i.test(i.path))) return readByRows(inputs, options, manifest);
  const headers: { path: string; rows: number; dim: number }[] = [];
  let warmed = false;
  // Open every header first: dimension mismatches and bad files fail before any data is read.
  for (const i of inputs) {
    const r = await NpyReader.open(i.path);
    headers.push({ path: r.path, rows: r.rows, dim: r.dim });
    await r.close();
    // As soon as the inputs are known to be large, start the worker threads.
    if (!warmed && headers.reduce((a, h) => a + h.rows * h.dim * 4, 0) >= POOL_MIN_BYTES && inputs.length > 1) {
      warmWorkerPool();
      warmed = true;
    }
  }
  const first = headers[0] as { path: string; dim: number };
  for (const r of headers) {
    if (r.dim !== first.dim) {
      throw createError(
        'DIM_MISMATCH',
        `${r.path}: dimension ${r.dim}, but ${first.path} has ${first.dim}: all languages must come from the same encoder`,
      );
    }
  }
  options.check?.(headers.length, first.dim);
  const hash = options.hash !== false;
  const opts = { secondMoment: options.secondMoment === true, hash, ...(options.blockRows ? { blockRows: options.blockRows } : {}) };
  // Files are taken from one queue by this thread and, for inputs worth it, by the worker
  // pool (whose threads take a fraction of a second to start): small fits never wait for them.
  const files: FileMoments[] = new Array(inputs.length);
  let next = 0;
  const runner = async (read: (path: string) => Promise<FileMoments>) => {
    while (next < inputs.length) {
      const k = next++;
      const input = inputs[k] as LanguageInput;
      const m = await read(input.path);
      files[k] = m;
      options.onProgress?.({ lang: input.lang, file: input.path, rowsDone: m.rows, rowsTotal: (headers[k] as { rows: number }).rows });
    }
  };
  const bytes = headers.reduce((a, h) => a + h.rows * h.dim * 4, 0);
  const helpers = bytes >= POOL_MIN_BYTES && inputs.length > 1 ? poolSize() : 0;
  await Promise.all([
    runner((path) => readFileMoments(path, opts)),
    ...Array.from({ length: helpers }, () => runner((path) => fileMomentsInPool(path, opts))),
  ]);
  const sources: SourceFile[] = files.map((m, k) => ({
    lang: (inputs[k] as LanguageInput).lang,
    file: m.path,
    ...(m.hash ? { hashAlgorithm: m.hash.algorithm, hash: m.hash.digest } : {}),
    rows: m.rows,
    dim: m.dim,
    dtype: m.dtype,
  }));
  return { inputs, files, dim: first.dim, provenance: { inputs: sources, ...(manifest !== undefined ? { manifest } : {}) } };
}

/**
 * Moments of inputs read through the one embeddings loader, on this thread: Parquet and JSON Lines files, and
 * files whose rows carry their language in a column (one file may hold many languages; labels
 * are canonicalised, so fra and fr rows are one language).
 */
async function readByRows(
  inputs: LanguageInput[],
  options: MomentsOptions,
  manifest: unknown,
): Promise<{ inputs: LanguageInput[]; files: FileMoments[]; dim: number; provenance: Provenance }> {
  const byLang = new Map<string, { input: LanguageInput; acc: MomentAccumulator; files: Set<string>; dtype: string }>();
  const canonical = new Map<string, LanguageInput>();
  const sources: SourceFile[] = [];
  let dim: number | undefined;
  let first = '';
  try {
    for (const input of inputs) {
      const src = await openEmbeddings(input.path, {
        ...(options.column !== undefined ? { column: options.column } : {}),
        ...(options.langColumn !== undefined ? { langColumn: options.langColumn } : {}),
        ...(dim !== undefined ? { dim, dimOf: `${first} has dimension` } : {}),
      });
      let rows = 0;
      try {
        for await (const b of src.blocks(options.blockRows)) {
          const d = src.dim as number;
          if (dim === undefined) {
            dim = d;
            first = input.path;
          }
          const add = (label: string, from: number, to: number) => {
            let li = canonical.get(label);
            if (!li) {
              li =
                options.langColumn !== undefined
                  ? languageInput(label, input.path, `${input.path} (${options.langColumn} "${label}")`)
                  : input;
              canonical.set(label, li);
            }
            let e = byLang.get(li.lang);
            if (!e) {
              e = {
                input: li,
                acc: new MomentAccumulator(d, { secondMoment: options.secondMoment === true }),
                files: new Set(),
                dtype: src.dtype,
              };
              byLang.set(li.lang, e);
            }
            e.files.add(input.path);
            const bad = e.acc.add(b.data.subarray(from * d, to * d), to - from);
            if (bad >= 0) throw createError('NON_FINITE', `${input.path}: row ${b.start + from + bad} holds NaN or Inf`);
          };
          if (b.langs) {
            for (let a = 0; a < b.rows;) {
              let z = a + 1;
              while (z < b.rows && b.langs[z] === b.langs[a]) z++;
              add(b.langs[a] as string, a, z);
              a = z;
            }
          } else add(input.lang, 0, b.rows);
          rows += b.rows;
          options.onProgress?.({ lang: input.lang, file: input.path, rowsDone: rows, rowsTotal: src.rows ?? rows });
        }
      } finally {
        await src.close();
      }
      if (rows === 0) throw createError('EMPTY', `${input.path}: no rows`);
      sources.push({
        lang: options.langColumn !== undefined ? `column ${options.langColumn}` : input.lang,
        file: input.path,
        ...(options.hash !== false ? { hashAlgorithm: CONTENT_HASH, hash: await contentHashFile(input.path) } : {}),
        rows,
        dim: dim as number,
        dtype: src.dtype,
      });
    }
    const langs = [...byLang.values()].sort((a, b) => (a.input.lang < b.input.lang ? -1 : a.input.lang > b.input.lang ? 1 : 0));
    options.check?.(langs.length, dim as number);
    const files: FileMoments[] = langs.map((e) => ({
      path: [...e.files].join(', '),
      rows: e.acc.count,
      dim: dim as number,
      dtype: e.dtype,
      sum: Float64Array.from(e.acc.sum),
      ...(e.acc.gram ? { gram: e.acc.gram } : {}),
    }));
    return {
      inputs: langs.map((e) => ({ ...e.input, path: [...e.files].join(', ') })),
      files,
      dim: dim as number,
      provenance: { inputs: sources, ...(manifest !== undefined ? { manifest } : {}) },
    };
  } finally {
    for (const e of byLang.values()) e.acc.dispose();
  }
}

function addChecked(acc: MomentAccumulator, data: FloatArray, rows: number, file: string, start: number): void {
  const bad = acc.add(data, rows);
  if (bad >= 0) {
    throw createError('NON_FINITE', `${file}: row ${start + bad} holds NaN or Inf`);
  }
}

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
      addChecked(acc, x, x.length / dim, `language "${lang}"`, 0);
    } finally {
      acc.dispose();
    }
    return { lang, rows: acc.count, mean: acc.mean(), ...(acc.gram ? { secondMoment: acc.secondMoment() } : {}) };
  });
  return fitProjection(langs, options);
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
