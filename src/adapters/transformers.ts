/**
 * Sentence encoders through @huggingface/transformers (loaded lazily: importing lsar does
 * not load it). A model is a Hub id (downloaded into a cache directory that lsar sets
 * explicitly) or a local directory in the Hub export layout:
 *
 *   config.json  tokenizer.json  tokenizer_config.json  onnx/model.onnx  (model_fp16.onnx, model_quantized.onnx)
 */
import { existsSync, statSync } from 'node:fs';
import { readdir, readFile } from 'node:fs/promises';
import { availableParallelism, homedir } from 'node:os';
import { basename, dirname, join, resolve } from 'node:path';
import type { Pooling } from '../core/pooling.js';
import { readSentenceTransformers, type SentenceTransformersConfig } from '../io/sentence-transformers.js';
import { createError, firstLine, opt } from '../core/errors.js';
import { halfTable } from '../io/half.js';
import { hashFile } from '../io/hash.js';
import { importOptional } from '../io/optional.js';
import type { TokenizerSpec } from './worker-protocol.js';
import { fetchSentenceTransformersFiles, tappedCopy } from './model-files.js';

export const DTYPES = ['fp32', 'fp16', 'q8'] as const;
export type Dtype = (typeof DTYPES)[number];

/** The default encoder of `lsar embed` and `lsar fit --corpora`: small, multilingual, in transformers.js format. */
export const DEFAULT_MODEL = 'Xenova/paraphrase-multilingual-MiniLM-L12-v2';
export const MODEL_FILE: Record<Dtype, string> = { fp32: 'model.onnx', fp16: 'model_fp16.onnx', q8: 'model_quantized.onnx' };

export interface EncoderOptions {
  /** Hub id (owner/name) or a local model directory. */
  model: string;
  /** Where Hub downloads go (default: $HF_HOME/transformers.js, or ~/.cache/huggingface/transformers.js). */
  cacheDir?: string;
  /** Never download: only the cache or a local directory. */
  offline?: boolean;
  dtype?: Dtype;
  revision?: string;
  /** onnxruntime intra-op threads (default: every core; tokenisation runs ahead on the worker pool and costs little beside a real model). */
  threads?: number;
  /** The hidden state to be read: a standard export without it gets it added to its graph (./layer-tap.ts). */
  layer?: number;
}

export interface ModelInfo {
  id: string;
  /** Absolute path of a local model directory. */
  path?: string;
  revision?: string;
  dtype: Dtype;
  /** SHA-256 of the model's files as loaded. */
  files: { name: string; sha256: string }[];
  transformersVersion: string;
  outputs: string[];
  /** A note the model's config.json carries for lsar users (`lsar_note`, e.g. "a random test model"). */
  note?: string;
  /** A model exported by `lsar export`: what its `sentence_embedding` output computes (config.json `lsar_export`). */
  export?: LsarExport;
  /** A standard export whose graph lsar extended with a hidden state: the layer, the tensor tapped, the edited copy. */
  tapped?: { layer: number; tensor: string; dir: string };
}

/** What an exported model's `sentence_embedding` output computes, recorded in its config.json. */
export interface LsarExport {
  /** The projection inside (null: pooling and normalisation only). */
  projection: { method: string; rank?: number; remove: number; key: string; languages: string[] } | null;
  pooling: Pooling;
  excludeSpecial: boolean;
  layer: number | null;
  /** The pooled vectors are L2-normalised before the projection (as the fitted embeddings were). */
  normalizeInput: boolean;
  /** The output rows are L2-normalised. */
  normalize: boolean;
  dtype: Dtype;
  lsarVersion: string;
}

/** The default cache directory: honours HF_HOME; never inside node_modules. */
export function defaultCacheDir(): string {
  const hf = process.env.HF_HOME;
  return join(hf && hf !== '' ? hf : join(homedir(), '.cache', 'huggingface'), 'transformers.js');
}

type Transformers = typeof import('@huggingface/transformers');
let tf: Promise<Transformers> | undefined;
function transformers(): Promise<Transformers> {
  tf ??= importOptional<Transformers>('@huggingface/transformers', 'Embedding with a model');
  return tf;
}

interface Tok {
  encode(text: string): number[];
  all_special_ids: number[];
  model_max_length: number;
  pad_token_id?: number;
}

interface LoadedModel {
  (
    inputs: Record<string, unknown>,
  ): Promise<Record<string, { data: Float32Array | Uint16Array; type?: string; dims: number[]; dispose?: () => void }>>;
  dispose(): Promise<unknown>;
  sessions?: Record<
    string,
    {
      outputNames?: string[];
      run?(
        feeds: Record<string, unknown>,
        fetches: string[],
      ): Promise<Record<string, { data: Float32Array | Uint16Array; type?: string; dims: readonly number[]; dispose?: () => void }>>;
    }
  >;
}

async function listFiles(dir: string): Promise<string[]> {
  const out: string[] = [];
  for (const e of await readdir(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    if (e.isDirectory()) out.push(...(await listFiles(p)));
    else out.push(p);
  }
  return out;
}

/** An output tensor's values as float32 (float16 outputs arrive as their 16-bit patterns). */
function toFloat32(t: { data: ArrayLike<number>; type?: string }): Float32Array {
  if (t.type === 'float16' && t.data instanceof Uint16Array) {
    const table = halfTable();
    return Float32Array.from(t.data, (h) => table[h] as number);
  }
  return t.data instanceof Float32Array ? t.data.slice() : Float32Array.from(t.data);
}

export class Encoder {
  readonly info: ModelInfo;
  /** How the model was found, for loading its tokenizer again on a worker thread. */
  spec!: TokenizerSpec;
  /** The model's directory (local, or in the download cache). */
  root = '';
  /** A sentence-transformers model's own pipeline (modules.json): pooling, Dense, Normalize, prompts. */
  st?: SentenceTransformersConfig;
  /** Models loaded by this process so far (one per command run is the rule). */
  static loads = 0;
  readonly specialIds: Set<number>;
  readonly maxLength: number;
  readonly padId: number;
  private tok: Tok;
  private model: LoadedModel;
  private TensorCtor: Transformers['Tensor'];

  private constructor(tok: Tok, model: LoadedModel, info: ModelInfo, maxPositions: number, T: Transformers['Tensor']) {
    this.tok = tok;
    this.model = model;
    this.info = info;
    this.TensorCtor = T;
    this.specialIds = new Set(tok.all_special_ids);
    this.maxLength = Math.min(tok.model_max_length > 0 && tok.model_max_length < 1e6 ? tok.model_max_length : 512, maxPositions);
    this.padId = tok.pad_token_id ?? 0;
  }

  static async load(options: EncoderOptions): Promise<Encoder> {
    const dtype = options.dtype ?? 'fp32';
    const cacheDir = resolve(options.cacheDir ?? defaultCacheDir());
    const asPath = resolve(options.model);
    const looksLocal = existsSync(asPath) || options.model.startsWith('.') || options.model.startsWith('/');
    const T = await transformers();
    const { env } = T;
    let id: string;
    let local: string | undefined;
    if (looksLocal) {
      if (!existsSync(asPath) || !statSync(asPath).isDirectory()) {
        throw createError(
          'MODEL',
          `${asPath}: no such model directory; pass a directory holding config.json, tokenizer.json and onnx/${MODEL_FILE[dtype]}, or a Hub id such as Xenova/paraphrase-multilingual-MiniLM-L12-v2`,
        );
      }
      for (const f of ['config.json', 'tokenizer.json', join('onnx', MODEL_FILE[dtype])]) {
        if (!existsSync(join(asPath, f))) {
          const other = (Object.keys(MODEL_FILE) as Dtype[]).filter((d) => existsSync(join(asPath, 'onnx', MODEL_FILE[d])));
          throw createError(
            'MODEL',
            `${join(asPath, f)}: missing: a model directory needs config.json, tokenizer.json and onnx/${MODEL_FILE[dtype]} (the Hub export layout)${f.startsWith('onnx') && other.length ? `; this one has ${opt('dtype')} ${other.join(', ')}` : f.startsWith('onnx') ? '; export one with optimum-cli export onnx (see the README)' : ''}`,
            { params: ['dtype'] },
          );
        }
      }
      local = asPath;
      env.allowLocalModels = true;
      env.localModelPath = dirname(asPath) + '/';
      id = basename(asPath);
    } else {
      // transformers.js 4 reads its cache only when local models are allowed (with neither
      // local nor remote models allowed it refuses to start): allow them from a directory that
      // holds none, so a Hub id comes from the cache (revision-aware) or the Hub, never elsewhere
      env.allowLocalModels = true;
      env.localModelPath = join(cacheDir, '.lsar-no-local-models') + '/';
      env.cacheDir = cacheDir;
      env.useFSCache = true;
      id = options.model;
    }
    env.allowRemoteModels = !local && !options.offline;
    const threads = options.threads ?? availableParallelism();
    const opts = {
      dtype,
      session_options: { intraOpNumThreads: threads, interOpNumThreads: 1 },
      ...(options.revision ? { revision: options.revision } : {}),
      // a Hub id is read from the cache (remote models disallowed when offline): transformers.js 4
      // refuses local_files_only while local models are disallowed
      ...(local ? { local_files_only: true } : {}),
      ...(local ? {} : { cache_dir: cacheDir }),
    };
    let tok: Tok;
    let model: LoadedModel;
    try {
      tok = (await T.AutoTokenizer.from_pretrained(id, opts)) as unknown as Tok;
      model = (await T.AutoModel.from_pretrained(id, opts)) as unknown as LoadedModel;
    } catch (e) {
      const why = firstLine(e);
      if (local) throw createError('MODEL', `${local}: cannot load the model (${why})`);
      throw createError(
        'MODEL',
        `model "${options.model}" not found: it is not a local directory (${asPath} does not exist) and ${options.offline ? `it is not in the cache (cache dir ${cacheDir})` : `it could not be downloaded into the cache (cache dir ${cacheDir}: ${why})`}. Fix: pass a local model directory (config.json, tokenizer.json, onnx/${MODEL_FILE[dtype]}), or run once with network access${options.offline ? ` and without ${opt('offline')}` : ''} to fill the cache, or point ${opt('cacheDir')} / HF_HOME at a cache that has it`,
        { cause: e, params: ['offline', 'cacheDir'] },
      );
    }
    const root = local ?? join(cacheDir, id);
    const files: { name: string; sha256: string }[] = [];
    if (existsSync(root)) {
      const wanted = new Set(['config.json', 'tokenizer.json', 'tokenizer_config.json', MODEL_FILE[dtype]]);
      for (const f of (await listFiles(root)).sort())
        if (wanted.has(basename(f))) files.push({ name: f.slice(root.length + 1), sha256: await hashFile(f) });
    }
    const config = JSON.parse(existsSync(join(root, 'config.json')) ? await readFile(join(root, 'config.json'), 'utf8') : '{}') as {
      max_position_embeddings?: number;
      lsar_note?: string;
      lsar_export?: LsarExport;
    };
    const outputs = model.sessions?.model?.outputNames ?? [];
    const info: ModelInfo = {
      id: options.model,
      ...(local ? { path: local } : {}),
      ...(options.revision ? { revision: options.revision } : {}),
      dtype,
      files,
      transformersVersion: String(env.version),
      outputs,
      ...(typeof config.lsar_note === 'string' ? { note: config.lsar_note } : {}),
      ...(config.lsar_export && outputs.includes('sentence_embedding') ? { export: config.lsar_export } : {}),
    };
    const layer = options.layer;
    if (layer !== undefined && !info.export && !outputs.some((o) => o.startsWith('hidden_states.'))) {
      // a standard export (no per-layer outputs): load a copy whose graph also outputs this hidden state
      await model.dispose().catch(() => undefined);
      const { dir, tensor } = await tappedCopy(root, MODEL_FILE[dtype], layer, cacheDir);
      const tappedEncoder = await Encoder.load({ ...options, model: dir, offline: true, layer: undefined });
      Object.assign(tappedEncoder.info, {
        id: info.id,
        path: info.path,
        revision: info.revision,
        files: info.files,
        tapped: { layer, tensor, dir },
      });
      if (!info.path) delete tappedEncoder.info.path;
      return tappedEncoder;
    }
    const encoder = new Encoder(tok, model, info, config.max_position_embeddings ?? 512, T.Tensor);
    encoder.root = root;
    if (!local && !existsSync(join(root, 'modules.json')) && env.allowRemoteModels)
      await fetchSentenceTransformersFiles(String(env.remoteHost ?? 'https://huggingface.co/'), id, options.revision ?? 'main', root);
    try {
      const st = await readSentenceTransformers(root);
      if (st) encoder.st = st;
    } catch (e) {
      await model.dispose().catch(() => undefined);
      throw e;
    }
    Encoder.loads++;
    encoder.spec = {
      id,
      // the worker reads the files the main thread has just loaded: from the directory or the cache, never the network
      opts: { ...opts, ...(local ? { local_files_only: true } : {}) },
      env: {
        allowLocalModels: env.allowLocalModels,
        localModelPath: env.localModelPath,
        allowRemoteModels: false,
        cacheDir: env.cacheDir,
        useFSCache: env.useFSCache,
      },
    };
    return encoder;
  }

  /** Token ids of one text, with the model's special tokens. */
  encode(text: string): number[] {
    return this.tok.encode(text);
  }

  /**
   * Run a batch of token id sequences (already truncated); returns the chosen layer's
   * hidden states [batch, seq, hidden] and the attention mask used.
   */
  async run(batch: number[][], layer?: number): Promise<{ hidden: Float32Array; dims: [number, number, number]; mask: Uint8Array }> {
    const r = await this.forward(batch, layer === undefined ? 'last_hidden_state' : `hidden_states.${layer}`);
    return { hidden: r.data, dims: r.dims as [number, number, number], mask: r.mask };
  }

  /** `sentence_embedding` [batch, d] of a model exported by lsar export (pooling and projection inside). */
  async sentences(batch: number[][]): Promise<{ data: Float32Array; dims: [number, number] }> {
    const r = await this.forward(batch, 'sentence_embedding');
    return { data: r.data, dims: r.dims as [number, number] };
  }

  private async forward(batch: number[][], name: string): Promise<{ data: Float32Array; dims: number[]; mask: Uint8Array }> {
    const b = batch.length;
    const s = Math.max(...batch.map((x) => x.length));
    const ids = new BigInt64Array(b * s).fill(BigInt(this.padId));
    const mask = new BigInt64Array(b * s);
    const m8 = new Uint8Array(b * s);
    batch.forEach((seq, i) => {
      seq.forEach((t, j) => {
        ids[i * s + j] = BigInt(t);
        mask[i * s + j] = 1n;
        m8[i * s + j] = 1;
      });
    });
    const T = this.TensorCtor;
    const inputs = {
      input_ids: new T('int64', ids, [b, s]),
      attention_mask: new T('int64', mask, [b, s]),
      token_type_ids: new T('int64', new BigInt64Array(b * s), [b, s]),
    };
    // Only the output needed: the onnxruntime session directly, with one fetch (transformers.js
    // would copy out every hidden state); the model call where there is no such session.
    const session = this.model.sessions?.model;
    const out =
      session?.run && session.outputNames?.includes(name)
        ? await session.run(
            Object.fromEntries(Object.entries(inputs).map(([k, v]) => [k, (v as unknown as { ort_tensor: unknown }).ort_tensor])),
            [name],
          )
        : await this.model(inputs);
    try {
      const t = out[name];
      if (!t) {
        const layers = Object.keys(out).filter((k) => k.startsWith('hidden_states.'));
        throw createError(
          'MODEL',
          `${this.info.path ?? this.info.id}: the model has no output "${name}"${layers.length ? `; it exposes ${layers.join(', ')}` : '; its ONNX export exposes only the last layer (see the README on exporting per-layer hidden states)'}`,
        );
      }
      return { data: toFloat32(t), dims: [...t.dims], mask: m8 };
    } finally {
      for (const t of Object.values(out)) t.dispose?.();
      for (const t of Object.values(inputs)) (t as { dispose?: () => void }).dispose?.();
    }
  }

  async dispose(): Promise<void> {
    await this.model.dispose();
  }
}
