/** Fit from files and save the artifact: the library call behind `lsar fit`. */
import { join } from 'node:path';
import { createError } from '../core/errors.js';
import { parseMethod, type Projection } from '../core/projection.js';
import { artifactPaths, saveProjection } from '../io/artifact.js';
import { EMBEDDING_EXTS, filesWithLanguageColumn, listLanguageFiles, parseLanguageAssignment, type LanguageInput } from '../io/inputs.js';
import { refuseOverwrite } from '../io/same-file.js';
import { VERSION } from '../version.js';
import type { EmbedOptions, ModelOptions } from './embed.js';
import { EmbeddingCache, defaultEmbedDir } from './embedding-cache.js';
import { fitFromFiles, fitWarnings, type FitProgress } from './fit.js';
import { fitFromStats } from './stats.js';

export interface FitToArtifactOptions {
  /** Embed a directory of `<lang>.txt` corpora first (with `embed`), then fit on the result. */
  corpora?: string;
  /** The model and embedding options for `corpora`. */
  embed?: ModelOptions;
  /** Where embeddings of `corpora` are kept (default: the embedding cache, `.lsar-cache`; they go in `<embedDir>/corpora`). */
  embedDir?: string;
  onEmbedProgress?: EmbedOptions['onProgress'];
  onEmbedLanguage?: EmbedOptions['onLanguage'];
  /** Shard statistics files (lsar stats) to merge and fit on ... */
  stats?: string[];
  /** ... or a directory of `<lang>.npy` files ... */
  dir?: string;
  /** ... or `lang=file` assignments (with langColumn: files, or a file or directory as `dir`). */
  inputs?: string[];
  /** Parquet: the embedding column (default `embedding`). */
  column?: string;
  /** Parquet: each row's language is in this column (one file may hold many languages). */
  langColumn?: string;
  method: string;
  rank?: number | undefined;
  remove?: number | undefined;
  /** whiten: output dimensions k. */
  dims?: number | undefined;
  /** `projection.json` path or a directory. */
  out: string;
  onProgress?: (p: FitProgress) => void;
}

export interface FitSummary {
  method: string;
  dim: number;
  rank?: number;
  remove: number;
  /** whiten: the output dimension. */
  dims?: number;
  languages: { lang: string; rows: number }[];
  singularValues?: number[];
  projection: string;
  /** With corpora: where their embeddings were kept. */
  embeddings?: string;
  /** Things the user should know about this fit. */
  warnings: string[];
  lsarVersion: string;
}

export async function fitToArtifact(options: FitToArtifactOptions): Promise<{ projection: Projection; path: string; summary: FitSummary }> {
  const method = parseMethod(options.method);
  let embedded: string | undefined;
  if (options.corpora !== undefined) {
    if (!options.embed?.model)
      throw createError('USAGE', 'fitting on corpora needs a model (embed.model: a Hub id or a local model directory)', { param: 'model' });
    const cache = new EmbeddingCache(options.embed, {
      root: options.embedDir ?? defaultEmbedDir(),
      ...(options.onEmbedProgress ? { onProgress: options.onEmbedProgress } : {}),
      ...(options.onEmbedLanguage ? { onLanguage: options.onEmbedLanguage } : {}),
    });
    try {
      embedded = await cache.embed('corpora', { corpora: options.corpora });
    } finally {
      await cache.dispose();
    }
    options = { ...options, dir: embedded };
  }
  if (options.stats) {
    await refuseOverwrite(
      (await artifactPaths(options.out)).map((path) => ({ path, param: 'out' })),
      options.stats,
    );
    const { projection, provenance } = await fitFromStats(options.stats, {
      method,
      ...(options.rank !== undefined ? { rank: options.rank } : {}),
      ...(options.remove !== undefined ? { remove: options.remove } : {}),
      ...(options.dims !== undefined ? { dims: options.dims } : {}),
    });
    const path = await saveProjection(options.out, projection, provenance);
    return { projection, path, summary: summaryOf(projection, path, fitWarnings(projection, undefined, options)) };
  }
  const inputs: LanguageInput[] =
    options.langColumn !== undefined
      ? options.dir !== undefined
        ? await filesWithLanguageColumn(options.dir)
        : (options.inputs ?? []).map((path) => ({ lang: '', path }))
      : options.dir !== undefined
        ? await listLanguageFiles(options.dir, EMBEDDING_EXTS)
        : (options.inputs ?? []).map(parseLanguageAssignment);
  await refuseOverwrite(
    (await artifactPaths(options.out)).map((path) => ({ path, param: 'out' })),
    inputs.map((i) => (i.lang ? { path: i.path, what: `language ${i.lang}` } : i.path)),
  );
  const { projection, provenance, warnings } = await fitFromFiles(inputs, {
    method,
    ...(options.rank !== undefined ? { rank: options.rank } : {}),
    ...(options.remove !== undefined ? { remove: options.remove } : {}),
    ...(options.dims !== undefined ? { dims: options.dims } : {}),
    ...(options.onProgress ? { onProgress: options.onProgress } : {}),
    ...(options.column !== undefined ? { column: options.column } : {}),
    ...(options.langColumn !== undefined ? { langColumn: options.langColumn } : {}),
  });
  const path = await saveProjection(options.out, projection, provenance);
  return { projection, path, summary: summaryOf(projection, path, warnings, embedded) };
}

function summaryOf(projection: Projection, path: string, warnings: string[], embedded?: string): FitSummary {
  return {
    method: projection.method,
    dim: projection.dim,
    ...(projection.rank !== undefined ? { rank: projection.rank } : {}),
    remove: projection.remove,
    ...(projection.dims !== undefined ? { dims: projection.dims } : {}),
    languages: projection.languages,
    ...(projection.singularValues ? { singularValues: projection.singularValues } : {}),
    projection: path,
    ...(embedded ? { embeddings: join(embedded) } : {}),
    warnings,
    lsarVersion: VERSION,
  };
}
