/**
 * A sentence-transformers model's own configuration, read from its directory as the library
 * writes it: `modules.json` (the pipeline: Transformer, Pooling, Dense, Normalize, in order),
 * `1_Pooling/config.json` (the pooling mode and include_prompt), `2_Dense/config.json` with its
 * weights in `2_Dense/model.safetensors`, and `config_sentence_transformers.json` (prompts).
 * What cannot be applied here is refused by name: a module type lsar does not know, several
 * pooling modes at once (concatenated), Dense weights only in PyTorch's pickle format.
 */
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { createError } from '../core/errors.js';
import { DENSE_ACTIVATIONS, type DenseActivation, type DenseLayer, type Pooling } from '../core/pooling.js';
import { readSafetensors } from './safetensors.js';

export interface SentenceTransformersConfig {
  /** The module types in order, as modules.json names them (for the manifest). */
  modules: string[];
  /** From the Pooling module's config (undefined: the model has no Pooling module). */
  pooling?: Pooling;
  /** Pooling: whether prompt tokens are pooled (false: they are left out, with [CLS]). */
  includePrompt: boolean;
  dense: (DenseLayer & { path: string })[];
  normalize: boolean;
  prompts: Record<string, string>;
  defaultPromptName?: string;
}

const MODULE = 'sentence_transformers.models.';

/** sentence-transformers' pooling_mode_* keys and lsar's names for them. */
const MODES: [string, Pooling][] = [
  ['pooling_mode_cls_token', 'cls'],
  ['pooling_mode_mean_tokens', 'mean'],
  ['pooling_mode_max_tokens', 'max'],
  ['pooling_mode_mean_sqrt_len_tokens', 'mean_sqrt_len_tokens'],
  ['pooling_mode_weightedmean_tokens', 'weightedmean'],
  ['pooling_mode_lasttoken', 'lasttoken'],
];

/** torch activation classes a Dense module may name. */
const ACTIVATIONS: Record<string, DenseActivation> = {
  'torch.nn.modules.linear.Identity': 'identity',
  'torch.nn.modules.activation.Tanh': 'tanh',
  'torch.nn.modules.activation.ReLU': 'relu',
  'torch.nn.modules.activation.Sigmoid': 'sigmoid',
  'torch.nn.modules.activation.GELU': 'gelu',
};

async function readJson<T>(path: string): Promise<T> {
  try {
    return JSON.parse(await readFile(path, 'utf8')) as T;
  } catch (e) {
    throw createError('MODEL', `${path}: not readable as JSON (${(e as Error).message.split('\n')[0]})`, { cause: e });
  }
}

/** The configuration of the model in `root`, or undefined when it has no modules.json (not a sentence-transformers model). */
export async function readSentenceTransformers(root: string): Promise<SentenceTransformersConfig | undefined> {
  const modulesFile = join(root, 'modules.json');
  if (!existsSync(modulesFile)) return undefined;
  const modules = await readJson<{ idx?: number; path?: string; type?: string }[]>(modulesFile);
  if (!Array.isArray(modules)) throw createError('MODEL', `${modulesFile}: expected a list of modules`);
  const out: SentenceTransformersConfig = { modules: [], includePrompt: true, dense: [], normalize: false, prompts: {} };
  for (const m of [...modules].sort((a, b) => (a.idx ?? 0) - (b.idx ?? 0))) {
    const type = String(m.type ?? '');
    const name = type.startsWith(MODULE) ? type.slice(MODULE.length) : type;
    const dir = join(root, m.path ?? '');
    out.modules.push(name);
    if (name === 'Transformer') continue;
    if (name === 'Pooling') {
      const c = await readJson<Record<string, unknown>>(join(dir, 'config.json'));
      const on = MODES.filter(([k]) => c[k] === true).map(([, v]) => v);
      if (on.length !== 1)
        throw createError(
          'MODEL',
          `${join(dir, 'config.json')}: ${on.length === 0 ? 'no pooling mode is set' : `${on.length} pooling modes at once (${on.join(', ')}), concatenated by sentence-transformers`}; lsar pools with one mode: give --pooling`,
          { param: 'pooling' },
        );
      out.pooling = on[0] as Pooling;
      out.includePrompt = c.include_prompt !== false;
      continue;
    }
    if (name === 'Dense') out.dense.push(await readDense(dir, m.path ?? ''));
    else if (name === 'Normalize') out.normalize = true;
    else
      throw createError(
        'MODEL',
        `${modulesFile}: module ${m.path ?? m.idx} is ${type}; lsar applies Transformer, Pooling, Dense and Normalize modules only`,
      );
  }
  const stFile = join(root, 'config_sentence_transformers.json');
  if (existsSync(stFile)) {
    const c = await readJson<{ prompts?: Record<string, string>; default_prompt_name?: string | null }>(stFile);
    if (c.prompts && typeof c.prompts === 'object') out.prompts = { ...c.prompts };
    if (typeof c.default_prompt_name === 'string') out.defaultPromptName = c.default_prompt_name;
  }
  return out;
}

async function readDense(dir: string, path: string): Promise<DenseLayer & { path: string }> {
  const c = await readJson<{ in_features?: number; out_features?: number; bias?: boolean; activation_function?: string }>(
    join(dir, 'config.json'),
  );
  const activation = ACTIVATIONS[c.activation_function ?? 'torch.nn.modules.activation.Tanh'];
  if (!activation)
    throw createError(
      'MODEL',
      `${join(dir, 'config.json')}: activation ${c.activation_function}; lsar applies ${Object.keys(ACTIVATIONS).join(', ')} (${DENSE_ACTIVATIONS.join(', ')})`,
    );
  const file = join(dir, 'model.safetensors');
  if (!existsSync(file))
    throw createError(
      'MODEL',
      `${dir}: the Dense layer's weights are not in model.safetensors${existsSync(join(dir, 'pytorch_model.bin')) ? ' (only pytorch_model.bin, which needs PyTorch to read)' : ''}: convert them (safetensors.torch.save_file) or embed without this module`,
    );
  const { tensors } = await readSafetensors(file);
  const w = tensors['linear.weight'];
  const b = tensors['linear.bias'];
  const n = c.in_features;
  const m = c.out_features;
  if (!w || w.shape.length !== 2 || w.shape[0] !== m || w.shape[1] !== n)
    throw createError('MODEL', `${file}: expected linear.weight of shape [${m}, ${n}], found ${w ? JSON.stringify(w.shape) : 'none'}`);
  if (c.bias !== false && (!b || b.shape[0] !== m))
    throw createError('MODEL', `${file}: expected linear.bias of ${m} values, found ${b ? JSON.stringify(b.shape) : 'none'}`);
  return {
    path,
    inFeatures: n as number,
    outFeatures: m as number,
    weight: Float32Array.from(w.data),
    ...(c.bias !== false && b ? { bias: Float32Array.from(b.data) } : {}),
    activation,
  };
}
