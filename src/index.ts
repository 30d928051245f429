/**
 * lsar as a library: the same capabilities as the CLI.
 *
 *   import { fitFromFiles, fitFromArrays, saveProjection, loadProjection, apply } from 'lsar';
 */
export { ERROR_CODES, LsarError, createError, isLsarError, type ErrorCode } from './core/errors.js';
export { MomentAccumulator, type FloatArray } from './core/moments.js';
export {
  METHODS,
  apply,
  createOperator,
  fitProjection,
  lirBasis,
  lsarSubspace,
  needsLanguage,
  parseMethod,
  type ApplyOptions,
  type FitOptions,
  type LanguageMoments,
  type Method,
  type Projection,
  type RowOperator,
} from './core/projection.js';
export type { Dense } from './core/linalg.js';
export { NpyReader, NpyWriter, readNpy, writeNpy, encodeNpy, decodeNpy, parseNpyHeader, type NpyDtype, type NpyHeader } from './io/npy.js';
export { readJsonlBlocks, formatJsonl } from './io/jsonl.js';
export { listLanguageFiles, parseLanguageAssignment, type LanguageInput } from './io/inputs.js';
export { saveProjection, loadProjection, type ArtifactJson } from './io/artifact.js';
export { fitFromFiles, fitFromArrays, type FitResult, type Provenance } from './pipeline/fit.js';
export { fitToArtifact, type FitSummary } from './pipeline/fit-artifact.js';
export { projectStream, type ProjectOptions, type ProjectSummary } from './pipeline/project.js';
export { retrieve, prepareMethods, type RetrieveOptions, type RetrieveResult, type MetricTable } from './pipeline/retrieve.js';
export { searchNeighbors, type SearchOptions, type SearchResult } from './pipeline/search.js';
export { writeReport } from './pipeline/report.js';
export { exactTopK, scoreBatches } from './core/search.js';
export { averagePrecision, averagePrecisionAtK, xsimErrors } from './core/metrics.js';
export { Hnsw, HNSW_DEFAULTS } from './adapters/hnsw.js';
export { loadTatoeba, listTatoebaLanguages } from './io/tatoeba.js';
export { loadXquadR } from './io/xquadr.js';
export { embedCorpora, embedLines, type EmbedOptions, type EmbedManifest } from './pipeline/embed.js';
export { Encoder, defaultCacheDir, type EncoderOptions, type ModelInfo } from './adapters/transformers.js';
export { poolBatch, type Pooling } from './core/pooling.js';
export { main } from './cli/main.js';
export { VERSION } from './version.js';
