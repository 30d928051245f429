import { describe, expect, it } from 'vitest';
import { planBatches } from '../../src/core/batching.js';
import { rng } from '../helpers.js';

describe('planBatches', () => {
  it('without a budget: length-sorted batches of batchSize, ties by index', () => {
    const p = planBatches([5, 3, 5, 1, 9], 2);
    expect(p.batches).toEqual([[3, 1], [0, 2], [4]]);
    expect(p.tokens).toBe(23);
    expect(p.positions).toBe(2 * 3 + 2 * 5 + 9);
  });

  it('with a budget: no batch computes more than maxTokens positions, unless one sequence alone does', () => {
    const p = planBatches([10, 10, 10, 40, 40, 100], 32, 80);
    expect(p.batches).toEqual([[0, 1, 2], [3, 4], [5]]);
    expect(p.positions).toBe(30 + 80 + 100);
  });

  it('property: every index once, batches ascending, sizes and budget respected (random cases)', () => {
    const r = rng(7);
    for (let c = 0; c < 200; c++) {
      const n = 1 + Math.floor(r() * 300);
      const lengths = Array.from({ length: n }, () => 1 + Math.floor(r() * 128));
      const bs = 1 + Math.floor(r() * 64);
      const budget = r() < 0.5 ? undefined : 64 + Math.floor(r() * 4000);
      const p = planBatches(lengths, bs, budget);
      expect(p.batches.flat().sort((a, b) => a - b)).toEqual(lengths.map((_, i) => i));
      let tokens = 0;
      let positions = 0;
      let prevMax = 0;
      for (const b of p.batches) {
        expect(b.length).toBeGreaterThan(0);
        expect(b.length).toBeLessThanOrEqual(bs);
        const ls = b.map((i) => lengths[i] as number);
        for (let k = 1; k < ls.length; k++) expect(ls[k]).toBeGreaterThanOrEqual(ls[k - 1] as number);
        expect(ls[0]).toBeGreaterThanOrEqual(prevMax);
        prevMax = ls[ls.length - 1] as number;
        if (budget !== undefined && b.length > 1) expect(b.length * prevMax).toBeLessThanOrEqual(budget);
        tokens += ls.reduce((a, x) => a + x, 0);
        positions += b.length * prevMax;
      }
      expect([p.tokens, p.positions]).toEqual([tokens, positions]);
    }
  });
});
