/** Properties of the fitted projections (planted data, float64 maths). */
import { describe, expect, it } from 'vitest';
import { LsarError } from '../../src/core/errors.js';
import { MomentAccumulator } from '../../src/core/moments.js';
import { type LanguageMoments, type Projection } from '../../src/core/projection.js';
import { fitProjection, lsarSubspace } from '../../src/core/fit.js';
import { apply } from '../../src/core/apply.js';
import { fitFromArrays } from '../../src/pipeline/fit.js';
import { gaussian, planted } from '../helpers.js';

const LANGS = ['en', 'de', 'fr', 'es', 'ru', 'zh'];
const D = 24;
const N = 80;
const data = planted(LANGS, N, D, 3);

function dot(a: ArrayLike<number>, ao: number, b: ArrayLike<number>, bo: number, d: number): number {
  let s = 0;
  for (let i = 0; i < d; i++) s += (a[ao + i] as number) * (b[bo + i] as number);
  return s;
}

function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs((a[i] as number) - (b[i] as number)));
  return m;
}

function momentsOf(langs: string[], secondMoment = false): LanguageMoments[] {
  return langs.map((lang) => {
    const acc = new MomentAccumulator(D, { secondMoment });
    acc.add(data[lang] as Float32Array);
    return { lang, rows: acc.count, mean: acc.mean(), ...(secondMoment ? { secondMoment: acc.secondMoment() } : {}) };
  });
}

const vectors = Float64Array.from({ length: 10 * D }, gaussian(11));

describe('lsar', () => {
  const p = fitProjection(momentsOf(LANGS), { method: 'lsar' });

  it('defaults to rank L-1 and removes all K directions', () => {
    expect(p.rank).toBe(LANGS.length - 1);
    expect(p.remove).toBe(LANGS.length - 1);
  });

  it('basis is orthonormal (1e-10)', () => {
    const b = p.basis!;
    for (let i = 0; i < b.rows; i++) {
      for (let j = 0; j < b.rows; j++) {
        expect(Math.abs(dot(b.data, i * D, b.data, j * D, D) - (i === j ? 1 : 0))).toBeLessThan(1e-10);
      }
    }
  });

  it('is idempotent and its output is orthogonal to the basis (1e-10)', () => {
    const once = apply(p, vectors);
    const twice = apply(p, once);
    expect(maxAbsDiff(once, twice)).toBeLessThan(1e-10);
    const b = p.basis!;
    for (let r = 0; r < 10; r++) for (let j = 0; j < b.rows; j++) expect(Math.abs(dot(once, r * D, b.data, j * D, D))).toBeLessThan(1e-10);
  });

  it('needs no language and applies to a single vector', () => {
    const one = apply(p, vectors.slice(0, D));
    expect(maxAbsDiff(one, apply(p, vectors).slice(0, D))).toBeLessThan(1e-12);
  });

  it('removes the language means: projected means coincide far better than raw ones', () => {
    const ms = momentsOf(LANGS).map((m) => apply(p, m.mean));
    const raw = momentsOf(LANGS).map((m) => m.mean);
    const spread = (xs: Float64Array[]) => Math.max(...xs.map((x) => maxAbsDiff(x, xs[0] as Float64Array)));
    expect(spread(ms)).toBeLessThan(1e-9);
    expect(spread(raw)).toBeGreaterThan(1);
  });

  it('does not depend on the order of the languages (1e-10)', () => {
    const q = fitProjection(momentsOf([...LANGS].reverse()), { method: 'lsar' });
    expect(maxAbsDiff(apply(p, vectors), apply(q, vectors))).toBeLessThan(1e-10);
  });

  it('does not depend on the signs of the singular vectors (1e-12)', () => {
    const flipped: Projection = { ...p, basis: { ...p.basis!, data: p.basis!.data.map((x, i) => (Math.floor(i / D) % 2 ? -x : x)) } };
    expect(maxAbsDiff(apply(p, vectors), apply(flipped, vectors))).toBeLessThan(1e-12);
  });

  it('removes only the first N of K directions with --remove', () => {
    const q = fitProjection(momentsOf(LANGS), { method: 'lsar', rank: 4, remove: 2 });
    const y = apply(q, vectors);
    const b = q.basis!;
    for (let j = 0; j < 2; j++) expect(Math.abs(dot(y, 0, b.data, j * D, D))).toBeLessThan(1e-10);
    expect(Math.abs(dot(y, 0, b.data, 2 * D, D))).toBeGreaterThan(1e-6);
  });

  it('refuses a rank above L-1 and says why', () => {
    expect(() => fitProjection(momentsOf(LANGS), { method: 'lsar', rank: LANGS.length })).toThrow(/rank at most L-1 = 5/);
    expect(() => fitProjection(momentsOf(LANGS), { method: 'lsar', rank: 0 })).toThrow(LsarError);
    expect(() => fitProjection(momentsOf(LANGS), { method: 'lsar', rank: 3, remove: 4 })).toThrow(
      /^remove must be an integer from 1 to the rank 3/,
    );
  });

  it('refuses a rank the means do not have', () => {
    const m = momentsOf(['en', 'de', 'fr']);
    const twin = { ...(m[1] as LanguageMoments), lang: 'it' };
    expect(() => lsarSubspace([m[0]!.mean, m[1]!.mean, twin.mean], 2)).toThrow(/numerical rank 1/);
  });
});

describe('lir', () => {
  const p = fitProjection(momentsOf(LANGS, true), { method: 'lir', remove: 2 });

  it('per-language bases are orthonormal and outputs orthogonal to them (1e-10)', () => {
    for (const lang of LANGS) {
      const b = p.languageBases![lang]!;
      expect(b.rows).toBe(2);
      for (let i = 0; i < 2; i++)
        for (let j = 0; j < 2; j++) expect(Math.abs(dot(b.data, i * D, b.data, j * D, D) - (i === j ? 1 : 0))).toBeLessThan(1e-10);
      const y = apply(p, vectors, { lang });
      for (let r = 0; r < 10; r++) for (let j = 0; j < 2; j++) expect(Math.abs(dot(y, r * D, b.data, j * D, D))).toBeLessThan(1e-10);
      expect(maxAbsDiff(apply(p, y, { lang }), y)).toBeLessThan(1e-10);
    }
  });

  it('matches the top right singular vector found by power iteration (1e-8)', () => {
    const x = data.de as Float32Array;
    let v = new Float64Array(D).fill(1);
    for (let it = 0; it < 500; it++) {
      const w = new Float64Array(D);
      for (let r = 0; r < N; r++) {
        const c = dot(x, r * D, v, 0, D);
        for (let i = 0; i < D; i++) w[i] = (w[i] as number) + c * (x[r * D + i] as number);
      }
      const n = Math.sqrt(dot(w, 0, w, 0, D));
      v = w.map((t) => t / n);
    }
    const b = p.languageBases!.de!;
    expect(Math.abs(Math.abs(dot(b.data, 0, v, 0, D)) - 1)).toBeLessThan(1e-8);
  });

  it('needs the language', () => {
    expect(() => apply(p, vectors)).toThrow(/needs the input's language/);
    expect(() => apply(p, vectors, { lang: 'xx' })).toThrow(/no language "xx"/);
  });
});

describe('demean and none', () => {
  it('demean subtracts the language mean (1e-12)', () => {
    const p = fitProjection(momentsOf(LANGS), { method: 'demean' });
    const y = apply(p, vectors, { lang: 'fr' });
    expect(Math.abs((y[3] as number) - ((vectors[3] as number) - (p.means.fr![3] as number)))).toBeLessThan(1e-12);
  });

  it('none is the identity; --normalize gives unit rows (1e-12)', () => {
    const p = fitProjection(momentsOf(LANGS), { method: 'none' });
    expect(maxAbsDiff(apply(p, vectors), vectors)).toBe(0);
    const y = apply(p, vectors, { normalize: true });
    for (let r = 0; r < 10; r++) expect(Math.abs(dot(y, r * D, y, r * D, D) - 1)).toBeLessThan(1e-12);
  });

  it('rejects rank/remove for methods without them, and unknown methods', () => {
    expect(() => fitProjection(momentsOf(LANGS), { method: 'demean', rank: 2 })).toThrow(/does not apply/);
    expect(() => fitProjection(momentsOf(LANGS), { method: 'pca' as never })).toThrow(/unknown method "pca"/);
  });
});

describe('fitFromArrays', () => {
  it('agrees with fitting from moments (1e-12), and rejects one language and NaN', () => {
    const p = fitFromArrays(data, D, { method: 'lsar' });
    const q = fitProjection(momentsOf(LANGS), { method: 'lsar' });
    expect(maxAbsDiff(apply(p, vectors), apply(q, vectors))).toBeLessThan(1e-12);
    expect(() => fitFromArrays({ en: data.en as Float32Array }, D, { method: 'lsar' })).toThrow(/at least 2 languages, got 1/);
    const bad = (data.de as Float32Array).slice();
    bad[5 * D + 2] = NaN;
    expect(() => fitFromArrays({ en: data.en as Float32Array, de: bad }, D, { method: 'demean' })).toThrow(/row 5 holds NaN or Inf/);
  });
});
