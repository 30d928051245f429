/**
 * Generate tests/fixtures/tiny-bert: a tiny BERT-architecture encoder (2 layers, hidden
 * size 32, 2 heads, deterministic pseudo-random weights) exported as ONNX with a WordPiece
 * tokenizer.json, in the file layout of a Hugging Face Hub export for transformers.js:
 *
 *   config.json  tokenizer.json  tokenizer_config.json  onnx/model.onnx
 *
 * Besides `last_hidden_state` the graph exposes every layer's output as
 * `hidden_states.<i>` (0 = embeddings), the convention `lsar embed --layer` reads.
 * It exists to exercise the real transformers.js path offline; its embeddings mean nothing.
 *
 *   npx tsx scripts/make-fixture-model.ts [outDir] [geometry]
 *
 * With a geometry (GEOMETRIES), the same graph at a real model's size, for benchmarks.
 */
import { mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { mulberry32 } from '../src/core/random.js';
import { encodeModel, FLOAT, INT64, type Node, type Tensor } from './onnx-writer.js';

/** A BERT encoder's shape; `vocabSize` pads the WordPiece vocabulary to a realistic size. */
export interface Geometry {
  name: string;
  hidden: number;
  layers: number;
  heads: number;
  intermediate: number;
  maxPositions: number;
  /** The tokenizer's model_max_length (default maxPositions). */
  maxLength?: number;
  typeVocab: number;
  seed: number;
  vocabSize?: number;
}

export const FIXTURE: Geometry = {
  name: 'tiny-bert',
  hidden: 32,
  layers: 2,
  heads: 2,
  intermediate: 64,
  maxPositions: 128,
  typeVocab: 2,
  seed: 20221207,
};

/**
 * Compute-realistic geometries (random weights; built on demand by the embed benchmark, not
 * committed): paraphrase-multilingual-MiniLM-L12-v2 (its vocabulary size, 250,002, as WordPiece;
 * max length 128 as sentence-transformers sets it) and bert-base-multilingual-cased.
 */
export const GEOMETRIES: Record<string, Geometry> = {
  'minilm-l12-h384': {
    name: 'minilm-l12-h384',
    hidden: 384,
    layers: 12,
    heads: 12,
    intermediate: 1536,
    maxPositions: 512,
    maxLength: 128,
    typeVocab: 2,
    seed: 384,
    vocabSize: 250_002,
  },
  'mbert-l12-h768': {
    name: 'mbert-l12-h768',
    hidden: 768,
    layers: 12,
    heads: 12,
    intermediate: 3072,
    maxPositions: 512,
    typeVocab: 2,
    seed: 768,
    vocabSize: 119_547,
  },
};

const root = resolve(import.meta.dirname, '..');

/** WordPiece vocabulary from the bundled corpora: specials, frequent words, every frequent character (also as ##char). */
/**
 * The corpora the fixture's vocabulary is built from: the 34 bundled when it was generated (sw
 * and tl, added later, are left out so that the fixture, and every number tested on it, stays).
 */
export const FIXTURE_CORPORA =
  'af ar bg bn de el en es et eu fa fi fr he hi hu id it ja ka kk ko ml mr nl pt ru ta te th tr ur vi zh'.split(' ');

export function buildVocab(corpora: string, size?: number): string[] {
  const words = new Map<string, number>();
  const chars = new Map<string, number>();
  for (const f of readdirSync(corpora)
    .filter((n) => n.endsWith('.txt') && FIXTURE_CORPORA.includes(n.slice(0, -4)))
    .sort()) {
    for (const line of readFileSync(join(corpora, f), 'utf8').split('\n')) {
      // split like BertPreTokenizer: whitespace and punctuation; CJK characters stand alone
      for (const w of line.split(/[\s\p{P}\p{S}]+|(?=[\u3040-\u30ff\u3400-\u9fff])|(?<=[\u3040-\u30ff\u3400-\u9fff])/u)) {
        if (!w) continue;
        words.set(w, (words.get(w) ?? 0) + 1);
        for (const c of w) chars.set(c, (chars.get(c) ?? 0) + 1);
      }
      for (const c of line) if (/[\p{P}\p{S}]/u.test(c)) chars.set(c, (chars.get(c) ?? 0) + 1);
    }
  }
  const specials = ['[PAD]', '[UNK]', '[CLS]', '[SEP]', '[MASK]'];
  const charList = [...chars.entries()]
    .filter(([, n]) => n >= 3)
    .sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : 1))
    .map(([c]) => c);
  const wordList = [...words.entries()]
    .filter(([w, n]) => n >= (size ? 2 : 5) && [...w].length > 1)
    .sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : 1))
    .slice(0, size ? size : 3000)
    .map(([w]) => w);
  const vocab = [...new Set([...specials, ...charList, ...charList.map((c) => `##${c}`), ...wordList])].slice(0, size);
  // a realistic size: the rest as [unusedN] entries, as BERT vocabularies have (never produced by the pre-tokenizer)
  for (let i = 0; size !== undefined && vocab.length < size; i++) vocab.push(`[unused${i}]`);
  return vocab;
}

function tokenizerJson(vocab: string[]): unknown {
  const id = (t: string) => vocab.indexOf(t);
  return {
    version: '1.0',
    truncation: null,
    padding: null,
    added_tokens: ['[PAD]', '[UNK]', '[CLS]', '[SEP]', '[MASK]'].map((t) => ({
      id: id(t),
      content: t,
      single_word: false,
      lstrip: false,
      rstrip: false,
      normalized: false,
      special: true,
    })),
    normalizer: { type: 'BertNormalizer', clean_text: true, handle_chinese_chars: true, strip_accents: null, lowercase: false },
    pre_tokenizer: { type: 'BertPreTokenizer' },
    post_processor: {
      type: 'TemplateProcessing',
      single: [
        { SpecialToken: { id: '[CLS]', type_id: 0 } },
        { Sequence: { id: 'A', type_id: 0 } },
        { SpecialToken: { id: '[SEP]', type_id: 0 } },
      ],
      pair: [
        { SpecialToken: { id: '[CLS]', type_id: 0 } },
        { Sequence: { id: 'A', type_id: 0 } },
        { SpecialToken: { id: '[SEP]', type_id: 0 } },
        { Sequence: { id: 'B', type_id: 1 } },
        { SpecialToken: { id: '[SEP]', type_id: 1 } },
      ],
      special_tokens: {
        '[CLS]': { id: '[CLS]', ids: [id('[CLS]')], tokens: ['[CLS]'] },
        '[SEP]': { id: '[SEP]', ids: [id('[SEP]')], tokens: ['[SEP]'] },
      },
    },
    decoder: { type: 'WordPiece', prefix: '##', cleanup: true },
    model: {
      type: 'WordPiece',
      unk_token: '[UNK]',
      continuing_subword_prefix: '##',
      max_input_chars_per_word: 100,
      vocab: Object.fromEntries(vocab.map((t, i) => [t, i])),
    },
  };
}

/** The ONNX graph of a post-LayerNorm BERT encoder. */
export function buildGraph(vocabSize: number, geometry: Geometry = FIXTURE): Uint8Array {
  const { hidden: H, layers, heads, intermediate: I, maxPositions, typeVocab, seed } = geometry;
  const hd = H / heads;
  const rand = mulberry32(seed);
  const normal = () => Math.sqrt(-2 * Math.log(rand() || 1e-12)) * Math.cos(2 * Math.PI * rand());
  const inits: Tensor[] = [];
  const nodes: Node[] = [];
  const f32 = (name: string, dims: number[], fill: (i: number) => number) => {
    inits.push({ name, dims, type: FLOAT, data: Float32Array.from({ length: dims.reduce((a, b) => a * b, 1) }, (_, i) => fill(i)) });
    return name;
  };
  const i64 = (name: string, dims: number[], values: number[]) => {
    inits.push({ name, dims, type: INT64, data: BigInt64Array.from(values.map(BigInt)) });
    return name;
  };
  const weight = (name: string, dims: number[], scale: number) => {
    const data = new Float32Array(dims.reduce((a, b) => a * b, 1));
    for (let i = 0; i < data.length; i++) data[i] = normal() * scale;
    inits.push({ name, dims, type: FLOAT, data });
    return name;
  };
  const n = (op: string, inputs: string[], output: string, attrs?: Node['attrs']) => {
    nodes.push({ op, inputs, outputs: [output], ...(attrs ? { attrs } : {}) });
    return output;
  };
  let c = 0;
  const t = (p: string) => `${p}_${c++}`;
  const layerNorm = (x: string, prefix: string) =>
    n('LayerNormalization', [x, f32(`${prefix}.weight`, [H], () => 1), f32(`${prefix}.bias`, [H], () => 0)], t(prefix), [
      { name: 'axis', i: -1 },
      { name: 'epsilon', f: 1e-12 },
    ]);
  const linear = (x: string, prefix: string, inDim: number, outDim: number) =>
    n(
      'Add',
      [
        n('MatMul', [x, weight(`${prefix}.weight`, [inDim, outDim], 1 / Math.sqrt(inDim))], t(prefix)),
        weight(`${prefix}.bias`, [outDim], 0.02),
      ],
      t(prefix),
    );

  // Embeddings
  const word = n('Gather', [weight('embeddings.word_embeddings.weight', [vocabSize, H], 1), 'input_ids'], 'word');
  const shape = n('Shape', ['input_ids'], 'ids_shape');
  const seqLen = n('Gather', [shape, i64('one_scalar', [], [1])], 'seq_len', [{ name: 'axis', i: 0 }]);
  const positions = n('Range', [i64('zero_scalar', [], [0]), seqLen, i64('one_step', [], [1])], 'positions');
  const pos = n('Gather', [weight('embeddings.position_embeddings.weight', [maxPositions, H], 1), positions], 'pos');
  const type = n('Gather', [weight('embeddings.token_type_embeddings.weight', [typeVocab, H], 1), 'token_type_ids'], 'type');
  let x = layerNorm(n('Add', [n('Add', [word, pos], 'wp'), type], 'emb_sum'), 'embeddings.LayerNorm');
  n('Identity', [x], 'hidden_states.0');
  // Additive attention mask: (1 - mask) * -10000, shape [b, 1, 1, s]
  const maskF = n('Cast', ['attention_mask'], 'mask_f', [{ name: 'to', i: FLOAT }]);
  const inv = n('Sub', [f32('one_f', [], () => 1), maskF], 'mask_inv');
  const add = n('Mul', [inv, f32('neg_big', [], () => -10000)], 'mask_add2');
  const maskAdd = n('Unsqueeze', [add, i64('axes_1_2', [2], [1, 2])], 'mask_add');
  const headShape = i64('head_shape', [4], [0, 0, heads, hd]);
  const mergeShape = i64('merge_shape', [3], [0, 0, H]);
  for (let l = 0; l < layers; l++) {
    const p = `encoder.layer.${l}`;
    const split = (y: string, perm: number[]) =>
      n('Transpose', [n('Reshape', [y, headShape], t('r'))], t('tr'), [{ name: 'perm', ints: perm }]);
    const q = split(linear(x, `${p}.attention.self.query`, H, H), [0, 2, 1, 3]);
    const k = split(linear(x, `${p}.attention.self.key`, H, H), [0, 2, 3, 1]);
    const v = split(linear(x, `${p}.attention.self.value`, H, H), [0, 2, 1, 3]);
    const scores = n(
      'Add',
      [n('Div', [n('MatMul', [q, k], t('qk')), f32(`${p}.scale`, [], () => Math.sqrt(hd))], t('sc')), maskAdd],
      t('scm'),
    );
    const probs = n('Softmax', [scores], t('probs'), [{ name: 'axis', i: -1 }]);
    const ctx = n(
      'Reshape',
      [n('Transpose', [n('MatMul', [probs, v], t('ctx'))], t('ctxt'), [{ name: 'perm', ints: [0, 2, 1, 3] }]), mergeShape],
      t('ctxm'),
    );
    const attn = layerNorm(n('Add', [linear(ctx, `${p}.attention.output.dense`, H, H), x], t('res1')), `${p}.attention.output.LayerNorm`);
    const h = linear(attn, `${p}.intermediate.dense`, H, I);
    const gelu = n(
      'Mul',
      [
        n('Mul', [h, f32(`${p}.half`, [], () => 0.5)], t('gh')),
        n(
          'Add',
          [n('Erf', [n('Div', [h, f32(`${p}.sqrt2`, [], () => Math.SQRT2)], t('gd'))], t('erf')), f32(`${p}.one`, [], () => 1)],
          t('ga'),
        ),
      ],
      t('gelu'),
    );
    x = layerNorm(n('Add', [linear(gelu, `${p}.output.dense`, I, H), attn], t('res2')), `${p}.output.LayerNorm`);
    n('Identity', [x], `hidden_states.${l + 1}`);
  }
  n('Identity', [x], 'last_hidden_state');
  const dims = ['batch_size', 'sequence_length'];
  return encodeModel({
    name: geometry === FIXTURE ? 'lsar-tiny-bert' : `lsar-${geometry.name}`,
    nodes,
    initializers: inits,
    inputs: ['input_ids', 'attention_mask', 'token_type_ids'].map((name) => ({ name, type: INT64, shape: dims })),
    outputs: ['last_hidden_state', ...Array.from({ length: layers + 1 }, (_, i) => `hidden_states.${i}`)].map((name) => ({
      name,
      type: FLOAT,
      shape: [...dims, H],
    })),
  });
}

export function writeFixture(out: string, corpora = join(root, 'corpora'), geometry: Geometry = FIXTURE): void {
  const vocab = buildVocab(corpora, geometry.vocabSize);
  mkdirSync(join(out, 'onnx'), { recursive: true });
  const { hidden, layers, heads, intermediate, maxPositions, typeVocab } = geometry;
  const tiny = geometry === FIXTURE;
  writeFileSync(
    join(out, 'config.json'),
    JSON.stringify(
      {
        _comment: tiny
          ? 'lsar test fixture: a tiny random BERT, not a trained model (scripts/make-fixture-model.ts)'
          : `lsar benchmark model: random weights in the geometry ${geometry.name}, not a trained model (scripts/make-fixture-model.ts)`,
        lsar_note: tiny
          ? 'a random test model: its embeddings mean nothing; give a real model for real results'
          : `a random benchmark model (${geometry.name}): its embeddings mean nothing; give a real model for real results`,
        architectures: ['BertModel'],
        model_type: 'bert',
        vocab_size: vocab.length,
        hidden_size: hidden,
        num_hidden_layers: layers,
        num_attention_heads: heads,
        intermediate_size: intermediate,
        hidden_act: 'gelu',
        max_position_embeddings: maxPositions,
        type_vocab_size: typeVocab,
        layer_norm_eps: 1e-12,
        pad_token_id: 0,
      },
      null,
      2,
    ) + '\n',
  );
  writeFileSync(
    join(out, 'tokenizer_config.json'),
    JSON.stringify(
      {
        tokenizer_class: 'BertTokenizer',
        model_max_length: geometry.maxLength ?? maxPositions,
        do_lower_case: false,
        cls_token: '[CLS]',
        sep_token: '[SEP]',
        pad_token: '[PAD]',
        unk_token: '[UNK]',
        mask_token: '[MASK]',
        clean_up_tokenization_spaces: true,
      },
      null,
      2,
    ) + '\n',
  );
  writeFileSync(join(out, 'tokenizer.json'), JSON.stringify(tokenizerJson(vocab)) + '\n');
  writeFileSync(join(out, 'onnx', 'model.onnx'), buildGraph(vocab.length, geometry));
}

if (process.argv[1] && resolve(process.argv[1]) === resolve(import.meta.filename)) {
  // npx tsx scripts/make-fixture-model.ts [outDir] [geometry: tiny-bert (default), minilm-l12-h384, mbert-l12-h768]
  const g = process.argv[3] ? GEOMETRIES[process.argv[3]] : FIXTURE;
  if (!g) throw new Error(`unknown geometry ${process.argv[3]}: ${Object.keys(GEOMETRIES).join(', ')}`);
  const out = resolve(process.argv[2] ?? join(root, 'tests', 'fixtures', 'tiny-bert'));
  writeFixture(out, join(root, 'corpora'), g);
  console.log(`wrote ${out}`);
}
