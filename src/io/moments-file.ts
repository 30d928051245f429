/**
 * One language's moments from its `.npy` file in one pass: rows are read in blocks (float32
 * rows straight into the summing kernel's memory), summed in float64 (and X^T X for lir),
 * and hashed (XXH3-128) as they are read. Runs on a worker thread per file (pipeline/fit.ts).
 */
import { MomentAccumulator } from '../core/moments.js';
import { createError } from '../core/errors.js';
import { CONTENT_HASH } from './hash.js';
import { HOST_LITTLE, NpyReader } from './npy.js';

export interface FileMoments {
  path: string;
  rows: number;
  dim: number;
  dtype: string;
  sum: Float64Array;
  /** Upper triangle of X^T X (row-major d x d), when asked. */
  gram?: Float64Array;
  /** Content hash of the whole file, when asked. */
  hash?: { algorithm: typeof CONTENT_HASH; digest: string };
}

export async function readFileMoments(
  path: string,
  options: { secondMoment?: boolean; hash?: boolean; blockRows?: number } = {},
): Promise<FileMoments> {
  const r = await NpyReader.open(path, { hash: options.hash === true });
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
      sum: Float64Array.from(acc.sum),
      ...(acc.gram ? { gram: acc.gram } : {}),
      ...(options.hash ? { hash: { algorithm: CONTENT_HASH, digest: r.digest() } } : {}),
    };
  } finally {
    acc.dispose();
    await r.close();
  }
}
