/**
 * The four methods and the projection they produce.
 *
 * - `lsar`: the paper's algorithm on the d x L matrix of language means
 *   (Xie et al., EMNLP 2022, as in their reference code). Language-agnostic.
 * - `lir`: remove each language's own top-r singular directions of its raw
 *   (uncentred) embeddings. Needs the language.
 * - `demean`: subtract each language's mean. Needs the language.
 * - `abtt`: all-but-the-top (Mu & Viswanath, ICLR 2018): subtract the pooled mean of all
 *   languages' rows, remove the top D principal components of the pooled data. Language-agnostic.
 * - `whiten`: BERT-whitening (Su et al., 2021): subtract the pooled mean, multiply by
 *   U diag(1/sqrt(s)) from the eigendecomposition of the pooled sample covariance (1/(N-1), as
 *   numpy.cov), optionally keeping only the top k eigenvectors (output dimension k). Language-agnostic.
 * - `none`: identity.
 */
import { createError } from './errors.js';
import type { Dense } from './linalg.js';

export const METHODS = ['lsar', 'lir', 'demean', 'abtt', 'whiten', 'none'] as const;
export type Method = (typeof METHODS)[number];

export function parseMethod(name: string): Method {
  if ((METHODS as readonly string[]).includes(name)) return name as Method;
  throw createError('UNKNOWN_METHOD', `unknown method "${name}": expected one of ${METHODS.join(', ')}`, { param: 'method' });
}

/** What fitting needs to know about one language. */
export interface LanguageMoments {
  lang: string;
  rows: number;
  /** Mean embedding (float64, length d). */
  mean: Float64Array;
  /** X^T X (d x d), only for `lir`, `abtt` and `whiten`. */
  secondMoment?: Dense;
}

export interface FitOptions {
  method: Method;
  /** lsar: rank K of the language subspace (default L-1). */
  rank?: number;
  /** lsar: directions removed, 1..K (default K). lir: directions removed per language (default 1). */
  remove?: number;
  /** whiten: output dimensions k, the top-k eigenvectors kept (default d). */
  dims?: number;
}

/** A fitted projection. All arrays are float64; bases are stored as rows (k x d). */
export interface Projection {
  method: Method;
  dim: number;
  /** Languages in the order they were given, with their row counts. */
  languages: { lang: string; rows: number }[];
  /** lsar: the rank K; lir: the directions per language. */
  rank?: number;
  /** Directions removed (lsar and abtt: first `remove` rows of `basis`). 0 for demean/none. */
  remove: number;
  /** lsar: K x d orthonormal basis, most important direction first; abtt: the top D principal directions; whiten: the top k. */
  basis?: Dense;
  /** whiten: the output dimension k (rows of `basis`). */
  dims?: number;
  /** lsar: singular values of the re-centred fitted means; abtt: eigenvalues of the pooled covariance; whiten: its top k eigenvalues (sample covariance). */
  singularValues?: number[];
  /** lir: per language, r x d orthonormal basis. */
  languageBases?: Record<string, Dense>;
  /** lir: per language, the top eigenvalues of X^T X. */
  languageEigenvalues?: Record<string, number[]>;
  /** Every method: each language's mean. */
  means: Record<string, Float64Array>;
}

/** True when applying the projection needs the input's language. */
export function needsLanguage(method: Method): boolean {
  return method === 'lir' || method === 'demean';
}

/** True when fitting needs each language's X^T X, not only its mean. */
export function needsSecondMoment(method: Method): boolean {
  return method === 'lir' || method === 'abtt' || method === 'whiten';
}

/** The dimension of a projection's output: k for whiten with dims, else the input dimension. */
export function outputDim(p: Pick<Projection, 'method' | 'dim' | 'dims'>): number {
  return p.method === 'whiten' && p.dims !== undefined ? p.dims : p.dim;
}

/** The mean of all rows of all languages (abtt subtracts it): row-weighted mean of the language means. */
export function pooledMean(p: Pick<Projection, 'dim' | 'languages' | 'means'>): Float64Array {
  const mu = new Float64Array(p.dim);
  let n = 0;
  for (const { lang, rows } of p.languages) {
    const m = p.means[lang] as Float64Array;
    for (let i = 0; i < p.dim; i++) mu[i] = (mu[i] as number) + rows * (m[i] as number);
    n += rows;
  }
  for (let i = 0; i < p.dim; i++) mu[i] = (mu[i] as number) / n;
  return mu;
}
