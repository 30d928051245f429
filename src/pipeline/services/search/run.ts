/**
 * One search run, used by every command that searches (search, mine, retrieve, inspect's
 * sweep): open the index over the targets (a saved one for the same data and projection, or
 * one built of the kind chosen for the job, saved when asked), search the queries (HNSW: ef
 * tuned to a recall target measured against exact search on a sample), report what was done.
 */
import type { Embeddings } from '../../../core/embeddings.js';
import { createError, opt } from '../../../core/errors.js';
import type { OptionsOf, Schema } from '../../../core/schema.js';
import type { TopK } from '../../../core/topk.js';
import type { IndexKind, Metric, VectorIndex } from '../../../core/vector-index.js';
import { HNSW_DEFAULTS, type HnswParams } from '../../../adapters/hnsw.js';
import { buildIndex, chooseKind, HNSW_RANGES, type Choice, type SearchMode } from './build.js';
import { searchTuned, type Recall } from './recall.js';
import { loadIndex, saveIndex, type IndexKey } from './store.js';

/** Queries on which HNSW recall is measured against exact search, by default (every command). */
export const RECALL_SAMPLE = 200;
/** The recall@10 that HNSW's ef is tuned to reach, by default. */
export const RECALL_TARGET = 0.99;

/** How a command searches: its search options, as every command that searches takes them. */
export interface SearchSettings {
  /** auto (default), exact or hnsw. */
  search?: SearchMode;
  /** HNSW: M, efConstruction; ef fixes the ef instead of tuning it. */
  hnsw?: HnswParams;
  /** HNSW: recall@10 that ef is chosen to reach (default 0.99). */
  recall?: number;
  /** HNSW: queries sampled to measure recall (default 200). */
  recallSample?: number;
}

/** One search of a run: its settings, and what it searches. */
export interface SearchJob extends SearchSettings {
  metric?: Metric;
  /** The index may keep (and normalise in place) the float32 target rows. */
  owned?: boolean;
  /** Load this saved index instead of building one; refused unless it was built from `key`. */
  indexIn?: string;
  /** Save the index here. */
  indexOut?: string;
  /** What the index is of (the input vectors and the projection applied): needed by indexIn and indexOut. */
  key?: IndexKey;
  /** An index already open over the targets (kept open). */
  index?: VectorIndex;
  /** The queries of the whole job when this search is one task's part (the index is chosen for the whole job). */
  plannedQueries?: number;
}

/** What a search did: the kind of index, why, and for HNSW the ef and the measured recall. */
export interface SearchReport {
  kind: IndexKind;
  reason: string;
  ef?: number;
  recall?: { at1: number; at10: number; queries: number };
}

/** The search options every command that searches takes (one declaration: the same flags, defaults and ranges everywhere). */
export const searchSchema = {
  search: {
    type: 'string',
    choices: ['auto', 'exact', 'hnsw'],
    default: 'auto',
    description:
      'exact: brute force (float32 GEMM or SIMD, candidates re-scored in float64: the exact ranking); hnsw: approximate, ef chosen for --recall; auto: whichever is estimated faster for the job (an HNSW build pays off only for many queries or a saved index)',
    group: 'Search:',
  },
  exact: { type: 'boolean', default: false, description: 'The same as --search exact', group: 'Search:' },
  recall: {
    type: 'number',
    min: 0,
    max: 1,
    default: RECALL_TARGET,
    description: 'HNSW: recall@10 against exact search that ef is chosen to reach, measured on a sample of the queries',
    group: 'Search:',
  },
  recallSample: {
    type: 'integer',
    min: 1,
    default: RECALL_SAMPLE,
    description: 'HNSW: queries sampled to measure recall against exact search',
    group: 'Search:',
  },
  hnswM: {
    type: 'integer',
    ...HNSW_RANGES.m,
    description: 'HNSW M, links per node',
    defaultText: String(HNSW_DEFAULTS.m),
    group: 'Search:',
  },
  efConstruction: {
    type: 'integer',
    ...HNSW_RANGES.efConstruction,
    description: 'HNSW efConstruction',
    defaultText: String(HNSW_DEFAULTS.efConstruction),
    group: 'Search:',
  },
  ef: {
    type: 'integer',
    ...HNSW_RANGES.ef,
    description: 'HNSW ef at query time',
    defaultText: 'the smallest of 64, 128, ... that reaches --recall',
    group: 'Search:',
  },
  indexOut: {
    type: 'string',
    description:
      'Save the index of the searched rows (and a <file>.json description with the hashes of the data and projection it was built from)',
    group: 'Search:',
  },
  indexIn: {
    type: 'string',
    description: 'Reuse an index saved with --index-out (refused when the data or projection differ)',
    group: 'Search:',
  },
} as const satisfies Schema;

/** A command's search options (as `searchSchema` declares them), validated. */
export type SearchOptions = OptionsOf<typeof searchSchema>;

/**
 * The search settings of a command's options (validated by the verb against `searchSchema`):
 * `exact` is `search: 'exact'`, and refused beside `search: 'hnsw'`.
 */
export function searchSettings(o: SearchOptions): SearchSettings {
  if (o.exact && o.search === 'hnsw') {
    throw createError(
      'USAGE',
      `${opt('exact')} means ${opt('search')} exact, which conflicts with ${opt('search')} ${o.search}: give one`,
      {
        param: 'exact',
      },
    );
  }
  const hnsw: HnswParams = {
    ...(o.hnswM !== undefined ? { m: o.hnswM } : {}),
    ...(o.efConstruction !== undefined ? { efConstruction: o.efConstruction } : {}),
    ...(o.ef !== undefined ? { ef: o.ef } : {}),
  };
  return {
    search: o.exact ? 'exact' : (o.search ?? 'auto'),
    hnsw,
    ...(o.recall !== undefined ? { recall: o.recall } : {}),
    ...(o.recallSample !== undefined ? { recallSample: o.recallSample } : {}),
  };
}

/** Reuse a saved index (same data and projection) or build one (kind chosen for the job), saving it when asked. */
export async function openIndex(targets: Embeddings, queries: number, job: SearchJob): Promise<{ index: VectorIndex; choice: Choice }> {
  if ((job.indexIn || job.indexOut) && !job.key) throw new Error('internal: indexIn/indexOut without the key of the data');
  const loaded = job.indexIn
    ? await loadIndex(job.indexIn, { dim: targets.dim, count: targets.rows, key: job.key as IndexKey }, job.hnsw)
    : undefined;
  const choice = await chooseKind(job.search ?? 'auto', {
    rows: targets.rows,
    queries,
    dim: targets.dim,
    ...(job.hnsw?.efConstruction ? { efConstruction: job.hnsw.efConstruction } : {}),
    ...(loaded ? { built: loaded.kind } : {}),
  });
  if (loaded && job.search && job.search !== 'auto' && loaded.kind !== job.search) {
    await loaded.dispose();
    throw createError('USAGE', `${job.indexIn} is a saved ${loaded.kind} index, but ${opt('search')} ${job.search} was asked for`, {
      param: 'indexIn',
    });
  }
  const index =
    loaded ??
    (await buildIndex(targets, {
      kind: choice.kind,
      metric: job.metric ?? 'cosine',
      ...(job.hnsw ? { hnsw: job.hnsw } : {}),
      ...(job.owned ? { owned: true } : {}),
    }));
  try {
    if (job.indexOut) await saveIndex(index, job.indexOut, job.key as IndexKey);
  } catch (e) {
    await index.dispose();
    throw e;
  }
  return { index, choice };
}

/** Recall counts as rates (undefined when nothing was measured). */
export function recallRates(r: Recall | undefined): SearchReport['recall'] {
  return r && r.queries > 0 ? { at1: r.hits1 / r.queries, at10: r.hits10 / r.queries, queries: r.queries } : undefined;
}

/** The top-k targets of every query, and what the search did. */
export async function runSearch(
  targets: Embeddings,
  queries: Embeddings,
  k: number,
  job: SearchJob = {},
): Promise<{ top: TopK; report: SearchReport; recall?: Recall }> {
  const { index, choice } = job.index
    ? { index: job.index, choice: { kind: job.index.kind, reason: `the ${job.index.kind} index given` } }
    : await openIndex(targets, job.plannedQueries ?? queries.rows, job);
  try {
    const tuned = await searchTuned(index, targets, queries, k, {
      recall: job.recall ?? RECALL_TARGET,
      sample: job.recallSample ?? RECALL_SAMPLE,
      ...(job.hnsw?.ef !== undefined ? { ef: job.hnsw.ef } : {}),
    });
    const recall = recallRates(tuned.recall);
    return {
      top: tuned.top,
      report: {
        kind: index.kind,
        reason: choice.reason,
        ...(tuned.ef !== undefined ? { ef: tuned.ef } : {}),
        ...(recall ? { recall } : {}),
      },
      ...(tuned.recall ? { recall: tuned.recall } : {}),
    };
  } finally {
    if (!job.index) await index.dispose();
  }
}

/** The searches of a run of many (retrieve: every method and language): kinds used, and recall summed. */
export class SearchLog {
  private sum: Recall = { queries: 0, hits1: 0, hits10: 0 };
  /** Kinds used, with how often, the last reason and the efs. */
  readonly used = new Map<IndexKind, { searches: number; reason: string; efs: Set<number> }>();
  constructor(readonly settings: SearchSettings) {}

  /** runSearch with the run's settings (and `job`'s own), logged. */
  async search(
    targets: Embeddings,
    queries: Embeddings,
    k: number,
    job: Omit<SearchJob, keyof SearchSettings> & { search?: SearchMode } = {},
  ) {
    const r = await runSearch(targets, queries, k, { ...this.settings, ...job });
    const u = this.used.get(r.report.kind) ?? { searches: 0, reason: r.report.reason, efs: new Set<number>() };
    u.searches++;
    u.reason = r.report.reason;
    if (r.report.ef !== undefined) u.efs.add(r.report.ef);
    this.used.set(r.report.kind, u);
    if (r.recall) {
      this.sum = {
        queries: this.sum.queries + r.recall.queries,
        hits1: this.sum.hits1 + r.recall.hits1,
        hits10: this.sum.hits10 + r.recall.hits10,
      };
    }
    return r.top;
  }

  /** The kind reported for the run: hnsw when any search was approximate. */
  get kind(): IndexKind {
    return this.used.has('hnsw') || this.settings.search === 'hnsw' ? 'hnsw' : 'exact';
  }

  recall(): SearchReport['recall'] {
    return recallRates(this.sum);
  }
}
