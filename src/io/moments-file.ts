/**
 * One embeddings file's moments in one pass: row counts and float64 sums (and X^T X) per
 * language, and the file's content hash. `.npy` float32 rows are read straight into the summing
 * kernel's memory and hashed as they are read; Parquet and JSON Lines go through the one
 * embeddings loader (./embeddings.ts). With a language column, each row's language groups it;
 * otherwise the whole file is one language (`lang: ''`, named by the caller). Runs on the main
 * thread or on a worker (pipeline/services/moments.ts spreads files over the pool).
 */
import { MomentAccumulator } from '../core/moments.js';
import { shardRange, type Shard } from '../core/shard.js';
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
  /** Rows summed (the shard's, with a shard). */
  rows: number;
  /** With a shard: the rows [start, end) summed, of `total` in the file. */
  range?: { start: number; end: number; total: number };
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
  /** Sum only this shard's rows (a contiguous range; may be empty). */
  shard?: Shard;
}

/** The part [from, to) of a block starting at row `start` with `rows` rows that lies in [a, b). */
function overlap(start: number, rows: number, a: number, b: number): [number, number] {
  const from = Math.max(0, a - start);
  const to = Math.min(rows, b - start);
  return to > from ? [from, to] : [0, 0];
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
    const [a, z] = options.shard ? shardRange(r.rows, options.shard) : [0, r.rows];
    for await (const b of blocks) {
      // rows outside the shard are read (the content hash covers the whole file) but not summed
      const [from, to] = overlap(b.start, b.rows, a, z);
      if (to === from) continue;
      const d = r.dim;
      const bad = acc.add(from === 0 && to === b.rows ? b.data : b.data.subarray(from * d, to * d), to - from);
      if (bad >= 0) throw createError('NON_FINITE', `${path}: row ${b.start + from + bad} holds NaN or Inf`);
    }
    return {
      path,
      rows: acc.count,
      ...(options.shard ? { range: { start: a, end: z, total: r.rows } } : {}),
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
  let summed = 0;
  // a shard needs the row count first: Parquet's footer has it; JSON Lines are counted in a first pass
  const total = options.shard ? (src.rows ?? (await countRows(path, options))) : Infinity;
  const [lo, hi] = options.shard ? shardRange(total, options.shard) : [0, Infinity];
  try {
    for await (const b of src.blocks(options.blockRows)) {
      const d = src.dim as number;
      const add = (label: string, from: number, to: number) => {
        let acc = accs.get(label);
        if (!acc) accs.set(label, (acc = new MomentAccumulator(d, { secondMoment: options.secondMoment === true })));
        const bad = acc.add(b.data.subarray(from * d, to * d), to - from);
        if (bad >= 0) throw createError('NON_FINITE', `${path}: row ${b.start + from + bad} holds NaN or Inf`);
        summed += to - from;
      };
      const [s0, s1] = overlap(b.start, b.rows, lo, hi);
      if (b.langs) {
        for (let a = s0; a < s1;) {
          let z = a + 1;
          while (z < s1 && b.langs[z] === b.langs[a]) z++;
          add(b.langs[a] as string, a, z);
          a = z;
        }
      } else if (s1 > s0) add('', s0, s1);
      rows += b.rows;
    }
    if (rows === 0) throw createError('EMPTY', `${path}: no rows`);
    return {
      path,
      rows: summed,
      ...(options.shard ? { range: { start: lo, end: hi, total } } : {}),
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

/** The rows of a file whose count its format does not give up front (JSON Lines). */
async function countRows(path: string, options: FileMomentsOptions): Promise<number> {
  const src = await openEmbeddings(path, {
    ...(options.column !== undefined ? { column: options.column } : {}),
    ...(options.langColumn !== undefined ? { langColumn: options.langColumn } : {}),
  });
  let n = 0;
  try {
    for await (const b of src.blocks(options.blockRows)) n += b.rows;
  } finally {
    await src.close();
  }
  return n;
}
