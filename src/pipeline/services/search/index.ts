/**
 * The search service every command uses (retrieve, search, mine, inspect's sweep): build an
 * exact or HNSW index over vectors (`auto` picks the faster for the job, ./build.ts), save it
 * with the key of what it indexes and load it back only for the same data and projection
 * (./store.ts), and, for HNSW, choose ef from recall measured against exact search on a sample
 * (./recall.ts); ./run.ts is the one search run.
 */
export {
  buildIndex,
  checkHnswParams,
  chooseKind,
  COSTS,
  exactIndex,
  HNSW_RANGES,
  type Choice,
  type IndexOptions,
  type SearchMode,
} from './build.js';
export { onePassChoices, runSearchBoth, type SearchRun } from './both.js';
export { dataKey, loadIndex, projectionKey, saveIndex, type IndexKey } from './store.js';
export { measureRecall, recallOf, recallProbe, searchTuned, type Recall, type TunedSearch } from './recall.js';
export {
  searchSchema,
  searchSettings,
  type SearchOptions,
  openIndex,
  recallRates,
  RECALL_SAMPLE,
  RECALL_TARGET,
  runSearch,
  SearchLog,
  type SearchJob,
  type SearchReport,
  type SearchSettings,
} from './run.js';
