/**
 * Building an index of the chosen kind, and choosing the kind: exact or HNSW as asked, or under
 * `auto` whichever is estimated faster for the job (costs measured by `npm run bench -- search`).
 */
import { availableParallelism } from 'node:os';
import type { Embeddings } from '../../../core/embeddings.js';
import { checkNumber } from '../../../core/errors.js';
import { ExactIndex, type IndexKind, type Metric, type VectorIndex } from '../../../core/vector-index.js';
import { gemmScorer } from '../../../adapters/gemm.js';
import { HNSW_DEFAULTS, HnswIndex, type HnswParams } from '../../../adapters/hnsw.js';

/** How to search: exact, HNSW, or whichever `auto` estimates to be faster for this job. */
export type SearchMode = 'auto' | IndexKind;

export interface IndexOptions {
  kind: IndexKind;
  metric?: Metric;
  hnsw?: HnswParams;
  /** The index may keep (and normalise in place) the given float32 rows instead of copying them. */
  owned?: boolean;
}

/** HNSW parameter ranges (hnswlib crashes or runs out of memory outside them). */
export const HNSW_RANGES = { m: { min: 2, max: 100 }, efConstruction: { min: 1, max: 100_000 }, ef: { min: 1, max: 100_000 } } as const;

/** Check HNSW parameters before any native call; messages name the parameter and its range. */
export function checkHnswParams(p: HnswParams = {}): HnswParams {
  if (p.m !== undefined) checkNumber('m', p.m, HNSW_RANGES.m);
  if (p.efConstruction !== undefined) checkNumber('efConstruction', p.efConstruction, HNSW_RANGES.efConstruction);
  if (p.ef !== undefined) checkNumber('ef', p.ef, HNSW_RANGES.ef);
  return p;
}

/** An exact index, with the GEMM scorer when onnxruntime-node is installed. */
export async function exactIndex(dim: number, metric: Metric): Promise<ExactIndex> {
  const gemm = await gemmScorer();
  return new ExactIndex(dim, metric, gemm ? (q, t, k) => gemm.blocks(q, t, k) : undefined);
}

/** An index over `vectors` (labels 0..rows-1). */
export async function buildIndex(vectors: Embeddings, options: IndexOptions): Promise<VectorIndex> {
  const metric = options.metric ?? 'cosine';
  const index =
    options.kind === 'exact'
      ? await exactIndex(vectors.dim, metric)
      : await HnswIndex.create(vectors.dim, metric, checkHnswParams(options.hnsw), vectors.rows);
  try {
    await index.add(vectors, { owned: options.owned === true });
  } catch (e) {
    await index.dispose();
    throw e;
  }
  return index;
}

/**
 * Costs measured on this project's 2-core benchmark machine, per core: exact search
 * multiply-adds per second (onnxruntime's GEMM, or the WebAssembly kernel; npm run bench --
 * search), and HNSW seconds to insert one 768-d row at efConstruction 200 and to answer one
 * 768-d query at the ef that reaches recall@10 0.99 (both grow about linearly with d and ef).
 * The query cost depends on the data: 1.5e-3 on the search bench's data, 1.1e-2 on the
 * clustered 100,000 x 768 rows of npm run bench -- hnsw-engines (ef 1024: 5.5 s for 1,000
 * queries on 2 cores); a 100,000 x 100,000 mine took over 23 minutes with HNSW and 131 s exact.
 * The higher figure is used, so that auto picks HNSW only where it wins on such data too
 * (exact also has no recall to lose).
 */
export const COSTS = { gemmMacPerSecond: 2.5e10, wasmMacPerSecond: 1.2e10, hnswInsertSeconds: 1.5e-3, hnswQuerySeconds: 1.1e-2 } as const;

export interface Choice {
  kind: IndexKind;
  /** Why: the estimates compared, or the mode asked for. */
  reason: string;
}

/**
 * The index kind for a job of `queries` queries over `rows` rows: exact or HNSW as asked, or
 * under `auto` the one estimated faster (an HNSW index already built counts without its build;
 * `both`: the job is one direction of a search both ways, where exact does both in one pass).
 */
export async function chooseKind(
  mode: SearchMode,
  job: { rows: number; queries: number; dim: number; efConstruction?: number; built?: IndexKind; both?: boolean },
): Promise<Choice> {
  if (mode !== 'auto') return { kind: mode, reason: `${mode} search as asked` };
  if (job.built) return { kind: job.built, reason: `the saved ${job.built} index` };
  const cores = Math.max(1, availableParallelism());
  const macs = job.rows * job.queries * job.dim;
  const rate = (await gemmScorer()) ? COSTS.gemmMacPerSecond * cores : COSTS.wasmMacPerSecond;
  // searched both ways (mine), one exact pass of scores serves both directions: half of it each
  const exact = macs / rate / (job.both ? 2 : 1);
  const scale = job.dim / 768;
  const build = (job.rows * COSTS.hnswInsertSeconds * scale * ((job.efConstruction ?? HNSW_DEFAULTS.efConstruction) / 200)) / cores;
  const hnsw = build + (job.queries * COSTS.hnswQuerySeconds * scale) / cores;
  const kind: IndexKind = hnsw < exact ? 'hnsw' : 'exact';
  return { kind, reason: `auto: exact estimated ${fmt(exact)}, HNSW ${fmt(hnsw)} (build ${fmt(build)})` };
}

function fmt(s: number): string {
  return s < 1 ? `${Math.round(s * 1000)} ms` : `${s.toFixed(1)} s`;
}
