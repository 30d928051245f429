/**
 * `lsar embed`: embed per-language corpora (one sentence per line) into `<lang>.npy`
 * (float32, one row per non-empty line, in order) plus `manifest.json`.
 * Sentences are sorted by token length inside a window before batching (less padding)
 * and written back in their original order. Re-running skips languages whose output
 * matches the manifest (same input hash, model and options).
 */
import { readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { checkNumber, createError, opt } from '../core/errors.js';
import { planBatches } from '../core/batching.js';
import { poolBatch, type Pooling } from '../core/pooling.js';
import { Encoder, type Dtype, type EncoderOptions, type LsarExport, type ModelInfo } from '../adapters/transformers.js';
import { tokenizeInPool } from '../adapters/pool.js';
import { writeFileAtomic } from '../io/atomic.js';
import { refuseOverwrite } from '../io/same-file.js';
import { contentHashFile, hashBytes } from '../io/hash.js';
import { withLock } from '../io/lock.js';
import { checkUniqueLanguages, listLanguageFiles, parseLanguageAssignment, type LanguageInput } from '../io/inputs.js';
import { NpyWriter } from '../io/npy.js';
import { readLines } from '../io/text.js';
import { VERSION } from '../version.js';

/** How sentences become vectors: the model and the embedding options (one documented object). */
export interface ModelOptions {
  /** Hub id (owner/name) or a local model directory. */
  model: string;
  cacheDir?: string;
  offline?: boolean;
  dtype?: Dtype;
  revision?: string;
  /** mean (default; special tokens included, as in the paper) or cls. */
  pooling?: Pooling;
  excludeSpecial?: boolean;
  /** Pool `hidden_states.<layer>` instead of the last layer. */
  layer?: number;
  normalize?: boolean;
  maxLength?: number;
  /** Sentences per forward pass (default 32). */
  batchSize?: number;
  /** onnxruntime intra-op threads (default: every core). */
  threads?: number;
  /**
   * Token budget per forward pass: a length-sorted batch also stops before batch size x its
   * longest sequence exceeds it (long sentences in smaller batches); batchSize still caps it.
   */
  maxTokens?: number;
}

export interface EmbedOptions extends ModelOptions {
  /** A directory of `<lang>.txt` ... */
  corpora?: string;
  /** ... or `lang=file.txt` assignments. */
  inputs?: string[];
  out: string;
  /** Re-embed even when the manifest says the output is current. */
  force?: boolean;
  /** A model loaded by the caller (kept open), instead of loading `model` here. */
  encoder?: ModelHandle;
  onProgress?: (p: { lang: string; done: number; total: number }) => void;
  /** After each language: rows, truncated lines and the padding fraction of its forward passes (0 when skipped). */
  onLanguage?: (p: { lang: string; skipped: boolean; rows: number; truncated: number; padding?: number }) => void;
}

export interface LanguageEntry {
  file: string;
  input: string;
  inputSha256: string;
  lines: number;
  rows: number;
  dim: number;
  truncated: number;
  /** Size and XXH3-128 of the .npy written: a file edited since is not taken as current. */
  outputBytes: number;
  outputXxh3: string;
}

export interface EmbedManifest {
  format: 'lsar-embeddings';
  lsarVersion: string;
  transformersVersion: string;
  model: Partial<ModelInfo>;
  options: { dtype: Dtype; pooling: Pooling; excludeSpecial: boolean; layer: number | null; normalize: boolean; maxLength: number };
  languages: Record<string, LanguageEntry>;
}

/** Lines per sorting window: long enough to group similar lengths, short enough to stream. */
export const WINDOW_BATCHES = 8;
/** Characters beyond this are cut before tokenising (the tokens would be truncated anyway). */
const MAX_CHARS = 20_000;

/**
 * A model loaded at most once, on first use, and shared by every embedding step of a
 * command run; `dispose()` releases it.
 */
export class ModelHandle {
  private loading: Promise<Encoder> | undefined;
  constructor(readonly options: ModelOptions) {}

  get(): Promise<Encoder> {
    const o = this.options;
    this.loading ??= Encoder.load({
      model: o.model,
      ...(o.cacheDir ? { cacheDir: o.cacheDir } : {}),
      ...(o.offline ? { offline: true } : {}),
      ...(o.dtype ? { dtype: o.dtype } : {}),
      ...(o.revision ? { revision: o.revision } : {}),
      ...(o.threads ? { threads: o.threads } : {}),
    } satisfies EncoderOptions);
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

export async function embedCorpora(options: EmbedOptions): Promise<EmbedManifest> {
  const inputs: LanguageInput[] =
    options.corpora !== undefined ? await listLanguageFiles(options.corpora, '.txt') : (options.inputs ?? []).map(parseLanguageAssignment);
  if (inputs.length === 0) throw createError('USAGE', 'embedding needs a directory of <lang>.txt corpora or <lang>=<file.txt> inputs');
  checkUniqueLanguages(inputs);
  await refuseOverwrite(
    [join(options.out, 'manifest.json'), ...inputs.map((i) => join(options.out, `${i.lang}.npy`))].map((path) => ({ path, param: 'out' })),
    inputs.map((i) => i.path),
  );
  const batchSize = checkNumber('batchSize', options.batchSize ?? 32, { min: 1, max: 65_536 });
  if (options.maxLength !== undefined) checkNumber('maxLength', options.maxLength, { min: 2 });
  if (options.layer !== undefined) checkNumber('layer', options.layer, { min: 0 });
  if (options.maxTokens !== undefined) checkNumber('maxTokens', options.maxTokens, { min: 1 });
  const handle = options.encoder ?? new ModelHandle(options);
  try {
    const encoder = await handle.get();
    const maxLength = Math.min(options.maxLength ?? encoder.maxLength, encoder.maxLength);
    // A model exported by lsar export pools and projects inside: its own settings are what its rows are.
    const ex = encoder.info.export;
    if (ex) checkExportedOptions(encoder.info.path ?? encoder.info.id, ex, options);
    const opts: EmbedManifest['options'] = ex
      ? {
          dtype: options.dtype ?? 'fp32',
          pooling: ex.pooling,
          excludeSpecial: ex.excludeSpecial,
          layer: ex.layer,
          normalize: ex.normalize,
          maxLength,
        }
      : {
          dtype: options.dtype ?? 'fp32',
          pooling: options.pooling ?? 'mean',
          excludeSpecial: options.excludeSpecial === true,
          layer: options.layer ?? null,
          normalize: options.normalize === true,
          maxLength,
        };
    const { transformersVersion, ...info } = encoder.info;
    const model = { ...info } as Partial<ModelInfo>;
    delete model.outputs;
    const manifestPath = join(options.out, 'manifest.json');
    const previous = await readManifest(manifestPath);
    const sameSetup = (m: EmbedManifest | undefined): m is EmbedManifest =>
      m !== undefined && JSON.stringify(m.model) === JSON.stringify(model) && JSON.stringify(m.options) === JSON.stringify(opts);
    const manifest: EmbedManifest = {
      format: 'lsar-embeddings',
      lsarVersion: VERSION,
      transformersVersion,
      model,
      options: opts,
      languages: sameSetup(previous) ? { ...previous.languages } : {},
    };
    // Languages written by this run; the manifest on disk may meanwhile hold others, written by
    // another run into the same directory: they are merged under a lock, never lost.
    const written = new Set<string>();
    const lockPath = join(options.out, '.lsar-embed.lock');
    const saveManifest = async () => {
      const disk = await readManifest(manifestPath);
      if (sameSetup(disk)) for (const [l, e] of Object.entries(disk.languages)) if (!written.has(l)) manifest.languages[l] = e;
      await writeFileAtomic(manifestPath, JSON.stringify(manifest, null, 1) + '\n');
    };
    const tokenize = (texts: string[]) => tokenizeInPool(encoder.spec, texts);
    interface Prepared {
      input: LanguageInput;
      inputSha256: string;
      skip: boolean;
      lines: string[];
      /** Tokens of the first window, tokenised while the previous language runs. */
      first?: Promise<number[][]>;
    }
    // Look one language ahead: read (and hash) the next file, and tokenise its first
    // window while the model runs on this one's last.
    const prepare = async (input: LanguageInput): Promise<Prepared> => {
      const bytes = await readFile(input.path).catch(() => {
        throw createError('NOT_FOUND', `${input.path}: no such file`);
      });
      const inputSha256 = hashBytes(bytes);
      const prev = manifest.languages[input.lang];
      if (!options.force && prev && prev.inputSha256 === inputSha256 && (await isCurrent(join(options.out, `${input.lang}.npy`), prev))) {
        return { input, inputSha256, skip: true, lines: [] };
      }
      const lines = await readLines(input.path);
      if (lines.length === 0) throw createError('EMPTY', `${input.path}: no non-empty lines to embed`);
      return { input, inputSha256, skip: false, lines };
    };
    const window = batchSize * WINDOW_BATCHES;
    let next: Promise<Prepared> | undefined = prepare(inputs[0] as LanguageInput);
    for (let k = 0; k < inputs.length; k++) {
      const cur: Prepared = await (next as Promise<Prepared>);
      next = k + 1 < inputs.length ? prepare(inputs[k + 1] as LanguageInput) : undefined;
      next?.catch(() => undefined);
      const { input, inputSha256, lines } = cur;
      if (cur.skip) {
        const prev = manifest.languages[input.lang] as LanguageEntry;
        options.onLanguage?.({ lang: input.lang, skipped: true, rows: prev.rows, truncated: prev.truncated });
        continue;
      }
      const outFile = join(options.out, `${input.lang}.npy`);
      const following = next;
      const { rows, dim, truncated, padding, writer } = await embedLines(
        encoder,
        lines,
        outFile,
        { ...opts, batchSize, maxTokens: options.maxTokens },
        (done) => options.onProgress?.({ lang: input.lang, done, total: lines.length }),
        tokenize,
        {
          ...(cur.first ? { first: cur.first } : {}),
          onLastWindow: () => {
            following
              ?.then((p) => {
                if (!p.skip) {
                  p.first = tokenize(windowTexts(p.lines, 0, window));
                  p.first.catch(() => undefined);
                }
              })
              .catch(() => undefined);
          },
        },
      );
      // the file goes into place and into the manifest together, under the lock
      await withLock(lockPath, async () => {
        try {
          await writer.close();
        } catch (e) {
          await writer.abort();
          throw e;
        }
        const { size } = await stat(outFile);
        manifest.languages[input.lang] = {
          file: `${input.lang}.npy`,
          input: input.path,
          inputSha256,
          lines: lines.length,
          rows,
          dim,
          truncated,
          outputBytes: size,
          outputXxh3: await contentHashFile(outFile),
        };
        written.add(input.lang);
        await saveManifest();
      });
      options.onLanguage?.({ lang: input.lang, skipped: false, rows, truncated, padding });
    }
    await withLock(lockPath, saveManifest);
    return manifest;
  } finally {
    if (!options.encoder) await handle.dispose();
  }
}

async function readManifest(path: string): Promise<EmbedManifest | undefined> {
  try {
    const m = JSON.parse(await readFile(path, 'utf8')) as EmbedManifest;
    return m.format === 'lsar-embeddings' ? m : undefined;
  } catch {
    return undefined;
  }
}

/** The .npy a manifest entry describes is there as written: same size and content hash (an edited or replaced file is not). */
async function isCurrent(path: string, entry: LanguageEntry): Promise<boolean> {
  if (entry.outputXxh3 === undefined) return false;
  const size = await stat(path).then(
    (s) => s.size,
    () => undefined,
  );
  return size === entry.outputBytes && (await contentHashFile(path)) === entry.outputXxh3;
}

/** The texts of one window as they are tokenised (very long lines cut first). */
function windowTexts(lines: string[], w: number, window: number): string[] {
  return lines.slice(w, w + window).map((l) => (l.length > MAX_CHARS ? l.slice(0, MAX_CHARS) : l));
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
export async function embedBatch(
  encoder: Encoder,
  batch: number[][],
  opts: Pick<EmbedManifest['options'], 'layer' | 'pooling' | 'excludeSpecial' | 'normalize'>,
): Promise<{ data: Float32Array; dim: number }> {
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
  const data = poolBatch(hidden, dims, mask, special, {
    pooling: opts.pooling,
    excludeSpecial: opts.excludeSpecial,
    normalize: opts.normalize,
  });
  return { data, dim: dims[2] };
}

/**
 * Embed lines into an .npy file, atomically: the returned writer is to be closed (moved into
 * place) or aborted by the caller. Also returns rows, dim and how many lines were truncated.
 */
export async function embedLines(
  encoder: Encoder,
  lines: string[],
  outFile: string,
  opts: EmbedManifest['options'] & { batchSize: number; maxTokens?: number | undefined },
  onProgress?: (done: number) => void,
  tokenizeTexts?: (texts: string[]) => Promise<number[][]>,
  prefetch: { first?: Promise<number[][]>; onLastWindow?: () => void } = {},
): Promise<{ rows: number; dim: number; truncated: number; padding: number; writer: NpyWriter }> {
  let writer: NpyWriter | undefined;
  let truncated = 0;
  let tokens = 0;
  let positions = 0;
  let done = 0;
  const window = opts.batchSize * WINDOW_BATCHES;
  // With worker threads, the next window is tokenised while the model runs on this one.
  const tokenize = (w: number): Promise<number[][]> => {
    const texts = windowTexts(lines, w, window);
    return tokenizeTexts ? tokenizeTexts(texts) : Promise.resolve(texts.map((l) => encoder.encode(l)));
  };
  try {
    let next = prefetch.first ?? tokenize(0);
    for (let w = 0; w < lines.length; w += window) {
      const chunk = lines.slice(w, w + window);
      const raw = await next;
      if (w + window < lines.length) next = tokenize(w + window);
      else prefetch.onLastWindow?.();
      next.catch(() => undefined);
      const ids = raw.map((t, i) => {
        const long = (chunk[i] as string).length > MAX_CHARS;
        if (t.length <= opts.maxLength && !long) return t;
        truncated++;
        return truncateIds(encoder, t, opts.maxLength);
      });
      const plan = planBatches(
        ids.map((t) => t.length),
        opts.batchSize,
        opts.maxTokens,
      );
      tokens += plan.tokens;
      positions += plan.positions;
      let out: Float32Array | undefined;
      let dim = 0;
      for (const idx of plan.batches) {
        const r = await embedBatch(
          encoder,
          idx.map((i) => ids[i] as number[]),
          opts,
        );
        dim = r.dim;
        out ??= new Float32Array(chunk.length * dim);
        idx.forEach((orig, i) => (out as Float32Array).set(r.data.subarray(i * dim, (i + 1) * dim), orig * dim));
        done += idx.length;
        onProgress?.(done);
      }
      writer ??= await NpyWriter.create(outFile, dim);
      await writer.write(out as Float32Array, chunk.length);
    }
    if (!writer) throw createError('EMPTY', `${outFile}: no lines to embed`);
    return { rows: lines.length, dim: writer.dim, truncated, padding: positions > 0 ? 1 - tokens / positions : 0, writer };
  } catch (e) {
    await writer?.abort();
    throw e;
  }
}
