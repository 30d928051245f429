/**
 * A search both ways between two sets (mine: source -> target and target -> source). Exact
 * search does both from one pass of scores (each block's rows feed one direction, its columns
 * the other: core/exact-search.ts's MutualAccumulator), half the work of two searches, with the
 * same results. HNSW, or a saved index, is searched in two runs.
 */
import type { Embeddings } from '../../../core/embeddings.js';
import type { TopK } from '../../../core/topk.js';
import { chooseKind, exactIndex, type Choice } from './build.js';
import type { Recall } from './recall.js';
import { runSearch, type SearchJob, type SearchReport } from './run.js';

export interface SearchRun {
  top: TopK;
  report: SearchReport;
  recall?: Recall;
}

/**
 * Whether a search both ways is done in one exact pass: both directions exact (as asked, or
 * as auto estimates for the job's queries: `plannedQueries` when the search is one task's part)
 * and no saved index used. Returns the two choices, or undefined for two runs.
 */
export async function onePassChoices(
  a: Embeddings,
  b: Embeddings,
  jobs: { forward: SearchJob; backward: SearchJob },
): Promise<{ forward: Choice; backward: Choice } | undefined> {
  const { forward, backward } = jobs;
  const fresh = (j: SearchJob) => !j.index && j.indexIn === undefined && j.indexOut === undefined;
  if (!fresh(forward) || !fresh(backward) || (forward.metric ?? 'cosine') !== (backward.metric ?? 'cosine')) return undefined;
  const choose = (j: SearchJob, rows: number, queries: number) =>
    chooseKind(j.search ?? 'auto', {
      rows,
      queries: j.plannedQueries ?? queries,
      dim: a.dim,
      both: true,
      ...(j.hnsw?.efConstruction ? { efConstruction: j.hnsw.efConstruction } : {}),
    });
  const cf = await choose(forward, b.rows, a.rows);
  const cb = await choose(backward, a.rows, b.rows);
  return cf.kind === 'exact' && cb.kind === 'exact' ? { forward: cf, backward: cb } : undefined;
}

/**
 * `a`'s top-`k.forward` rows of `b` (job `forward`: the index over `b`) and `b`'s top-`k.backward`
 * rows of `a` (job `backward`: the index over `a`). `progress`: rows of `b` done, of the exact pass.
 */
export async function runSearchBoth(
  a: Embeddings,
  b: Embeddings,
  k: { forward: number; backward: number },
  jobs: { forward: SearchJob; backward: SearchJob },
  progress?: (rowsDone: number, total: number, what: string) => void,
): Promise<{ forward: SearchRun; backward: SearchRun }> {
  const { forward, backward } = jobs;
  const choices = await onePassChoices(a, b, jobs);
  // two runs (HNSW, or a saved index): each chosen as a search one way
  if (!choices) return { forward: await runSearch(b, a, k.forward, forward), backward: await runSearch(a, b, k.backward, backward) };
  const index = await exactIndex(b.dim, forward.metric ?? 'cosine');
  try {
    await index.add(b, { owned: forward.owned === true });
    const r = await index.searchBoth(a, k.forward, k.backward, progress && ((done) => progress(done, b.rows, 'exact, both ways')));
    const report = (c: Choice): SearchReport => ({ kind: 'exact', reason: `${c.reason}; both directions from one pass of scores` });
    return {
      forward: { top: r.forward, report: report(choices.forward) },
      backward: { top: r.backward, report: report(choices.backward) },
    };
  } finally {
    await index.dispose();
  }
}
