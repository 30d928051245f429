/** `lsar fit`: stream per-language embedding files into moments, then fit a projection. */
import { readFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { createError } from '../core/errors.js';
import { MomentAccumulator } from '../core/moments.js';
import type { FloatArray } from '../core/rows.js';
import { fitProjection, parseMethod, resolveParams, type FitOptions, type LanguageMoments, type Projection } from '../core/projection.js';
import { checkUniqueLanguages, labelWarnings, languageInput, type LanguageInput } from '../io/inputs.js';
import { hashFilesInPool } from '../adapters/pool.js';
import { canonicalLanguage } from '../io/languages.js';
import { HOST_LITTLE, NpyReader } from '../io/npy.js';

export interface SourceFile {
  lang: string;
  file: string;
  sha256: string;
  rows: number;
  dim: number;
  dtype: string;
}

export interface Provenance {
  inputs: SourceFile[];
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

export interface FitFileOptions extends FitOptions {
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
  const inputs = given.map((i) => languageInput(i.lang, i.path));
  precheck(options, inputs.length, inputs[0] && `${inputs[0].lang} from ${inputs[0].path}`);
  const { moments, provenance } = await momentsFromFiles(inputs, {
    ...options,
    secondMoment: parseMethod(options.method) === 'lir',
    check: (L, d) => resolveParams(options, L, d),
  });
  const projection = fitProjection(moments, options);
  return { projection, provenance, warnings: [...labelWarnings(inputs), ...fitWarnings(projection, provenance)] };
}

/** Warnings about a fit: most dimensions removed, embeddings from a model that says it is a test model. */
export function fitWarnings(p: Projection, provenance?: Provenance): string[] {
  const out: string[] = [];
  const removed = p.method === 'lsar' || p.method === 'lir' ? p.remove : 0;
  if (removed > p.dim / 2) {
    out.push(
      `the projection removes ${removed} of ${p.dim} dimensions${p.method === 'lsar' ? ` (rank ${p.rank}); little is left: choose a smaller rank (e.g. the rank sweep of lsar retrieve)` : ''}`,
    );
  }
  const note = (provenance?.manifest as { model?: { note?: string; id?: string } } | undefined)?.model;
  if (note?.note) out.push(`the embeddings come from ${note.id}: ${note.note}`);
  return out;
}

export interface MomentsOptions {
  /** Also accumulate X^T X (for lir). */
  secondMoment?: boolean;
  onProgress?: (p: FitProgress) => void;
  blockRows?: number;
  hash?: boolean;
  /** Called with (languages, dim) once the headers are read, before any data. */
  check?: (languages: number, dim: number) => void;
}

/** Stream per-language files into their moments (means, row counts, optionally X^T X). */
export async function momentsFromFiles(
  inputs: LanguageInput[],
  options: MomentsOptions = {},
): Promise<{ moments: LanguageMoments[]; provenance: Provenance }> {
  inputs = inputs.map((i) => languageInput(i.lang, i.path));
  checkUniqueLanguages(inputs);
  const readers: NpyReader[] = [];
  try {
    // Open every header first: dimension mismatches and bad files fail before any data is read.
    for (const i of inputs) readers.push(await NpyReader.open(i.path));
    const first = readers[0] as NpyReader;
    for (const r of readers) {
      if (r.dim !== first.dim) {
        throw createError(
          'DIM_MISMATCH',
          `${r.path}: dimension ${r.dim}, but ${first.path} has ${first.dim}: all languages must come from the same encoder`,
        );
      }
    }
    options.check?.(readers.length, first.dim);
    // Provenance hashes on another core while this thread accumulates.
    const hashes = options.hash === false ? Promise.resolve(readers.map(() => '')) : hashFilesInPool(readers.map((r) => r.path));
    hashes.catch(() => undefined);
    const langs: LanguageMoments[] = [];
    const sources: SourceFile[] = [];
    for (let k = 0; k < readers.length; k++) {
      const r = readers[k] as NpyReader;
      const lang = (inputs[k] as LanguageInput).lang;
      const acc = new MomentAccumulator(r.dim, { secondMoment: options.secondMoment === true });
      // Little-endian float32 rows are read straight into the summing kernel's memory.
      const direct = r.header.dtype === '<f4' && HOST_LITTLE ? acc.directBuffers() : undefined;
      const blocks = direct
        ? r.blocks(
            Math.min(options.blockRows ?? Infinity, direct.capacity),
            direct.buffers.map((b) => new Uint8Array(b.buffer, b.byteOffset, b.byteLength)),
          )
        : r.blocks(options.blockRows);
      try {
        for await (const b of blocks) {
          addChecked(acc, b.data, b.rows, r.path, b.start);
          options.onProgress?.({ lang, file: r.path, rowsDone: b.start + b.rows, rowsTotal: r.rows });
        }
      } finally {
        acc.dispose();
      }
      langs.push({ lang, rows: acc.count, mean: acc.mean(), ...(acc.gram ? { secondMoment: acc.secondMoment() } : {}) });
      sources.push({ lang, file: r.path, sha256: '', rows: r.rows, dim: r.dim, dtype: r.header.dtype });
    }
    (await hashes).forEach((h, k) => ((sources[k] as SourceFile).sha256 = h));
    const manifest = await findManifest(inputs);
    return { moments: langs, provenance: { inputs: sources, ...(manifest !== undefined ? { manifest } : {}) } };
  } finally {
    await Promise.all(readers.map((r) => r.close()));
  }
}

function addChecked(acc: MomentAccumulator, data: FloatArray, rows: number, file: string, start: number): void {
  const bad = acc.add(data, rows);
  if (bad >= 0) {
    throw createError('NON_FINITE', `${file}: row ${start + bad} holds NaN or Inf`);
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
    const acc = new MomentAccumulator(dim, { secondMoment: method === 'lir' });
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
