/**
 * Where commands keep the embeddings they make from texts, and the one model they make them
 * with. Every command that embeds (fit --corpora, retrieve --model, search --model) keeps
 * its embeddings under one root, default `.lsar-cache` in the working directory (or
 * $LSAR_CACHE_DIR), `--embed-dir` to choose another; each subdirectory holds `<lang>.npy`
 * and the `manifest.json` of `lsar embed`, so current files are reused and stale ones
 * re-embedded. The model loads once per command run, on first use.
 */
import { join } from 'node:path';
import type { Events } from '../../core/events.js';
import { embedCorpora } from '../embed.js';
import type { Schema } from '../../core/schema.js';
import { ModelHandle, modelOptions, type ModelOptions, type ModelOptionsGiven } from './model.js';

export function defaultEmbedDir(): string {
  const env = process.env.LSAR_CACHE_DIR;
  return env !== undefined && env !== '' ? env : '.lsar-cache';
}

/** Where a command that embeds texts itself keeps the embeddings. */
export const cacheSchema = {
  embedDir: {
    type: 'string',
    description: 'With --model: the embedding cache (embeddings of texts kept and reused)',
    defaultText: '.lsar-cache, or $LSAR_CACHE_DIR',
    group: 'Model and embedding:',
  },
} as const satisfies Schema;

export interface CacheOptions {
  /** Root directory (default: defaultEmbedDir()). */
  root?: string;
  events?: Events;
}

export class EmbeddingCache {
  readonly root: string;
  readonly model: ModelHandle;

  constructor(
    readonly modelOptions: ModelOptions,
    private readonly options: CacheOptions = {},
  ) {
    this.root = options.root ?? defaultEmbedDir();
    this.model = new ModelHandle(modelOptions, options.events);
  }

  /** Embed `<lang>=<file>` inputs (or a corpora directory) into `<root>/<sub>`; returns that directory. */
  async embed(sub: string, source: { inputs: { lang: string; path: string }[] } | { corpora: string }): Promise<string> {
    const out = join(this.root, sub);
    await embedCorpora({
      ...this.modelOptions,
      ...('corpora' in source ? { corpora: source.corpora } : { input: source.inputs.map((f) => `${f.lang}=${f.path}`) }),
      out,
      encoder: this.model,
      ...(this.options.events ? { events: this.options.events } : {}),
    });
    return out;
  }

  async dispose(): Promise<void> {
    await this.model.dispose();
  }
}

/** The cache of a verb whose options name a model (none without one): the model loads on first use. */
export function cacheFor(options: ModelOptionsGiven & { embedDir?: string | undefined }, events?: Events): EmbeddingCache | undefined {
  if (options.model === undefined) return undefined;
  return new EmbeddingCache(modelOptions(options), {
    ...(options.embedDir ? { root: options.embedDir } : {}),
    ...(events ? { events } : {}),
  });
}
