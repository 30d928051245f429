/**
 * `lsar embed`'s output directory: its manifest (what made the rows, and each language's .npy
 * with its size and hash), what is current in it, and each language committed under a lock,
 * merged with what another run wrote there meanwhile.
 */
import { readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import type { Pooling } from '../core/pooling.js';
import type { Shard } from '../core/shard.js';
import type { Dtype, ModelInfo } from '../adapters/transformers.js';
import { writeFileAtomic } from '../io/atomic.js';
import { contentHashFile } from '../io/hash.js';
import { withLock } from '../io/lock.js';
import type { NpyWriter } from '../io/npy.js';
import type { SentenceTransformersApplied } from './services/model.js';
export interface LanguageEntry {
  file: string;
  input: string;
  inputSha256: string;
  lines: number;
  rows: number;
  dim: number;
  truncated: number;
  /** Share of the token positions of its forward passes that were padding (0..1). */
  padding: number;
  /** Size and XXH3-128 of the .npy written: a file edited since is not taken as current. */
  outputBytes: number;
  outputXxh3: string;
  /** With a shard: the input's non-empty lines [start, end) of `total` embedded here. */
  range?: { start: number; end: number; total: number };
}

export interface EmbedManifest {
  format: 'lsar-embeddings';
  lsarVersion: string;
  transformersVersion: string;
  model: Partial<ModelInfo>;
  options: {
    dtype: Dtype;
    pooling: Pooling;
    excludeSpecial: boolean;
    layer: number | null;
    normalize: boolean;
    maxLength: number;
    /** Put before every sentence (--prompt, or the model's prompt named by --prompt-name). */
    prompt?: string;
    /** Tokens at the start left out of pooling (the prompt, when the model's Pooling excludes it). */
    skipFirst?: number;
    /** A sentence-transformers model: its modules, and the pooling, Dense and Normalize applied. */
    sentenceTransformers?: SentenceTransformersApplied;
  };
  /** The task of a job array whose lines these are (lsar embed --shard), written to <out>/shard-<i>-of-<N>/. */
  shard?: Shard;
  languages: Record<string, LanguageEntry>;
}

/**
 * The output directory's manifest: what is current in it, and each language written into it
 * with its .npy, under a lock, merged with what another run wrote there meanwhile.
 */
export class OutputDir {
  readonly manifest: EmbedManifest;
  private readonly written = new Set<string>();
  private readonly path: string;
  private readonly lock: string;

  private constructor(
    readonly dir: string,
    manifest: EmbedManifest,
    private readonly same: (m: EmbedManifest | undefined) => m is EmbedManifest,
  ) {
    this.manifest = manifest;
    this.path = join(dir, 'manifest.json');
    this.lock = join(dir, '.lsar-embed.lock');
  }

  static async open(dir: string, manifest: Omit<EmbedManifest, 'languages'>): Promise<OutputDir> {
    const same = (m: EmbedManifest | undefined): m is EmbedManifest =>
      m !== undefined &&
      JSON.stringify(m.model) === JSON.stringify(manifest.model) &&
      JSON.stringify(m.options) === JSON.stringify(manifest.options);
    const previous = await readManifest(join(dir, 'manifest.json'));
    return new OutputDir(dir, { ...manifest, languages: same(previous) ? { ...previous.languages } : {} }, same);
  }

  /** The language's .npy is current: same input, file as written. */
  async current(lang: string, inputSha256: string): Promise<LanguageEntry | undefined> {
    const prev = this.manifest.languages[lang];
    return prev && prev.inputSha256 === inputSha256 && (await isCurrent(join(this.dir, `${lang}.npy`), prev)) ? prev : undefined;
  }

  /** Move the written .npy into place and record it, together, under the lock. */
  async commit(lang: string, writer: NpyWriter, entry: Omit<LanguageEntry, 'outputBytes' | 'outputXxh3' | 'file'>): Promise<void> {
    await withLock(this.lock, async () => {
      try {
        await writer.close();
      } catch (e) {
        await writer.abort();
        throw e;
      }
      const file = join(this.dir, `${lang}.npy`);
      const { size } = await stat(file);
      this.manifest.languages[lang] = { file: `${lang}.npy`, ...entry, outputBytes: size, outputXxh3: await contentHashFile(file) };
      this.written.add(lang);
      await this.write();
    });
  }

  async save(): Promise<void> {
    await withLock(this.lock, () => this.write());
  }

  private async write(): Promise<void> {
    const disk = await readManifest(this.path);
    if (this.same(disk)) for (const [l, e] of Object.entries(disk.languages)) if (!this.written.has(l)) this.manifest.languages[l] = e;
    await writeFileAtomic(this.path, JSON.stringify(this.manifest, null, 1) + '\n');
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
