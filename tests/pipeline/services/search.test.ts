/** The search backend: HNSW in shards (one per core), ef chosen for a recall target, auto mode, save/load. */
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { embeddings, type Embeddings } from '../../../src/core/embeddings.js';
import { HnswIndex, SHARD_MIN_ROWS } from '../../../src/adapters/hnsw.js';
import { poolSize } from '../../../src/adapters/pool.js';
import { buildIndex, chooseKind, loadIndex, saveIndex, searchTuned } from '../../../src/pipeline/services/search/index.js';
import { gaussian, listFiles, tempDir } from '../../helpers.js';

function isotropic(n: number, d: number, seed: number): Embeddings {
  const g = gaussian(seed);
  return embeddings(Float32Array.from({ length: n * d }, g), d);
}

function clustered(n: number, d: number, seed: number): Embeddings {
  const g = gaussian(seed);
  const centres = Float32Array.from({ length: 200 * d }, g);
  const x = new Float32Array(n * d);
  for (let r = 0; r < n; r++) {
    const c = Math.floor(Math.abs(g() * 1e6)) % 200;
    for (let i = 0; i < d; i++) x[r * d + i] = (centres[c * d + i] as number) + 0.3 * g();
  }
  return embeddings(x, d);
}

/** recall@10 of `got` against the exact top-10, over every query. */
function recall10(got: Int32Array, want: Int32Array, nq: number): number {
  let hits = 0;
  for (let q = 0; q < nq; q++) {
    const t = new Set(Array.from(want.subarray(q * 10, q * 10 + 10)));
    for (let j = 0; j < 10; j++) if (t.has(got[q * 10 + j] as number)) hits++;
  }
  return hits / (10 * nq);
}

describe('HNSW through the backend', () => {
  for (const [name, make] of [
    ['isotropic', isotropic],
    ['clustered', clustered],
  ] as const) {
    it(`${name} data: ef chosen for recall@10 >= 0.99 reaches it on all queries; sharded build saves and loads`, async () => {
      const d = 32;
      const n = SHARD_MIN_ROWS;
      const x = make(n, d, 5);
      const q = make(300, d, 6);
      const index = (await buildIndex(x, { kind: 'hnsw' })) as HnswIndex;
      try {
        expect(index.shardCount).toBe(poolSize());
        expect(index.size).toBe(n);
        const tuned = await searchTuned(index, x, q, 10, { recall: 0.99 });
        const exact = await buildIndex(x, { kind: 'exact' });
        const truth = await exact.search(q, 10);
        expect(recall10(tuned.top.indices, truth.indices, q.rows)).toBeGreaterThanOrEqual(0.985); // sample-tuned, checked on all (margin 0.005)
        expect(tuned.recall!.hits10 / tuned.recall!.queries).toBeGreaterThanOrEqual(0.99);
        expect(tuned.ef).toBeGreaterThanOrEqual(64);
        // labels are global row numbers whatever shard holds them
        const self = await index.search(embeddings(x.data.slice(4321 * d, 4322 * d), d), 1, { ef: tuned.ef });
        expect(self.indices[0]).toBe(4321);
        const dir = await tempDir();
        const key = { data: 'd', projection: 'none' };
        await saveIndex(index, join(dir, 'idx'), key);
        expect(await listFiles(dir)).toEqual(['idx', 'idx.json']);
        const again = (await loadIndex(join(dir, 'idx'), { dim: d, count: n, key })) as HnswIndex;
        const r2 = await again.search(q, 10, { ef: tuned.ef });
        expect(Array.from(r2.indices)).toEqual(Array.from(tuned.top.indices));
        await again.dispose();
      } finally {
        await index.dispose();
      }
    }, 120_000);
  }
});

describe('auto', () => {
  it('picks exact for small jobs, a one-off search and a mine both ways; HNSW for a saved HNSW index or a large index searched very often', async () => {
    expect((await chooseKind('auto', { rows: 1000, queries: 1000, dim: 768 })).kind).toBe('exact');
    expect((await chooseKind('auto', { rows: 100_000, queries: 1000, dim: 768 })).kind).toBe('exact');
    // at recall 0.99 on 768-d data HNSW answers a query in about 11 ms of a core: it wins for large indexes searched many times
    expect((await chooseKind('auto', { rows: 2_000_000, queries: 1_000_000, dim: 768 })).kind).toBe('hnsw');
    expect((await chooseKind('auto', { rows: 100_000, queries: 10_000_000, dim: 768 })).kind).toBe('exact');
    // mining 300,000 x 300,000 both ways: one exact pass (about 20 minutes here), not HNSW (over 45)
    expect((await chooseKind('auto', { rows: 300_000, queries: 300_000, dim: 768, both: true })).kind).toBe('exact');
    expect((await chooseKind('auto', { rows: 1000, queries: 10, dim: 768, built: 'hnsw' })).kind).toBe('hnsw');
    const c = await chooseKind('auto', { rows: 100_000, queries: 1000, dim: 768 });
    expect(c.reason).toMatch(/^auto: exact estimated .*, HNSW .* \(build .*\)$/);
    expect((await chooseKind('hnsw', { rows: 10, queries: 1, dim: 4 })).reason).toBe('hnsw search as asked');
  });
});
