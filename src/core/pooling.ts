/** Pooling token states [batch, seq, hidden] into sentence vectors. */

export type Pooling = 'mean' | 'cls';

export interface PoolOptions {
  pooling: Pooling;
  /** mean: leave out special tokens ([CLS], [SEP], ...) instead of averaging them in (as the paper's code does). */
  excludeSpecial?: boolean;
  normalize?: boolean;
}

/**
 * Pool a batch. `mask[b * seq + t]` is 1 for real tokens; `special[b * seq + t]` is 1 for
 * special tokens (used only with excludeSpecial). Sums are accumulated in float64.
 */
export function poolBatch(
  hidden: Float32Array,
  dims: [number, number, number],
  mask: Uint8Array,
  special: Uint8Array | undefined,
  options: PoolOptions,
): Float32Array {
  const [b, s, h] = dims;
  const out = new Float32Array(b * h);
  const acc = new Float64Array(h);
  for (let i = 0; i < b; i++) {
    acc.fill(0);
    if (options.pooling === 'cls') {
      for (let k = 0; k < h; k++) acc[k] = hidden[i * s * h + k] as number;
    } else {
      let n = 0;
      for (let t = 0; t < s; t++) {
        const m = i * s + t;
        if (!mask[m] || (options.excludeSpecial && special?.[m])) continue;
        n++;
        const o = m * h;
        for (let k = 0; k < h; k++) acc[k] = (acc[k] as number) + (hidden[o + k] as number);
      }
      if (n > 0) for (let k = 0; k < h; k++) acc[k] = (acc[k] as number) / n;
    }
    if (options.normalize) {
      let n2 = 0;
      for (let k = 0; k < h; k++) n2 += (acc[k] as number) ** 2;
      const inv = n2 > 0 ? 1 / Math.sqrt(n2) : 1;
      for (let k = 0; k < h; k++) acc[k] = (acc[k] as number) * inv;
    }
    for (let k = 0; k < h; k++) out[i * h + k] = acc[k] as number;
  }
  return out;
}
