/**
 * Parallel-sentence mining with margin scoring, with the semantics of LASER's
 * source/mine_bitexts.py in mode `mine` (Artetxe and Schwenk, 2019):
 *
 * - rows are L2-normalised; `fwd` holds every source row's k nearest targets by inner product
 *   (k capped at the number of targets), `bwd` every target's k nearest sources;
 * - each row's mean similarity to its k neighbours: fwdMean[i], bwdMean[j];
 * - score(i, j) = margin(x_i . y_j, (fwdMean[i] + bwdMean[j]) / 2), margin ratio a / b,
 *   distance a - b or absolute a;
 * - each row's best candidate is the first of its neighbours (in neighbour order) with the
 *   highest score;
 * - retrieval `fwd`: every source row with its best target (in source order); `bwd`: every
 *   target with its best source (target order); `intersect`: the fwd pairs that are also bwd
 *   pairs (source order); `max`: fwd and bwd candidates pooled, sorted by score descending, a
 *   pair taken when neither side was taken before, and kept when its score > threshold (a
 *   pair refused by the threshold still takes its sides, as in LASER). LASER applies no
 *   threshold in the other modes; lsar applies one there only when it is given.
 *
 * One deliberate difference: LASER orders `max` candidates with numpy's default (unstable)
 * argsort, so the order of equal scores is unspecified; here equal scores keep their pooled
 * order (all fwd candidates by source row, then all bwd candidates by target row).
 */
import { checkNumber, createError, opt } from './errors.js';
import type { TopK } from './topk.js';

export const MARGINS = ['ratio', 'distance', 'absolute'] as const;
export type Margin = (typeof MARGINS)[number];
export const RETRIEVALS = ['max', 'fwd', 'bwd', 'intersect'] as const;
export type Retrieval = (typeof RETRIEVALS)[number];

export interface MineOptions {
  margin?: Margin;
  retrieval?: Retrieval;
  /** Keep pairs whose score exceeds this (default for max: 1.0 with ratio, 0 otherwise; none in other modes). */
  threshold?: number;
}

export interface MinedPairs {
  /** Margin scores, source rows and target rows of the mined pairs, in LASER's output order. */
  scores: Float64Array;
  src: Int32Array;
  trg: Int32Array;
}

export function parseMargin(name: string): Margin {
  if ((MARGINS as readonly string[]).includes(name)) return name as Margin;
  throw createError('USAGE', `${opt('margin')} must be one of ${MARGINS.join(', ')}, got "${name}"`, { param: 'margin' });
}

export function parseRetrieval(name: string): Retrieval {
  if ((RETRIEVALS as readonly string[]).includes(name)) return name as Retrieval;
  throw createError('USAGE', `${opt('retrieval')} must be one of ${RETRIEVALS.join(', ')}, got "${name}"`, { param: 'retrieval' });
}

function marginFn(m: Margin): (a: number, b: number) => number {
  if (m === 'absolute') return (a) => a;
  if (m === 'distance') return (a, b) => a - b;
  return (a, b) => a / b;
}

/** Mean of each row's k neighbour similarities. */
export function neighbourMeans(t: TopK, rows: number, k: number): Float64Array {
  const out = new Float64Array(rows);
  for (let i = 0; i < rows; i++) {
    let s = 0;
    for (let j = 0; j < k; j++) s += t.scores[i * t.k + j] as number;
    out[i] = s / k;
  }
  return out;
}

/** For each row, its best candidate by margin score (the first of equals) and that score. */
function bestCandidates(
  t: TopK,
  rows: number,
  k: number,
  ownMean: Float64Array,
  otherMean: Float64Array,
  margin: (a: number, b: number) => number,
) {
  const best = new Int32Array(rows);
  const score = new Float64Array(rows);
  for (let i = 0; i < rows; i++) {
    let b = -1;
    let bs = -Infinity;
    for (let j = 0; j < k; j++) {
      const c = t.indices[i * t.k + j] as number;
      const s = margin(t.scores[i * t.k + j] as number, ((ownMean[i] as number) + (otherMean[c] as number)) / 2);
      if (s > bs || b < 0) {
        bs = s;
        b = c;
      }
    }
    best[i] = b;
    score[i] = bs;
  }
  return { best, score };
}

/**
 * Mine pairs from the k-nearest-neighbour lists of both directions (`fwd`: sources x k
 * targets, `bwd`: targets x k sources, best first, similarities of normalised rows).
 */
export function minePairs(fwd: TopK, bwd: TopK, sources: number, targets: number, options: MineOptions = {}): MinedPairs {
  if (sources < 1 || targets < 1)
    throw createError('EMPTY', `mining needs rows on both sides, got ${sources} sources and ${targets} targets`);
  const margin = options.margin ?? 'ratio';
  const retrieval = options.retrieval ?? 'max';
  const kf = Math.min(fwd.k, targets);
  const kb = Math.min(bwd.k, sources);
  checkNumber('k', Math.min(kf, kb), { min: 1 });
  const fn = marginFn(margin);
  const fwdMean = neighbourMeans(fwd, sources, kf);
  const bwdMean = neighbourMeans(bwd, targets, kb);
  const f = bestCandidates(fwd, sources, kf, fwdMean, bwdMean, fn);
  const b = bestCandidates(bwd, targets, kb, bwdMean, fwdMean, fn);
  const keep = (s: number) => options.threshold === undefined || s > options.threshold;
  const out = { scores: [] as number[], src: [] as number[], trg: [] as number[] };
  const push = (s: number, i: number, j: number) => {
    out.scores.push(s);
    out.src.push(i);
    out.trg.push(j);
  };
  if (retrieval === 'fwd') {
    for (let i = 0; i < sources; i++) if (keep(f.score[i] as number)) push(f.score[i] as number, i, f.best[i] as number);
  } else if (retrieval === 'bwd') {
    for (let j = 0; j < targets; j++) if (keep(b.score[j] as number)) push(b.score[j] as number, b.best[j] as number, j);
  } else if (retrieval === 'intersect') {
    for (let i = 0; i < sources; i++) {
      const j = f.best[i] as number;
      if (b.best[j] === i && keep(f.score[i] as number)) push(f.score[i] as number, i, j);
    }
  } else {
    const threshold = options.threshold ?? (margin === 'ratio' ? 1 : 0);
    const n = sources + targets;
    const score = (p: number) => (p < sources ? (f.score[p] as number) : (b.score[p - sources] as number));
    const order = Array.from({ length: n }, (_, p) => p).sort((p, q) => score(q) - score(p) || p - q);
    const seenSrc = new Uint8Array(sources);
    const seenTrg = new Uint8Array(targets);
    for (const p of order) {
      const i = p < sources ? p : (b.best[p - sources] as number);
      const j = p < sources ? (f.best[p] as number) : p - sources;
      if (seenSrc[i] || seenTrg[j]) continue;
      seenSrc[i] = 1;
      seenTrg[j] = 1;
      if (score(p) > threshold) push(score(p), i, j);
    }
  }
  return { scores: Float64Array.from(out.scores), src: Int32Array.from(out.src), trg: Int32Array.from(out.trg) };
}
