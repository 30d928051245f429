/**
 * sentence-transformers configurations (issue 22, item 1): the tiny-bert fixture with each
 * variant of tests/fixtures/st laid over it (modules.json, 1_Pooling, 2_Dense with safetensors
 * weights, Normalize, prompts) is embedded by `lsar embed` as sentence-transformers would:
 * rows equal scripts/st_ref.py's numpy restatement of the pipeline (expected.json) to 1e-5,
 * and the manifest records what was applied. Refusals are one line.
 */
import { cpSync, existsSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { Encoder } from '../../src/adapters/transformers.js';
import { readNpy } from '../../src/io/npy.js';
import { oneLine, ROOT, runCli, tempDir, TINY_BERT } from '../helpers.js';

const ST = join(ROOT, 'tests', 'fixtures', 'st');
const cases = JSON.parse(readFileSync(join(ST, 'cases.json'), 'utf8')) as {
  texts: string[];
  variants: Record<string, { args: string[]; prompt: string; promptLength: number; ids: number[][] }>;
};
const expected = (JSON.parse(readFileSync(join(ST, 'expected.json'), 'utf8')) as { embeddings: Record<string, number[][]> }).embeddings;

/** tiny-bert with a variant's sentence-transformers files laid over it. */
async function modelWith(variant: string): Promise<string> {
  const dir = join(await tempDir(), variant);
  cpSync(TINY_BERT, dir, { recursive: true });
  cpSync(join(ST, variant), dir, { recursive: true });
  return dir;
}

async function embed(
  model: string,
  args: string[] = [],
): Promise<{ code: number; stderr: string; rows: number[][]; manifest: Record<string, unknown> }> {
  const dir = await tempDir();
  writeFileSync(join(dir, 'en.txt'), cases.texts.join('\n') + '\n');
  const r = await runCli(['embed', '-i', `en=${join(dir, 'en.txt')}`, '--model', model, '--offline', '--out', join(dir, 'out'), ...args]);
  if (r.code !== 0) return { code: r.code, stderr: r.stderr, rows: [], manifest: {} };
  const x = await readNpy(join(dir, 'out', 'en.npy'));
  const rows = Array.from({ length: x.rows }, (_, i) => Array.from(x.data.subarray(i * x.dim, (i + 1) * x.dim)));
  return { code: r.code, stderr: r.stderr, rows, manifest: JSON.parse(readFileSync(join(dir, 'out', 'manifest.json'), 'utf8')) };
}

/** One line besides the test model's warning, no stack, the exit code. */
function refused(r: { code: number; stdout: string; stderr: string }, code: number, re: RegExp): void {
  oneLine(
    {
      ...r,
      stderr: r.stderr
        .split('\n')
        .filter((l) => !l.startsWith('lsar: warning: the embeddings come from'))
        .join('\n'),
    },
    code,
    re,
  );
}

function maxDiff(a: number[][], b: number[][]): number {
  expect(a.length).toBe(b.length);
  let worst = 0;
  a.forEach((row, i) => {
    expect(row.length).toBe(b[i]?.length);
    row.forEach((v, j) => (worst = Math.max(worst, Math.abs(v - (b[i]?.[j] as number)))));
  });
  return worst;
}

describe('sentence-transformers configurations: rows equal the numpy restatement (1e-5)', () => {
  it('lsar tokenises the fixture texts (with their prompts) as cases.json records', async () => {
    const enc = await Encoder.load({ model: TINY_BERT, offline: true });
    try {
      for (const v of Object.values(cases.variants)) expect(cases.texts.map((t) => enc.encode(v.prompt + t))).toEqual(v.ids);
    } finally {
      await enc.dispose();
    }
  });

  for (const variant of Object.keys(cases.variants)) {
    it(`${variant}: ${JSON.stringify(cases.variants[variant]?.args ?? [])}`, async () => {
      const model = await modelWith(variant);
      const r = await embed(model, cases.variants[variant]?.args);
      expect(r.code, r.stderr).toBe(0);
      expect(maxDiff(r.rows, expected[variant] as number[][])).toBeLessThanOrEqual(1e-5);
      const o = r.manifest.options as { pooling: string; prompt?: string; sentenceTransformers: { pooling: { from: string } } };
      expect(o.sentenceTransformers.pooling.from).toBe('model');
      expect(o.prompt ?? '').toBe(cases.variants[variant]?.prompt);
    }, 60_000);
  }

  it('the manifest records the modules applied (LaBSE-like: cls, Dense 32 -> 16 tanh, Normalize)', async () => {
    const r = await embed(await modelWith('labse'));
    expect(r.code, r.stderr).toBe(0);
    expect(r.manifest.options).toMatchObject({
      pooling: 'cls',
      sentenceTransformers: {
        modules: ['Transformer', 'Pooling', 'Dense', 'Normalize'],
        pooling: { mode: 'cls', from: 'model' },
        dense: [{ path: '2_Dense', inFeatures: 32, outFeatures: 16, activation: 'tanh' }],
        normalize: true,
      },
    });
    // rows are unit length (Normalize), 1e-6
    for (const row of r.rows) expect(Math.abs(Math.hypot(...row) - 1)).toBeLessThanOrEqual(1e-6);
  }, 60_000);

  it('--pooling overrides the model with a warning; --prompt gives the prompt as --prompt-name does', async () => {
    const over = await embed(await modelWith('labse'), ['--pooling', 'mean']);
    expect(over.code, over.stderr).toBe(0);
    expect(over.stderr).toMatch(/--pooling mean overrides .*labse's own cls pooling/);
    expect((over.manifest.options as { sentenceTransformers: { pooling: unknown } }).sentenceTransformers.pooling).toEqual({
      mode: 'mean',
      from: 'option',
    });
    expect(maxDiff(over.rows, expected.labse as number[][])).toBeGreaterThan(1e-3);
    const byText = await embed(await modelWith('e5'), ['--prompt', 'query: ']);
    expect(byText.code, byText.stderr).toBe(0);
    expect(maxDiff(byText.rows, expected.e5 as number[][])).toBeLessThanOrEqual(1e-5);
    // without a prompt: other rows (e5 has no default prompt)
    const none = await embed(await modelWith('e5'));
    expect(maxDiff(none.rows, expected.e5 as number[][])).toBeGreaterThan(1e-4);
  }, 120_000);

  it('refusals: an unknown prompt name, both prompt options, an unknown module, Dense weights only as pytorch_model.bin, two pooling modes, lsar export of a Dense model', async () => {
    const e5 = await modelWith('e5');
    refused(
      await runCli([
        'embed',
        '-i',
        `en=${join(ST, 'cases.json')}`,
        '--model',
        e5,
        '--out',
        join(await tempDir(), 'o'),
        '--prompt-name',
        'doc',
      ]),
      2,
      /--prompt-name doc: .* has the prompts query, passage/,
    );
    refused(
      await runCli([
        'embed',
        '-i',
        `en=${join(ST, 'cases.json')}`,
        '--model',
        e5,
        '--out',
        join(await tempDir(), 'o'),
        '--prompt',
        'q: ',
        '--prompt-name',
        'query',
      ]),
      2,
      /give --prompt or --prompt-name, not both/,
    );
    const odd = await modelWith('minilm');
    const modules = JSON.parse(readFileSync(join(odd, 'modules.json'), 'utf8')) as unknown[];
    writeFileSync(
      join(odd, 'modules.json'),
      JSON.stringify([...modules, { idx: 2, name: '2', path: '2_LSTM', type: 'sentence_transformers.models.LSTM' }]),
    );
    refused(
      await runCli(['embed', '-i', `en=${join(ST, 'cases.json')}`, '--model', odd, '--out', join(await tempDir(), 'o')]),
      1,
      /module 2_LSTM is sentence_transformers\.models\.LSTM; lsar applies Transformer, Pooling, Dense and Normalize modules only/,
    );
    const bin = await modelWith('labse');
    rmSync(join(bin, '2_Dense', 'model.safetensors'));
    writeFileSync(join(bin, '2_Dense', 'pytorch_model.bin'), 'pickle');
    refused(
      await runCli(['embed', '-i', `en=${join(ST, 'cases.json')}`, '--model', bin, '--out', join(await tempDir(), 'o')]),
      1,
      /not in model\.safetensors \(only pytorch_model\.bin, which needs PyTorch to read\)/,
    );
    const two = await modelWith('minilm');
    const pooling = JSON.parse(readFileSync(join(two, '1_Pooling', 'config.json'), 'utf8')) as Record<string, unknown>;
    writeFileSync(join(two, '1_Pooling', 'config.json'), JSON.stringify({ ...pooling, pooling_mode_max_tokens: true }));
    refused(
      await runCli(['embed', '-i', `en=${join(ST, 'cases.json')}`, '--model', two, '--out', join(await tempDir(), 'o')]),
      1,
      /2 pooling modes at once \(mean, max\)/,
    );
    const labse = await modelWith('labse');
    refused(
      await runCli(['export', '--model', labse, '--out', join(await tempDir(), 'x')]),
      2,
      /is a sentence-transformers model .*not its cls pooling, Dense layers, Normalize/,
    );
    expect(existsSync(join(labse, 'modules.json'))).toBe(true);
  }, 120_000);
});
