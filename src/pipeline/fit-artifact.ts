/** Fit from files and save the artifact: the library call behind `lsar fit`. */
import { parseMethod, type Projection } from '../core/projection.js';
import { saveProjection } from '../io/artifact.js';
import { listLanguageFiles, parseLanguageAssignment, type LanguageInput } from '../io/inputs.js';
import { VERSION } from '../version.js';
import { fitFromFiles, type FitProgress } from './fit.js';

export interface FitToArtifactOptions {
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
  const inputs: LanguageInput[] = options.dir !== undefined ? await listLanguageFiles(options.dir, '.npy') : (options.inputs ?? []).map(parseLanguageAssignment);
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
