/**
 * The embeddings value passed between lsar's parts: a row-major block with its shape,
 * instead of loose `(data, dim)` pairs.
 */
import { createError } from './errors.js';
import type { FloatArray } from './rows.js';

export interface Embeddings<T extends FloatArray = FloatArray> {
  /** rows x dim values, row-major. */
  data: T;
  rows: number;
  dim: number;
  /** The element type of `data`. */
  dtype: 'float32' | 'float64';
  /** Rows are already L2-normalised (by normalizeRows or normalizeRowsInPlace): cosine indexes use them as they are. */
  normalized?: boolean;
}

/** Wrap a row-major block of `dim` columns (checked: a whole number of rows). */
export function embeddings<T extends FloatArray>(data: T, dim: number, what = 'embeddings'): Embeddings<T> {
  if (!(data instanceof Float32Array || data instanceof Float64Array)) {
    throw createError('INPUT', `${what}: expected a Float32Array or Float64Array, got ${describeValue(data)}`);
  }
  if (!Number.isInteger(dim) || dim < 1) throw createError('DIM_MISMATCH', `${what}: dimension must be a positive integer, got ${dim}`);
  if (data.length % dim !== 0)
    throw createError('DIM_MISMATCH', `${what}: length ${data.length} is not a multiple of the dimension ${dim}`);
  return { data, rows: data.length / dim, dim, dtype: data instanceof Float64Array ? 'float64' : 'float32' };
}

/** Rows at `indices`, copied into a new float32 block (or, with `keep`, a block of the input's dtype). */
export function takeRows(e: Embeddings, indices: ArrayLike<number>): Embeddings<Float32Array>;
export function takeRows(e: Embeddings, indices: ArrayLike<number>, keep: 'keep-dtype'): Embeddings;
export function takeRows(e: Embeddings, indices: ArrayLike<number>, keep?: 'keep-dtype'): Embeddings {
  const wide = keep !== undefined && e.data instanceof Float64Array;
  const out = wide ? new Float64Array(indices.length * e.dim) : new Float32Array(indices.length * e.dim);
  for (let i = 0; i < indices.length; i++) {
    const r = indices[i] as number;
    out.set(e.data.subarray(r * e.dim, (r + 1) * e.dim), i * e.dim);
  }
  return { data: out, rows: indices.length, dim: e.dim, dtype: wide ? 'float64' : 'float32' } as Embeddings;
}

/** Stack blocks of the same dimension into one float32 block. */
export function concatRows(parts: Embeddings[], dim: number): Embeddings<Float32Array> {
  const rows = parts.reduce((a, p) => a + p.rows, 0);
  const out = new Float32Array(rows * dim);
  let o = 0;
  for (const p of parts) {
    if (p.dim !== dim) throw createError('DIM_MISMATCH', `cannot stack dimension ${p.dim} with ${dim}`);
    out.set(p.data, o);
    o += p.data.length;
  }
  return { data: out, rows, dim, dtype: 'float32' };
}

function describeValue(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'a plain array (convert it with Float32Array.from(...))';
  if (typeof v === 'object') return (v as object).constructor?.name ?? 'an object';
  return typeof v;
}
