/**
 * Option definitions shared by the commands, typed for yargs: numeric options are parsed
 * and range-checked here (before any library or native call), with usage errors that name
 * the flag and the accepted range.
 */
import type { Argv, Options } from 'yargs';
import { createError } from '../core/errors.js';
import type { Dtype } from '../adapters/transformers.js';
import { DEFAULT_MODEL } from '../adapters/transformers.js';
import { HNSW_DEFAULTS, type HnswParams } from '../adapters/hnsw.js';
import type { ModelOptions } from '../pipeline/embed.js';
import { HNSW_RANGES } from '../pipeline/services/search/index.js';

/** The raw command line being parsed, so that "not a number" can quote what was typed. */
let rawArgv: string[] = [];
export function setRawArgv(argv: string[]): void {
  rawArgv = argv;
}

function rawValue(flag: string): string | undefined {
  for (let i = 0; i < rawArgv.length; i++) {
    const a = rawArgv[i] as string;
    if (a === flag) return rawArgv[i + 1];
    if (a.startsWith(`${flag}=`)) return a.slice(flag.length + 1);
  }
  return undefined;
}

interface NumberSpec {
  describe: string;
  min?: number;
  max?: number;
  /** Whole numbers only (default true). */
  integer?: boolean;
  alias?: string;
  default?: number;
}

function flagOf(name: string): string {
  return name.length === 1 ? `-${name}` : `--${name}`;
}

/** Check one parsed value of a numeric option. */
export function checkNumberOption(name: string, value: unknown, spec: Omit<NumberSpec, 'describe'>, aliases: string[] = []): number {
  const flag = flagOf(name);
  if (Array.isArray(value)) throw createError('USAGE', `${flag} was given ${value.length} times; give it once`);
  const integer = spec.integer !== false;
  const whole = integer ? 'a whole number' : 'a number';
  if (typeof value !== 'number' || Number.isNaN(value)) {
    const raw = [flag, ...aliases.map(flagOf)].map(rawValue).find((v) => v !== undefined) ?? String(value);
    throw createError('USAGE', `${flag} expects ${whole}, got ${JSON.stringify(raw)}`);
  }
  const range =
    spec.min !== undefined && spec.max !== undefined
      ? ` from ${spec.min} to ${spec.max}`
      : spec.min !== undefined
        ? ` of at least ${spec.min}`
        : spec.max !== undefined
          ? ` of at most ${spec.max}`
          : '';
  if (
    (integer && !Number.isInteger(value)) ||
    !Number.isFinite(value) ||
    (spec.min !== undefined && value < spec.min) ||
    (spec.max !== undefined && value > spec.max)
  ) {
    throw createError('USAGE', `${flag} must be ${whole}${range}, got ${value}`);
  }
  return value;
}

/** A numeric option: shown as [number] in --help, checked (whole number, range) when parsed. */
export function numberOption(name: string, spec: NumberSpec) {
  const aliases = spec.alias ? [spec.alias] : [];
  return {
    type: 'number',
    describe: spec.describe,
    ...(spec.alias ? { alias: spec.alias } : {}),
    ...(spec.default !== undefined ? { default: spec.default } : {}),
    coerce: (v: unknown) => (v === undefined ? undefined : checkNumberOption(name, v, spec, aliases)),
  } as const satisfies Options;
}

/** A comma-separated list option ("none,lsar"; repeatable). */
export function listOf(v: unknown): string[] {
  const items = (Array.isArray(v) ? v : v === undefined ? [] : [v]).map(String);
  return items
    .flatMap((s) => s.split(','))
    .map((s) => s.trim())
    .filter((s) => s !== '');
}

/** A comma-separated list of whole numbers ("4,8,16"), each checked. */
export function intList(name: string, v: unknown, spec: { min?: number; max?: number } = {}): number[] | undefined {
  if (v === undefined) return undefined;
  return listOf(v).map((s) => {
    const n = Number(s);
    if (s === '' || Number.isNaN(n))
      throw createError('USAGE', `--${name} expects whole numbers separated by commas, got ${JSON.stringify(s)}`);
    return checkNumberOption(name, n, spec);
  });
}

/** --exact and the HNSW options, shared by retrieve and search. */
export function withSearchOptions<T>(y: Argv<T>) {
  return y
    .option('search', {
      choices: ['auto', 'exact', 'hnsw'] as const,
      default: 'auto' as const,
      describe:
        'exact: brute force (float32 GEMM or SIMD, candidates re-scored in float64: the exact ranking); hnsw: approximate, ef chosen for --recall; auto: whichever is estimated faster for the job (an HNSW build pays off only for many queries or a saved index)',
    })
    .option('exact', { type: 'boolean', default: false, describe: 'The same as --search exact' })
    .option(
      'recall',
      numberOption('recall', {
        describe: 'HNSW: recall@10 against exact search that ef is chosen to reach, measured on a sample of the queries',
        min: 0,
        max: 1,
        integer: false,
        default: 0.99,
      }),
    )
    .option('hnsw-m', numberOption('hnsw-m', { describe: `HNSW M, links per node (default ${HNSW_DEFAULTS.m})`, ...HNSW_RANGES.m }))
    .option(
      'ef-construction',
      numberOption('ef-construction', {
        describe: `HNSW efConstruction (default ${HNSW_DEFAULTS.efConstruction})`,
        ...HNSW_RANGES.efConstruction,
      }),
    )
    .option(
      'ef',
      numberOption('ef', {
        describe: 'HNSW ef at query time (default: the smallest of 64, 128, ... that reaches --recall)',
        ...HNSW_RANGES.ef,
      }),
    )
    .option('index-out', {
      type: 'string',
      describe: 'Save the index (and a <file>.json description with the hashes of the data and projection it was built from)',
    })
    .option('index-in', { type: 'string', describe: 'Reuse an index saved with --index-out (refused when the data or projection differ)' })
    .group(['search', 'exact', 'recall', 'hnsw-m', 'ef-construction', 'ef', 'index-out', 'index-in'], 'Search:');
}

export function hnswArgs(a: { hnswM?: number | undefined; efConstruction?: number | undefined; ef?: number | undefined }): HnswParams {
  return {
    ...(a.hnswM !== undefined ? { m: a.hnswM } : {}),
    ...(a.efConstruction !== undefined ? { efConstruction: a.efConstruction } : {}),
    ...(a.ef !== undefined ? { ef: a.ef } : {}),
  };
}

const MODEL_GROUP = [
  'model',
  'cache-dir',
  'offline',
  'revision',
  'dtype',
  'pooling',
  'exclude-special',
  'layer',
  'normalize',
  'max-length',
  'batch-size',
  'max-tokens',
  'threads',
];

/** The model and embedding options, shared by embed, fit --corpora, retrieve --model and search --model. */
export function withModelOptions<T>(y: Argv<T>) {
  return y
    .option('model', {
      type: 'string',
      describe: `Hub id or a local model directory (config.json, tokenizer.json, onnx/model.onnx); embed and fit --corpora default to ${DEFAULT_MODEL}`,
    })
    .option('cache-dir', {
      type: 'string',
      describe: 'Where Hub downloads are cached (default $HF_HOME/transformers.js or ~/.cache/huggingface/transformers.js)',
    })
    .option('offline', { type: 'boolean', default: false, describe: 'Never download: use the cache or a local directory only' })
    .option('revision', { type: 'string', describe: 'Hub revision (branch, tag or commit)' })
    .option('dtype', {
      choices: ['fp32', 'fp16', 'q8'] as const,
      default: 'fp32' as const,
      describe: 'Model weights to load, where the model has them (onnx/model.onnx, model_fp16.onnx, model_quantized.onnx)',
    })
    .option('pooling', {
      choices: ['mean', 'cls'] as const,
      default: 'mean' as const,
      describe: 'mean: attention-mask-aware mean of token states (special tokens included, as in the paper); cls: the first token',
    })
    .option('exclude-special', { type: 'boolean', default: false, describe: 'mean pooling without special tokens ([CLS], [SEP])' })
    .option(
      'layer',
      numberOption('layer', {
        describe: 'Pool hidden_states.<N> instead of the last layer (needs an export with per-layer outputs; the paper uses 8 for mBERT)',
        min: 0,
      }),
    )
    .option('normalize', { type: 'boolean', default: false, describe: 'L2-normalise each sentence vector' })
    .option(
      'max-length',
      numberOption('max-length', {
        describe: "Truncate to this many tokens (default: the model's maximum); truncations are counted",
        min: 2,
      }),
    )
    .option('batch-size', numberOption('batch-size', { describe: 'Sentences per forward pass', min: 1, max: 65_536, default: 32 }))
    .option(
      'max-tokens',
      numberOption('max-tokens', {
        describe: 'Token budget per forward pass: batches of long sentences get smaller (padded size = batch x longest)',
        min: 1,
      }),
    )
    .option('threads', numberOption('threads', { describe: 'onnxruntime intra-op threads (default: every core)', min: 1, max: 1024 }))
    .group(MODEL_GROUP, 'Model and embedding:');
}

interface ModelArgs {
  model?: string | undefined;
  cacheDir?: string | undefined;
  offline?: boolean | undefined;
  revision?: string | undefined;
  dtype?: Dtype | undefined;
  pooling?: 'mean' | 'cls' | undefined;
  excludeSpecial?: boolean | undefined;
  layer?: number | undefined;
  normalize?: boolean | undefined;
  maxLength?: number | undefined;
  batchSize?: number | undefined;
  threads?: number | undefined;
  maxTokens?: number | undefined;
}

/** The library's model options from the parsed flags (the default model when none is given). */
export function modelArgs(a: ModelArgs): ModelOptions {
  return {
    model: a.model ?? DEFAULT_MODEL,
    ...(a.cacheDir ? { cacheDir: a.cacheDir } : {}),
    offline: a.offline === true,
    ...(a.revision ? { revision: a.revision } : {}),
    dtype: a.dtype ?? 'fp32',
    pooling: a.pooling ?? 'mean',
    excludeSpecial: a.excludeSpecial === true,
    ...(a.layer !== undefined ? { layer: a.layer } : {}),
    normalize: a.normalize === true,
    ...(a.maxLength !== undefined ? { maxLength: a.maxLength } : {}),
    batchSize: a.batchSize ?? 32,
    ...(a.threads !== undefined ? { threads: a.threads } : {}),
    ...(a.maxTokens !== undefined ? { maxTokens: a.maxTokens } : {}),
  };
}

const COLUMN_DESCRIBE = 'Parquet inputs: the embedding column (FixedSizeList or List of float16/32/64; default embedding)';

/** Parquet inputs: which column holds the embeddings, and which holds each row's language (fit, stats, project). */
export function withColumnOptions<T>(y: Argv<T>) {
  return y
    .option('column', { type: 'string', describe: COLUMN_DESCRIBE })
    .option('lang-column', {
      type: 'string',
      describe: "Parquet inputs: a column of each row's language (one file may then hold many languages)",
    })
    .group(['column', 'lang-column'], 'Parquet:');
}

/** Parquet inputs: the embedding column only (commands whose sides have one language each). */
export function withColumnOption<T>(y: Argv<T>) {
  return y.option('column', { type: 'string', describe: COLUMN_DESCRIBE });
}

/** The library's column options from the parsed flags. */
export function columnArgs(a: { column?: string | undefined; langColumn?: string | undefined }): { column?: string; langColumn?: string } {
  return { ...(a.column !== undefined ? { column: a.column } : {}), ...(a.langColumn !== undefined ? { langColumn: a.langColumn } : {}) };
}

/** Embedding options that default to how the projection's embeddings were made (lsar export, lsar serve), and where the model comes from. */
export function withMadeLikeOptions<T>(y: Argv<T>, dtypeDescribe: string) {
  return y
    .option(
      'layer',
      numberOption('layer', { describe: "Pool hidden_states.<N> (default: as the projection's embeddings were made)", min: 0 }),
    )
    .option('pooling', {
      choices: ['mean', 'cls'] as const,
      describe: "Pooling (default: as the projection's embeddings were made, else mean)",
    })
    .option('exclude-special', {
      type: 'boolean',
      describe: "Mean pooling without special tokens (default: as the projection's embeddings were made)",
    })
    .option('dtype', { choices: ['fp32', 'fp16', 'q8'] as const, default: 'fp32' as const, describe: dtypeDescribe })
    .option('cache-dir', { type: 'string', describe: 'Where Hub downloads are cached' })
    .option('offline', { type: 'boolean', default: false, describe: 'Never download: use the cache or a local directory only' })
    .option('revision', { type: 'string', describe: 'Hub revision (branch, tag or commit)' });
}

/** The library options of withMadeLikeOptions' flags (unset ones left out, so the projection's manifest decides). */
export function madeLikeArgs(a: {
  layer?: number | undefined;
  pooling?: 'mean' | 'cls' | undefined;
  excludeSpecial?: boolean | undefined;
  dtype: Dtype;
  cacheDir?: string | undefined;
  offline: boolean;
  revision?: string | undefined;
}) {
  return {
    ...(a.layer !== undefined ? { layer: a.layer } : {}),
    ...(a.pooling !== undefined ? { pooling: a.pooling } : {}),
    ...(a.excludeSpecial !== undefined ? { excludeSpecial: a.excludeSpecial } : {}),
    dtype: a.dtype,
    ...(a.cacheDir ? { cacheDir: a.cacheDir } : {}),
    offline: a.offline,
    ...(a.revision ? { revision: a.revision } : {}),
  };
}
