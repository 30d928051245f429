/**
 * `lsar embed`: embed per-language corpora (one sentence per line) into `<lang>.npy`
 * (float32, one row per non-empty line, in order) plus `manifest.json`.
 * Sentences are sorted by token length inside a window before batching (less padding)
 * and written back in their original order. Re-running skips languages whose output
 * matches the manifest (same input hash, model and options).
 */
import { createHash } from 'node:crypto';
import { readdir, readFile, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { createError } from '../core/errors.js';
import { poolBatch, type Pooling } from '../core/pooling.js';
import { Encoder, TokenizerWorker, type Dtype, type ModelInfo } from '../adapters/transformers.js';
import { writeFileAtomic } from '../io/atomic.js';
import { checkUniqueLanguages, listLanguageFiles, parseLanguageAssignment, type LanguageInput } from '../io/inputs.js';
import { NpyReader, NpyWriter } from '../io/npy.js';
import { readLines } from '../io/text.js';
import { VERSION } from '../version.js';

export interface EmbedOptions {
  model: string;
  /** A directory of `<lang>.txt` ... */
  corpora?: string;
  /** ... or `lang=file.txt` assignments. */
  inputs?: string[];
  out: string;
  cacheDir?: string;
  offline?: boolean;
  dtype?: Dtype;
  revision?: string;
  pooling?: Pooling;
  excludeSpecial?: boolean;
  layer?: number;
  normalize?: boolean;
  maxLength?: number;
  batchSize?: number;
  /** Re-embed even when the manifest says the output is current. */
  force?: boolean;
  onProgress?: (p: { lang: string; done: number; total: number }) => void;
  onLanguage?: (p: { lang: string; skipped: boolean; rows: number; truncated: number }) => void;
}

export interface LanguageEntry {
  file: string;
  input: string;
  inputSha256: string;
  lines: number;
  rows: number;
  dim: number;
  truncated: number;
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

export async function embedCorpora(options: EmbedOptions): Promise<EmbedManifest> {
  const inputs: LanguageInput[] =
    options.corpora !== undefined ? await listLanguageFiles(options.corpora, '.txt') : (options.inputs ?? []).map(parseLanguageAssignment);
  if (inputs.length === 0) throw createError('USAGE', 'lsar embed needs --corpora <dir of <lang>.txt> or --input <lang>=<file.txt>');
  checkUniqueLanguages(inputs);
  const batchSize = options.batchSize ?? 32;
  if (!Number.isInteger(batchSize) || batchSize < 1)
    throw createError('USAGE', `--batch-size must be a positive whole number, got ${batchSize}`);
  const encoder = await Encoder.load({
    model: options.model,
    ...(options.cacheDir ? { cacheDir: options.cacheDir } : {}),
    ...(options.offline ? { offline: true } : {}),
    ...(options.dtype ? { dtype: options.dtype } : {}),
    ...(options.revision ? { revision: options.revision } : {}),
  });
  let worker: TokenizerWorker | undefined;
  try {
    const maxLength = Math.min(options.maxLength ?? encoder.maxLength, encoder.maxLength);
    if (maxLength < 2) throw createError('USAGE', `--max-length must be at least 2, got ${options.maxLength}`);
    const pooling = options.pooling ?? 'mean';
    const opts: EmbedManifest['options'] = {
      dtype: options.dtype ?? 'fp32',
      pooling,
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
    const sameSetup =
      previous && JSON.stringify(previous.model) === JSON.stringify(model) && JSON.stringify(previous.options) === JSON.stringify(opts);
    const manifest: EmbedManifest = {
      format: 'lsar-embeddings',
      lsarVersion: VERSION,
      transformersVersion,
      model,
      options: opts,
      languages: sameSetup ? { ...previous.languages } : {},
    };
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
      const inputSha256 = createHash('sha256').update(bytes).digest('hex');
      const prev = manifest.languages[input.lang];
      if (
        !options.force &&
        prev &&
        prev.inputSha256 === inputSha256 &&
        (await rowsOf(join(options.out, `${input.lang}.npy`))) === prev.rows
      ) {
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
      await removeStaleTemps(options.out, `${input.lang}.npy`);
      worker ??= await TokenizerWorker.start(encoder);
      const following = next;
      const tw = worker;
      const { rows, dim, truncated } = await embedLines(
        encoder,
        lines,
        outFile,
        { ...opts, batchSize },
        (done) => options.onProgress?.({ lang: input.lang, done, total: lines.length }),
        worker,
        {
          ...(cur.first ? { first: cur.first } : {}),
          onLastWindow: () => {
            following
              ?.then((p) => {
                if (!p.skip && tw) {
                  p.first = tw.tokenize(windowTexts(p.lines, 0, window));
                  p.first.catch(() => undefined);
                }
              })
              .catch(() => undefined);
          },
        },
      );
      manifest.languages[input.lang] = {
        file: `${input.lang}.npy`,
        input: input.path,
        inputSha256,
        lines: lines.length,
        rows,
        dim,
        truncated,
      };
      await writeFileAtomic(manifestPath, JSON.stringify(manifest, null, 1) + '\n');
      options.onLanguage?.({ lang: input.lang, skipped: false, rows, truncated });
    }
    await writeFileAtomic(manifestPath, JSON.stringify(manifest, null, 1) + '\n');
    return manifest;
  } finally {
    await worker?.close();
    await encoder.dispose();
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

async function rowsOf(path: string): Promise<number | undefined> {
  try {
    const r = await NpyReader.open(path);
    await r.close();
    return r.rows;
  } catch {
    return undefined;
  }
}

async function removeStaleTemps(dir: string, name: string): Promise<void> {
  try {
    for (const f of await readdir(dir)) if (f.startsWith(`.${name}.tmp-`)) await rm(join(dir, f), { force: true });
  } catch {
    // the directory does not exist yet
  }
}

/** The texts of one window as they are tokenised (very long lines cut first). */
function windowTexts(lines: string[], w: number, window: number): string[] {
  return lines.slice(w, w + window).map((l) => (l.length > MAX_CHARS ? l.slice(0, MAX_CHARS) : l));
}

/** Embed lines into an .npy file (atomically); returns rows, dim and how many lines were truncated. */
export async function embedLines(
  encoder: Encoder,
  lines: string[],
  outFile: string,
  opts: EmbedManifest['options'] & { batchSize: number },
  onProgress?: (done: number) => void,
  worker?: TokenizerWorker,
  prefetch: { first?: Promise<number[][]>; onLastWindow?: () => void } = {},
): Promise<{ rows: number; dim: number; truncated: number }> {
  let writer: NpyWriter | undefined;
  let truncated = 0;
  let done = 0;
  const window = opts.batchSize * WINDOW_BATCHES;
  // With a worker, the next window is tokenised while the model runs on this one.
  const tokenize = (w: number): Promise<number[][]> => {
    const texts = windowTexts(lines, w, window);
    return worker ? worker.tokenize(texts) : Promise.resolve(texts.map((l) => encoder.encode(l)));
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
        if (t.length <= opts.maxLength) return t;
        // Keep the final special token ([SEP]) as the Python tokenizers do.
        const last = t[t.length - 1] as number;
        return encoder.specialIds.has(last) ? [...t.slice(0, opts.maxLength - 1), last] : t.slice(0, opts.maxLength);
      });
      const order = ids.map((_, i) => i).sort((a, b) => (ids[a] as number[]).length - (ids[b] as number[]).length || a - b);
      let out: Float32Array | undefined;
      let dim = 0;
      for (let s = 0; s < order.length; s += opts.batchSize) {
        const idx = order.slice(s, s + opts.batchSize);
        const batch = idx.map((i) => ids[i] as number[]);
        const { hidden, dims, mask } = await encoder.run(batch, opts.layer ?? undefined);
        let special: Uint8Array | undefined;
        if (opts.excludeSpecial) {
          special = new Uint8Array(mask.length);
          batch.forEach((seq, i) => seq.forEach((t, j) => (special![i * dims[1] + j] = encoder.specialIds.has(t) ? 1 : 0)));
        }
        const pooled = poolBatch(hidden, dims, mask, special, {
          pooling: opts.pooling,
          excludeSpecial: opts.excludeSpecial,
          normalize: opts.normalize,
        });
        dim = dims[2];
        out ??= new Float32Array(chunk.length * dim);
        idx.forEach((orig, i) => (out as Float32Array).set(pooled.subarray(i * dim, (i + 1) * dim), orig * dim));
        done += idx.length;
        onProgress?.(done);
      }
      writer ??= await NpyWriter.create(outFile, dim);
      await writer.write(out as Float32Array, chunk.length);
    }
    const dim = writer?.dim ?? 0;
    await writer?.close();
    return { rows: lines.length, dim, truncated };
  } catch (e) {
    await writer?.abort();
    throw e;
  }
}
