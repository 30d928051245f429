/** Fitting over shards: statistics of any split of the rows merge into the projection of all rows at once. */
import { readFileSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { encodeNpy, readNpy } from '../../src/io/npy.js';
import { listLanguageFiles } from '../../src/io/inputs.js';
import { fitFromFiles } from '../../src/pipeline/fit.js';
import { computeStats, fitFromStats, saveStats } from '../../src/pipeline/stats.js';
import { GOLDEN, planted, runCli, tempDir } from '../helpers.js';

function maxRel(a: Float64Array, b: Float64Array): number {
  let m = 0;
  let scale = 0;
  for (let i = 0; i < a.length; i++) scale = Math.max(scale, Math.abs(b[i] as number));
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs((a[i] as number) - (b[i] as number)));
  return m / (scale || 1);
}

describe('shards of planted-small', () => {
  it('5 shards (rows split unevenly, some languages absent from some shards) merge to the one-fit projection within 1e-12 (lsar, lir, demean)', async () => {
    const dir = await tempDir();
    const files = await listLanguageFiles(join(GOLDEN, 'fit'), '.npy');
    const cuts = [0, 17, 90, 91, 220, 300];
    const shardDirs: string[] = [];
    for (let s = 0; s < 5; s++) {
      const sd = join(dir, `shard-${s}`);
      shardDirs.push(sd);
      for (const [li, f] of files.entries()) {
        if (s === 2 && li % 3 === 0) continue; // a shard without some languages
        const x = await readNpy(f.path);
        const a = cuts[s]!;
        const b = s === 1 && li % 3 === 0 ? cuts[3]! : cuts[s + 1]!; // their rows went to shard 1
        await writeFile(join(sd, `${f.lang}.npy`), encodeNpy(x.data.subarray(a * x.dim, b * x.dim), [b - a, x.dim]), { flag: 'w' }).catch(
          async () => {
            await (await import('node:fs/promises')).mkdir(sd, { recursive: true });
            await writeFile(join(sd, `${f.lang}.npy`), encodeNpy(x.data.subarray(a * x.dim, b * x.dim), [b - a, x.dim]));
          },
        );
      }
    }
    const statsFiles: string[] = [];
    for (const [s, sd] of shardDirs.entries()) {
      const p = join(dir, `s${s}.json`);
      await saveStats(p, await computeStats(await listLanguageFiles(sd, '.npy'), { gram: true }));
      statsFiles.push(p);
    }
    for (const [method, rank] of [
      ['lsar', 4],
      ['lir', undefined],
      ['demean', undefined],
    ] as const) {
      const one = (await fitFromFiles(files, { method, ...(rank ? { rank } : {}) })).projection;
      const merged = (await fitFromStats(statsFiles, { method, ...(rank ? { rank } : {}) })).projection;
      expect(merged.languages).toEqual(one.languages);
      for (const l of one.languages) expect(maxRel(merged.means[l.lang]!, one.means[l.lang]!)).toBeLessThan(1e-12);
      if (one.basis) expect(maxRel(merged.basis!.data, one.basis.data)).toBeLessThan(1e-12);
      if (one.languageBases)
        for (const l of one.languages)
          expect(maxRel(merged.languageBases![l.lang]!.data, one.languageBases[l.lang]!.data)).toBeLessThan(1e-12);
    }
  });
});

describe('lsar stats and fit --stats (CLI)', () => {
  it('writes statistics, fits from them, refuses other dimensions and lir without X^T X', async () => {
    const dir = await tempDir();
    const data = planted(['en', 'de', 'fr'], 20, 8, 4);
    for (const [l, x] of Object.entries(data)) await writeFile(join(dir, `${l}.npy`), encodeNpy(x, [20, 8]));
    let r = await runCli(['stats', dir, '--out', join(dir, 'a.json'), '-q']);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    const json = JSON.parse(readFileSync(join(dir, 'a.json'), 'utf8')) as {
      format: string;
      languages: { lang: string; rows: number; sum: number[] }[];
      source: { inputs: unknown[] };
    };
    expect(json.format).toBe('lsar-stats');
    expect(json.languages.map((l) => [l.lang, l.rows, l.sum.length])).toEqual([
      ['de', 20, 8],
      ['en', 20, 8],
      ['fr', 20, 8],
    ]);
    expect(json.source.inputs).toHaveLength(3);
    // a second, disjoint shard: the rows add up
    const second = await tempDir();
    for (const [l, x] of Object.entries(planted(['en', 'de', 'fr'], 20, 8, 5)))
      await writeFile(join(second, `${l}.npy`), encodeNpy(x, [20, 8]));
    await runCli(['stats', second, '--out', join(second, 'b.json'), '-q']);
    r = await runCli(['fit', '--stats', join(dir, 'a.json'), join(second, 'b.json'), '--out', join(dir, 'p.json'), '--json', '-q']);
    expect(r.code).toBe(0);
    expect((JSON.parse(r.stdout) as { languages: { rows: number }[] }).languages.map((l) => l.rows)).toEqual([40, 40, 40]);
    // the same shard twice would count its rows twice (issue 19): refused
    r = await runCli(['fit', '--stats', join(dir, 'a.json'), join(dir, 'a.json'), '--out', join(dir, 'p2.json')]);
    expect(r.stderr).toMatch(/a\.json is given twice: its rows would be counted twice\n$/);
    expect(r.code).toBe(1);
    r = await runCli(['fit', '--stats', join(dir, 'a.json'), '--method', 'lir', '--out', join(dir, 'q.json')]);
    expect(r.stderr).toMatch(/lir needs X\^T X from every shard, but .*a\.json were made without it \(lsar stats --gram\)/);
    expect(r.code).toBe(2);
    const other = await tempDir();
    for (const l of ['en', 'de']) await writeFile(join(other, `${l}.npy`), encodeNpy(new Float32Array(4 * 4).fill(1), [4, 4]));
    await runCli(['stats', other, '--out', join(other, 'b.json'), '-q']);
    r = await runCli(['fit', '--stats', join(dir, 'a.json'), join(other, 'b.json'), '--out', join(dir, 'r.json')]);
    expect(r.stderr).toMatch(/b\.json: dimension 4, but .*a\.json has 8: shards must come from the same encoder/);
    expect(r.code).toBe(1);
  });
});
