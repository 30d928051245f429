/** Searches both ways from one pass of scores (rows one way, columns the other) equal two separate exact searches. */
import { describe, expect, it } from 'vitest';
import { embeddings } from '../../src/core/embeddings.js';
import { exactTopK, exactTopKBoth, scoreBlocks, TopKAccumulator } from '../../src/core/exact-search.js';
import { normalizeRows } from '../../src/core/rows.js';
import { gaussian } from '../helpers.js';

function sides(seed: number, n: number, m: number, d: number) {
  const g = gaussian(seed);
  const a = normalizeRows(Float32Array.from({ length: n * d }, g), d);
  const b = normalizeRows(Float32Array.from({ length: m * d }, g), d);
  // ties both ways: b repeats a's first rows twice, and a repeats b's row 0
  const t = Math.min(5, n, Math.floor(m / 2));
  b.set(a.subarray(0, t * d), 0);
  b.set(a.subarray(0, t * d), (m - t) * d);
  if (n > t) a.set(b.subarray(0, d), (n - 1) * d);
  return { a: embeddings(a, d), b: embeddings(b, d) };
}

describe('exactTopKBoth', () => {
  it('equals exactTopK in each direction exactly (indices and float64 scores), over sizes, k and block shapes', () => {
    for (const [n, m, d, k, kb, chunk, batch] of [
      [200, 300, 16, 4, 4, 64, 17],
      [301, 97, 33, 10, 3, 4096, 1000],
      [1, 50, 8, 4, 1, 7, 1],
      [40, 3, 5, 4, 6, 2, 9], // k larger than the other side
    ] as const) {
      const { a, b } = sides(n + m, n, m, d);
      const got = exactTopKBoth(a, b, k, kb, { targetChunk: chunk, queryBatch: batch });
      const fwd = exactTopK(a, b, k);
      const bwd = exactTopK(b, a, kb);
      expect(Array.from(got.forward.indices)).toEqual(Array.from(fwd.indices));
      expect(Array.from(got.forward.scores)).toEqual(Array.from(fwd.scores));
      expect(Array.from(got.backward.indices)).toEqual(Array.from(bwd.indices));
      expect(Array.from(got.backward.scores)).toEqual(Array.from(bwd.scores));
    }
  });

  it('addTransposed reads a block as its transpose would be added', () => {
    const { a, b } = sides(3, 60, 45, 6);
    const viaColumns = new TopKAccumulator(b, a, 3);
    const viaRows = new TopKAccumulator(b, a, 3);
    for (const blk of scoreBlocks(a, b, { targetChunk: 7, queryBatch: 11 })) {
      viaColumns.addTransposed(blk);
      const t = new Float32Array(blk.rows * blk.cols);
      for (let r = 0; r < blk.rows; r++) for (let j = 0; j < blk.cols; j++) t[j * blk.rows + r] = blk.scores[r * blk.cols + j] as number;
      viaRows.add({ q0: blk.t0, rows: blk.cols, t0: blk.q0, cols: blk.rows, scores: t });
    }
    const x = viaColumns.finish();
    const y = viaRows.finish();
    expect(Array.from(x.indices)).toEqual(Array.from(y.indices));
    expect(Array.from(x.scores)).toEqual(Array.from(y.scores));
  });
});
