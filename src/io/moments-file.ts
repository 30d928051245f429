/**
 * One embeddings file's moments in one pass: row counts and float64 sums (and X^T X) per
 * language, and the file's content hash. `.npy` float32 rows are read straight into the summing
 * kernel's memory and hashed as they are read; Parquet and JSON Lines go through the one
 * embeddings loader (./embeddings.ts). With a language column, each row's language groups it;
 * otherwise the whole file is one language (`lang: ''`, named by the caller). Runs on the main
 * thread or on a worker (pipeline/services/moments.ts spreads files over the pool).
 */
import { MomentAccumulator } from '../core/moments.js';
import { createError } from '../core/errors.js';
import { openEmbeddings } from './embeddings.js';
import { CONTENT_HASH, contentHashFile } from './hash.js';
import { HOST_LITTLE, NpyReader } from './npy.js';

export interface LanguageSums {
  /** The label as found (a language column's value), or '' for the whole file. */
  lang: string;
  rows: number;
  sum: Float64Array;
  /** Upper triangle of X^T X (row-major d x d), when asked. */
  gram?: Float64Array;
}

export interface FileMoments {
  path: string;
  rows: number;
  dim: number;
  dtype: string;
  /** Per language, in order of first appearance. */
  langs: LanguageSums[];
  /** Content hash of the whole file, when asked. */
  hash?: { algorithm: typeof CONTENT_HASH; digest: string };
}

export interface FileMomentsOptions {
  secondMoment?: boolean;
  hash?: boolean;
  blockRows?: number;
  /** Parquet: the embedding column. */
  column?: string;
  /** Parquet: the column of each row's language. */
  langColumn?: string;
  /** The dimension every file must have (with the file that set it, for the message). */
  dim?: { dim: number; of: string };
}

/** The sums of one file; see the module comment. */
export async function readFileMoments(path: string, options: FileMomentsOptions = {}): Promise<FileMoments> {
  if (/\.npy$/i.test(path) && options.langColumn === undefined) return npyMoments(path, options);
  return loaderMoments(path, options);
}

function sums(lang: string, acc: MomentAccumulator): LanguageSums {
  return { lang, rows: acc.count, sum: Float64Array.from(acc.sum), ...(acc.gram ? { gram: acc.gram } : {}) };
}

async function npyMoments(path: string, options: FileMomentsOptions): Promise<FileMoments> {
  const r = await NpyReader.open(path, { hash: options.hash === true });
  if (options.dim && r.dim !== options.dim.dim) {
    await r.close();
    throw createError(
      'DIM_MISMATCH',
      `${path}: dimension ${r.dim}, but ${options.dim.of} has ${options.dim.dim}: all languages must come from the same encoder`,
    );
  }
  const acc = new MomentAccumulator(r.dim, { secondMoment: options.secondMoment === true });
  try {
    const direct = r.header.dtype === '<f4' && HOST_LITTLE ? acc.directBuffers() : undefined;
    const blocks = direct
      ? r.blocks(
          Math.min(options.blockRows ?? Infinity, direct.capacity),
          direct.buffers.map((b) => new Uint8Array(b.buffer, b.byteOffset, b.byteLength)),
        )
      : r.blocks(options.blockRows);
    for await (const b of blocks) {
      const bad = acc.add(b.data, b.rows);
      if (bad >= 0) throw createError('NON_FINITE', `${path}: row ${b.start + bad} holds NaN or Inf`);
    }
    return {
      path,
      rows: acc.count,
      dim: r.dim,
      dtype: r.header.dtype,
      langs: [sums('', acc)],
      ...(options.hash ? { hash: { algorithm: CONTENT_HASH, digest: r.digest() } } : {}),
    };
  } finally {
    acc.dispose();
    await r.close();
  }
}

async function loaderMoments(path: string, options: FileMomentsOptions): Promise<FileMoments> {
  const src = await openEmbeddings(path, {
    ...(options.column !== undefined ? { column: options.column } : {}),
    ...(options.langColumn !== undefined ? { langColumn: options.langColumn } : {}),
    ...(options.dim ? { dim: options.dim.dim, dimOf: `${options.dim.of} has dimension` } : {}),
  });
  const accs = new Map<string, MomentAccumulator>();
  let rows = 0;
  try {
    for await (const b of src.blocks(options.blockRows)) {
      const d = src.dim as number;
      const add = (label: string, from: number, to: number) => {
        let acc = accs.get(label);
        if (!acc) accs.set(label, (acc = new MomentAccumulator(d, { secondMoment: options.secondMoment === true })));
        const bad = acc.add(b.data.subarray(from * d, to * d), to - from);
        if (bad >= 0) throw createError('NON_FINITE', `${path}: row ${b.start + from + bad} holds NaN or Inf`);
      };
      if (b.langs) {
        for (let a = 0; a < b.rows;) {
          let z = a + 1;
          while (z < b.rows && b.langs[z] === b.langs[a]) z++;
          add(b.langs[a] as string, a, z);
          a = z;
        }
      } else add('', 0, b.rows);
      rows += b.rows;
    }
    if (rows === 0) throw createError('EMPTY', `${path}: no rows`);
    return {
      path,
      rows,
      dim: src.dim as number,
      dtype: src.dtype,
      langs: [...accs].map(([lang, acc]) => sums(lang, acc)),
      ...(options.hash ? { hash: { algorithm: CONTENT_HASH, digest: await contentHashFile(path) } } : {}),
    };
  } finally {
    for (const acc of accs.values()) acc.dispose();
    await src.close();
  }
}
