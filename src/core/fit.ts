/**
 * Fitting the methods from per-language moments (see ./projection.ts for what each removes):
 * the LSAR subspace of the centred language means, LIR's per-language directions, abtt's and
 * whiten's pooled covariance eigenpairs. Never decomposes n x d data: only means, Gram or
 * covariance matrices.
 */
import { createError, opt } from './errors.js';
import { canonicalSigns, rankTolerance, thinSvd, topSymmetricEigen, type Dense } from './linalg.js';
import { parseMethod, pooledMean, type FitOptions, type LanguageMoments, type Projection } from './projection.js';

/**
 * All-but-the-top: the top D eigenvectors of the pooled covariance (population, 1/N), from
 * each language's rows, mean and X^T X: C = sum_l X_l^T X_l / N - mu mu^T.
 */
export function abttBasis(langs: LanguageMoments[], D: number): { basis: Dense; eigenvalues: number[] } {
  const { values, vectors } = topSymmetricEigen(pooledCovariance(langs, 'population'), D);
  canonicalSigns(vectors);
  return { basis: vectors, eigenvalues: Array.from(values) };
}

/**
 * BERT-whitening: the top k eigenpairs of the pooled sample covariance (1/(N-1), as numpy.cov in
 * Su et al.'s code). Applied as y = diag(1/sqrt(s)) U^T (x - mu). Refuses eigenvalues that are
 * (numerically) zero: whitening would divide by them.
 */
export function whitenBasis(langs: LanguageMoments[], k: number, fitted = false): { basis: Dense; eigenvalues: number[] } {
  const n = langs.reduce((a, l) => a + l.rows, 0);
  if (n < 2) throw createError('EMPTY', `whitening needs at least 2 rows, got ${n}`);
  const c = pooledCovariance(langs, 'sample');
  const { values, vectors } = topSymmetricEigen(c, k);
  // values are descending: the first is the largest eigenvalue
  const tol = Math.max(Math.abs(values[0] as number), 1e-300) * c.rows * 1e-12;
  const kept = Array.from(values).filter((v) => v > tol).length;
  if (kept < k && fitted && kept >= 1) {
    // dims not given: the largest number of dimensions that can be whitened (the caller says so)
    const top = { rows: kept, cols: vectors.cols, data: vectors.data.slice(0, kept * vectors.cols) };
    canonicalSigns(top);
    return { basis: top, eigenvalues: Array.from(values.subarray(0, kept)) };
  }
  if (kept < k) {
    throw createError(
      'DIMS_RANGE',
      `the pooled covariance has only ${kept} eigenvalues above ${tol.toExponential(1)} (${n} rows of dimension ${c.rows}): whitening ${k} dimensions would divide by zero; choose dims of at most ${kept}`,
      { param: 'dims' },
    );
  }
  canonicalSigns(vectors);
  return { basis: vectors, eigenvalues: Array.from(values) };
}

/** The pooled covariance of all languages' rows from their means and X^T X (population 1/N or sample 1/(N-1)). */
export function pooledCovariance(langs: LanguageMoments[], kind: 'population' | 'sample'): Dense {
  const d = (langs[0] as LanguageMoments).mean.length;
  const mu = pooledMean({
    dim: d,
    languages: langs.map((l) => ({ lang: l.lang, rows: l.rows })),
    means: Object.fromEntries(langs.map((l) => [l.lang, l.mean])),
  });
  const n = langs.reduce((a, l) => a + l.rows, 0);
  const c = new Float64Array(d * d);
  for (const l of langs) {
    if (!l.secondMoment) throw new Error(`internal: no second moment for ${l.lang}`);
    const g = l.secondMoment.data;
    for (let i = 0; i < c.length; i++) c[i] = (c[i] as number) + (g[i] as number);
  }
  // C = (sum X^T X - N mu mu^T) / (N or N-1)
  const div = kind === 'sample' ? n - 1 : n;
  for (let i = 0; i < d; i++)
    for (let j = 0; j < d; j++) c[i * d + j] = ((c[i * d + j] as number) - n * (mu[i] as number) * (mu[j] as number)) / div;
  return { rows: d, cols: d, data: c };
}

/**
 * The d x L matrix whose columns are the language means minus their average (written into
 * `mu` when given): what LSAR decomposes first, and whose spectrum inspect reports.
 */
export function centredMeans(means: Float64Array[], mu?: Float64Array): Dense {
  const L = means.length;
  const d = (means[0] as Float64Array).length;
  const avg = mu ?? new Float64Array(d);
  for (const m of means) for (let i = 0; i < d; i++) avg[i] = (avg[i] as number) + (m[i] as number) / L;
  const c = new Float64Array(d * L);
  means.forEach((m, l) => {
    for (let i = 0; i < d; i++) c[i * L + l] = (m[i] as number) - (avg[i] as number);
  });
  return { rows: d, cols: L, data: c };
}

/**
 * The LSAR language subspace from L language means of dimension d.
 * Centre the d x L matrix on its column mean, keep its best rank-K fit, re-centre
 * on the point of the fitted affine hull nearest the origin (pinv(fit)^T 1 divided
 * by its squared norm), and return the top K left singular vectors.
 */
export function lsarSubspace(means: Float64Array[], rank: number): { basis: Dense; singularValues: number[] } {
  const L = means.length;
  const d = (means[0] as Float64Array).length;
  if (L < 2) throw createError('TOO_FEW_LANGUAGES', `LSAR needs at least 2 languages, got ${L}`);
  checkRank(rank, L, d);
  const mu = new Float64Array(d);
  const first = thinSvd(centredMeans(means, mu));
  const tol = rankTolerance(first.s, d, L);
  const numericalRank = first.s.filter((x) => x > tol).length;
  if (numericalRank < rank) {
    throw createError(
      'RANK_RANGE',
      `${opt('rank')} ${rank} exceeds the numerical rank ${numericalRank} of the centred language means (some languages have (nearly) identical means)`,
      { param: 'rank' },
    );
  }
  // Best rank-K fit, plus the column mean: fit = U_K S_K V_K^T + mu.
  const k = first.s.length;
  const fit = new Float64Array(d * L);
  for (let i = 0; i < d; i++) {
    for (let l = 0; l < L; l++) {
      let acc = mu[i] as number;
      for (let j = 0; j < rank; j++)
        acc += (first.u.data[i * k + j] as number) * (first.s[j] as number) * (first.v.data[l * k + j] as number);
      fit[i * L + l] = acc;
    }
  }
  // p = pinv(fit)^T 1 = U S^+ V^T 1, then p / |p|^2.
  const second = thinSvd({ rows: d, cols: L, data: fit });
  const tol2 = rankTolerance(second.s, d, L);
  const k2 = second.s.length;
  const p = new Float64Array(d);
  for (let j = 0; j < k2; j++) {
    const sj = second.s[j] as number;
    if (!(sj > tol2)) continue;
    let vt1 = 0;
    for (let l = 0; l < L; l++) vt1 += second.v.data[l * k2 + j] as number;
    const c = vt1 / sj;
    for (let i = 0; i < d; i++) p[i] = (p[i] as number) + (second.u.data[i * k2 + j] as number) * c;
  }
  let norm2 = 0;
  for (let i = 0; i < d; i++) norm2 += (p[i] as number) * (p[i] as number);
  if (!(norm2 > 0)) throw createError('RANK_RANGE', 'the fitted language means span the origin: LSAR cannot re-centre them');
  for (let i = 0; i < d; i++) {
    const pi = (p[i] as number) / norm2;
    for (let l = 0; l < L; l++) fit[i * L + l] = (fit[i * L + l] as number) - pi;
  }
  const third = thinSvd({ rows: d, cols: L, data: fit });
  const k3 = third.s.length;
  const basis = new Float64Array(rank * d);
  for (let j = 0; j < rank; j++) for (let i = 0; i < d; i++) basis[j * d + i] = third.u.data[i * k3 + j] as number;
  const out = { rows: rank, cols: d, data: basis };
  canonicalSigns(out);
  return { basis: out, singularValues: Array.from(third.s.subarray(0, rank)) };
}

function checkRank(rank: number, L: number, d: number): void {
  const max = Math.min(L - 1, d - 1);
  if (!Number.isInteger(rank) || rank < 1 || rank > max) {
    const why =
      L - 1 <= d - 1
        ? `with ${L} languages the centred means have rank at most L-1 = ${L - 1}`
        : `the embeddings have only ${d} dimensions, and removing all of them leaves nothing`;
    throw createError('RANK_RANGE', `${opt('rank')} must be an integer from 1 to ${max}, got ${rank}: ${why}`, { param: 'rank' });
  }
}

/** Top-r eigenvectors of a language's X^T X: its top right singular directions. */
export function lirBasis(secondMoment: Dense, r: number): { basis: Dense; eigenvalues: number[] } {
  const { values, vectors } = topSymmetricEigen(secondMoment, r);
  canonicalSigns(vectors);
  return { basis: vectors, eigenvalues: Array.from(values) };
}

/**
 * Check --rank/--remove for a method, L languages and dimension d, and fill in
 * the defaults (lsar: rank L-1, remove = rank; lir: remove 1).
 */
export function resolveParams(options: FitOptions, L: number, d: number): { rank?: number; remove: number; dims?: number } {
  const method = parseMethod(options.method);
  if (options.dims !== undefined && method !== 'whiten')
    throw createError('DIMS_RANGE', `${opt('dims')} applies only to method "whiten", not "${method}"`, { param: 'dims' });
  if (method === 'whiten') {
    if (options.rank !== undefined)
      throw createError('RANK_RANGE', `${opt('rank')} does not apply to method "whiten" (use dims)`, { param: 'rank' });
    if (options.remove !== undefined)
      throw createError('REMOVE_RANGE', `${opt('remove')} does not apply to method "whiten" (use dims)`, { param: 'remove' });
    const k = options.dims ?? d;
    if (!Number.isInteger(k) || k < 1 || k > d)
      throw createError('DIMS_RANGE', `${opt('dims')} must be an integer from 1 to the dimension ${d}, got ${k}`, { param: 'dims' });
    return { remove: 0, dims: k };
  }
  if (method === 'none' || method === 'demean') {
    if (options.rank !== undefined)
      throw createError('RANK_RANGE', `${opt('rank')} does not apply to method "${method}"`, { param: 'rank' });
    if (options.remove !== undefined)
      throw createError('REMOVE_RANGE', `${opt('remove')} does not apply to method "${method}"`, { param: 'remove' });
    return { remove: 0 };
  }
  if (method === 'lsar') {
    const rank = options.rank ?? Math.min(L - 1, d - 1);
    checkRank(rank, L, d);
    const remove = options.remove ?? rank;
    if (!Number.isInteger(remove) || remove < 1 || remove > rank) {
      throw createError('REMOVE_RANGE', `${opt('remove')} must be an integer from 1 to the rank ${rank}, got ${remove}`, {
        param: 'remove',
      });
    }
    return { rank, remove };
  }
  if (options.rank !== undefined)
    throw createError('RANK_RANGE', `${opt('rank')} does not apply to method "${method}" (use remove)`, { param: 'rank' });
  if (method === 'abtt') {
    // Mu & Viswanath's D = d/100
    const D = options.remove ?? Math.max(1, Math.round(d / 100));
    if (!Number.isInteger(D) || D < 1 || D >= d) {
      throw createError('REMOVE_RANGE', `${opt('remove')} must be an integer from 1 to the dimension - 1 (${d - 1}), got ${D}`, {
        param: 'remove',
      });
    }
    return { remove: D };
  }
  const r = options.remove ?? 1;
  if (!Number.isInteger(r) || r < 1 || r > d) {
    throw createError('REMOVE_RANGE', `${opt('remove')} must be an integer from 1 to the dimension ${d}, got ${r}`, { param: 'remove' });
  }
  return { remove: r };
}

/** Fit a projection from per-language moments. Input checks throw LsarErrors. */
export function fitProjection(langs: LanguageMoments[], options: FitOptions): Projection {
  const method = parseMethod(options.method);
  const L = langs.length;
  if (L < 2) {
    throw createError('TOO_FEW_LANGUAGES', `fitting needs at least 2 languages, got ${L}${L === 1 ? ` (${langs[0]?.lang})` : ''}`);
  }
  const d = (langs[0] as LanguageMoments).mean.length;
  const seen = new Set<string>();
  for (const l of langs) {
    if (seen.has(l.lang)) throw createError('DUPLICATE_LANGUAGE', `language "${l.lang}" was given twice`);
    seen.add(l.lang);
    if (l.mean.length !== d) {
      throw createError('DIM_MISMATCH', `language "${l.lang}" has dimension ${l.mean.length}, expected ${d} (as "${langs[0]?.lang}")`);
    }
    if (l.rows < 1) throw createError('EMPTY', `language "${l.lang}" has no rows`);
  }
  const means: Record<string, Float64Array> = {};
  for (const l of langs) means[l.lang] = l.mean;
  const base = { method, dim: d, languages: langs.map((l) => ({ lang: l.lang, rows: l.rows })), means };
  const { rank, remove, dims } = resolveParams(options, L, d);
  if (method === 'none' || method === 'demean') return { ...base, remove };
  if (method === 'whiten') {
    const { basis, eigenvalues } = whitenBasis(langs, dims as number, options.dims === undefined);
    return { ...base, remove, dims: basis.rows, basis, singularValues: eigenvalues };
  }
  if (method === 'lsar') {
    const { basis, singularValues } = lsarSubspace(
      langs.map((l) => l.mean),
      rank as number,
    );
    return { ...base, rank: rank as number, remove, basis, singularValues };
  }
  if (method === 'abtt') {
    const { basis, eigenvalues } = abttBasis(langs, remove);
    return { ...base, remove, basis, singularValues: eigenvalues };
  }
  const r = remove;
  const languageBases: Record<string, Dense> = {};
  const languageEigenvalues: Record<string, number[]> = {};
  for (const l of langs) {
    if (!l.secondMoment) throw new Error(`internal: no second moment for ${l.lang}`);
    const { basis, eigenvalues } = lirBasis(l.secondMoment, r);
    languageBases[l.lang] = basis;
    languageEigenvalues[l.lang] = eigenvalues;
  }
  return { ...base, rank: r, remove: r, languageBases, languageEigenvalues };
}
