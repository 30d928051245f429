/** The GEMM scorer (onnxruntime MLAS) gives exact search the same results as the WebAssembly kernel. */
import { describe, expect, it } from 'vitest';
import { embeddings } from '../../src/core/embeddings.js';
import { exactTopK, MutualAccumulator, TopKAccumulator } from '../../src/core/exact-search.js';
import { normalizeRows } from '../../src/core/rows.js';
import { GEMM_MIN_WORK } from '../../src/core/vector-index.js';
import { gemmScorer } from '../../src/adapters/gemm.js';
import { buildIndex } from '../../src/pipeline/services/search/index.js';
import { gaussian } from '../helpers.js';

describe('exact search through the GEMM scorer', () => {
  it('equals the WebAssembly path exactly (indices and float64 scores), ties to the lower index', async () => {
    const g = gaussian(21);
    const d = 48;
    const n = 5000;
    const nq = 300;
    const t = normalizeRows(Float32Array.from({ length: n * d }, g), d);
    // duplicates make ties: rows 4000..4099 repeat rows 0..99
    t.copyWithin(4000 * d, 0, 100 * d);
    const q = normalizeRows(Float32Array.from({ length: nq * d }, g), d);
    q.set(t.subarray(0, 50 * d), 0); // the first 50 queries hit a tied pair exactly
    expect(nq * n * d).toBeGreaterThan(GEMM_MIN_WORK);
    const gemm = await gemmScorer();
    expect(gemm).toBeDefined();
    for (const k of [1, 10]) {
      const want = exactTopK(embeddings(q, d), embeddings(t, d), k);
      const acc = new TopKAccumulator(embeddings(q, d), embeddings(t, d), k);
      // small chunks and batches: many blocks, rows split across them
      for await (const b of gemm!.blocks(embeddings(q, d), embeddings(t, d), k, { targetChunk: 700, queryBatch: 37 })) acc.add(b);
      const got = acc.finish();
      expect(Array.from(got.indices)).toEqual(Array.from(want.indices));
      expect(Array.from(got.scores)).toEqual(Array.from(want.scores));
    }
    const top = exactTopK(embeddings(q, d), embeddings(t, d), 2);
    for (let i = 0; i < 50; i++) expect([top.indices[2 * i], top.indices[2 * i + 1]]).toEqual([i, 4000 + i]);
    // the index uses it for problems this size, with the same answer
    const index = await buildIndex(embeddings(t, d), { kind: 'exact' });
    const viaIndex = await index.search(embeddings(q, d), 10);
    expect(Array.from(viaIndex.indices)).toEqual(Array.from(exactTopK(embeddings(q, d), embeddings(t, d), 10).indices));
  });

  it('searches both ways from one pass (columns read in JS) equal two exact searches', async () => {
    const g = gaussian(22);
    const d = 40;
    const [n, m] = [1500, 2300];
    const a = normalizeRows(Float32Array.from({ length: n * d }, g), d);
    const b = normalizeRows(Float32Array.from({ length: m * d }, g), d);
    b.copyWithin(2000 * d, 0, 100 * d); // ties in b
    a.set(b.subarray(0, 30 * d), 0); // a's first rows hit a tied pair of b; b's first rows tie with them
    a.set(b.subarray(0, 30 * d), 1000 * d);
    const gemm = await gemmScorer();
    for (const [k, kb] of [
      [4, 4],
      [1, 10],
    ] as const) {
      const acc = new MutualAccumulator(embeddings(a, d), embeddings(b, d), k, kb);
      for await (const blk of gemm!.blocks(embeddings(a, d), embeddings(b, d), k, { targetChunk: 700, queryBatch: 301 })) acc.add(blk);
      const got = acc.finish();
      const fwd = exactTopK(embeddings(a, d), embeddings(b, d), k);
      const bwd = exactTopK(embeddings(b, d), embeddings(a, d), kb);
      expect(Array.from(got.forward.indices)).toEqual(Array.from(fwd.indices));
      expect(Array.from(got.forward.scores)).toEqual(Array.from(fwd.scores));
      expect(Array.from(got.backward.indices)).toEqual(Array.from(bwd.indices));
      expect(Array.from(got.backward.scores)).toEqual(Array.from(bwd.scores));
    }
    // through the index (GEMM for this size), the same
    const index = await buildIndex(embeddings(b, d), { kind: 'exact' });
    const both = await (index as import('../../src/core/vector-index.js').ExactIndex).searchBoth(embeddings(a, d), 4, 4);
    expect(Array.from(both.backward.indices)).toEqual(Array.from(exactTopK(embeddings(b, d), embeddings(a, d), 4).indices));
  });

  it('a row whose block top-k does not reach below the floor is scanned in full', async () => {
    // 100 identical targets: every one ties, far more than k + 32 per block
    const d = 8;
    const t = new Float32Array(100 * d).fill(0.5);
    const q = new Float32Array(d).fill(0.5);
    const gemm = await gemmScorer();
    const acc = new TopKAccumulator(embeddings(q, d), embeddings(t, d), 3);
    for await (const b of gemm!.blocks(embeddings(q, d), embeddings(t, d), 3, { targetChunk: 60 })) acc.add(b);
    expect(Array.from(acc.finish().indices)).toEqual([0, 1, 2]);
  });
});
