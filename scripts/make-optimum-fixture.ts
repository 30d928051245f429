/**
 * Generate tests/fixtures/tiny-bert-optimum: the tiny-bert fixture as a standard export would
 * give it (transformers.js-ready onnx/model.onnx from optimum): the same weights, only
 * `last_hidden_state` as output, and optimum's node naming for the LayerNorms
 * (`/embeddings/LayerNorm/LayerNormalization`, `/encoder/layer.N/output/LayerNorm/LayerNormalization`,
 * outputs `<node>_output_0`). `lsar embed --layer N` on it must equal the per-layer fixture.
 *
 *   npx tsx scripts/make-optimum-fixture.ts
 */
import { copyFileSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { decodeModel, encodeModel } from '../src/adapters/onnx.js';

const FIX = resolve(import.meta.dirname, '..', 'tests', 'fixtures');
const src = join(FIX, 'tiny-bert');
const out = join(FIX, 'tiny-bert-optimum');
rmSync(out, { recursive: true, force: true });
mkdirSync(join(out, 'onnx'), { recursive: true });
for (const f of ['config.json', 'tokenizer.json', 'tokenizer_config.json']) copyFileSync(join(src, f), join(out, f));
const config = JSON.parse(readFileSync(join(out, 'config.json'), 'utf8')) as Record<string, unknown>;
config._comment =
  'lsar test fixture: tiny-bert as a standard export (last_hidden_state only, optimum node names); scripts/make-optimum-fixture.ts';
writeFileSync(join(out, 'config.json'), JSON.stringify(config, null, 2) + '\n');

const model = decodeModel(readFileSync(join(src, 'onnx', 'model.onnx')));
const g = model.graph;
// no per-layer outputs
g.output = g.output.filter((o) => !o.name.startsWith('hidden_states.'));
g.node = g.node.filter((n) => !(n.opType === 'Identity' && n.output[0]?.startsWith('hidden_states.')));
// optimum's names: module path + op, outputs <name>_output_0
const renamed = new Map<string, string>();
g.node.forEach((n, i) => {
  if (n.opType === 'LayerNormalization') {
    const prefix = String(n.input[1]).replace(/\.weight$/, '');
    n.name = `/${prefix.replace(/\.(?!\d)/g, '/')}/LayerNormalization`;
    renamed.set(n.output[0] as string, `${n.name}_output_0`);
    n.output = [`${n.name}_output_0`];
  } else n.name = `/${n.opType}_${i}`;
});
for (const n of g.node) n.input = n.input.map((x) => renamed.get(x) ?? x);
writeFileSync(join(out, 'onnx', 'model.onnx'), encodeModel(model));
console.log(`wrote ${out}: outputs ${g.output.map((o) => o.name).join(', ')}`);
