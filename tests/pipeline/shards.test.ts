/**
 * Work split over the tasks of a job array (issue 21): every verb that takes --shard gives, over
 * all its tasks, what one process gives. The same runs on a real Slurm cluster are in
 * tests/slurm.test.ts.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { mkdir, readdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { encodeNpy, readNpy } from '../../src/io/npy.js';
import { embedCorpora } from '../../src/pipeline/embed.js';
import { fitToArtifact } from '../../src/pipeline/fit.js';
import { mine } from '../../src/pipeline/mine/index.js';
import { project } from '../../src/pipeline/project/index.js';
import { resolveShard } from '../../src/pipeline/services/shard.js';
import { stats } from '../../src/pipeline/stats.js';
import { planted, ROOT, tempDir, TINY_BERT, writeLangParquet } from '../helpers.js';

const D = 16;

async function data(dir: string): Promise<string> {
  const emb = join(dir, 'emb');
  await mkdir(emb);
  // uneven row counts, one language smaller than the number of tasks
  const sizes: Record<string, number> = { en: 103, de: 57, fr: 3, ja: 64 };
  const x = planted(Object.keys(sizes), 103, D, 11);
  for (const [l, n] of Object.entries(sizes))
    await writeFile(join(emb, `${l}.npy`), encodeNpy((x[l] as Float32Array).slice(0, n * D), [n, D]));
  return emb;
}

const rel = (a: number, b: number) => Math.abs(a - b) / Math.max(1e-300, Math.abs(b));

describe('--shard i/N: the tasks together give what one process gives', () => {
  it('stats: fitting from every shard equals fitting all rows (1e-12 relative); a missing or repeated shard is refused', async () => {
    const dir = await tempDir();
    const emb = await data(dir);
    const whole = await fitToArtifact({ dir: emb, method: 'lir', out: join(dir, 'whole.json') });
    const N = 5;
    const files: string[] = [];
    for (let i = 0; i < N; i++) {
      files.push(join(dir, `s${i}.json`));
      await stats({ dir: emb, gram: true, out: files[i] as string, shard: `${i}/${N}` });
    }
    const merged = await fitToArtifact({ stats: files, method: 'lir', out: join(dir, 'merged.json') });
    expect(merged.projection.languages).toEqual(whole.projection.languages);
    for (const l of ['en', 'de', 'fr', 'ja']) {
      const a = merged.projection.means[l] as Float64Array;
      const b = whole.projection.means[l] as Float64Array;
      a.forEach((v, j) => expect(rel(v, b[j] as number)).toBeLessThan(1e-12));
    }
    await expect(fitToArtifact({ stats: files.slice(0, 4), method: 'lsar', out: join(dir, 'x.json') })).rejects.toThrow(
      /rows \d+-\d+ of .*\.npy \(of \d+\) are in none of the stats files given/,
    );
    await expect(fitToArtifact({ stats: [...files, files[2] as string], method: 'lsar', out: join(dir, 'y.json') })).rejects.toThrow(
      /given twice|counted twice/,
    );
  });

  it('stats of JSON Lines and of Parquet with a language column: the shards add up to the whole (1e-12 relative)', async () => {
    const dir = await tempDir();
    const x = planted(['en', 'de'], 50, D, 3);
    const rows: Float32Array[] = [];
    const labels: string[] = [];
    for (let r = 0; r < 50; r++)
      for (const l of ['en', 'de']) {
        rows.push((x[l] as Float32Array).slice(r * D, (r + 1) * D));
        labels.push(l);
      }
    await writeLangParquet(join(dir, 'all.parquet'), labels, rows, 17);
    await mkdir(join(dir, 'jl'));
    for (const l of ['en', 'de'])
      writeFileSync(
        join(dir, 'jl', `${l}.jsonl`),
        Array.from({ length: 50 }, (_, r) => JSON.stringify(Array.from((x[l] as Float32Array).subarray(r * D, (r + 1) * D)))).join('\n') +
          '\n',
      );
    const cases: [string, { input?: string[]; dir?: string; langColumn?: string }][] = [
      ['parquet', { input: [join(dir, 'all.parquet')], langColumn: 'lang' }],
      ['jsonl', { dir: join(dir, 'jl') }],
    ];
    for (const [what, given] of cases) {
      const whole = await stats({ ...given, out: join(dir, `${what}.whole.json`) });
      const parts = [];
      for (let i = 0; i < 3; i++) parts.push(await stats({ ...given, out: join(dir, `${what}.${i}.json`), shard: `${i}/3` }));
      for (const l of whole.languages) {
        const got = parts.flatMap((p) => p.languages.filter((q) => q.lang === l.lang));
        expect(got.reduce((a, q) => a + q.rows, 0)).toBe(l.rows);
        l.sum.forEach((v, j) =>
          expect(
            rel(
              got.reduce((a, q) => a + (q.sum[j] as number), 0),
              v,
            ),
          ).toBeLessThan(1e-12),
        );
      }
    }
  });

  it('embed: the shards concatenated are the single run, byte for byte (shard-<i>-of-<N>/ below --out)', async () => {
    const dir = await tempDir();
    const lines = readFileSync(join(ROOT, 'corpora', 'de.txt'), 'utf8')
      .split('\n')
      .slice(0, 70);
    await writeFile(join(dir, 'de.txt'), lines.join('\n') + '\n');
    await embedCorpora({ model: TINY_BERT, input: [`de=${join(dir, 'de.txt')}`], out: join(dir, 'one') });
    const parts: Float32Array[] = [];
    for (let i = 0; i < 3; i++) {
      const m = await embedCorpora({ model: TINY_BERT, input: [`de=${join(dir, 'de.txt')}`], out: join(dir, 'many'), shard: `${i}/3` });
      expect(m.shard).toEqual({ index: i, count: 3 });
      parts.push((await readNpy(join(dir, 'many', `shard-0000${i}-of-00003`, 'de.npy'))).data as Float32Array);
    }
    const one = (await readNpy(join(dir, 'one', 'de.npy'))).data as Float32Array;
    const cat = new Float32Array(one.length);
    let o = 0;
    for (const p of parts) {
      cat.set(p, o);
      o += p.length;
    }
    expect(o).toBe(one.length);
    expect(Buffer.from(cat.buffer).equals(Buffer.from(one.buffer))).toBe(true);
  }, 60_000);

  it('project: the tasks split the files; together they write every output once, equal to one run', async () => {
    const dir = await tempDir();
    const emb = await data(dir);
    const p = (await fitToArtifact({ dir: emb, out: join(dir, 'p.json') })).path;
    await project({ projection: p, in: [emb], out: join(dir, 'one') });
    for (let i = 0; i < 3; i++) await project({ projection: p, in: [emb], out: join(dir, 'many'), shard: `${i}/3` });
    const names = (await readdir(join(dir, 'one'))).sort();
    expect((await readdir(join(dir, 'many'))).sort()).toEqual(names);
    for (const n of names) expect((await readFile(join(dir, 'many', n))).equals(await readFile(join(dir, 'one', n)))).toBe(true);
    await expect(project({ projection: p, in: [join(emb, 'en.npy')], out: join(dir, 'x.npy'), shard: '0/2' })).rejects.toThrow(
      /project splits the input files among the tasks/,
    );
  });

  it('mine: the merged neighbours of every task mine the same pairs with the same scores as one process; a missing task is refused', async () => {
    const dir = await tempDir();
    const emb = await data(dir);
    const src = join(emb, 'en.npy');
    const trg = join(emb, 'ja.npy');
    const one = await mine({ src, trg, out: join(dir, 'one.tsv'), search: 'exact', threshold: 0 });
    const knn = join(dir, 'knn');
    for (let i = 0; i < 4; i++) await mine({ src, trg, out: knn, search: 'exact', shard: `${i}/4` });
    const merged = await mine({ fromNeighbours: knn, out: join(dir, 'merged.tsv'), threshold: 0 });
    expect(merged.summary.pairs).toBe(one.summary.pairs);
    expect(await readFile(join(dir, 'merged.tsv'), 'utf8')).toBe(await readFile(join(dir, 'one.tsv'), 'utf8'));
    // exact: each task searched its source rows both ways in one pass; the targets' lists are partial blocks
    const bwd = JSON.parse(await readFile(join(knn, 'bwd.shard-00001-of-00004.json'), 'utf8')) as { over?: object; rows: object };
    expect([bwd.over, bwd.rows]).toEqual([
      { start: 25, end: 51 },
      { start: 0, end: 64, total: 64 },
    ]);
    const { rm } = await import('node:fs/promises');
    // a broken block file, and a file given for the directory: one line each
    const { writeFile: write } = await import('node:fs/promises');
    await write(join(knn, 'bwd.shard-00001-of-00004.json'), '{broken');
    await expect(mine({ fromNeighbours: knn, out: join(dir, 'x.tsv') })).rejects.toThrow(/bwd\.shard-00001-of-00004\.json: not valid JSON/);
    await expect(mine({ fromNeighbours: src, out: join(dir, 'x.tsv') })).rejects.toThrow(/en\.npy: is a file; expected the directory/);
    await rm(join(knn, 'bwd.shard-00001-of-00004.json'));
    await expect(mine({ fromNeighbours: knn, out: join(dir, 'x.tsv') })).rejects.toThrow(/bwd neighbours of task 1 of 4 missing/);
    await rm(join(knn, 'fwd.shard-00002-of-00004.json'));
    await expect(mine({ fromNeighbours: knn, out: join(dir, 'x.tsv') })).rejects.toThrow(/fwd neighbours of task 2 of 4 missing/);
  });

  it('mine: a side smaller than the task count (empty blocks), and HNSW tasks (tiled blocks), merge to one process', async () => {
    const dir = await tempDir();
    const emb = await data(dir);
    // fr has 3 rows for 4 tasks: task 0's source block is empty
    const one = await mine({
      src: join(emb, 'fr.npy'),
      trg: join(emb, 'de.npy'),
      out: join(dir, 'one.tsv'),
      search: 'exact',
      threshold: 0,
    });
    const knn = join(dir, 'knn');
    for (let i = 0; i < 4; i++)
      await mine({ src: join(emb, 'fr.npy'), trg: join(emb, 'de.npy'), out: knn, search: 'exact', shard: `${i}/4` });
    const merged = await mine({ fromNeighbours: knn, out: join(dir, 'merged.tsv'), threshold: 0 });
    expect(merged.summary.pairs).toBe(one.summary.pairs);
    expect(await readFile(join(dir, 'merged.tsv'), 'utf8')).toBe(await readFile(join(dir, 'one.tsv'), 'utf8'));
    // HNSW searches each direction's block of rows (ef above the row counts: the exact lists)
    const src = join(emb, 'en.npy');
    const trg = join(emb, 'ja.npy');
    const exact = await mine({ src, trg, out: join(dir, 'exact.tsv'), search: 'exact', threshold: 0 });
    const hnsw = join(dir, 'hnsw');
    for (let i = 0; i < 3; i++) await mine({ src, trg, out: hnsw, search: 'hnsw', ef: 500, shard: `${i}/3` });
    const bwd = JSON.parse(await readFile(join(hnsw, 'bwd.shard-00001-of-00003.json'), 'utf8')) as { over?: object; rows: object };
    expect([bwd.over, bwd.rows]).toEqual([undefined, { start: 21, end: 42, total: 64 }]);
    const fromHnsw = await mine({ fromNeighbours: hnsw, out: join(dir, 'merged-hnsw.tsv'), threshold: 0 });
    expect(fromHnsw.summary.pairs).toBe(exact.summary.pairs);
    const pairs = (t: string) => t.split('\n').map((l) => l.split('\t').slice(1).join(' '));
    expect(pairs(await readFile(join(dir, 'merged-hnsw.tsv'), 'utf8'))).toEqual(pairs(await readFile(join(dir, 'exact.tsv'), 'utf8')));
  });

  it('the shard comes from --shard, Slurm array variables, or a Kubernetes Indexed Job with a count; none ignores them', () => {
    expect(resolveShard({ shard: '1/4' }, {})?.shard).toEqual({ index: 1, count: 4 });
    expect(resolveShard({}, { SLURM_ARRAY_TASK_ID: '7', SLURM_ARRAY_TASK_MIN: '5', SLURM_ARRAY_TASK_COUNT: '4' })?.shard).toEqual({
      index: 2,
      count: 4,
    });
    expect(resolveShard({ shard: 'none' }, { SLURM_ARRAY_TASK_ID: '1', SLURM_ARRAY_TASK_COUNT: '4' })).toBeUndefined();
    expect(resolveShard({}, { SLURM_JOB_ID: '3' })).toBeUndefined();
    expect(resolveShard({ shardCount: 3 }, { JOB_COMPLETION_INDEX: '2' })?.shard).toEqual({ index: 2, count: 3 });
    expect(() => resolveShard({ shardCount: 3 }, {})).toThrow(/needs JOB_COMPLETION_INDEX/);
    expect(() => resolveShard({}, { SLURM_ARRAY_TASK_ID: '3', SLURM_ARRAY_TASK_COUNT: '2', SLURM_ARRAY_TASK_STEP: '2' })).toThrow(
      /not task 0\.\.1 of a contiguous array/,
    );
  });
});
