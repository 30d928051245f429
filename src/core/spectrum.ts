/**
 * The spectrum LSAR works on (singular values of the centred language means) and the rank
 * rules read from it. Pure maths.
 */
import { thinSvd } from './linalg.js';
import { centredMeans } from './fit.js';

export interface Spectrum {
  /** Singular values of the d x L matrix of language means centred on their average, descending. */
  singularValues: number[];
  /** Cumulative share of the squared singular values (between-language variance kept by rank K = index + 1). */
  cumulativeShare: number[];
}

/** The spectrum LSAR works on: the centred language means. */
export function meanSpectrum(means: Float64Array[]): Spectrum {
  const L = means.length;
  const d = (means[0] as Float64Array).length;
  // the centred means have rank at most L - 1: the last value is (numerically) zero
  const s = Array.from(thinSvd(centredMeans(means)).s).slice(0, Math.min(L - 1, d));
  const total = s.reduce((a, v) => a + v * v, 0);
  let acc = 0;
  return { singularValues: s, cumulativeShare: s.map((v) => ((acc += v * v), total > 0 ? acc / total : 0)) };
}

export interface RankRecommendation {
  /** The smallest K whose cumulative share reaches `threshold`. */
  share: number;
  threshold: number;
  /**
   * The eigengap: the K < numerical rank with the largest ratio s_K / s_(K+1) of consecutive
   * singular values, both above the tolerance (the numerical rank when there is one such value).
   */
  gap: number;
  /** Singular values above `tolerance` (the rest are rounding noise, ignored by both rules). */
  numericalRank: number;
  tolerance: number;
}

/**
 * Singular values below this share of the largest are taken as zero by the rank rules: embeddings
 * are float32 (about 7 significant digits), so directions this weak are rounding noise (e.g. the
 * sum-zero direction of LayerNorm outputs gives ~1e-9 of the largest on the bundled corpora).
 */
export const SPECTRUM_TOLERANCE = 1e-6;

export function recommendRank(spectrum: Spectrum, threshold = 0.9): RankRecommendation {
  const all = spectrum.singularValues;
  const tolerance = SPECTRUM_TOLERANCE * (all[0] ?? 0);
  const s = all.filter((v) => v > tolerance);
  const numericalRank = Math.max(1, s.length);
  const cs = spectrum.cumulativeShare.slice(0, numericalRank);
  const share = Math.max(1, cs.findIndex((v) => v >= threshold - 1e-12) + 1 || cs.length);
  let gap = numericalRank;
  let best = 0;
  for (let k = 1; k < s.length; k++) {
    const next = s[k] as number;
    const ratio = next > 0 ? (s[k - 1] as number) / next : Infinity;
    if (ratio > best) {
      best = ratio;
      gap = k;
    }
  }
  return { share, threshold, gap, numericalRank, tolerance };
}
