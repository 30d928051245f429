import { describe, expect, it } from 'vitest';
import { parseShard, shardItems, shardName, shardRange } from '../../src/core/shard.js';
import { mulberry32 } from '../../src/core/random.js';

describe('shards', () => {
  it('every row is in exactly one shard, in order, for any number of rows and tasks (empty shards allowed)', () => {
    const rand = mulberry32(7);
    const cases: [number, number][] = [
      [0, 1],
      [0, 5],
      [1, 1],
      [1, 4],
      [3, 7],
      [10, 3],
      [1000, 1000],
      [1001, 1000],
    ];
    for (let t = 0; t < 200; t++) cases.push([Math.floor(rand() * 5000), 1 + Math.floor(rand() * 300)]);
    for (const [total, count] of cases) {
      let next = 0;
      let sizes: number[] = [];
      for (let index = 0; index < count; index++) {
        const [a, b] = shardRange(total, { index, count });
        expect(a).toBe(next); // contiguous: no row skipped or taken twice
        expect(b).toBeGreaterThanOrEqual(a);
        sizes.push(b - a);
        next = b;
      }
      expect(next).toBe(total);
      // balanced: shard sizes differ by at most one row
      sizes = sizes.sort((x, y) => x - y);
      expect((sizes.at(-1) as number) - (sizes[0] as number)).toBeLessThanOrEqual(1);
    }
    const items = Array.from({ length: 10 }, (_, i) => i);
    expect([0, 1, 2].flatMap((index) => shardItems(items, { index, count: 3 }))).toEqual(items);
  });

  it('parses i/N and refuses what is not a task of N', () => {
    expect(parseShard('2/4')).toEqual({ index: 2, count: 4 });
    expect(parseShard(' 0 / 1 ')).toEqual({ index: 0, count: 1 });
    for (const bad of ['4/4', '-1/4', '1/0', '1', 'a/b', '1.5/4', '1/4/2'])
      expect(() => parseShard(bad), bad).toThrow(/expects i\/N with 0 <= i < N/);
    expect(shardName({ index: 2, count: 4 })).toBe('shard-00002-of-00004');
    expect(shardName({ index: 2, count: 123456 })).toBe('shard-000002-of-123456');
  });
});
