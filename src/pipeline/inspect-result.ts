/** What lsar inspect returns (and --json prints; reports render it). */
import type { RetrieveResult } from './retrieve/result.js';

export interface MethodInspection {
  probeAccuracy: number;
  centroidAccuracy: number;
  betweenShare: number;
  /** Output dimension of the method. */
  dim: number;
  /** Folds whose probe stopped at the iteration limit before the tolerance (absent when none). */
  probeUnconvergedFolds?: number;
}

/** The version of the inspect result's JSON shape (2: camelCase keys, as every JSON lsar writes). */
export const INSPECT_FORMAT_VERSION = 2;

export interface InspectResult {
  formatVersion: number;
  results: Record<string, MethodInspection>;
  /** Chance accuracy of the probe (the largest language's share of the sample). */
  chance: number;
  languages: { lang: string; rows: number; sampled: number }[];
  spectrum: { singularValues: number[]; cumulativeShare: number[] };
  recommendedRank: {
    rank: number;
    rule: string;
    shareRank: number;
    threshold: number;
    gapRank: number;
    /** Singular values above the tolerance (1e-6 of the largest); the rules ignore the others. */
    numericalRank: number;
    /** With an evaluation: its mean metric per lsar rank. */
    sweep?: Record<string, number>;
    metric?: string;
  };
  /** Per method, the 2-D PCA map of the map sample: [x, y, language index] triples. */
  maps: Record<string, { points: number[][] }>;
  /** With an evaluation: the retrieval result. */
  evaluation?: RetrieveResult;
  /** Things the user should know (whiten's dims lowered, a probe that stopped at its iteration limit). */
  warnings: string[];
  manifest: Record<string, unknown>;
}
