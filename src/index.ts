/**
 * lsar as a library: the public API (everything else is internal and may change).
 *
 *   import { fitFromFiles, saveProjection, loadProjection, apply } from 'lsar';
 *
 * The README's "Library" section documents each name; tests/index.test.ts checks that this
 * list and the built package agree.
 */
export { ERROR_CODES, LsarError, isLsarError, type ErrorCode } from './core/errors.js';
export { WARNING_CODES, type Events, type ProgressDetail, type WarningCode } from './core/events.js';
export { embeddings, type Embeddings } from './core/embeddings.js';
export { METHODS, type FitOptions, type Method, type Projection } from './core/projection.js';
export { apply, type ApplyOptions } from './core/apply.js';
export { ExactIndex, type Metric, type VectorIndex } from './core/vector-index.js';
export type { TopK } from './core/topk.js';
export { readEmbeddings } from './io/embeddings.js';
export { NpyReader, NpyWriter, readNpy, writeNpy } from './io/npy.js';
export { listLanguageFiles, type LanguageInput } from './io/inputs.js';
export { saveProjection, loadProjection } from './io/artifact.js';
export {
  fitFromFiles,
  fitFromArrays,
  fitToArtifact,
  type FitResult,
  type FitSummary,
  type FitToArtifactOptions,
  type Provenance,
} from './pipeline/fit.js';
export {
  project,
  projectFiles,
  projectStream,
  type ProjectFilesOptions,
  type ProjectOptions,
  type ProjectSummary,
  type ProjectVerbOptions,
} from './pipeline/project/index.js';
export { embedCorpora, type EmbedOptions, type EmbedManifest } from './pipeline/embed.js';
export { type ModelOptions } from './pipeline/services/model.js';
export { retrieve, type RetrieveOptions, type RetrieveResult, type MetricTable } from './pipeline/retrieve/index.js';
export { writeReport } from './pipeline/report/markdown.js';
export { inspect, type InspectOptions, type InspectResult } from './pipeline/inspect.js';
export { writeInspectReport } from './pipeline/report/inspect.js';
export { searchNeighbors, type SearchOptions, type SearchResult } from './pipeline/search/index.js';
export { buildIndex, saveIndex, loadIndex, type IndexOptions } from './pipeline/services/search/index.js';
export { mine, type MineOptions, type MineSummary } from './pipeline/mine/index.js';
export { computeStats, saveStats, loadStats, stats, type ShardStats } from './pipeline/stats.js';
export { createServer, type LsarServer, type ServeOptions } from './pipeline/serve/index.js';
export { exportModel, type ModelExportOptions, type ModelExportSummary } from './pipeline/export/model.js';
export { exportProjection, type ProjectionExportOptions } from './pipeline/export/projection.js';
export { exportArtifact, type ExportOptions, type ExportSummary } from './pipeline/export/index.js';
export { closeWorkerPool } from './adapters/pool.js';
export { VERSION } from './version.js';
