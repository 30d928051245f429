/**
 * `--layer N` on a standard export (issue 22, item 2): tests/fixtures/tiny-bert-optimum is the
 * tiny-bert fixture as optimum exports it (last_hidden_state only, optimum's node names); lsar
 * adds hidden_states.N to a cached copy of its graph, and the rows equal the per-layer
 * fixture's (1e-6). The naming rules are checked on graphs as optimum writes them for BERT
 * (LayerNorm decomposed by older opsets), DistilBERT and prefixed models.
 */
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { findLayerOutputs, tapLayer } from '../../src/adapters/layer-tap.js';
import type { OnnxModel } from '../../src/adapters/onnx.js';
import { readNpy } from '../../src/io/npy.js';
import { oneLine, ROOT, runCli, tempDir, TINY_BERT } from '../helpers.js';

const OPTIMUM = join(ROOT, 'tests', 'fixtures', 'tiny-bert-optimum');

function graph(names: string[]): OnnxModel {
  return {
    irVersion: 8,
    opsetImport: [{ version: 14 }],
    graph: {
      node: names.map((name, i) => ({ name, opType: name.split('/').pop()?.replace(/_\d+$/, '') ?? 'Op', input: [], output: [`t${i}`] })),
      initializer: [],
      input: [],
      output: [{ name: 'last_hidden_state' }],
    },
  };
}

describe('finding the layers in optimum node names', () => {
  it('BERT with decomposed LayerNorms: the last node of each module', () => {
    const ln = (p: string) => ['ReduceMean', 'Sub', 'Pow', 'ReduceMean_1', 'Add', 'Sqrt', 'Div', 'Mul', 'Add_1'].map((op) => `${p}/${op}`);
    const m = graph([
      ...ln('/embeddings/LayerNorm'),
      '/encoder/layer.0/attention/self/query/MatMul',
      ...ln('/encoder/layer.0/attention/output/LayerNorm'),
      '/encoder/layer.0/output/dense/MatMul',
      ...ln('/encoder/layer.0/output/LayerNorm'),
      ...ln('/encoder/layer.1/output/LayerNorm'),
    ]);
    const found = findLayerOutputs(m);
    expect([...found.keys()].sort()).toEqual([0, 1, 2]);
    expect(found.get(0)).toBe('t8');
    expect(found.get(1)).toBe(`t${9 + 1 + 9 + 1 + 8}`);
    const { tensor } = tapLayer(m, 2, 'm.onnx');
    expect(m.graph.output.map((o) => o.name)).toEqual(['last_hidden_state', 'hidden_states.2']);
    expect(m.graph.node.at(-1)).toMatchObject({ opType: 'Identity', input: [tensor], output: ['hidden_states.2'] });
  });

  it('DistilBERT (/transformer/layer.N/output_layer_norm) and a prefixed XLM-R (/roberta/encoder/...)', () => {
    expect([
      ...findLayerOutputs(
        graph([
          '/embeddings/LayerNorm/LayerNormalization',
          '/transformer/layer.0/output_layer_norm/LayerNormalization',
          '/transformer/layer.5/output_layer_norm/LayerNormalization',
        ]),
      ).keys(),
    ]).toEqual([0, 1, 6]);
    expect([
      ...findLayerOutputs(graph(['/roberta/embeddings/LayerNorm/Add_1', '/roberta/encoder/layer.11/output/LayerNorm/Add_1'])).keys(),
    ]).toEqual([0, 12]);
  });

  it('an unknown naming or a missing layer is refused with what was found', () => {
    expect(() => tapLayer(graph(['MatMul_0', 'Add_1']), 3, 'x.onnx')).toThrow(
      /x\.onnx: exposes only last_hidden_state, and its node names follow no known export naming/,
    );
    expect(() => tapLayer(graph(['/embeddings/LayerNorm/Add_1', '/encoder/layer.0/output/LayerNorm/Add_1']), 4, 'y.onnx')).toThrow(
      /y\.onnx: no layer 4 to tap: its nodes show hidden states 0, 1/,
    );
  });
});

describe('lsar embed --layer N on a standard export', () => {
  it('equals the per-layer fixture (1e-6) for every layer; the edited copy is cached; a layer beyond the model is refused', async () => {
    const dir = await tempDir();
    const cache = join(dir, 'cache');
    const { writeFile } = await import('node:fs/promises');
    await writeFile(join(dir, 'en.txt'), 'The cat sat on the mat.\nZwei Hunde.\na\n');
    for (const layer of [0, 1, 2]) {
      const a = await runCli([
        'embed',
        '-i',
        `en=${join(dir, 'en.txt')}`,
        '--model',
        TINY_BERT,
        '--layer',
        String(layer),
        '--out',
        join(dir, `ref${layer}`),
        '-q',
      ]);
      const b = await runCli([
        'embed',
        '-i',
        `en=${join(dir, 'en.txt')}`,
        '--model',
        OPTIMUM,
        '--layer',
        String(layer),
        '--cache-dir',
        cache,
        '--out',
        join(dir, `tap${layer}`),
        '-q',
      ]);
      expect(a.code, a.stderr).toBe(0);
      expect(b.code, b.stderr).toBe(0);
      const x = await readNpy(join(dir, `ref${layer}`, 'en.npy'));
      const y = await readNpy(join(dir, `tap${layer}`, 'en.npy'));
      expect(y.rows).toBe(3);
      let worst = 0;
      for (let i = 0; i < x.data.length; i++) worst = Math.max(worst, Math.abs((x.data[i] as number) - (y.data[i] as number)));
      expect(worst, `layer ${layer}`).toBeLessThanOrEqual(1e-6);
    }
    // lsar export taps the layer into the graph it writes: its sentence_embedding is the same mean of layer 1
    const ex = await runCli(['export', '--model', OPTIMUM, '--layer', '1', '--out', join(dir, 'exported'), '-q']);
    expect(ex.code, ex.stderr).toBe(0);
    const e = await runCli([
      'embed',
      '-i',
      `en=${join(dir, 'en.txt')}`,
      '--model',
      join(dir, 'exported'),
      '--out',
      join(dir, 'exp1'),
      '-q',
    ]);
    expect(e.code, e.stderr).toBe(0);
    const [r1, x1] = [await readNpy(join(dir, 'ref1', 'en.npy')), await readNpy(join(dir, 'exp1', 'en.npy'))];
    let worstExport = 0;
    for (let i = 0; i < r1.data.length; i++) worstExport = Math.max(worstExport, Math.abs((r1.data[i] as number) - (x1.data[i] as number)));
    expect(worstExport).toBeLessThanOrEqual(1e-6);
    // one cached copy per layer, keyed by the source graph's hash
    expect(readdirSync(join(cache, 'lsar-tapped')).sort()).toEqual(
      expect.arrayContaining([expect.stringMatching(/^[0-9a-f]{16}-layer1$/)]),
    );
    expect(existsSync(join(OPTIMUM, 'onnx', 'model.onnx'))).toBe(true);
    oneLine(
      await runCli([
        'embed',
        '-i',
        `en=${join(dir, 'en.txt')}`,
        '--model',
        OPTIMUM,
        '--layer',
        '7',
        '--cache-dir',
        cache,
        '--out',
        join(dir, 'bad'),
      ]),
      1,
      /no layer 7 to tap: its nodes show hidden states 0, 1, 2/,
    );
  }, 120_000);
});
