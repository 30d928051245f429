/** lsar mine against a numpy restatement of LASER's mine_bitexts.py (scripts/mine_ref.py, fixtures committed). */
import { readFileSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { encodeNpy } from '../../src/io/npy.js';
import { mine } from '../../src/pipeline/mine/index.js';
import { gaussian, ROOT, runCli, tempDir } from '../helpers.js';

const FIXTURES = join(ROOT, 'tests', 'fixtures', 'mine');

function readTsv(text: string): [number, number, number][] {
  return text
    .trim()
    .split('\n')
    .filter((l) => l !== '')
    .map((l) => {
      const [s, i, j] = l.split('\t');
      return [Number(s), Number(i), Number(j)];
    });
}

describe('lsar mine: parity with the LASER restatement (scores within 1e-5, same pairs in the same order)', () => {
  for (const name of ['planted', 'small-side', 'ties']) {
    for (const margin of ['ratio', 'distance', 'absolute'] as const) {
      for (const retrieval of ['max', 'fwd', 'bwd', 'intersect'] as const) {
        it(`${name}: ${margin} / ${retrieval}`, async () => {
          const { k } = JSON.parse(readFileSync(join(FIXTURES, name, 'case.json'), 'utf8')) as { k: number };
          const out = join(await tempDir(), 'pairs.tsv');
          await mine({
            src: join(FIXTURES, name, 'src.npy'),
            trg: join(FIXTURES, name, 'trg.npy'),
            k,
            margin,
            retrieval,
            out,
            search: 'exact',
          });
          const got = readTsv(readFileSync(out, 'utf8'));
          const want = readTsv(readFileSync(join(FIXTURES, name, `${margin}-${retrieval}.tsv`), 'utf8'));
          expect(got.map(([, i, j]) => [i, j])).toEqual(want.map(([, i, j]) => [i, j]));
          got.forEach(([s], r) => expect(Math.abs(s - (want[r] as [number, number, number])[0])).toBeLessThan(1e-5));
        });
      }
    }
  }
});

describe('lsar mine (CLI)', () => {
  it('writes texts beside the pairs, --json summarises, and HNSW finds the same pairs on the planted case', async () => {
    const dir = await tempDir();
    const src = join(FIXTURES, 'planted', 'src.npy');
    const trg = join(FIXTURES, 'planted', 'trg.npy');
    await writeFile(join(dir, 's.txt'), Array.from({ length: 60 }, (_, i) => `source ${i}`).join('\n') + '\n');
    await writeFile(join(dir, 't.txt'), Array.from({ length: 50 }, (_, i) => `target ${i}`).join('\n') + '\n');
    const out = join(dir, 'pairs.tsv');
    const r = await runCli([
      'mine',
      '--src',
      src,
      '--trg',
      trg,
      '--src-text',
      join(dir, 's.txt'),
      '--trg-text',
      join(dir, 't.txt'),
      '--out',
      out,
      '--exact',
      '--json',
      '-q',
    ]);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    const summary = JSON.parse(r.stdout) as {
      pairs: number;
      search: { forward: { kind: string; reason: string }; backward: { reason: string } };
      scores: { min: number };
    };
    expect(summary.pairs).toBe(40);
    // exact both ways: one pass of scores serves both directions
    expect(summary.search.forward.reason).toMatch(/both directions from one pass of scores$/);
    expect(summary.search.backward.reason).toMatch(/both directions from one pass of scores$/);
    expect(summary.scores.min).toBeGreaterThan(1);
    const first = readFileSync(out, 'utf8').split('\n')[0]!.split('\t');
    expect(first).toEqual([expect.stringMatching(/^1\.88141/), '11', '18', 'source 11', 'target 18']);
    const h = await runCli(['mine', '--src', src, '--trg', trg, '--out', join(dir, 'h.tsv'), '--search', 'hnsw', '-q']);
    expect(h.code).toBe(0);
    expect(readTsv(readFileSync(join(dir, 'h.tsv'), 'utf8')).map(([, i, j]) => `${i}-${j}`)).toEqual(
      readTsv(readFileSync(out, 'utf8')).map(([, i, j]) => `${i}-${j}`),
    );
  });

  it('exact search both ways reports progress in target rows, up to all of them', async () => {
    const dir = await tempDir();
    const g = gaussian(8);
    const d = 16;
    const [n, m] = [300, 9000];
    await writeFile(join(dir, 's.npy'), encodeNpy(Float32Array.from({ length: n * d }, g), [n, d]));
    await writeFile(join(dir, 't.npy'), encodeNpy(Float32Array.from({ length: m * d }, g), [m, d]));
    const seen: [string, number, number | undefined][] = [];
    await mine({
      src: join(dir, 's.npy'),
      trg: join(dir, 't.npy'),
      out: join(dir, 'p.tsv'),
      search: 'exact',
      events: { progress: (stage, done, total) => seen.push([stage, done, total]) },
    });
    const knn = seen.filter(([stage]) => stage === `mine: 4-NN both ways (${n} x ${m})`);
    // announced at 0, then chunks of 4,096 target rows (GEMM or WebAssembly alike): 4096, 8192, 9000
    expect(knn.map(([, done, total]) => [done, total])).toEqual([
      [0, m],
      [4096, m],
      [8192, m],
      [m, m],
    ]);
  });

  it('--unify mines unique texts and names their first rows', async () => {
    const dir = await tempDir();
    const g = gaussian(31);
    const d = 8;
    const base = Float32Array.from({ length: 4 * d }, g);
    // source rows 0..5: texts a b a c d b (duplicates share embeddings)
    const rowsOf = [0, 1, 0, 2, 3, 1];
    const src = new Float32Array(6 * d);
    rowsOf.forEach((b, i) => src.set(base.subarray(b * d, (b + 1) * d), i * d));
    await writeFile(join(dir, 's.npy'), encodeNpy(src, [6, d]));
    await writeFile(join(dir, 't.npy'), encodeNpy(base, [4, d]));
    await writeFile(join(dir, 's.txt'), 'a\nb\na\nc\nd\nb\n');
    await writeFile(join(dir, 't.txt'), 'A\nB\nC\nD\n');
    const out = join(dir, 'u.tsv');
    await mine({
      src: join(dir, 's.npy'),
      trg: join(dir, 't.npy'),
      srcText: join(dir, 's.txt'),
      trgText: join(dir, 't.txt'),
      unify: true,
      out,
      k: 2,
      margin: 'absolute',
      threshold: 0.99,
    });
    const lines = readFileSync(out, 'utf8')
      .trim()
      .split('\n')
      .map((l) => l.split('\t').slice(1));
    expect(lines.map((l) => l.join(' ')).sort()).toEqual(['0 0 a A', '1 1 b B', '3 2 c C', '4 3 d D']);
  });

  it('refuses sides of different dimension, an empty side, texts that do not match, k < 1, unknown margin or retrieval', async () => {
    const dir = await tempDir();
    await writeFile(join(dir, 'a.npy'), encodeNpy(new Float32Array(3 * 4).fill(1), [3, 4]));
    await writeFile(join(dir, 'b.npy'), encodeNpy(new Float32Array(3 * 5).fill(1), [3, 5]));
    await writeFile(join(dir, 'e.npy'), encodeNpy([], [0, 4]));
    await writeFile(join(dir, 'two.txt'), 'x\ny\n');
    const run = (...args: string[]) => runCli(['mine', '--src', join(dir, 'a.npy'), '--out', join(dir, 'o.tsv'), ...args]);
    const cases: [string[], number, RegExp][] = [
      [['--trg', join(dir, 'b.npy')], 1, /b\.npy: dimension 5, but .*a\.npy has dimension 4/],
      [['--trg', join(dir, 'e.npy')], 1, /e\.npy: the array has no rows/],
      [['--trg', join(dir, 'a.npy'), '--src-text', join(dir, 'two.txt')], 1, /two\.txt: 2 non-empty lines, but .*a\.npy has 3 embeddings/],
      [['--trg', join(dir, 'a.npy'), '-k', '0'], 2, /-k must be a whole number from 1 to 100000, got 0/],
      [['--trg', join(dir, 'a.npy'), '--margin', 'cosine'], 2, /--margin must be one of ratio, distance, absolute; got "cosine"/],
      [['--trg', join(dir, 'a.npy'), '--retrieval', 'best'], 2, /--retrieval must be one of max, fwd, bwd, intersect; got "best"/],
      [['--trg', join(dir, 'a.npy'), '--unify'], 2, /--unify needs the source texts/],
    ];
    for (const [args, code, message] of cases) {
      const r = await run(...args);
      expect(r.stderr, args.join(' ')).toMatch(message);
      expect(r.code, args.join(' ')).toBe(code);
    }
    expect((await runCli(['mine', '--src', join(dir, 'a.npy'), '--trg', join(dir, 'a.npy'), '--out', '-'])).code).toBe(0);
  });
});
