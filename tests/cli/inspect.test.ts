/** lsar inspect on planted-small: the language identity before and after each method, the rank, the JSON shape, the errors. */
import { copyFile, mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { expect, it, describe } from 'vitest';
import { readNpy, writeNpy } from '../../src/io/npy.js';
import { GOLDEN, runCli, tempDir } from '../helpers.js';

describe('lsar inspect (planted-small, planted language rank 4)', () => {
  it('--json: probe high on raw embeddings and near chance after demean and lsar-4; the rank found; the documented shape', async () => {
    const r = await runCli(['inspect', join(GOLDEN, 'fit'), '--rank', '4', '--sample', '100', '--json', '-q']);
    expect(r.code).toBe(0);
    const j = JSON.parse(r.stdout) as {
      results: Record<string, { probeAccuracy: number; centroidAccuracy: number; betweenShare: number }>;
      chance: number;
      spectrum: { singularValues: number[]; cumulativeShare: number[] };
      recommendedRank: { rank: number; rule: string };
      manifest: Record<string, unknown>;
      maps?: unknown;
    };
    expect(Object.keys(j.results)).toEqual(['none', 'demean', 'lsar-4', 'abtt-1', 'whiten']);
    for (const m of Object.values(j.results))
      expect(Object.keys(m)).toEqual(expect.arrayContaining(['probeAccuracy', 'centroidAccuracy', 'betweenShare']));
    expect(j.maps).toBeUndefined();
    // 9 languages: chance 1/9. Raw: the planted language means make languages separable (>= 0.9).
    expect(j.chance).toBeCloseTo(1 / 9, 12);
    expect(j.results.none?.probeAccuracy).toBeGreaterThanOrEqual(0.9);
    expect(j.results.none?.betweenShare).toBeGreaterThan(0.3);
    // after demean / lsar with the planted rank: within 0.1 of chance (900 rows: 0.1 is ~ 9 standard deviations of a chance accuracy)
    for (const m of ['demean', 'lsar-4']) {
      expect(Math.abs((j.results[m]?.probeAccuracy as number) - j.chance)).toBeLessThan(0.1);
      expect(Math.abs((j.results[m]?.centroidAccuracy as number) - j.chance)).toBeLessThan(0.1);
      expect(j.results[m]?.betweenShare).toBeLessThan(0.01);
    }
    expect(j.spectrum.singularValues).toHaveLength(8);
    expect(j.spectrum.cumulativeShare.at(-1)).toBeCloseTo(1, 12);
    expect(j.recommendedRank.rank).toBe(4);
    expect(j.recommendedRank.rule).toMatch(/90% of the between-language variance.*eigengap/);
    expect(j.manifest).toMatchObject({ methods: ['none', 'demean', 'lsar-4', 'abtt-1', 'whiten'], probe: { folds: 5, C: 1, seed: 0 } });
  }, 60_000);

  it('--eval pairs: the recommendation is the best rank of the retrieval sweep, and the report says so', async () => {
    const dir = await tempDir();
    const pairs = join(dir, 'pairs');
    await mkdir(pairs);
    for (const l of ['de', 'zh']) {
      await copyFile(join(GOLDEN, 'bitext', `${l}.npy`), join(pairs, `${l}.npy`));
      await copyFile(join(GOLDEN, 'bitext', `${l}.en.npy`), join(pairs, `${l}.en.npy`));
    }
    const r = await runCli([
      'inspect',
      join(GOLDEN, 'fit'),
      '--methods',
      'none,lsar',
      '--sample',
      '40',
      '--eval',
      'pairs',
      '-e',
      pairs,
      '--report',
      join(dir, 'rep'),
      '--json',
      '-q',
    ]);
    expect(r.code).toBe(0);
    const j = JSON.parse(r.stdout) as { recommendedRank: { rank: number; rule: string; sweep: Record<string, number> } };
    const sweep = j.recommendedRank.sweep;
    expect(Object.keys(sweep)).toEqual(['1', '2', '3', '4', '5', '6', '7', '8']);
    const best = Math.max(...Object.values(sweep));
    expect(sweep[String(j.recommendedRank.rank)]).toBe(best);
    expect(j.recommendedRank.rule).toMatch(/best rank of lsar retrieve pairs/);
    const md = await readFile(join(dir, 'rep', 'report.md'), 'utf8');
    expect(md).toContain(`Recommended rank: ${j.recommendedRank.rank}. Rule: the best rank of lsar retrieve pairs`);
    expect(md).toContain('![accuracy@1');
    const html = await readFile(join(dir, 'rep', 'report.html'), 'utf8');
    // self-contained: no external script or stylesheet
    expect(html).not.toMatch(/<script[^>]+src=|<link[^>]+href=/);
  }, 120_000);

  it('-p with --methods none: the saved projection is a column; the spectrum is of the inputs (as with fitted methods, 1e-9)', async () => {
    const dir = await tempDir();
    expect(
      (await runCli(['fit', join(GOLDEN, 'fit'), '--method', 'whiten', '--dims', '16', '--out', join(dir, 'w.json'), '-q'])).code,
    ).toBe(0);
    type J = { results: Record<string, { dim: number }>; spectrum: { singularValues: number[] } };
    const a = JSON.parse(
      (await runCli(['inspect', join(GOLDEN, 'fit'), '-p', join(dir, 'w.json'), '--methods', 'none', '--sample', '40', '--json', '-q']))
        .stdout,
    ) as J;
    const b = JSON.parse(
      (await runCli(['inspect', join(GOLDEN, 'fit'), '--methods', 'demean', '--sample', '40', '--json', '-q'])).stdout,
    ) as J;
    expect(Object.keys(a.results)).toEqual(['none', 'whiten-16']);
    expect(a.results['whiten-16']?.dim).toBe(16);
    a.spectrum.singularValues.forEach((v, i) => expect(Math.abs(v - (b.spectrum.singularValues[i] as number))).toBeLessThan(1e-9));
  });

  it('bad input: one line, exit 2 for usage', async () => {
    const one = await runCli(['inspect', '-i', 'x']);
    expect(one.code).toBe(2);
    const none = await runCli(['inspect']);
    expect(none.code).toBe(2);
    expect(none.stderr).toMatch(/^lsar: lsar inspect needs a directory/);
    const stray = await runCli(['inspect', join(GOLDEN, 'fit'), '--data', 'x']);
    expect(stray.code).toBe(2);
    expect(stray.stderr).toMatch(/--data applies only with --eval/);
    const folds = await runCli(['inspect', join(GOLDEN, 'fit'), '--folds', '1']);
    expect(folds.code).toBe(2);
    expect(folds.stderr).toMatch(/--folds/);
    const single = await runCli(['inspect', join(GOLDEN, 'fit', 'de.npy')]);
    expect(single.code).not.toBe(0);
    expect(single.stderr).toMatch(/at least 2 languages, got 1/);
    // a report directory that cannot be made: refused before any work
    const file = join(await tempDir(), 'f');
    await writeFile(file, 'x');
    const rep = await runCli(['inspect', join(GOLDEN, 'fit'), '--report', join(file, 'rep')]);
    expect(rep.code).toBe(1);
    expect(rep.stderr).toMatch(/f: is a file; expected a directory \(to hold .*rep\)/);
    // a NaN in a sampled row: the file and row named
    const nan = join(await tempDir(), 'nan');
    await mkdir(nan);
    await copyFile(join(GOLDEN, 'fit', 'de.npy'), join(nan, 'de.npy'));
    const fr = await readNpy(join(GOLDEN, 'fit', 'fr.npy'));
    fr.data[7 * fr.dim + 3] = Number.NaN;
    await writeNpy(join(nan, 'fr.npy'), fr.data, fr.rows, fr.dim);
    const bad = await runCli(['inspect', nan, '--methods', 'none', '--sample', '300']);
    expect(bad.code).toBe(1);
    expect(bad.stderr).toMatch(/fr\.npy: row 7 holds NaN or Inf/);
    for (const x of [one, none, stray, folds, single, rep, bad]) expect(x.stderr.trim().split('\n')).toHaveLength(1);
  });
});
