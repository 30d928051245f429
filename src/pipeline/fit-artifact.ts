/** Fit from files and save the artifact: the library call behind `lsar fit`. */
import { parseMethod, type Projection } from '../core/projection.js';
import { dirname, join } from 'node:path';
import { createError } from '../core/errors.js';
import { resolveArtifactPath, saveProjection } from '../io/artifact.js';
import { embedCorpora, type EmbedOptions } from './embed.js';
import { listLanguageFiles, parseLanguageAssignment, type LanguageInput } from '../io/inputs.js';
import { VERSION } from '../version.js';
import { fitFromFiles, type FitProgress } from './fit.js';

export interface FitToArtifactOptions {
  /** Embed a directory of `<lang>.txt` corpora first (with `embed`), then fit on the result. */
  corpora?: string;
  /** Embedding options for `corpora`, and where the embeddings go (default: `<out dir>/embeddings`). */
  embed?: Omit<EmbedOptions, 'corpora' | 'inputs' | 'out'> & { out?: string };
  /** A directory of `<lang>.npy` files ... */
  dir?: string;
  /** ... or `lang=file` assignments. */
  inputs?: string[];
  method: string;
  rank?: number | undefined;
  remove?: number | undefined;
  /** `projection.json` path or a directory. */
  out: string;
  onProgress?: (p: FitProgress) => void;
}

export interface FitSummary {
  method: string;
  dim: number;
  rank?: number;
  remove: number;
  languages: { lang: string; rows: number }[];
  singularValues?: number[];
  projection: string;
  lsarVersion: string;
}

export async function fitToArtifact(options: FitToArtifactOptions): Promise<{ projection: Projection; path: string; summary: FitSummary }> {
  const method = parseMethod(options.method);
  if (options.corpora !== undefined) {
    if (!options.embed?.model) throw createError('USAGE', 'fit --corpora needs --model (a Hub id or a local model directory)');
    const jsonPath = await resolveArtifactPath(options.out);
    const embedDir = options.embed.out ?? join(dirname(jsonPath), 'embeddings');
    await embedCorpora({ ...options.embed, corpora: options.corpora, out: embedDir });
    options = { ...options, dir: embedDir };
  }
  const inputs: LanguageInput[] =
    options.dir !== undefined ? await listLanguageFiles(options.dir, '.npy') : (options.inputs ?? []).map(parseLanguageAssignment);
  const { projection, provenance } = await fitFromFiles(inputs, {
    method,
    ...(options.rank !== undefined ? { rank: options.rank } : {}),
    ...(options.remove !== undefined ? { remove: options.remove } : {}),
    ...(options.onProgress ? { onProgress: options.onProgress } : {}),
  });
  const path = await saveProjection(options.out, projection, provenance);
  const summary: FitSummary = {
    method: projection.method,
    dim: projection.dim,
    ...(projection.rank !== undefined ? { rank: projection.rank } : {}),
    remove: projection.remove,
    languages: projection.languages,
    ...(projection.singularValues ? { singularValues: projection.singularValues } : {}),
    projection: path,
    lsarVersion: VERSION,
  };
  return { projection, path, summary };
}
