import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { fitToArtifact } from '../../src/pipeline/fit.js';
import { GOLDEN, listFiles, runCli, tempDir } from '../helpers.js';

const docs = join(GOLDEN, 'bitext', 'de.en.npy');
const queries = join(GOLDEN, 'bitext', 'de.npy');

describe('lsar search', () => {
  it('finds each row as its own nearest neighbour (score 1) and prints labels', async () => {
    const dir = await tempDir();
    await writeFile(join(dir, 'labels.txt'), Array.from({ length: 200 }, (_, i) => `sentence ${i}`).join('\n') + '\n');
    const r = await runCli(['search', '-x', docs, '--queries', docs, '-k', '3', '--exact', '--json', '--labels', join(dir, 'labels.txt')]);
    expect(r.stderr).toBe('');
    const lines = r.stdout
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as { query: number; neighbors: { index: number; score: number; label: string }[] });
    expect(lines).toHaveLength(200);
    for (const l of lines) {
      expect(l.neighbors).toHaveLength(3);
      expect(l.neighbors[0]!.index).toBe(l.query);
      expect(Math.abs(l.neighbors[0]!.score - 1)).toBeLessThan(1e-6);
      expect(l.neighbors[0]!.label).toBe(`sentence ${l.query}`);
    }
  });

  it('HNSW with a projection agrees with exact on top-1 for planted pairs, and saves/reuses its index', async () => {
    const dir = await tempDir();
    await fitToArtifact({ dir: join(GOLDEN, 'fit'), method: 'lsar', rank: 4, out: join(dir, 'p.json') });
    const args = ['search', '-x', docs, '--queries', queries, '-p', join(dir, 'p.json'), '-k', '1', '--json'];
    const exact = await runCli([...args, '--exact']);
    const hnsw = await runCli([...args, '--index-out', join(dir, 'idx.bin')]);
    expect(hnsw.code).toBe(0);
    expect(await listFiles(dir)).toEqual(expect.arrayContaining(['idx.bin', 'idx.bin.json']));
    const top = (s: string) =>
      s
        .trim()
        .split('\n')
        .map((l) => (JSON.parse(l) as { neighbors: { index: number }[] }).neighbors[0]!.index);
    const e = top(exact.stdout);
    const h = top(hnsw.stdout);
    expect(h.filter((x, i) => x === e[i]).length / e.length).toBeGreaterThanOrEqual(0.99);
    const again = await runCli([...args, '--index-in', join(dir, 'idx.bin')]);
    expect(top(again.stdout)).toEqual(h);
    // the saved index was built with the projection: reusing it without one is refused
    const wrong = await runCli(['search', '-x', docs, '--queries', queries, '--index-in', join(dir, 'idx.bin')]);
    expect(wrong.code).toBe(1);
    expect(wrong.stderr).toMatch(
      /idx\.bin: built for 200 x 64 vectors \(lsar-[0-9a-f]+\), but this run indexes 200 x 64 \(none\): rebuild it with --index-out/,
    );
  });

  it('takes JSON Lines queries on stdin and refuses a dimension mismatch', async () => {
    const r = await runCli(['search', '-x', docs, '-k', '2', '--exact'], JSON.stringify(Array(64).fill(0.5)) + '\n');
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^query 0\n {2}\s*\d+ {2}-?\d\.\d{4}\n/);
    const bad = await runCli(['search', '-x', docs, '--exact'], '[1,2,3]\n');
    expect(bad.stderr).toMatch(/<stdin>:1: 3 values, expected 64/);
  });
});

describe('lsar search with text queries', () => {
  it('embeds .txt queries with --model: a corpus line finds itself', async () => {
    const { ROOT } = await import('../helpers.js');
    const model = join(ROOT, 'tests', 'fixtures', 'tiny-bert');
    const dir = await tempDir();
    const lines = (await import('node:fs'))
      .readFileSync(join(ROOT, 'corpora', 'de.txt'), 'utf8')
      .split('\n')
      .slice(0, 40);
    await writeFile(join(dir, 'docs.txt'), lines.join('\n') + '\n');
    await writeFile(join(dir, 'q.txt'), [lines[7], lines[21]].join('\n') + '\n');
    let r = await runCli(['embed', '-i', `de=${join(dir, 'docs.txt')}`, '--model', model, '--offline', '--out', join(dir, 'emb'), '-q']);
    expect(r.code).toBe(0);
    r = await runCli([
      'search',
      '-x',
      join(dir, 'emb', 'de.npy'),
      '--labels',
      join(dir, 'docs.txt'),
      '--queries',
      join(dir, 'q.txt'),
      '--model',
      model,
      '--offline',
      '--embed-dir',
      join(dir, 'cache'),
      '--exact',
      '-k',
      '1',
      '--json',
    ]);
    // the model says it is a test model: said once (issue 19: search --model warned about nothing)
    expect(r.stderr.match(/^lsar: warning: .*tiny-bert: a random test model/gm)).toHaveLength(1);
    expect(r.stderr).not.toMatch(/internal error|\n\s+at /);
    const hits = r.stdout
      .trim()
      .split('\n')
      .map((l) => (JSON.parse(l) as { neighbors: { index: number; label: string }[] }).neighbors[0]!);
    expect(hits.map((h) => h.index)).toEqual([7, 21]);
    expect(hits[0]!.label).toBe(lines[7]);
    r = await runCli(['search', '-x', join(dir, 'emb', 'de.npy'), '--queries', join(dir, 'q.txt')]);
    expect(r.stderr).toMatch(/q\.txt: text queries need --model/);
  });
});
