/** What lsar retrieve returns (and --json prints; reports render it). */
import type { IndexKind } from '../../core/vector-index.js';

export type Task = 'tatoeba' | 'lareqa' | 'pairs' | 'mining';

export interface MetricTable {
  metric: string;
  search: IndexKind;
  results: Record<string, { mean: number; perLanguage: Record<string, number> }>;
}

/** The version of the retrieve result's JSON shape (2: camelCase keys, as every JSON lsar writes; 1 had per_language). */
export const RETRIEVE_FORMAT_VERSION = 2;

export interface RetrieveResult extends MetricTable {
  formatVersion: number;
  task: Task;
  /** Further metrics of the same run (e.g. the other direction, xSIM, mAP@20). */
  also?: Record<string, MetricTable>;
  /** Default languages left out, with why (e.g. no fit data for lir or demean). */
  skipped?: Record<string, string>;
  /** HNSW recall against exact search on a sample of queries. */
  recall?: { at1: number; at10: number; queries: number };
  /** With report: where report.md was written (report.html beside it). */
  reportPath?: string;
  /** Things the user should know (e.g. whiten fitted with fewer dims than asked for by default). */
  warnings?: string[];
  /** lsar methods swept over ranks: { "lsar": { "<rank>": mean } } of the main metric. */
  rankSweep?: Record<string, Record<string, number>>;
  manifest: Record<string, unknown>;
}
