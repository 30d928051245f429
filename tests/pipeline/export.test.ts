/**
 * lsar export on the offline fixture model (tests/fixtures/tiny-bert): the exported graph's
 * sentence_embedding against lsar embed + lsar project, through transformers.js and through a
 * raw onnxruntime session; the projection alone as ONNX and safetensors; the ONNX checker.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { copyFile, mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import ort from 'onnxruntime-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { decodeModel, DataType, encodeModel, valueInfo, type OnnxModel } from '../../src/adapters/onnx.js';
import { Encoder } from '../../src/adapters/transformers.js';
import { poolBatch } from '../../src/core/pooling.js';
import { apply } from '../../src/core/apply.js';
import { loadProjection } from '../../src/io/artifact.js';
import { readNpy } from '../../src/io/npy.js';
import { embedCorpora } from '../../src/pipeline/embed.js';
import { appendPooling, GraphBuilder } from '../../src/pipeline/export/graph.js';
import { exportModel } from '../../src/pipeline/export/model.js';
import { exportProjection, projectionModel } from '../../src/pipeline/export/projection.js';
import { fitToArtifact } from '../../src/pipeline/fit.js';
import { gaussian, ROOT, runCli, tempDir } from '../helpers.js';

const MODEL = join(ROOT, 'tests', 'fixtures', 'tiny-bert');
const LANGS = ['en', 'de', 'fr', 'zh'];
const lines = (lang: string, n: number, from = 0) =>
  readFileSync(join(ROOT, 'corpora', `${lang}.txt`), 'utf8')
    .split('\n')
    .slice(from, from + n);

function maxAbs(a: ArrayLike<number>, b: ArrayLike<number>): number {
  expect(a.length).toBe(b.length);
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs((a[i] as number) - (b[i] as number)));
  return m;
}

/** Debian's python3-onnx (the checker), when installed. */
const PY = '/usr/bin/python3';
const haveOnnx = (() => {
  try {
    execFileSync(PY, ['-c', 'import onnx'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
})();
function onnxCheck(path: string): string {
  return execFileSync(
    PY,
    [
      '-c',
      'import onnx, sys; m = onnx.load(sys.argv[1]); onnx.checker.check_model(m, full_check=True); print("ok", m.opset_import[0].version)',
      path,
    ],
    { encoding: 'utf8' },
  ).trim();
}

/** Directories that outlive one test (made in beforeAll), removed after the file. */
const kept: string[] = [];
async function keptDir(): Promise<string> {
  const d = await mkdtemp(join(tmpdir(), 'lsar-export-'));
  kept.push(d);
  return d;
}
afterAll(async () => {
  for (const d of kept) await rm(d, { recursive: true, force: true });
});

/** Exported files, copied aside for the ONNX checker at the end. */
const checked: string[] = [];
async function keepForChecker(file: string): Promise<void> {
  const copy = join(await keptDir(), 'model.onnx');
  await copyFile(file, copy);
  checked.push(copy);
}

let corpora: string;
let texts: string;
beforeAll(async () => {
  corpora = await keptDir();
  for (const l of LANGS) await writeFile(join(corpora, `${l}.txt`), lines(l, 60).join('\n') + '\n');
  // held-out texts: mixed lengths in one batch, so padding and the attention mask matter
  texts = join(await keptDir(), 'texts.txt');
  await writeFile(texts, [...lines('de', 6, 100), ...lines('zh', 5, 100), 'Hi', ...lines('en', 6, 100)].join('\n') + '\n');
});

interface Case {
  name: string;
  embed: { pooling: 'mean' | 'cls'; excludeSpecial?: boolean; layer?: number; normalize?: boolean };
  normalize: boolean;
}
const CASES: Case[] = [
  { name: 'mean, last layer', embed: { pooling: 'mean' }, normalize: false },
  {
    name: 'mean without special tokens, layer 1, normalised before and after',
    embed: { pooling: 'mean', excludeSpecial: true, layer: 1, normalize: true },
    normalize: true,
  },
  { name: 'cls, layer 1, normalised', embed: { pooling: 'cls', layer: 1 }, normalize: true },
  { name: 'cls, last layer', embed: { pooling: 'cls' }, normalize: false },
];

describe('exportModel: sentence_embedding equals embed + project (1e-5)', () => {
  for (const c of CASES) {
    it(c.name, async () => {
      const dir = await tempDir();
      const emb = join(dir, 'emb');
      await embedCorpora({ model: MODEL, offline: true, corpora, out: emb, ...c.embed });
      const { projection, path } = await fitToArtifact({ dir: emb, method: 'lsar', rank: 3, out: join(dir, 'proj.json') });
      const out = join(dir, 'exported');
      const summary = await exportModel({ model: MODEL, projection: path, out, normalize: c.normalize, offline: true });
      expect(summary.warnings).toEqual([]);
      expect(summary.export).toMatchObject({
        layer: c.embed.layer ?? null,
        pooling: c.embed.pooling,
        normalize: c.normalize,
        normalizeInput: c.embed.normalize === true,
      });
      expect(summary.files).toEqual(['config.json', join('onnx', 'model.onnx'), 'tokenizer.json', 'tokenizer_config.json']);

      // expected: lsar embed of the texts with the original model, then the projection
      const plain = join(dir, 'plain');
      await embedCorpora({ model: MODEL, offline: true, input: [`xx=${texts}`], out: plain, ...c.embed, batchSize: 5 });
      const want = apply(projection, (await readNpy(join(plain, 'xx.npy'))).data as Float32Array, { normalize: c.normalize });

      // through transformers.js: lsar embed detects sentence_embedding and uses it as is
      const viaModel = join(dir, 'via-model');
      const m = await embedCorpora({ model: out, offline: true, input: [`xx=${texts}`], out: viaModel, batchSize: 5 });
      expect(m.model.export?.projection?.method).toBe('lsar');
      const got = (await readNpy(join(viaModel, 'xx.npy'))).data;
      expect(maxAbs(got, want)).toBeLessThan(1e-5);

      // through a raw onnxruntime session: one padded batch of every text
      const enc = await Encoder.load({ model: MODEL, offline: true });
      const ids = readFileSync(texts, 'utf8')
        .split('\n')
        .filter((t) => t !== '')
        .map((t) => enc.encode(t));
      await enc.dispose();
      const b = ids.length;
      const s = Math.max(...ids.map((x) => x.length));
      const inputIds = new BigInt64Array(b * s);
      const mask = new BigInt64Array(b * s);
      ids.forEach((x, i) => x.forEach((v, t) => ((inputIds[i * s + t] = BigInt(v)), (mask[i * s + t] = 1n))));
      const session = await ort.InferenceSession.create(join(out, 'onnx', 'model.onnx'));
      const r = await session.run({
        input_ids: new ort.Tensor('int64', inputIds, [b, s]),
        attention_mask: new ort.Tensor('int64', mask, [b, s]),
        token_type_ids: new ort.Tensor('int64', new BigInt64Array(b * s), [b, s]),
      });
      expect(r.sentence_embedding?.dims).toEqual([b, 32]);
      expect(r.sentence_embedding?.type).toBe('float32');
      expect(maxAbs(r.sentence_embedding?.data as Float32Array, want)).toBeLessThan(1e-5);
      // the encoder's own outputs stay
      expect(session.outputNames).toEqual(expect.arrayContaining(['last_hidden_state', 'hidden_states.1', 'sentence_embedding']));
      await session.release();

      await keepForChecker(join(out, 'onnx', 'model.onnx'));
      // the removed directions are gone: every row is orthogonal to the removed basis rows (1e-5)
      const basis = projection.basis?.data as Float64Array;
      let dot = 0;
      for (let i = 0; i < got.length / 32; i++)
        for (let k = 0; k < projection.remove; k++) {
          let sum = 0;
          for (let j = 0; j < 32; j++) sum += (got[i * 32 + j] as number) * (basis[k * 32 + j] as number);
          dot = Math.max(dot, Math.abs(sum));
        }
      expect(dot).toBeLessThan(1e-5);
    });
  }

  it('without a projection: pooling (and normalisation) only, equal to lsar embed --normalize (1e-5)', async () => {
    const dir = await tempDir();
    const out = join(dir, 'pooled');
    const s = await exportModel({ model: MODEL, out, pooling: 'mean', layer: 1, normalize: true, offline: true });
    expect(s.export.projection).toBeNull();
    const a = join(dir, 'a');
    const b = join(dir, 'b');
    await embedCorpora({ model: MODEL, offline: true, input: [`xx=${texts}`], out: a, layer: 1, normalize: true });
    await embedCorpora({ model: out, offline: true, input: [`xx=${texts}`], out: b });
    expect(maxAbs((await readNpy(join(b, 'xx.npy'))).data, (await readNpy(join(a, 'xx.npy'))).data)).toBeLessThan(1e-5);
  });
});

describe('exportModel refuses', () => {
  let dir: string;
  let proj: string;
  beforeAll(async () => {
    dir = await keptDir();
    await embedCorpora({ model: MODEL, offline: true, corpora, out: join(dir, 'emb'), layer: 1 });
    proj = (await fitToArtifact({ dir: join(dir, 'emb'), method: 'lsar', rank: 3, out: join(dir, 'proj.json') })).path;
  });

  it('options that disagree with the embeddings the projection was fitted on', async () => {
    await expect(exportModel({ model: MODEL, projection: proj, out: join(dir, 'x'), layer: 2, offline: true })).rejects.toThrow(
      /fitted on embeddings made with layer 1 .*exporting with layer 2 would apply it to other vectors/,
    );
    await expect(exportModel({ model: MODEL, projection: proj, out: join(dir, 'x'), pooling: 'cls', offline: true })).rejects.toThrow(
      /pooling "mean"/,
    );
    const r = await runCli(['export', '--model', MODEL, '-p', proj, '--out', join(dir, 'x'), '--layer', '2', '--offline']);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/^lsar: .*made with --layer 1 .*drop --layer/);
    expect(existsSync(join(dir, 'x'))).toBe(false);
  });

  it('lir and demean (they need a language), naming the way out', async () => {
    for (const method of ['lir', 'demean'] as const) {
      const p = (
        await fitToArtifact({ dir: join(dir, 'emb'), method, out: join(dir, `${method}.json`), ...(method === 'lir' ? { remove: 2 } : {}) })
      ).path;
      await expect(exportModel({ model: MODEL, projection: p, out: join(dir, 'y'), offline: true })).rejects.toThrow(
        /needs the input's language.*--format onnx --lang/,
      );
    }
  });

  it('a layer the graph does not expose, a projection of another dimension, an output inside the model', async () => {
    const none = join(dir, 'none-emb');
    await expect(exportModel({ model: MODEL, out: join(dir, 'z'), layer: 7, offline: true })).rejects.toThrow(
      /no output "hidden_states.7"; it exposes hidden_states.0, hidden_states.1, hidden_states.2/,
    );
    const p = join(dir, 'wide');
    await mkdir(none, { recursive: true });
    const g = gaussian(3);
    const { writeNpy } = await import('../../src/io/npy.js');
    for (const l of ['en', 'de', 'fr']) await writeNpy(join(none, `${l}.npy`), Float32Array.from({ length: 20 * 48 }, g), 20, 48);
    const wide = (await fitToArtifact({ dir: none, method: 'lsar', rank: 2, out: join(p, 'proj.json') })).path;
    await expect(exportModel({ model: MODEL, projection: wide, out: join(dir, 'z'), offline: true })).rejects.toThrow(
      /hidden size 32, but the projection was fitted on dimension 48/,
    );
    await expect(exportModel({ model: MODEL, out: join(MODEL, 'inside'), offline: true })).rejects.toThrow(
      /would overwrite or nest with the model/,
    );
  });

  it('a model that was already exported; fit on embeddings already projected; embed options that would change it', async () => {
    const out = join(dir, 'exported');
    await exportModel({ model: MODEL, projection: proj, out, offline: true });
    await expect(exportModel({ model: out, projection: proj, out: join(dir, 'again'), offline: true })).rejects.toThrow(
      /already has a sentence_embedding output/,
    );
    const emb = join(dir, 'projected-emb');
    await embedCorpora({ model: out, offline: true, corpora, out: emb });
    await expect(fitToArtifact({ dir: emb, method: 'lsar', out: join(dir, 'p2.json') })).rejects.toThrow(
      /already projected; fit on embeddings of the original model/,
    );
    const r = await runCli(['embed', '--model', out, '--offline', '-i', `xx=${texts}`, '--out', join(dir, 'e3'), '--pooling', 'cls']);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/made by lsar export: .* with --pooling "mean", and is used as is; drop --pooling "cls"/);
  });

  it('a projection without an embedding manifest: exported with the options given, and a warning', async () => {
    const src = join(dir, 'bare');
    await mkdir(src, { recursive: true });
    for (const l of ['en', 'de', 'fr']) await writeFile(join(src, `${l}.npy`), await readFile(join(dir, 'emb', `${l}.npy`)));
    const bare = (await fitToArtifact({ dir: src, method: 'lsar', rank: 2, out: join(dir, 'bare.json') })).path;
    const s = await exportModel({ model: MODEL, projection: bare, out: join(dir, 'bare-model'), layer: 1, offline: true });
    expect(s.warnings).toEqual([expect.stringMatching(/does not record how its embeddings were made.*mean pooling of layer 1/)]);
  });
});

describe('pooling nodes at opset 11 and 13 equal core/pooling.ts (1e-6)', () => {
  for (const opset of [11, 13]) {
    it(`opset ${opset}`, async () => {
      const [b, s, h] = [3, 5, 4];
      const g = gaussian(opset);
      const hidden = Float32Array.from({ length: b * s * h }, g);
      const lens = [5, 3, 2];
      const ids = new BigInt64Array(b * s);
      const mask = new Uint8Array(b * s);
      lens.forEach((n, i) => {
        for (let t = 0; t < n; t++) {
          mask[i * s + t] = 1;
          ids[i * s + t] = t === 0 ? 2n : t === n - 1 ? 3n : BigInt(10 + t);
        }
      });
      for (const [pooling, excludeSpecial] of [
        ['mean', false],
        ['mean', true],
        ['cls', false],
      ] as const) {
        const model: OnnxModel = {
          irVersion: 7,
          opsetImport: [{ version: opset }],
          graph: {
            name: 'pool',
            node: [],
            initializer: [],
            input: [
              valueInfo('hidden', DataType.FLOAT, ['b', 's', h]),
              valueInfo('attention_mask', DataType.INT64, ['b', 's']),
              valueInfo('input_ids', DataType.INT64, ['b', 's']),
            ],
            output: [],
          },
        };
        const gb = new GraphBuilder(model.graph, opset);
        const y = appendPooling(gb, 'hidden', 'attention_mask', 'input_ids', { pooling, excludeSpecial, specialIds: [2, 3] });
        model.graph.node.push({ opType: 'Identity', input: [y], output: ['y'] });
        model.graph.output.push(valueInfo('y', DataType.FLOAT, ['b', h]));
        const session = await ort.InferenceSession.create(encodeModel(model));
        const r = await session.run({
          hidden: new ort.Tensor('float32', hidden, [b, s, h]),
          attention_mask: new ort.Tensor(
            'int64',
            BigInt64Array.from(mask, (v) => BigInt(v)),
            [b, s],
          ),
          input_ids: new ort.Tensor('int64', ids, [b, s]),
        });
        const special = Uint8Array.from(ids, (v) => (v === 2n || v === 3n ? 1 : 0));
        const want = poolBatch(hidden, [b, s, h], mask, special, { pooling, excludeSpecial });
        expect(maxAbs(r.y?.data as Float32Array, want), `${pooling} excludeSpecial=${excludeSpecial}`).toBeLessThan(1e-6);
        await session.release();
      }
    });
  }
  it('opsets before 11 are refused', () => {
    expect(() => new GraphBuilder({ node: [], initializer: [], input: [], output: [] }, 10)).toThrow(/need opset 11 or later/);
  });
});

describe('the projection alone', () => {
  let dir: string;
  let proj: string;
  beforeAll(async () => {
    dir = await keptDir();
    await embedCorpora({ model: MODEL, offline: true, corpora, out: join(dir, 'emb') });
    proj = (await fitToArtifact({ dir: join(dir, 'emb'), method: 'lsar', rank: 3, remove: 2, out: join(dir, 'proj.json') })).path;
  });

  it('ONNX: embeddings [n, d] -> projected [n, d] equals apply() (1e-5), basis within 1e-7 of the artifact', async () => {
    const p = await loadProjection(proj);
    const rows = Float32Array.from({ length: 7 * 32 }, gaussian(9));
    for (const normalize of [false, true]) {
      const out = join(dir, `p-${normalize}.onnx`);
      await exportProjection(p, { format: 'onnx', out, normalize });
      const session = await ort.InferenceSession.create(out);
      expect([session.inputNames, session.outputNames]).toEqual([['embeddings'], ['projected']]);
      const r = await session.run({ embeddings: new ort.Tensor('float32', rows, [7, 32]) });
      expect(maxAbs(r.projected?.data as Float32Array, apply(p, rows.slice(), { normalize }))).toBeLessThan(1e-5);
      await session.release();
      const m = decodeModel(await readFile(out));
      const basis = m.graph.initializer.find((t) => t.name.includes('basis_') && !t.name.includes('basis_t'));
      const b = new Float32Array(Uint8Array.from(basis?.rawData as Uint8Array).buffer);
      expect(maxAbs(b, (p.basis?.data as Float64Array).subarray(0, 2 * 32))).toBeLessThan(1e-7);
      expect(Object.fromEntries((m.metadataProps ?? []).map((e) => [e.key, e.value]))).toMatchObject({
        'lsar.method': 'lsar',
        'lsar.remove': '2',
      });
      await keepForChecker(out);
    }
  });

  it('abtt exports as ONNX (pooled mean subtracted, components removed) and safetensors, equal to apply() (1e-5 / exact)', async () => {
    const fitted = await fitToArtifact({ dir: join(dir, 'emb'), method: 'abtt', remove: 2, out: join(dir, 'abtt.json') });
    const p = await loadProjection(fitted.path);
    const rows = Float32Array.from({ length: 5 * 32 }, gaussian(4));
    const out = join(dir, 'abtt.onnx');
    await exportProjection(p, { format: 'onnx', out });
    const session = await ort.InferenceSession.create(out);
    const r = await session.run({ embeddings: new ort.Tensor('float32', rows, [5, 32]) });
    expect(maxAbs(r.projected?.data as Float32Array, apply(p, rows.slice()))).toBeLessThan(1e-5);
    await session.release();
    await keepForChecker(out);
    const st = join(dir, 'abtt.safetensors');
    await exportProjection(p, { format: 'safetensors', out: st });
    const back = await loadProjection(st);
    expect(back.method).toBe('abtt');
    expect(Array.from(apply(back, rows.slice()))).toEqual(Array.from(apply(p, rows.slice())));
  });

  it('whiten with dims exports as ONNX [n, 32] -> [n, 8] and safetensors, equal to apply() (1e-4 / exact)', async () => {
    const fitted = await fitToArtifact({ dir: join(dir, 'emb'), method: 'whiten', dims: 8, out: join(dir, 'whiten.json') });
    const p = await loadProjection(fitted.path);
    expect(p.dims).toBe(8);
    const rows = Float32Array.from({ length: 5 * 32 }, gaussian(6));
    const out = join(dir, 'whiten.onnx');
    await exportProjection(p, { format: 'onnx', out });
    const session = await ort.InferenceSession.create(out);
    const r = await session.run({ embeddings: new ort.Tensor('float32', rows, [5, 32]) });
    expect(r.projected?.dims).toEqual([5, 8]);
    // whitened values are of order 1-100 (small eigenvalues scaled up): 1e-4 relative to their size
    const want = apply(p, rows.slice());
    const scale = Math.max(...Array.from(want, Math.abs));
    expect(maxAbs(r.projected?.data as Float32Array, want) / scale).toBeLessThan(1e-4);
    await session.release();
    await keepForChecker(out);
    const st = join(dir, 'whiten.safetensors');
    await exportProjection(p, { format: 'safetensors', out: st });
    const back = await loadProjection(st);
    expect([back.method, back.dims]).toEqual(['whiten', 8]);
    expect(Array.from(apply(back, rows.slice()))).toEqual(Array.from(apply(p, rows.slice())));
  });

  it('ONNX of lir and demean for one language (lang), refused without it', async () => {
    for (const method of ['lir', 'demean'] as const) {
      const fitted = await fitToArtifact({
        dir: join(dir, 'emb'),
        method,
        out: join(dir, `${method}.json`),
        ...(method === 'lir' ? { remove: 2 } : {}),
      });
      const p = fitted.projection;
      expect(() => projectionModel(p)).toThrow(/an ONNX model applies one language's \(lang\)/);
      const out = join(dir, `${method}.onnx`);
      await exportProjection(p, { format: 'onnx', out, lang: 'de' });
      const rows = Float32Array.from({ length: 4 * 32 }, gaussian(11));
      const session = await ort.InferenceSession.create(out);
      const r = await session.run({ embeddings: new ort.Tensor('float32', rows, [4, 32]) });
      expect(maxAbs(r.projected?.data as Float32Array, apply(p, rows.slice(), { lang: 'de' }))).toBeLessThan(1e-5);
      await session.release();
    }
  });

  it('safetensors round trip equals the artifact (1e-7; float64 arrays, so exactly), and loads where a projection is expected', async () => {
    for (const [method, extra] of [
      ['lsar', { rank: 3, remove: 2 }],
      ['lir', { remove: 2 }],
      ['demean', {}],
      ['none', {}],
    ] as const) {
      const fitted = await fitToArtifact({ dir: join(dir, 'emb'), method, out: join(dir, `st-${method}.json`), ...extra });
      const out = join(dir, `st-${method}.safetensors`);
      const r = await runCli(['export', '-p', fitted.path, '--out', out, '--json']);
      expect(r.code, r.stderr).toBe(0);
      expect(JSON.parse(r.stdout)).toMatchObject({ method, format: 'safetensors', out });
      const a = await loadProjection(fitted.path);
      const b = await loadProjection(out);
      expect([b.method, b.dim, b.remove, b.rank, b.languages]).toEqual([a.method, a.dim, a.remove, a.rank, a.languages]);
      for (const l of a.languages) expect(maxAbs(b.means[l.lang] as Float64Array, a.means[l.lang] as Float64Array)).toBeLessThan(1e-7);
      if (a.basis) expect(maxAbs(b.basis?.data as Float64Array, a.basis.data)).toBeLessThan(1e-7);
      for (const l of a.languages)
        if (a.languageBases)
          expect(maxAbs(b.languageBases?.[l.lang]?.data as Float64Array, a.languageBases[l.lang]?.data as Float64Array)).toBeLessThan(1e-7);
      // project reads it as it reads the artifact
      const rows = join(dir, 'emb', 'de.npy');
      const x = join(dir, `x-${method}.npy`);
      const y = join(dir, `y-${method}.npy`);
      const lang = method === 'lir' || method === 'demean' ? ['--lang', 'de'] : [];
      expect((await runCli(['project', '-p', fitted.path, '--in', rows, '--out', x, ...lang, '-q'])).code).toBe(0);
      expect((await runCli(['project', '-p', out, '--in', rows, '--out', y, ...lang, '-q'])).code).toBe(0);
      expect(Buffer.compare(await readFile(x), await readFile(y))).toBe(0);
    }
  });

  it('CLI: format from the file name, usage errors for what does not fit', async () => {
    const r1 = await runCli(['export', '-p', proj, '--out', join(dir, 'p.bin')]);
    expect([r1.code, r1.stderr]).toEqual([
      2,
      expect.stringMatching(/^lsar: --out .*p\.bin: name a \.onnx or \.safetensors file, or give --format\n$/),
    ]);
    const r2 = await runCli(['export', '-p', proj, '--out', join(dir, 'p.safetensors'), '--normalize']);
    expect([r2.code, r2.stderr]).toEqual([2, expect.stringMatching(/^lsar: --normalize and --lang apply to the ONNX projection/)]);
    const r3 = await runCli(['export', '--out', join(dir, 'q.onnx')]);
    expect([r3.code, r3.stderr]).toEqual([2, expect.stringMatching(/needs --projection .* or --model and --projection/)]);
    const r4 = await runCli(['export', '--model', MODEL, '-p', proj, '--lang', 'de', '--out', join(dir, 'm')]);
    expect([r4.code, r4.stderr]).toEqual([2, expect.stringMatching(/^lsar: --lang is for the projection alone/)]);
    expect(existsSync(join(dir, 'm'))).toBe(false);
  });
});

const checkerTest = haveOnnx ? it : it.skip;
describe('the ONNX checker (python3-onnx, full_check: opset, shapes, names)', () => {
  checkerTest(
    `passes every exported model and projection${haveOnnx ? '' : ' (skipped: /usr/bin/python3 with onnx not found; apt-get install python3-onnx)'}`,
    () => {
      expect(checked.length).toBeGreaterThanOrEqual(6);
      for (const f of checked) expect(onnxCheck(f), f).toMatch(/^ok (13|17)$/);
    },
  );
});

describe('dtype fp16: a model whose last_hidden_state is float16', () => {
  it('embed reads it, export casts it to float32 inside the graph; both within 2e-3 of fp32', async () => {
    // the fixture model with its last_hidden_state cast to float16, as onnx/model_fp16.onnx
    const dir = await tempDir();
    const model = join(dir, 'tiny-bert-fp16');
    await mkdir(join(model, 'onnx'), { recursive: true });
    for (const f of ['config.json', 'tokenizer.json', 'tokenizer_config.json']) await copyFile(join(MODEL, f), join(model, f));
    const m = decodeModel(await readFile(join(MODEL, 'onnx', 'model.onnx')));
    for (const n of m.graph.node) {
      n.output = n.output.map((o) => (o === 'last_hidden_state' ? 'last_hidden_state_f32' : o));
      n.input = n.input.map((i) => (i === 'last_hidden_state' ? 'last_hidden_state_f32' : i));
    }
    m.graph.node.push({
      opType: 'Cast',
      input: ['last_hidden_state_f32'],
      output: ['last_hidden_state'],
      attribute: [{ name: 'to', type: 2, i: DataType.FLOAT16 }],
    });
    const out = m.graph.output.find((o) => o.name === 'last_hidden_state');
    if (out?.type?.tensorType) out.type.tensorType.elemType = DataType.FLOAT16;
    await writeFile(join(model, 'onnx', 'model_fp16.onnx'), encodeModel(m));

    const want = join(dir, 'fp32');
    await embedCorpora({ model: MODEL, offline: true, input: [`xx=${texts}`], out: want });
    const half = join(dir, 'fp16');
    await embedCorpora({ model, dtype: 'fp16', offline: true, input: [`xx=${texts}`], out: half });
    const a = (await readNpy(join(want, 'xx.npy'))).data;
    expect(maxAbs((await readNpy(join(half, 'xx.npy'))).data, a)).toBeLessThan(2e-3);

    const exported = join(dir, 'exported');
    const s = await exportModel({ model, dtype: 'fp16', out: exported, offline: true });
    expect(s.onnxFile).toBe(join('onnx', 'model_fp16.onnx'));
    expect(s.files).toContain(join('onnx', 'model_fp16.onnx'));
    const via = join(dir, 'via');
    await embedCorpora({ model: exported, dtype: 'fp16', offline: true, input: [`xx=${texts}`], out: via });
    expect(maxAbs((await readNpy(join(via, 'xx.npy'))).data, a)).toBeLessThan(2e-3);
    await keepForChecker(join(exported, 'onnx', 'model_fp16.onnx'));
  });
});
