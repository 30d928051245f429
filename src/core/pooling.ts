/**
 * Pooling token states [batch, seq, hidden] into sentence vectors: lsar's own (mean, cls) and
 * the other modes of sentence-transformers' Pooling module (max, mean_sqrt_len_tokens,
 * weightedmean, lasttoken), with its numbers: max over the masked tokens, the sum over
 * sqrt(tokens), position-weighted mean (weights 1..seq), the last unmasked token.
 */
import { normalizeRowsInPlace } from './rows.js';

export const POOLINGS = ['mean', 'cls', 'max', 'mean_sqrt_len_tokens', 'weightedmean', 'lasttoken'] as const;
export type Pooling = (typeof POOLINGS)[number];

export interface PoolOptions {
  pooling: Pooling;
  /** mean: leave out special tokens ([CLS], [SEP], ...) instead of averaging them in (as the paper's code does). */
  excludeSpecial?: boolean;
  /** Leave the first `skipFirst` tokens out (sentence-transformers' include_prompt false: the prompt, with [CLS]); cls ignores it. */
  skipFirst?: number;
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
  const skip = options.skipFirst ?? 0;
  const counted = (m: number, t: number) => mask[m] && t >= skip && !(options.excludeSpecial && special?.[m]);
  for (let i = 0; i < b; i++) {
    const a = i * h;
    const mode = options.pooling;
    if (mode === 'cls') {
      for (let k = 0; k < h; k++) acc[a + k] = hidden[i * s * h + k] as number;
      continue;
    }
    if (mode === 'lasttoken') {
      let last = -1;
      for (let t = 0; t < s; t++) if (counted(i * s + t, t)) last = t;
      if (last >= 0) for (let k = 0; k < h; k++) acc[a + k] = hidden[(i * s + last) * h + k] as number;
      continue;
    }
    if (mode === 'max') {
      // as sentence-transformers: masked-out tokens count as -1e9
      acc.fill(-1e9, a, a + h);
      for (let t = 0; t < s; t++) {
        const m = i * s + t;
        if (!counted(m, t)) continue;
        const o = m * h;
        for (let k = 0; k < h; k++) if ((hidden[o + k] as number) > (acc[a + k] as number)) acc[a + k] = hidden[o + k] as number;
      }
      continue;
    }
    let n = 0;
    for (let t = 0; t < s; t++) {
      const m = i * s + t;
      if (!counted(m, t)) continue;
      const w = mode === 'weightedmean' ? t + 1 : 1;
      n += w;
      const o = m * h;
      for (let k = 0; k < h; k++) acc[a + k] = (acc[a + k] as number) + w * (hidden[o + k] as number);
    }
    const by = mode === 'mean_sqrt_len_tokens' ? Math.sqrt(n) : n;
    if (by > 0) for (let k = 0; k < h; k++) acc[a + k] = (acc[a + k] as number) / by;
  }
  if (options.normalize) normalizeRowsInPlace(acc, h, b);
  return Float32Array.from(acc);
}

/** A dense layer (sentence-transformers' Dense): y = activation(W x + b), W stored [out, in] row-major. */
export interface DenseLayer {
  inFeatures: number;
  outFeatures: number;
  weight: Float32Array;
  bias?: Float32Array;
  activation: DenseActivation;
}

export const DENSE_ACTIVATIONS = ['identity', 'tanh', 'relu', 'sigmoid', 'gelu'] as const;
export type DenseActivation = (typeof DENSE_ACTIVATIONS)[number];

/** Apply a dense layer to `rows` rows (float64 sums, float32 out, as torch's float32 Linear to 1e-6). */
export function applyDense(x: Float32Array, rows: number, layer: DenseLayer): Float32Array {
  const { inFeatures: n, outFeatures: m, weight: w, bias } = layer;
  if (x.length !== rows * n) throw new RangeError(`dense layer: ${x.length / rows} inputs per row, expected ${n}`);
  const out = new Float32Array(rows * m);
  for (let r = 0; r < rows; r++) {
    for (let j = 0; j < m; j++) {
      let s = bias ? (bias[j] as number) : 0;
      for (let k = 0; k < n; k++) s += (w[j * n + k] as number) * (x[r * n + k] as number);
      out[r * m + j] = activate(s, layer.activation);
    }
  }
  return out;
}

function activate(v: number, a: DenseActivation): number {
  switch (a) {
    case 'tanh':
      return Math.tanh(v);
    case 'relu':
      return v > 0 ? v : 0;
    case 'sigmoid':
      return 1 / (1 + Math.exp(-v));
    case 'gelu':
      return 0.5 * v * (1 + erf(v / Math.SQRT2));
    default:
      return v;
  }
}

/** erf (Abramowitz-Stegun 7.1.26 is too coarse for 1e-6): a series / continued fraction to double precision. */
function erf(x: number): number {
  const t = Math.abs(x);
  if (t < 2.5) {
    // Maclaurin series
    let sum = t;
    let term = t;
    for (let n = 1; n < 100; n++) {
      term *= (-t * t) / n;
      const add = term / (2 * n + 1);
      sum += add;
      if (Math.abs(add) < 1e-17 * Math.abs(sum)) break;
    }
    const v = (2 / Math.sqrt(Math.PI)) * sum;
    return x < 0 ? -v : v;
  }
  // continued fraction for erfc
  let f = 0;
  for (let n = 60; n >= 1; n--) f = n / 2 / (t + f);
  const erfc = Math.exp(-t * t) / Math.sqrt(Math.PI) / (t + f);
  return x < 0 ? erfc - 1 : 1 - erfc;
}
