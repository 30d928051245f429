/** lsar embed on the offline fixture model (tests/fixtures/tiny-bert), through the real transformers.js path. */
import { readFileSync } from 'node:fs';
import { cp, mkdir, readFile, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import ort from 'onnxruntime-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Encoder } from '../../src/adapters/transformers.js';
import { readNpy } from '../../src/io/npy.js';
import { embedCorpora, type EmbedManifest } from '../../src/pipeline/embed.js';
import { listFiles, ROOT, runBin, runCli, tempDir } from '../helpers.js';

const MODEL = join(ROOT, 'tests', 'fixtures', 'tiny-bert');
const lines = (lang: string, n: number) =>
  readFileSync(join(ROOT, 'corpora', `${lang}.txt`), 'utf8')
    .split('\n')
    .slice(0, n);

async function corpora(): Promise<string> {
  const dir = await tempDir();
  await writeFile(join(dir, 'en.txt'), lines('en', 30).join('\n') + '\n');
  await writeFile(join(dir, 'de.txt'), lines('de', 20).join('\n') + '\n\n   \n');
  await writeFile(join(dir, 'zh.txt'), lines('zh', 25).join('\r\n'));
  return dir;
}

function maxAbs(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs((a[i] as number) - (b[i] as number)));
  return m;
}

describe('Encoder (fixture model)', () => {
  let enc: Encoder;
  beforeAll(async () => {
    enc = await Encoder.load({ model: MODEL, offline: true });
  });
  afterAll(async () => enc.dispose());

  it('last_hidden_state has shape [batch, seq, 32], float32, and a pinned value (1e-5)', async () => {
    const ids = enc.encode('Hello world');
    expect(ids[0]).toBe(2); // [CLS]
    expect(ids[ids.length - 1]).toBe(3); // [SEP]
    const { hidden, dims } = await enc.run([ids]);
    expect(dims).toEqual([1, ids.length, 32]);
    expect(hidden).toBeInstanceOf(Float32Array);
    // Regression value of the deterministic fixture (scripts/make-fixture-model.ts).
    expect(Math.abs((hidden[0] as number) - PINNED)).toBeLessThan(1e-5);
  });

  it('mean pooling equals a hand computation from raw onnxruntime outputs (1e-5)', async () => {
    const dir = await tempDir();
    const texts = ['Ein kurzer Satz.', 'Un autre exemple, un peu plus long que le premier.', '短い文'];
    await writeFile(join(dir, 'xx.txt'), texts.join('\n'));
    for (const excludeSpecial of [false, true]) {
      const out = join(dir, `out-${excludeSpecial}`);
      await embedCorpora({ model: MODEL, offline: true, input: [`xx=${join(dir, 'xx.txt')}`], out, excludeSpecial });
      const got = await readNpy(join(out, 'xx.npy'));
      const session = await ort.InferenceSession.create(join(MODEL, 'onnx', 'model.onnx'));
      for (const [i, t] of texts.entries()) {
        const ids = enc.encode(t);
        const n = ids.length;
        const feeds = {
          input_ids: new ort.Tensor('int64', BigInt64Array.from(ids.map(BigInt)), [1, n]),
          attention_mask: new ort.Tensor('int64', new BigInt64Array(n).fill(1n), [1, n]),
          token_type_ids: new ort.Tensor('int64', new BigInt64Array(n), [1, n]),
        };
        const h = (await session.run(feeds)).last_hidden_state!.data as Float32Array;
        const want = new Float64Array(32);
        let count = 0;
        for (let p = 0; p < n; p++) {
          if (excludeSpecial && (p === 0 || p === n - 1)) continue;
          count++;
          for (let k = 0; k < 32; k++) want[k] = (want[k] as number) + (h[p * 32 + k] as number);
        }
        for (let k = 0; k < 32; k++) want[k] = (want[k] as number) / count;
        expect(maxAbs(got.data.subarray(i * 32, (i + 1) * 32), want), `${t} excludeSpecial=${excludeSpecial}`).toBeLessThan(1e-5);
      }
      await session.release();
    }
  });
});

describe('embedCorpora', () => {
  it('writes <lang>.npy (float32, a row per non-empty line) and manifest.json', async () => {
    const dir = await corpora();
    const out = join(await tempDir(), 'emb');
    const m = await embedCorpora({ model: MODEL, offline: true, corpora: dir, out, batchSize: 4 });
    expect(await listFiles(out)).toEqual(['de.npy', 'en.npy', 'manifest.json', 'zh.npy']);
    for (const [lang, n] of [
      ['en', 30],
      ['de', 20],
      ['zh', 25],
    ] as const) {
      const x = await readNpy(join(out, `${lang}.npy`));
      expect([x.rows, x.dim, x.dtype]).toEqual([n, 32, '<f4']);
    }
    const json = JSON.parse(await readFile(join(out, 'manifest.json'), 'utf8')) as EmbedManifest;
    expect(json).toEqual(m);
    expect(json.model.path).toBe(MODEL);
    expect(json.model.files?.map((f) => f.name)).toEqual(['config.json', 'onnx/model.onnx', 'tokenizer.json', 'tokenizer_config.json']);
    expect(json.options).toEqual({ dtype: 'fp32', pooling: 'mean', excludeSpecial: false, layer: null, normalize: false, maxLength: 128 });
    expect(json.languages.de).toMatchObject({ file: 'de.npy', lines: 20, rows: 20, dim: 32, truncated: expect.any(Number) });
    expect(json.languages.de?.inputSha256).toMatch(/^[0-9a-f]{64}$/);
    expect(json.lsarVersion).toMatch(/^\d/);
    expect(json.transformersVersion).toMatch(/^\d/);
  });

  it('restores row order after length sorting: batch size 1 and 7 agree row by row, and runs repeat (1e-5)', async () => {
    const dir = await corpora();
    const a = join(await tempDir(), 'a');
    const b = join(await tempDir(), 'b');
    const c = join(await tempDir(), 'c');
    await embedCorpora({ model: MODEL, offline: true, input: [`en=${join(dir, 'en.txt')}`], out: a, batchSize: 1 });
    await embedCorpora({ model: MODEL, offline: true, input: [`en=${join(dir, 'en.txt')}`], out: b, batchSize: 7 });
    await embedCorpora({ model: MODEL, offline: true, input: [`en=${join(dir, 'en.txt')}`], out: c, batchSize: 7 });
    const [x, y, z] = await Promise.all([a, b, c].map((d) => readNpy(join(d, 'en.npy'))));
    expect(maxAbs(x!.data, y!.data)).toBeLessThan(1e-5);
    expect(maxAbs(y!.data, z!.data)).toBeLessThan(1e-5);
    // rows differ from each other (so the comparison above checks order)
    expect(maxAbs(x!.data.subarray(0, 32), x!.data.subarray(32, 64))).toBeGreaterThan(1e-3);
  });

  it('a token budget changes the batches, not the rows (1e-5), and lowers the padding it reports', async () => {
    const dir = await corpora();
    const a = join(await tempDir(), 'a');
    const b = join(await tempDir(), 'b');
    const pad: number[] = [];
    const run = async (out: string, maxTokens?: number) => {
      const m = await embedCorpora({
        model: MODEL,
        offline: true,
        input: [`en=${join(dir, 'en.txt')}`],
        out,
        batchSize: 32,
        ...(maxTokens ? { maxTokens } : {}),
      });
      pad.push(m.languages.en!.padding);
    };
    await run(a);
    await run(b, 64);
    const [x, y] = await Promise.all([a, b].map((d) => readNpy(join(d, 'en.npy'))));
    expect(maxAbs(x!.data, y!.data)).toBeLessThan(1e-5);
    expect(pad[0]).toBeGreaterThan(0);
    expect(pad[1]).toBeLessThan(pad[0] as number);
  });

  it('resumes: skips current languages, re-embeds a changed input only', async () => {
    const dir = await corpora();
    const out = join(await tempDir(), 'emb');
    await embedCorpora({ model: MODEL, offline: true, corpora: dir, out });
    const before = await stat(join(out, 'en.npy'));
    const seen: [string, boolean][] = [];
    await writeFile(join(dir, 'de.txt'), lines('de', 5).join('\n'));
    const skipped = (list: [string, boolean][]) => ({
      progress: (stage: string, _d: number, _t?: number, detail?: { note?: string; final?: boolean }) => {
        if (detail?.final) list.push([stage.replace('embed ', ''), detail.note === 'up to date, skipped']);
      },
    });
    await embedCorpora({ model: MODEL, offline: true, corpora: dir, out, events: skipped(seen) });
    expect(seen).toEqual([
      ['de', false],
      ['en', true],
      ['zh', true],
    ]);
    expect((await stat(join(out, 'en.npy'))).mtimeMs).toBe(before.mtimeMs);
    expect((await readNpy(join(out, 'de.npy'))).rows).toBe(5);
    // other options: everything is embedded again
    const again: [string, boolean][] = [];
    await embedCorpora({
      model: MODEL,
      offline: true,
      corpora: dir,
      out,
      normalize: true,
      events: skipped(again),
    });
    expect(again.every(([, s]) => !s)).toBe(true);
  });

  it('truncates very long lines and counts them; --layer picks hidden_states.<N>; cls pooling', async () => {
    const dir = await tempDir();
    await writeFile(join(dir, 'en.txt'), ['short line here', 'word '.repeat(5000), 'another short line'].join('\n'));
    const out = join(await tempDir(), 'o');
    const m = await embedCorpora({ model: MODEL, offline: true, input: [`en=${join(dir, 'en.txt')}`], out, maxLength: 16 });
    expect(m.languages.en).toMatchObject({ rows: 3, truncated: 1 });
    const last = await readNpy(join(out, 'en.npy'));
    const l1 = await embedCorpora({
      model: MODEL,
      offline: true,
      input: [`en=${join(dir, 'en.txt')}`],
      out: join(out, 'l1'),
      maxLength: 16,
      layer: 1,
    });
    expect(l1.options.layer).toBe(1);
    expect(maxAbs((await readNpy(join(out, 'l1', 'en.npy'))).data, last.data)).toBeGreaterThan(1e-3);
    await expect(
      embedCorpora({ model: MODEL, offline: true, input: [`en=${join(dir, 'en.txt')}`], out: join(out, 'l9'), layer: 9 }),
    ).rejects.toThrow(/no output "hidden_states\.9"; it exposes hidden_states\.0, hidden_states\.1, hidden_states\.2/);
    const cls = await embedCorpora({
      model: MODEL,
      offline: true,
      input: [`en=${join(dir, 'en.txt')}`],
      out: join(out, 'cls'),
      pooling: 'cls',
      normalize: true,
    });
    const x = await readNpy(join(out, 'cls', 'en.npy'));
    expect(cls.options.pooling).toBe('cls');
    let n2 = 0;
    for (let k = 0; k < 32; k++) n2 += (x.data[k] as number) ** 2;
    expect(Math.abs(n2 - 1)).toBeLessThan(1e-5);
  });
});

describe('a Hub id from the model cache (as a first download leaves it)', () => {
  it('loads from --cache-dir with and without --offline through bin/lsar.js, tokenising in the worker pool; same rows as the directory (1e-6)', async () => {
    const dir = await tempDir();
    const cache = join(dir, 'cache');
    // transformers.js's file cache: <cache dir>/<owner>/<name>/<file> for the main revision
    await cp(MODEL, join(cache, 'someone', 'tiny-model'), { recursive: true });
    await writeFile(join(dir, 'en.txt'), lines('en', 40).join('\n') + '\n');
    const direct = await runBin(['embed', '-i', `en=${join(dir, 'en.txt')}`, '--model', MODEL, '--out', join(dir, 'd'), '-q']);
    expect(direct.code).toBe(0);
    const want = await readNpy(join(dir, 'd', 'en.npy'));
    for (const extra of [[], ['--offline']]) {
      const out = join(dir, `c${extra.length}`);
      const r = await runBin([
        'embed',
        '-i',
        `en=${join(dir, 'en.txt')}`,
        '--model',
        'someone/tiny-model',
        '--cache-dir',
        cache,
        '--out',
        out,
        '-q',
        ...extra,
      ]);
      expect(r.stderr.replace(/^lsar: warning: .*\n/gm, '')).toBe('');
      expect(r.code).toBe(0);
      const got = await readNpy(join(out, 'en.npy'));
      expect(got.rows).toBe(40);
      expect(maxAbs(got.data, want.data)).toBeLessThan(1e-6);
    }
  }, 60_000);
});

describe('lsar embed: bad input', () => {
  it('an empty corpus file, a file that is not UTF-8, a missing directory: one line each, no output', async () => {
    const dir = await tempDir();
    const out = join(await tempDir(), 'o');
    await writeFile(join(dir, 'en.txt'), '\n  \n');
    let r = await runCli(['embed', '-i', `en=${join(dir, 'en.txt')}`, '--model', MODEL, '--offline', '--out', out, '-q']);
    expect(r.stderr).toBe(`lsar: ${join(dir, 'en.txt')}: no non-empty lines to embed\n`);
    expect(await listFiles(out)).toEqual([]);
    await writeFile(join(dir, 'de.txt'), Buffer.concat([Buffer.from('gut\nso\n'), Buffer.from([0xff, 0xfe, 0x41]), Buffer.from('\n')]));
    r = await runCli(['embed', '-i', `de=${join(dir, 'de.txt')}`, '--model', MODEL, '--offline', '--out', out, '-q']);
    expect(r.stderr).toBe(`lsar: ${join(dir, 'de.txt')}:3: not valid UTF-8 (expected UTF-8 text, one sentence per line)\n`);
    expect(r.code).toBe(1);
    r = await runCli(['embed', '--corpora', join(dir, 'nope'), '--model', MODEL, '--out', out, '-q']);
    expect(r.stderr).toMatch(/nope: no such directory/);
  });

  it('a model directory without onnx/, a missing directory, an uncached Hub id offline: says where it looked and how to fix it', async () => {
    const dir = await tempDir();
    const model = join(dir, 'model');
    await mkdir(model);
    await writeFile(join(model, 'config.json'), readFileSync(join(MODEL, 'config.json')));
    await writeFile(join(model, 'tokenizer.json'), readFileSync(join(MODEL, 'tokenizer.json')));
    await writeFile(join(dir, 'en.txt'), 'a sentence\n');
    const run = (m: string, ...extra: string[]) =>
      runCli(['embed', '-i', `en=${join(dir, 'en.txt')}`, '--model', m, '--out', join(dir, 'o'), '-q', ...extra]);
    let r = await run(model);
    expect(r.stderr).toMatch(
      new RegExp(
        `${join(model, 'onnx', 'model.onnx')}: missing: a model directory needs config.json, tokenizer.json and onnx/model.onnx .*optimum-cli export onnx`,
      ),
    );
    r = await run(join(dir, 'absent'));
    expect(r.stderr).toMatch(
      /absent: no such model directory; pass a directory holding config.json, tokenizer.json and onnx\/model.onnx, or a Hub id/,
    );
    r = await run('someone/no-such-model', '--offline', '--cache-dir', join(dir, 'cache'));
    expect(r.stderr).toMatch(
      new RegExp(
        `model "someone/no-such-model" not found: .*it is not in the cache \\(cache dir ${join(dir, 'cache')}.*Fix: pass a local model directory`,
      ),
    );
    expect(r.stderr.trimEnd().split('\n')).toHaveLength(1);
    r = await run(MODEL, '--dtype', 'fp16');
    expect(r.stderr).toMatch(/onnx\/model_fp16\.onnx: missing: .*this one has --dtype fp32/);
  });
});

/** hidden[0] of 'Hello world' ([CLS], first dimension) for the committed fixture. */
const PINNED = 1.3524766;
