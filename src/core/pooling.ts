/** Pooling token states [batch, seq, hidden] into sentence vectors. */
import { normalizeRowsInPlace } from './rows.js';

export const POOLINGS = ['mean', 'cls'] as const;
export type Pooling = (typeof POOLINGS)[number];

export interface PoolOptions {
  pooling: Pooling;
  /** mean: leave out special tokens ([CLS], [SEP], ...) instead of averaging them in (as the paper's code does). */
  excludeSpecial?: boolean;
  normalize?: boolean;
}

/**
 * Pool a batch. `mask[b * seq + t]` is 1 for real tokens; `special[b * seq + t]` is 1 for
 * special tokens (used only with excludeSpecial). Sums and the norm are taken in float64;
 * the result is rounded to float32 once, at the end.
 */
export function poolBatch(
  hidden: Float32Array,
  dims: [number, number, number],
  mask: Uint8Array,
  special: Uint8Array | undefined,
  options: PoolOptions,
): Float32Array {
  const [b, s, h] = dims;
  const acc = new Float64Array(b * h);
  for (let i = 0; i < b; i++) {
    const a = i * h;
    if (options.pooling === 'cls') {
      for (let k = 0; k < h; k++) acc[a + k] = hidden[i * s * h + k] as number;
      continue;
    }
    let n = 0;
    for (let t = 0; t < s; t++) {
      const m = i * s + t;
      if (!mask[m] || (options.excludeSpecial && special?.[m])) continue;
      n++;
      const o = m * h;
      for (let k = 0; k < h; k++) acc[a + k] = (acc[a + k] as number) + (hidden[o + k] as number);
    }
    if (n > 0) for (let k = 0; k < h; k++) acc[a + k] = (acc[a + k] as number) / n;
  }
  if (options.normalize) normalizeRowsInPlace(acc, h, b);
  return Float32Array.from(acc);
}
