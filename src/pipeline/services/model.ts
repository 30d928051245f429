/**
 * The model a command embeds with: the documented options (which model, which output, how
 * pooled), a handle that loads it once per command run, and one forward pass from token ids to
 * sentence vectors. Used by embed, serve, export and every command that embeds texts itself.
 */
import { createError, opt } from '../../core/errors.js';
import { warn, type Events } from '../../core/events.js';
import { applyDense, poolBatch, POOLINGS, type Pooling } from '../../core/pooling.js';
import { normalizeRowsInPlace } from '../../core/rows.js';
import { DEFAULT_MODEL, DTYPES, Encoder, type EncoderOptions, type LsarExport } from '../../adapters/transformers.js';
import type { OptionsOf, Schema } from '../../core/schema.js';

/** How a forward pass's token states become one vector per sentence. */
export interface PoolingSettings {
  /** hidden_states.<layer>, or null for the last layer. */
  layer: number | null;
  pooling: Pooling;
  excludeSpecial: boolean;
  normalize: boolean;
  /** Tokens left out of pooling at the start of each sequence (a prompt, with [CLS], when the model's Pooling excludes it). */
  skipFirst?: number;
}

/** The model a command embeds with, and how its token states become sentence vectors. */
export const modelSchema = {
  model: {
    type: 'string',
    description: 'Hub id or a local model directory (config.json, tokenizer.json, onnx/model.onnx)',
    defaultText: DEFAULT_MODEL,
    group: 'Model and embedding:',
  },
  cacheDir: {
    type: 'string',
    description: 'Where Hub downloads are cached',
    defaultText: '$HF_HOME/transformers.js or ~/.cache/huggingface/transformers.js',
    group: 'Model and embedding:',
  },
  offline: {
    type: 'boolean',
    default: false,
    description: 'Never download: use the cache or a local directory only',
    group: 'Model and embedding:',
  },
  revision: { type: 'string', description: 'Hub revision (branch, tag or commit)', group: 'Model and embedding:' },
  dtype: {
    type: 'string',
    choices: DTYPES,
    default: 'fp32',
    description: 'Model weights to load, where the model has them (onnx/model.onnx, model_fp16.onnx, model_quantized.onnx)',
    group: 'Model and embedding:',
  },
  pooling: {
    type: 'string',
    choices: POOLINGS,
    description:
      "mean: attention-mask-aware mean of token states (special tokens included, as in the paper); cls: the first token; max, mean_sqrt_len_tokens, weightedmean, lasttoken: as sentence-transformers. Given for a sentence-transformers model, it overrides the model's own (with a warning)",
    defaultText: "the model's sentence-transformers pooling (1_Pooling/config.json), else mean",
    group: 'Model and embedding:',
  },
  prompt: {
    type: 'string',
    description: 'Text put before every sentence (as sentence-transformers encode(prompt=...)), e.g. "query: " for multilingual-e5',
    group: 'Model and embedding:',
  },
  promptName: {
    type: 'string',
    description: "One of the model's prompts (config_sentence_transformers.json), as encode(prompt_name=...)",
    defaultText: "the model's default_prompt_name, if it has one",
    group: 'Model and embedding:',
  },
  excludeSpecial: {
    type: 'boolean',
    default: false,
    description: 'Mean pooling without special tokens ([CLS], [SEP])',
    group: 'Model and embedding:',
  },
  layer: {
    type: 'integer',
    min: 0,
    description: 'Pool hidden_states.<N> instead of the last layer (the paper uses 8 for mBERT)',
    defaultText: 'the last layer',
    group: 'Model and embedding:',
  },
  normalize: { type: 'boolean', default: false, description: 'L2-normalise each sentence vector', group: 'Model and embedding:' },
  maxLength: {
    type: 'integer',
    min: 2,
    description: 'Truncate to this many tokens; truncations are counted',
    defaultText: "the model's maximum",
    group: 'Model and embedding:',
  },
  batchSize: {
    type: 'integer',
    min: 1,
    max: 65_536,
    default: 32,
    description: 'Sentences per forward pass',
    group: 'Model and embedding:',
  },
  maxTokens: {
    type: 'integer',
    min: 1,
    description: 'Token budget per forward pass: batches of long sentences get smaller (padded size = batch x longest)',
    group: 'Model and embedding:',
  },
  threads: {
    type: 'integer',
    min: 1,
    max: 1024,
    description: 'onnxruntime intra-op threads',
    defaultText: 'every core',
    group: 'Model and embedding:',
  },
} as const satisfies Schema;

/** How sentences become vectors: the model and the embedding options (one documented object, `modelSchema`). */
export type ModelOptions = OptionsOf<typeof modelSchema> & { model: string };

/** A verb's model options as given (the model may be unnamed: the default). */
export type ModelOptionsGiven = OptionsOf<typeof modelSchema>;

/** The model options among a verb's options (the default model when none is named). */
export function modelOptions(o: ModelOptionsGiven): ModelOptions {
  const out: Record<string, unknown> = {};
  for (const k of Object.keys(modelSchema)) if ((o as Record<string, unknown>)[k] !== undefined) out[k] = (o as Record<string, unknown>)[k];
  return { ...out, model: o.model ?? DEFAULT_MODEL } as ModelOptions;
}

/**
 * A model loaded at most once, on first use, and shared by every embedding step of a
 * command run; `dispose()` releases it.
 */
export class ModelHandle {
  private loading: Promise<Encoder> | undefined;
  /** `events`: a model that says it is a test model (config.json `lsar_note`) is warned about once, when it loads. */
  constructor(
    readonly options: ModelOptions,
    private readonly events?: Events,
  ) {}

  get(): Promise<Encoder> {
    const o = this.options;
    this.loading ??= Encoder.load({
      model: o.model,
      ...(o.cacheDir ? { cacheDir: o.cacheDir } : {}),
      ...(o.offline ? { offline: true } : {}),
      ...(o.dtype ? { dtype: o.dtype } : {}),
      ...(o.revision ? { revision: o.revision } : {}),
      ...(o.threads ? { threads: o.threads } : {}),
      ...(o.layer !== undefined ? { layer: o.layer } : {}),
    } satisfies EncoderOptions).then((enc) => {
      if (enc.info.note) warn(this.events, 'TEST_MODEL', `the embeddings come from ${enc.info.path ?? enc.info.id}: ${enc.info.note}`);
      return enc;
    });
    return this.loading;
  }

  async dispose(): Promise<void> {
    const l = this.loading;
    this.loading = undefined;
    if (l) await (await l.catch(() => undefined))?.dispose();
  }
}

/** Options that would change an exported model's output are refused: it pools (and projects) inside. */
export function checkExportedOptions(
  model: string,
  ex: LsarExport,
  o: Pick<ModelOptions, 'layer' | 'pooling' | 'excludeSpecial' | 'normalize'>,
): void {
  const asked: [string, unknown, unknown][] = [
    ['layer', o.layer, ex.layer],
    ['pooling', o.pooling === 'cls' ? 'cls' : undefined, ex.pooling],
    ['excludeSpecial', o.excludeSpecial === true ? true : undefined, ex.excludeSpecial],
    ['normalize', o.normalize === true ? true : undefined, ex.normalize],
  ];
  for (const [name, given, inside] of asked) {
    if (given !== undefined && given !== inside) {
      throw createError(
        'USAGE',
        `${model} was made by lsar export: its sentence_embedding output already pools${ex.projection ? ` and projects (${ex.projection.method})` : ''} with ${opt(name)} ${JSON.stringify(inside)}, and is used as is; drop ${opt(name)} ${JSON.stringify(given)}, or embed with the original model`,
        { param: name, params: [name] },
      );
    }
  }
}

/** Token ids cut to `maxLength`, keeping a final special token ([SEP], </s>) as the Python tokenizers do. */
export function truncateIds(encoder: Encoder, t: number[], maxLength: number): number[] {
  if (t.length <= maxLength) return t;
  const last = t[t.length - 1] as number;
  return encoder.specialIds.has(last) ? [...t.slice(0, maxLength - 1), last] : t.slice(0, maxLength);
}

/**
 * One forward pass: a batch of token-id sequences to pooled rows (`batch.length x dim`, float32),
 * as `opts` says (layer, pooling, special tokens, normalisation); an exported model's
 * sentence_embedding is used as it is.
 */
export async function embedBatch(encoder: Encoder, batch: number[][], opts: PoolingSettings): Promise<{ data: Float32Array; dim: number }> {
  if (encoder.info.export) {
    const r = await encoder.sentences(batch);
    return { data: r.data, dim: r.dims[1] };
  }
  const { hidden, dims, mask } = await encoder.run(batch, opts.layer ?? undefined);
  let special: Uint8Array | undefined;
  if (opts.excludeSpecial) {
    special = new Uint8Array(mask.length);
    batch.forEach((seq, i) => seq.forEach((t, j) => (special![i * dims[1] + j] = encoder.specialIds.has(t) ? 1 : 0)));
  }
  const st = encoder.st;
  const after = st ? st.dense.length > 0 || st.normalize : false;
  let data = poolBatch(hidden, dims, mask, special, {
    pooling: opts.pooling,
    excludeSpecial: opts.excludeSpecial,
    ...(opts.skipFirst ? { skipFirst: opts.skipFirst } : {}),
    normalize: opts.normalize && !after,
  });
  let dim = dims[2];
  if (st && after) {
    // the model's own modules after pooling, in order: Dense layers, then Normalize
    for (const layer of st.dense) {
      data = applyDense(data, batch.length, layer);
      dim = layer.outFeatures;
    }
    if (st.normalize || opts.normalize) normalizeRowsInPlace(data, dim, batch.length);
  }
  return { data, dim };
}

/** What a sentence-transformers model's configuration made of a run's rows (recorded in the manifest). */
export interface SentenceTransformersApplied {
  modules: string[];
  pooling: { mode: Pooling; from: 'model' | 'option' };
  includePrompt: boolean;
  dense: { path: string; inFeatures: number; outFeatures: number; activation: string }[];
  normalize: boolean;
}

/**
 * The pooling and prompt of a run: `--pooling` if given (for a sentence-transformers model that
 * pools otherwise, with a warning), else the model's own, else mean; `--prompt`, or the model's
 * prompt named by `--prompt-name` (or its default_prompt_name). With the model's Pooling set to
 * include_prompt false, the prompt's tokens (with [CLS]) are left out of pooling.
 */
export function modelRowSettings(
  encoder: Encoder,
  o: { pooling?: Pooling | undefined; prompt?: string | undefined; promptName?: string | undefined },
  events?: Events,
): { pooling: Pooling; prompt?: string; skipFirst?: number; sentenceTransformers?: SentenceTransformersApplied } {
  const st = encoder.st;
  const where = encoder.info.path ?? encoder.info.id;
  if (o.prompt !== undefined && o.promptName !== undefined)
    throw createError('USAGE', `give ${opt('prompt')} or ${opt('promptName')}, not both`, { params: ['prompt', 'promptName'] });
  let prompt = o.prompt;
  const name = o.promptName ?? (o.prompt === undefined ? st?.defaultPromptName : undefined);
  if (name !== undefined) {
    const known = st?.prompts ?? {};
    if (!(name in known))
      throw createError(
        'USAGE',
        `${opt('promptName')} ${name}: ${where} has ${Object.keys(known).length ? `the prompts ${Object.keys(known).join(', ')}` : 'no prompts (config_sentence_transformers.json)'}`,
        { param: 'promptName' },
      );
    prompt = known[name];
  }
  if (prompt === '') prompt = undefined;
  const own = st?.pooling;
  if (o.pooling !== undefined && own !== undefined && o.pooling !== own)
    warn(events, 'POOLING_OVERRIDE', `${opt('pooling')} ${o.pooling} overrides ${where}'s own ${own} pooling (its 1_Pooling/config.json)`);
  const pooling = o.pooling ?? own ?? 'mean';
  // sentence-transformers: prompt_length = the prompt's tokens without the final [SEP]
  const skipFirst = prompt !== undefined && st && !st.includePrompt ? Math.max(0, encoder.encode(prompt).length - 1) : undefined;
  return {
    pooling,
    ...(prompt !== undefined ? { prompt } : {}),
    ...(skipFirst ? { skipFirst } : {}),
    ...(st
      ? {
          sentenceTransformers: {
            modules: st.modules,
            pooling: { mode: pooling, from: o.pooling !== undefined ? 'option' : 'model' },
            includePrompt: st.includePrompt,
            dense: st.dense.map((d) => ({ path: d.path, inFeatures: d.inFeatures, outFeatures: d.outFeatures, activation: d.activation })),
            normalize: st.normalize,
          },
        }
      : {}),
  };
}
