/**
 * Streaming first and second moments of row blocks, accumulated in float64.
 * Rows arrive as row-major blocks (Float32Array or Float64Array); nothing but
 * the d-vector of sums (and, when asked, the d x d matrix X^T X) is kept.
 */
import type { Dense } from './linalg.js';
import type { LanguageMoments } from './projection.js';
import { firstNonFiniteRow, type FloatArray } from './rows.js';
import { acquireColumnSums, releaseColumnSums, SimdGram, simdAvailable, type SimdColumnSums } from './wasm/simd.js';

export class MomentAccumulator {
  readonly dim: number;
  readonly sum: Float64Array;
  /** Upper triangle of X^T X (row-major d x d), when second moments are requested. */
  readonly gram: Float64Array | undefined;
  count = 0;
  private scratch: Float64Array | undefined;
  private simd: SimdColumnSums | undefined;
  private simdGram: SimdGram | undefined;

  constructor(dim: number, options: { secondMoment?: boolean } = {}) {
    this.dim = dim;
    this.sum = new Float64Array(dim);
    this.gram = options.secondMoment ? new Float64Array(dim * dim) : undefined;
    if (dim % 4 === 0 && simdAvailable()) this.simd = acquireColumnSums(dim, Math.max(1, Math.floor((4 << 20) / (4 * dim))));
  }

  /**
   * Add `rows` rows. Returns -1, or the index (within the block) of the first
   * row holding NaN or Inf, in which case nothing of the block is kept.
   */
  add(block: FloatArray, rows = block.length / this.dim): number {
    const d = this.dim;
    let partial: Float64Array;
    if (this.simd && block instanceof Float32Array) {
      partial = this.simd.sum(block, rows);
    } else {
      partial = new Float64Array(d);
      for (let r = 0; r < rows; r++) {
        const off = r * d;
        for (let j = 0; j < d; j++) partial[j] = (partial[j] as number) + (block[off + j] as number);
      }
    }
    let finite = true;
    for (let j = 0; j < d; j++) if (!Number.isFinite(partial[j] as number)) finite = false;
    if (!finite) {
      const bad = firstNonFiniteRow(block, rows, d);
      if (bad >= 0) return bad;
      // Finite rows whose float64 sum overflowed: not representable either.
      return 0;
    }
    for (let j = 0; j < d; j++) this.sum[j] = (this.sum[j] as number) + (partial[j] as number);
    if (this.gram) this.addGram(block, rows);
    this.count += rows;
    return -1;
  }

  private addGram(block: FloatArray, rows: number): void {
    const d = this.dim;
    const g = this.gram as Float64Array;
    if (block instanceof Float32Array && d % 4 === 0 && simdAvailable()) {
      this.simdGram ??= new SimdGram(d, 512);
      this.simdGram.accumulate(block, rows, g);
      return;
    }
    // Transpose the block to d x rows so that each column is contiguous.
    const need = d * rows;
    if (!this.scratch || this.scratch.length < need) this.scratch = new Float64Array(need);
    const t = this.scratch;
    for (let r = 0; r < rows; r++) {
      const off = r * d;
      for (let j = 0; j < d; j++) t[j * rows + r] = block[off + j] as number;
    }
    for (let i = 0; i < d; i++) {
      const oi = i * rows;
      for (let j = i; j < d; j++) {
        const oj = j * rows;
        let acc = 0;
        let r = 0;
        for (; r + 3 < rows; r += 4) {
          acc +=
            (t[oi + r] as number) * (t[oj + r] as number) +
            (t[oi + r + 1] as number) * (t[oj + r + 1] as number) +
            (t[oi + r + 2] as number) * (t[oj + r + 2] as number) +
            (t[oi + r + 3] as number) * (t[oj + r + 3] as number);
        }
        for (; r < rows; r++) acc += (t[oi + r] as number) * (t[oj + r] as number);
        g[i * d + j] = (g[i * d + j] as number) + acc;
      }
    }
  }

  /**
   * Float32 buffers (with their row capacity) that `add` sums without copying, when the
   * SIMD kernel is in use and no second moment is needed: read rows straight into it.
   */
  directBuffers(): { buffers: Float32Array[]; capacity: number } | undefined {
    if (!this.simd || this.gram) return undefined;
    return { buffers: this.simd.buffers, capacity: this.simd.capacity };
  }

  /** Give the SIMD kernel back for reuse; `add` falls back to plain JS afterwards. */
  dispose(): void {
    if (this.simd) releaseColumnSums(this.simd);
    this.simd = undefined;
  }

  mean(): Float64Array {
    const m = new Float64Array(this.dim);
    for (let j = 0; j < this.dim; j++) m[j] = (this.sum[j] as number) / this.count;
    return m;
  }

  /** The full symmetric X^T X. */
  secondMoment(): Dense {
    if (!this.gram) throw new Error('second moments were not requested');
    return symmetric(this.gram, this.dim);
  }
}

/** The full symmetric matrix from an upper triangle (row-major d x d). */
export function symmetric(upper: Float64Array, d: number): Dense {
  const full = new Float64Array(d * d);
  for (let i = 0; i < d; i++) {
    for (let j = i; j < d; j++) {
      const v = upper[i * d + j] as number;
      full[i * d + j] = v;
      full[j * d + i] = v;
    }
  }
  return { rows: d, cols: d, data: full };
}

/** What fitting needs of one language, from its row count, float64 sum and (upper-triangle) X^T X. */
export function languageMoments(lang: string, rows: number, sum: Float64Array, gram: Float64Array | undefined, d: number): LanguageMoments {
  return { lang, rows, mean: sum.map((x) => x / rows), ...(gram ? { secondMoment: symmetric(gram, d) } : {}) };
}
