/**
 * `lsar embed`: embed per-language corpora (one sentence per line) into `<lang>.npy`
 * (float32, one row per non-empty line, in order) plus `manifest.json`.
 * Sentences are sorted by token length inside a window before batching (less padding)
 * and written back in their original order. Re-running skips languages whose output
 * matches the manifest (same input hash, model and options).
 */
import { shardSchema, taskShard } from './services/shard.js';
import { shardName, shardRange, type Shard } from '../core/shard.js';
import { readError } from '../io/fs-errors.js';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { createError, opt } from '../core/errors.js';
import { validate, type OptionsOf, type Resolved, type Schema } from '../core/schema.js';
import { planBatches } from '../core/batching.js';
import type { Encoder, ModelInfo } from '../adapters/transformers.js';
import { tokenizeInPool } from '../adapters/pool.js';
import { checkOutputDir, makeOutputDir } from '../io/atomic.js';
import { refuseOverwrite } from '../io/same-file.js';
import { hashBytes } from '../io/hash.js';
import { checkUniqueLanguages, listLanguageFiles, parseLanguageAssignment, type LanguageInput } from '../io/inputs.js';
import { NpyWriter } from '../io/npy.js';
import { readLines } from '../io/text.js';
import type { Events } from '../core/events.js';
import { VERSION } from '../version.js';
import {
  checkExportedOptions,
  embedBatch,
  ModelHandle,
  modelOptions,
  modelRowSettings,
  modelSchema,
  truncateIds,
} from './services/model.js';
import { DEFAULT_MODEL } from '../adapters/transformers.js';
import { OutputDir, type EmbedManifest, type LanguageEntry } from './embed-output.js';
export type { EmbedManifest, LanguageEntry } from './embed-output.js';

export type { ModelOptions } from './services/model.js';

/** `lsar embed`: which corpora, where to, and the model options. */
export const embedSchema = {
  corpora: { type: 'string', alias: 'c', description: 'Directory of <lang>.txt files (one sentence per line)' },
  input: { type: 'strings', alias: 'i', noSplit: true, description: 'A corpus as <lang>=<file.txt>; repeatable' },
  out: { type: 'string', alias: 'o', required: true, description: 'Output directory: <lang>.npy and manifest.json' },
  force: { type: 'boolean', default: false, description: 'Re-embed languages whose output is already current' },
  ...modelSchema,
  ...shardSchema,
} as const satisfies Schema;

export type EmbedOptions = OptionsOf<typeof embedSchema> & {
  /** A model loaded by the caller (kept open), instead of loading `model` here. */
  encoder?: ModelHandle;
  /** Progress (stage `embed <lang>`: sentences, then a final report per language) and warnings (a test model). */
  events?: Events;
};

/** Lines per sorting window: long enough to group similar lengths, short enough to stream. */
export const WINDOW_BATCHES = 8;
/** Characters beyond this are cut before tokenising (the tokens would be truncated anyway). */
const MAX_CHARS = 20_000;

/** How this run's rows are made: the options given, or, for a model made by lsar export, those inside it. */
function rowSettings(encoder: Encoder, options: Resolved<typeof embedSchema>, events?: Events): EmbedManifest['options'] {
  const maxLength = Math.min(options.maxLength ?? encoder.maxLength, encoder.maxLength);
  // A model exported by lsar export pools and projects inside: its own settings are what its rows are.
  const ex = encoder.info.export;
  if (ex) checkExportedOptions(encoder.info.path ?? encoder.info.id, ex, options);
  return ex
    ? { dtype: options.dtype, pooling: ex.pooling, excludeSpecial: ex.excludeSpecial, layer: ex.layer, normalize: ex.normalize, maxLength }
    : {
        dtype: options.dtype,
        excludeSpecial: options.excludeSpecial,
        layer: options.layer ?? null,
        normalize: options.normalize,
        maxLength,
        ...modelRowSettings(encoder, options, events),
      };
}

interface Prepared {
  input: LanguageInput;
  inputSha256: string;
  /** The manifest's entry when the output is current (the language is skipped). */
  current?: LanguageEntry;
  lines: string[];
  /** With a shard: which lines these are. */
  range?: { start: number; end: number; total: number };
  /** Tokens of the first window, tokenised while the previous language runs. */
  first?: Promise<number[][]>;
}

/** A language's input read and hashed, and whether its output is current. */
async function prepare(input: LanguageInput, out: OutputDir, force: boolean, shard: Shard | undefined, prompt?: string): Promise<Prepared> {
  const bytes = await readFile(input.path).catch((e: unknown) => {
    throw readError(input.path, e, 'a text file (one sentence per line)');
  });
  const inputSha256 = hashBytes(bytes);
  const current = force ? undefined : await out.current(input.lang, inputSha256);
  if (current) return { input, inputSha256, current, lines: [] };
  const read = await readLines(input.path);
  if (read.length === 0) throw createError('EMPTY', `${input.path}: no non-empty lines to embed`);
  // a prompt goes before every sentence (sentence-transformers encode(prompt=...))
  const lines = prompt !== undefined ? read.map((l) => prompt + l) : read;
  if (!shard) return { input, inputSha256, lines };
  // this task's lines: a contiguous range of the non-empty lines (possibly none)
  const [start, end] = shardRange(lines.length, shard);
  return { input, inputSha256, lines: lines.slice(start, end), range: { start, end, total: lines.length } };
}

export async function embedCorpora(given: EmbedOptions): Promise<EmbedManifest> {
  const options = { ...validate(embedSchema, given), model: given.model ?? DEFAULT_MODEL };
  if ((options.corpora === undefined) === (options.input === undefined))
    throw createError('USAGE', `embedding needs ${opt('corpora')} <dir of <lang>.txt> or ${opt('input')} <lang>=<file.txt> (one of them)`, {
      param: 'input',
    });
  const inputs: LanguageInput[] =
    options.corpora !== undefined ? await listLanguageFiles(options.corpora, '.txt') : (options.input ?? []).map(parseLanguageAssignment);
  checkUniqueLanguages(inputs);
  // a shard writes its own directory below --out: tasks of an array never share files
  const shard = taskShard(options, given.events);
  const outDir = shard ? join(options.out, shardName(shard)) : options.out;
  await refuseOverwrite(
    [join(outDir, 'manifest.json'), ...inputs.map((i) => join(outDir, `${i.lang}.npy`))].map((path) => ({ path, param: 'out' })),
    inputs.map((i) => i.path),
  );
  await checkOutputDir(outDir);
  const events = given.events;
  const handle = given.encoder ?? new ModelHandle(modelOptions(options), events);
  let undo: (() => Promise<void>) | undefined;
  try {
    const encoder = await handle.get();
    const opts = rowSettings(encoder, options, events);
    const { transformersVersion, ...info } = encoder.info;
    const model = { ...info } as Partial<ModelInfo>;
    delete model.outputs;
    undo = await makeOutputDir(outDir);
    const out = await OutputDir.open(outDir, {
      format: 'lsar-embeddings',
      lsarVersion: VERSION,
      transformersVersion,
      model,
      options: opts,
      ...(shard ? { shard } : {}),
    });
    const tokenize = (texts: string[]) => tokenizeInPool(encoder.spec, texts);
    const window = options.batchSize * WINDOW_BATCHES;
    // Look one language ahead: read (and hash) the next file, and tokenise its first window
    // while the model runs on this one's last.
    let next: Promise<Prepared> | undefined = prepare(inputs[0] as LanguageInput, out, options.force, shard, opts.prompt);
    for (let k = 0; k < inputs.length; k++) {
      const cur: Prepared = await (next as Promise<Prepared>);
      next = k + 1 < inputs.length ? prepare(inputs[k + 1] as LanguageInput, out, options.force, shard, opts.prompt) : undefined;
      next?.catch(() => undefined);
      const { input, inputSha256, lines, current, range } = cur;
      const stage = `embed ${input.lang}`;
      if (current) {
        events?.progress?.(stage, current.rows, current.rows, { unit: 'rows', note: 'up to date, skipped', final: true });
        continue;
      }
      if (lines.length === 0) {
        // more tasks than lines: this shard has none of this language
        events?.progress?.(stage, 0, 0, { unit: 'rows', note: 'no lines in this shard', final: true });
        continue;
      }
      const following = next;
      const { rows, dim, truncated, padding, writer } = await embedLines(
        encoder,
        lines,
        join(outDir, `${input.lang}.npy`),
        { ...opts, batchSize: options.batchSize, maxTokens: options.maxTokens },
        (done) => events?.progress?.(stage, done, lines.length, { unit: 'sentences' }),
        tokenize,
        {
          ...(cur.first ? { first: cur.first } : {}),
          onLastWindow: () => {
            following
              ?.then((p) => {
                if (!p.current) {
                  p.first = tokenize(windowTexts(p.lines, 0, window));
                  p.first.catch(() => undefined);
                }
              })
              .catch(() => undefined);
          },
        },
      );
      const entry = {
        input: input.path,
        inputSha256,
        lines: lines.length,
        rows,
        dim,
        truncated,
        padding: Math.round(padding * 1e4) / 1e4,
        ...(range ? { range } : {}),
      };
      await out.commit(input.lang, writer, entry);
      const notes = [...(truncated ? [`${truncated} truncated`] : []), `padding ${(100 * padding).toFixed(0)}%`];
      events?.progress?.(stage, rows, rows, { unit: 'rows', note: notes.join(', '), final: true });
    }
    await out.save();
    return out.manifest;
  } catch (e) {
    // languages embedded before the failure stay (with the manifest, as a cache); a run that
    // wrote nothing leaves no directory it made
    await undo?.();
    throw e;
  } finally {
    if (!given.encoder) await handle.dispose();
  }
}

/** The texts of one window as they are tokenised (very long lines cut first). */
function windowTexts(lines: string[], w: number, window: number): string[] {
  return lines.slice(w, w + window).map((l) => (l.length > MAX_CHARS ? l.slice(0, MAX_CHARS) : l));
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
