import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it, describe } from 'vitest';
import { apply } from '../../src/core/apply.js';
import { loadProjection } from '../../src/io/artifact.js';
import { encodeNpy, readNpy } from '../../src/io/npy.js';
import { fitToArtifact } from '../../src/pipeline/fit.js';
import { GOLDEN, listFiles, runCli, tempDir } from '../helpers.js';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';

const bitext = (l: string) => join(GOLDEN, 'bitext', `${l}.npy`);

function maxAbs(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs((a[i] as number) - (b[i] as number)));
  return m;
}

describe('lsar project', () => {
  let artifacts: string;
  beforeAll(async () => {
    artifacts = await mkdtemp(join(tmpdir(), 'lsar-proj-'));
    for (const method of ['lsar', 'lir', 'demean', 'none'] as const) {
      await fitToArtifact({ dir: join(GOLDEN, 'fit'), method, out: join(artifacts, `${method}.json`) });
    }
  });

  afterAll(async () => rm(artifacts, { recursive: true, force: true }));

  it('projects .npy to .npy equal to the float64 library apply (1e-5: the float32 SIMD path accumulates in float32) and ignores --lang for lsar', async () => {
    const out = join(await tempDir(), 'de.npy');
    const r = await runCli(['project', '-p', join(artifacts, 'lsar.json'), '--in', bitext('de'), '--out', out, '--lang', 'zz', '--json']);
    expect(r.code).toBe(0);
    expect(JSON.parse(r.stdout)).toMatchObject({ method: 'lsar', rows: 200, dim: 64 });
    const got = await readNpy(out);
    const x = await readNpy(bitext('de'));
    const want = apply(await loadProjection(join(artifacts, 'lsar.json')), Float64Array.from(x.data));
    expect(maxAbs(got.data, want)).toBeLessThan(1e-5);
  });

  it('reads JSON Lines on stdin and writes them on stdout, with --normalize', async () => {
    const rows = [[...Array(64).keys()].map((i) => i / 10), [...Array(64).keys()].map((i) => Math.sin(i))];
    const r = await runCli(
      ['project', '-p', join(artifacts, 'demean.json'), '--lang', 'de', '--normalize'],
      rows.map((x) => JSON.stringify(x)).join('\n') + '\n',
    );
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    const lines = r.stdout
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as number[]);
    expect(lines).toHaveLength(2);
    const p = await loadProjection(join(artifacts, 'demean.json'));
    const want = apply(p, Float64Array.from(rows.flat()), { lang: 'de', normalize: true });
    expect(maxAbs(lines.flat(), want)).toBeLessThan(1e-6);
    expect(Math.abs(lines[0]!.reduce((s, v) => s + v * v, 0) - 1)).toBeLessThan(1e-6);
  });

  it('converts .npy to a .jsonl file', async () => {
    const out = join(await tempDir(), 'zh.jsonl');
    const r = await runCli(['project', '-p', join(artifacts, 'none.json'), '--in', bitext('zh'), '--out', out, '-q']);
    expect(r.code).toBe(0);
    const lines = (await readFile(out, 'utf8')).trim().split('\n');
    expect(lines).toHaveLength(200);
    const x = await readNpy(bitext('zh'));
    expect(JSON.parse(lines[7] as string)).toEqual(Array.from(x.data.subarray(7 * 64, 8 * 64)));
  });

  for (const method of ['lir', 'demean']) {
    it(`${method}: refuses a missing --lang in one line, leaving no output`, async () => {
      const dir = await tempDir();
      const r = await runCli(['project', '-p', join(artifacts, `${method}.json`), '--in', bitext('de'), '--out', join(dir, 'o.npy')]);
      expect(r.code).toBe(1);
      expect(r.stderr).toMatch(
        new RegExp(`^lsar: method "${method}" needs the input's language \\(--lang\\); the projection knows ar, de, en.*\\n$`),
      );
      expect(await listFiles(dir)).toEqual([]);
    });
  }

  it('refuses an unknown language, a dimension mismatch and a NaN row, leaving no output', async () => {
    const dir = await tempDir();
    const out = join(dir, 'o.npy');
    let r = await runCli(['project', '-p', join(artifacts, 'lir.json'), '--in', bitext('de'), '--out', out, '--lang', 'xx']);
    expect(r.stderr).toMatch(/no language "xx"/);
    const small = join(await tempDir(), 'small.npy');
    await writeFile(small, encodeNpy(new Float32Array(3 * 8), [3, 8]));
    r = await runCli(['project', '-p', join(artifacts, 'lsar.json'), '--in', small, '--out', out]);
    expect(r.stderr).toMatch(/small\.npy: dimension 8, but the projection was fitted on dimension 64/);
    const nan = new Float32Array(300 * 64);
    nan[250 * 64 + 1] = NaN;
    const nanFile = join(await tempDir(), 'nan.npy');
    await writeFile(nanFile, encodeNpy(nan, [300, 64]));
    r = await runCli(['project', '-p', join(artifacts, 'lsar.json'), '--in', nanFile, '--out', out]);
    expect(r.stderr).toMatch(/nan\.npy: row 250 holds NaN or Inf/);
    expect(r.code).toBe(1);
    expect(await listFiles(dir)).toEqual([]);
  });

  it('names the stdin line of bad JSON Lines', async () => {
    const good = JSON.stringify(Array(64).fill(0));
    let r = await runCli(['project', '-p', join(artifacts, 'lsar.json')], `${good}\n[1,2\n`);
    expect(r.stderr).toMatch(/^lsar: <stdin>:2: not valid JSON/);
    r = await runCli(['project', '-p', join(artifacts, 'lsar.json')], `${good}\n[1,2]\n`);
    expect(r.stderr).toMatch(/<stdin>:2: 2 values, expected 64/);
    r = await runCli(['project', '-p', join(artifacts, 'lsar.json')], '');
    expect(r.stderr).toMatch(/<stdin>: no rows/);
  });

  it('refuses a missing or foreign projection file', async () => {
    const dir = await tempDir();
    let r = await runCli(['project', '-p', join(dir, 'nope.json')]);
    expect(r.stderr).toMatch(/nope\.json: no such projection file/);
    await writeFile(join(dir, 'other.json'), '{"hello": 1}');
    r = await runCli(['project', '-p', join(dir, 'other.json')]);
    expect(r.stderr).toMatch(/other\.json: not an lsar projection/);
  });
});

describe('whiten through the CLI', () => {
  it('fit --method whiten --dims 8, project to .npy and JSON Lines gives 8-dim rows equal to the numpy restatement (1e-4, float32 output)', async () => {
    const dir = await tempDir();
    const fit = await runCli(['fit', join(GOLDEN, 'fit'), '--method', 'whiten', '--dims', '8', '--out', join(dir, 'w.json'), '--json']);
    expect(fit.code).toBe(0);
    expect(JSON.parse(fit.stdout)).toMatchObject({ method: 'whiten', dims: 8, dim: 64 });
    const r = await runCli(['project', '-p', join(dir, 'w.json'), '--in', bitext('de'), '--out', join(dir, 'de.npy'), '--json']);
    expect(r.code).toBe(0);
    expect(JSON.parse(r.stdout)).toMatchObject({ rows: 200, dim: 8 });
    const got = await readNpy(join(dir, 'de.npy'));
    const want = await readNpy(join(import.meta.dirname, '..', 'fixtures', 'whiten', 'whiten-8.de.npy'));
    expect([got.rows, got.dim]).toEqual([200, 8]);
    expect(maxAbs(got.data, want.data)).toBeLessThan(1e-4);
    const j = await runCli(['project', '-p', join(dir, 'w.json'), '--in', bitext('de'), '--out', join(dir, 'de.jsonl')]);
    expect(j.code).toBe(0);
    const lines = (await readFile(join(dir, 'de.jsonl'), 'utf8')).trim().split('\n');
    expect(lines).toHaveLength(200);
    expect((JSON.parse(lines[0] as string) as number[]).length).toBe(8);
    const bad = await runCli(['fit', join(GOLDEN, 'fit'), '--method', 'lsar', '--dims', '8', '--out', join(dir, 'x.json')]);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/--dims applies only to method "whiten"/);
  });
});
