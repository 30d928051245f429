/**
 * Generate tests/fixtures/st: sentence-transformers configurations for the tiny-bert fixture
 * (tests/fixtures/tiny-bert holds the encoder; each variant directory holds only the files
 * sentence-transformers adds, laid over a copy of it by the tests), and cases.json: the texts,
 * each variant's prompt, and the token ids lsar's tokeniser gives them (prompt included), which
 * scripts/st_ref.py (numpy) turns into expected.json.
 *
 *   npx tsx scripts/make-st-fixtures.ts && /usr/bin/python3 scripts/st_ref.py
 *
 * Variants, after the models users have:
 *   labse   CLS pooling, Dense 32 -> 16 with tanh, Normalize (LaBSE)
 *   e5      mean pooling, Normalize, prompts "query: " / "passage: " (multilingual-e5); run with --prompt-name query
 *   minilm  mean pooling only (paraphrase-multilingual-MiniLM)
 *   max     max pooling, include_prompt false, default_prompt_name "q", Dense 32 -> 24 identity without bias
 *   sqrt    mean_sqrt_len_tokens
 *   wmean   weightedmean
 *   last    lasttoken
 */
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { mulberry32 } from '../src/core/random.js';
import { writeSafetensors } from '../src/io/safetensors.js';
import { Encoder } from '../src/adapters/transformers.js';

const ROOT = resolve(import.meta.dirname, '..');
const OUT = join(ROOT, 'tests', 'fixtures', 'st');
const HIDDEN = 32;

export const TEXTS = [
  'The cat sat on the mat.',
  'Die Katze sitzt auf der Matte.',
  'a',
  'Embeddings of many languages, one space: no language identity left in it, we hope.',
];

interface Variant {
  pooling: string;
  includePrompt?: boolean;
  dense?: { out: number; activation: string; bias: boolean; seed: number };
  normalize?: boolean;
  prompts?: Record<string, string>;
  defaultPromptName?: string;
  /** The prompt the test embeds with (for cases.json), and how it asks for it. */
  prompt?: string;
  args?: string[];
}

const VARIANTS: Record<string, Variant> = {
  labse: { pooling: 'cls', dense: { out: 16, activation: 'torch.nn.modules.activation.Tanh', bias: true, seed: 11 }, normalize: true },
  e5: {
    pooling: 'mean',
    normalize: true,
    prompts: { query: 'query: ', passage: 'passage: ' },
    prompt: 'query: ',
    args: ['--prompt-name', 'query'],
  },
  minilm: { pooling: 'mean' },
  max: {
    pooling: 'max',
    includePrompt: false,
    dense: { out: 24, activation: 'torch.nn.modules.linear.Identity', bias: false, seed: 12 },
    prompts: { q: 'Represent this sentence for searching: ' },
    defaultPromptName: 'q',
    prompt: 'Represent this sentence for searching: ',
  },
  sqrt: { pooling: 'mean_sqrt_len_tokens' },
  wmean: { pooling: 'weightedmean' },
  last: { pooling: 'lasttoken' },
};

const MODES: Record<string, string> = {
  cls: 'pooling_mode_cls_token',
  mean: 'pooling_mode_mean_tokens',
  max: 'pooling_mode_max_tokens',
  mean_sqrt_len_tokens: 'pooling_mode_mean_sqrt_len_tokens',
  weightedmean: 'pooling_mode_weightedmean_tokens',
  lasttoken: 'pooling_mode_lasttoken',
};

const json = (path: string, v: unknown) => writeFileSync(path, JSON.stringify(v, null, 2) + '\n');

rmSync(OUT, { recursive: true, force: true });
mkdirSync(OUT, { recursive: true });
const encoder = await Encoder.load({ model: join(ROOT, 'tests', 'fixtures', 'tiny-bert'), offline: true });
const cases: Record<string, unknown> = {};
for (const [name, v] of Object.entries(VARIANTS)) {
  const dir = join(OUT, name);
  mkdirSync(join(dir, '1_Pooling'), { recursive: true });
  const modules: { idx: number; name: string; path: string; type: string }[] = [
    { idx: 0, name: '0', path: '', type: 'sentence_transformers.models.Transformer' },
    { idx: 1, name: '1', path: '1_Pooling', type: 'sentence_transformers.models.Pooling' },
  ];
  const pooling: Record<string, unknown> = { word_embedding_dimension: HIDDEN };
  for (const [mode, key] of Object.entries(MODES)) pooling[key] = mode === v.pooling;
  pooling.include_prompt = v.includePrompt !== false;
  json(join(dir, '1_Pooling', 'config.json'), pooling);
  if (v.dense) {
    mkdirSync(join(dir, '2_Dense'));
    modules.push({ idx: 2, name: '2', path: '2_Dense', type: 'sentence_transformers.models.Dense' });
    json(join(dir, '2_Dense', 'config.json'), {
      in_features: HIDDEN,
      out_features: v.dense.out,
      bias: v.dense.bias,
      activation_function: v.dense.activation,
    });
    const u = mulberry32(v.dense.seed);
    const w = Float32Array.from({ length: v.dense.out * HIDDEN }, () => (u() - 0.5) * 0.5);
    const b = Float32Array.from({ length: v.dense.out }, () => (u() - 0.5) * 0.2);
    await writeSafetensors(
      join(dir, '2_Dense', 'model.safetensors'),
      {
        'linear.weight': { dtype: 'F32', shape: [v.dense.out, HIDDEN], data: w },
        ...(v.dense.bias ? { 'linear.bias': { dtype: 'F32' as const, shape: [v.dense.out], data: b } } : {}),
      },
      { format: 'pt' },
    );
  }
  if (v.normalize) {
    mkdirSync(join(dir, `${modules.length}_Normalize`));
    modules.push({
      idx: modules.length,
      name: String(modules.length),
      path: `${modules.length}_Normalize`,
      type: 'sentence_transformers.models.Normalize',
    });
  }
  json(join(dir, 'modules.json'), modules);
  if (v.prompts)
    json(join(dir, 'config_sentence_transformers.json'), {
      prompts: v.prompts,
      default_prompt_name: v.defaultPromptName ?? null,
      similarity_fn_name: 'cosine',
    });
  const prompt = v.prompt ?? '';
  cases[name] = {
    args: v.args ?? [],
    prompt,
    // sentence-transformers: the prompt's tokens without its final [SEP] (with [CLS])
    promptLength: prompt ? encoder.encode(prompt).length - 1 : 0,
    ids: TEXTS.map((t) => encoder.encode(prompt + t)),
  };
}
await encoder.dispose();
json(join(OUT, 'cases.json'), { texts: TEXTS, variants: cases });
console.log(`wrote ${Object.keys(VARIANTS).length} variants and cases.json to ${OUT}`);
