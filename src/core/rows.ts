/** Row-wise operations on row-major float blocks: the one place for norms, dot products and finiteness checks. */

export type FloatArray = Float32Array | Float64Array;

/** Dot product of `d` values of `a` from `ao` and of `b` from `bo`, accumulated in float64. */
export function dot64(a: ArrayLike<number>, ao: number, b: ArrayLike<number>, bo: number, d: number): number {
  let s = 0;
  for (let i = 0; i < d; i++) s += (a[ao + i] as number) * (b[bo + i] as number);
  return s;
}

/** L2 norm of every row (float64). */
export function rowNorms(x: FloatArray, dim: number, rows = x.length / dim): Float64Array {
  const out = new Float64Array(rows);
  for (let r = 0; r < rows; r++) out[r] = Math.sqrt(dot64(x, r * dim, x, r * dim, dim));
  return out;
}

/** L2-normalise `rows` rows of `x` in place (the norm in float64; zero rows stay zero). */
export function normalizeRowsInPlace<T extends FloatArray>(x: T, dim: number, rows = x.length / dim): T {
  for (let r = 0; r < rows; r++) {
    const o = r * dim;
    // inline (not dot64): a call shared by both array types is several times slower here
    let n2 = 0;
    for (let i = 0; i < dim; i++) n2 += (x[o + i] as number) * (x[o + i] as number);
    if (!(n2 > 0)) continue;
    const inv = 1 / Math.sqrt(n2);
    for (let i = 0; i < dim; i++) x[o + i] = (x[o + i] as number) * inv;
  }
  return x;
}

/** An L2-normalised float32 copy of `x` (norms taken from `x` as given, in float64). */
export function normalizeRows(x: FloatArray, dim: number): Float32Array {
  const out = new Float32Array(x.length);
  const rows = x.length / dim;
  for (let r = 0; r < rows; r++) {
    const o = r * dim;
    let n2 = 0; // inline (not dot64), as in normalizeRowsInPlace
    for (let i = 0; i < dim; i++) n2 += (x[o + i] as number) * (x[o + i] as number);
    const inv = n2 > 0 ? 1 / Math.sqrt(n2) : 0;
    for (let i = 0; i < dim; i++) out[o + i] = (x[o + i] as number) * inv;
  }
  return out;
}

/**
 * The first `n` values as float32, and the index of the first of their rows (`dim` values each)
 * holding a finite value beyond the float32 range (-1 when none): such values would become Inf.
 */
export function narrowToFloat32(data: FloatArray, n: number, dim: number): { out: Float32Array; overflowRow: number } {
  const out = data instanceof Float32Array ? data.subarray(0, n) : Float32Array.from(data.subarray(0, n));
  if (data instanceof Float32Array) return { out, overflowRow: -1 };
  for (let i = 0; i < n; i++) {
    if (!Number.isFinite(out[i] as number) && Number.isFinite(data[i] as number)) return { out, overflowRow: Math.floor(i / dim) };
  }
  return { out, overflowRow: -1 };
}

/** Index of the first of `rows` rows holding NaN or Inf, or -1. */
export function firstNonFiniteRow(block: FloatArray, rows: number, d: number): number {
  for (let r = 0; r < rows; r++) {
    for (let j = 0; j < d; j++) if (!Number.isFinite(block[r * d + j] as number)) return r;
  }
  return -1;
}
