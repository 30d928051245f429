/**
 * The USearch engine behind VectorIndex (issue 21, item 3; measured by `npm run bench --
 * hnsw-engines`, not the default): its neighbours and scores against exact search on the same rows.
 */
import { describe, expect, it } from 'vitest';
import { UsearchIndex } from '../../src/adapters/usearch.js';
import { ExactIndex } from '../../src/core/vector-index.js';
import { planted } from '../helpers.js';

describe('UsearchIndex', () => {
  it('recall@10 >= 0.99 against exact search, scores equal to the exact cosines of the rows it returns (1e-5)', async () => {
    const n = 2000;
    const d = 32;
    const data = planted(['a'], n, d, 5).a as Float32Array;
    const x = { data, rows: n, dim: d, dtype: 'float32' as const };
    const q = { data: data.slice(0, 100 * d), rows: 100, dim: d, dtype: 'float32' as const };
    const u = UsearchIndex.create(d, 'cosine', { m: 16, efConstruction: 200 }, 2);
    await u.add(x);
    expect(u.size).toBe(n);
    const exact = new ExactIndex(d, 'cosine');
    await exact.add(x);
    const a = await u.search(q, 10, { ef: 128 });
    const b = await exact.search(q, 10);
    let hits = 0;
    let worst = 0;
    let self = 0;
    for (let i = 0; i < q.rows; i++) {
      const truth = new Map(Array.from(b.indices.subarray(i * 10, i * 10 + 10)).map((id, j) => [id, b.scores[i * 10 + j] as number]));
      for (let j = 0; j < 10; j++) {
        const id = a.indices[i * 10 + j] as number;
        if (truth.has(id)) {
          hits++;
          worst = Math.max(worst, Math.abs((truth.get(id) as number) - (a.scores[i * 10 + j] as number)));
        }
      }
      if (a.indices[i * 10] === i) self++;
    }
    expect(hits / (10 * q.rows)).toBeGreaterThanOrEqual(0.99);
    // each query is its own best match, up to the recall allowed: USearch builds on 2 threads, so
    // its graph differs from run to run (one CI run in several missed query 43's own row at ef 128)
    expect(self).toBeGreaterThanOrEqual(99);
    expect(worst).toBeLessThanOrEqual(1e-5);
    await u.dispose();
  });
});
