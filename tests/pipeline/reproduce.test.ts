/**
 * `lsar reproduce` (issue 22, item 3) end to end, offline, on the fixture models and ../shared's
 * data: an mBERT stand-in (the test model as a standard export, layer 1 tapped) and a LaBSE
 * stand-in (the test model with LaBSE's sentence-transformers modules). The rows are retrieve's
 * own numbers (the same run repeated by hand gives the same values, exactly), the sweep's best
 * is at least the default, and the paper's numbers are attached to the paper's model names.
 */
import { cpSync } from 'node:fs';
import { join } from 'node:path';
import { expect } from 'vitest';
import { reproduce } from '../../src/pipeline/reproduce.js';
import { retrieve } from '../../src/pipeline/retrieve/index.js';
import { describeShared, itShared, ROOT, runCli, SHARED, tempDir, TINY_BERT } from '../helpers.js';

const OPTIMUM = join(ROOT, 'tests', 'fixtures', 'tiny-bert-optimum');

describeShared('lsar reproduce', () => {
  itShared(
    'Tatoeba and LAReQA: rows equal retrieve runs, best rank >= default, paper numbers beside; the CLI table says which are test models',
    async () => {
      const dir = await tempDir();
      const labse = join(dir, 'labse');
      cpSync(TINY_BERT, labse, { recursive: true });
      cpSync(join(ROOT, 'tests', 'fixtures', 'st', 'labse'), labse, { recursive: true });
      const data = { tatoeba: join(SHARED, 'data', 'tatoeba'), xquadR: join(SHARED, 'data', 'xquad-r') };
      const embedDir = join(dir, 'cache');
      const { rows } = await reproduce({
        models: [`mbert=${OPTIMUM}@1`],
        // a few ranks (the default, 31, is always run): the whole sweep is what the CLI run below does
        rank: [1, 8, 16],
        ...data,
        corpora: join(ROOT, 'corpora'),
        offline: true,
        cacheDir: join(dir, 'hf'),
        embedDir,
      });
      expect(rows.map((r) => `${r.name}/${r.task}`)).toEqual(['mbert/tatoeba', 'mbert/lareqa']);
      for (const r of rows) {
        expect(r.testModel).toBe(true);
        expect(r.none).toBeGreaterThanOrEqual(0);
        expect(r.lsar).toBeLessThanOrEqual(1);
        expect(r.best.value).toBeGreaterThanOrEqual(r.lsar);
        expect([1, 8, 16, 31]).toContain(r.best.rank);
      }
      expect(rows[0]?.languages).toBe(36);
      expect(rows[0]?.paper).toEqual([37.53, 44.64]);
      expect(rows[1]?.paper).toEqual([23.36, 45.89]);
      // the numbers are retrieve's: the default run by hand gives the same values
      const by = await retrieve({
        task: 'tatoeba',
        data: data.tatoeba,
        model: OPTIMUM,
        layer: 1,
        corpora: join(ROOT, 'corpora'),
        methods: ['none', 'lsar'],
        offline: true,
        cacheDir: join(dir, 'hf'),
        embedDir,
      });
      expect(by.results.none?.mean).toBe(rows[0]?.none);
      const lsarKey = Object.keys(by.results).find((k) => k.startsWith('lsar')) as string;
      expect(lsarKey).toBe('lsar-31');
      expect(by.results[lsarKey]?.mean).toBe(rows[0]?.lsar);
      // the CLI: the table, the paper's numbers, which rows are test models; the LaBSE stand-in
      // (its Dense gives 16 dimensions: ranks 1..15), Tatoeba only
      const cli = await runCli([
        'reproduce',
        '--models',
        `labse=${labse}`,
        '--tasks',
        'tatoeba',
        '--offline',
        '--embed-dir',
        embedDir,
        '--cache-dir',
        join(dir, 'hf'),
        '--tatoeba',
        data.tatoeba,
        '--xquad-r',
        data.xquadR,
        '-q',
      ]);
      expect(cli.code, cli.stderr).toBe(0);
      expect(cli.stdout).toMatch(/^model\s+task\s+metric/);
      expect(cli.stdout).toMatch(/labse \(test model\)\s+tatoeba .*\(rank \d+\)\s+95\.47 -> 95\.54/);
      expect(cli.stdout).not.toMatch(/lareqa/);
      expect(cli.stdout).toMatch(/labse: test models, whose numbers mean nothing/);
    },
    600_000,
  );
});
