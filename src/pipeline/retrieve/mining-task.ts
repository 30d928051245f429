/**
 * The `mining` task: BUCC-style bitext mining, methods side by side. Gold translations hide
 * among non-translations on both sides; pairs are mined (margin ratio, k = 4, retrieval max,
 * core/mining.ts) and scored by precision, recall and F1 at the threshold that maximises F1 on
 * the dev split, applied to the test split (as BUCC and XTREME do).
 *
 * Sets: from Tatoeba (`data` = LASER's Tatoeba directory): per language, its rows are split
 * into dev and test halves by a seeded permutation; in each half, a random 50% of the foreign
 * rows is the source side and a different random 50% of the English rows the target side, so
 * about half of each side has its translation on the other (seed: 2022 and the language code,
 * so a language's sets do not depend on which others are evaluated). Or BUCC's own files
 * (`data` holding `<xx>-en.<dev|test>.<xx>`, `.en` and `.gold`; io/bucc.ts reads them).
 */
import { join } from 'node:path';
import { takeRows, type Embeddings } from '../../core/embeddings.js';
import { createError, opt } from '../../core/errors.js';
import { minePairs } from '../../core/margin.js';
import { mulberry32, shuffleInPlace } from '../../core/random.js';
import { normalizeRowsInPlace } from '../../core/rows.js';
import { writeFileAtomic } from '../../io/atomic.js';
import { readEmbeddings } from '../../io/embeddings.js';
import { buccFiles, readBuccSplit, type BuccFiles } from '../../io/bucc.js';
import { loadTatoeba } from '../../io/tatoeba.js';
import type { EmbeddingCache } from '../services/embedding-cache.js';
import { tatoebaLanguages } from './datasets.js';
import { checkDims, projectFor, type MethodRun } from './methods.js';
import type { SearchLog } from '../services/search/index.js';
import type { MetricTable } from './tasks.js';

/** One split of one language: source and target rows and the gold pairs (source row, target row). */
export interface MiningSplit {
  src: Embeddings;
  trg: Embeddings;
  gold: Set<string>;
}

export interface MiningSet {
  lang: string;
  dev: MiningSplit;
  test: MiningSplit;
}

/** A string's 32-bit FNV-1a hash (seeds per language). */
function fnv(s: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < s.length; i++) h = Math.imul(h ^ s.charCodeAt(i), 0x01000193) >>> 0;
  return h;
}

function shuffled(n: number, rand: () => number): number[] {
  return shuffleInPlace(
    Array.from({ length: n }, (_, i) => i),
    rand,
  );
}

/**
 * The dev/test sets of a Tatoeba language from the rows of its two sides: the first half of a
 * seeded permutation is dev, the rest test; each side keeps a random half of a split's rows.
 */
export function tatoebaMiningSet(lang: string, foreign: Embeddings, english: Embeddings): MiningSet {
  const rand = mulberry32((2022 ^ fnv(lang)) >>> 0);
  const order = shuffled(foreign.rows, rand);
  const half = Math.floor(order.length / 2);
  const split = (rows: number[]): MiningSplit => {
    const srcRows = shuffled(rows.length, rand)
      .slice(0, Math.ceil(rows.length / 2))
      .map((i) => rows[i] as number)
      .sort((a, b) => a - b);
    const trgRows = shuffled(rows.length, rand)
      .slice(0, Math.ceil(rows.length / 2))
      .map((i) => rows[i] as number)
      .sort((a, b) => a - b);
    const at = new Map(trgRows.map((r, j) => [r, j]));
    const gold = new Set<string>();
    srcRows.forEach((r, i) => {
      const j = at.get(r);
      if (j !== undefined) gold.add(`${i}-${j}`);
    });
    return { src: takeRows(foreign, srcRows), trg: takeRows(english, trgRows), gold };
  };
  return { lang, dev: split(order.slice(0, half)), test: split(order.slice(half)) };
}

export interface MiningSource {
  data?: string;
  embeddings?: string;
  langs?: string[];
}

/** The mining sets: BUCC files when `data` holds them, else built from Tatoeba. */
export async function loadMiningSets(o: MiningSource, cache: EmbeddingCache | undefined): Promise<MiningSet[]> {
  if (!o.data) throw createError('USAGE', `mining needs ${opt('data')}: a Tatoeba directory or BUCC files`, { params: ['data'] });
  const data = o.data;
  const bucc = await buccFiles(data, o.langs);
  if (bucc.length > 0) return loadBucc(bucc, o, cache);
  const langs = await tatoebaLanguages(data, o.langs);
  const tsets = await Promise.all(langs.map((l) => loadTatoeba(data, l)));
  let fdir: string | undefined;
  let edir: string | undefined;
  if (!o.embeddings) {
    if (!cache)
      throw createError('USAGE', `mining needs ${opt('embeddings')} (<lang>.npy and <lang>.en.npy) or ${opt('model')} to embed Tatoeba`, {
        params: ['embeddings', 'model'],
      });
    fdir = await cache.embed(join('tatoeba', 'foreign'), { inputs: tsets.map((t) => ({ lang: t.lang, path: t.files.foreign })) });
    edir = await cache.embed(join('tatoeba', 'english'), { inputs: tsets.map((t) => ({ lang: t.lang, path: t.files.english })) });
  }
  const sets: MiningSet[] = [];
  for (const t of tsets) {
    const ff = fdir ? join(fdir, `${t.lang}.npy`) : join(o.embeddings as string, `${t.lang}.npy`);
    const ef = edir ? join(edir, `${t.lang}.npy`) : join(o.embeddings as string, `${t.lang}.en.npy`);
    const f = await readEmbeddings(ff, { rows: t.foreign.length, rowsOf: t.files.foreign });
    const e = await readEmbeddings(ef, { rows: t.english.length, rowsOf: t.files.english, dim: f.dim });
    sets.push(tatoebaMiningSet(t.lang, f, e));
  }
  return sets;
}

async function loadBucc(files: BuccFiles[], o: MiningSource, cache: EmbeddingCache | undefined): Promise<MiningSet[]> {
  const splits = new Map<string, Partial<Record<'dev' | 'test', MiningSplit>>>();
  for (const f of files) {
    const { src, trg, gold } = await readBuccSplit(f);
    let srcVectors: Embeddings;
    let trgVectors: Embeddings;
    if (o.embeddings) {
      srcVectors = await readEmbeddings(`${join(o.embeddings, `${f.lang}-en.${f.split}.${f.lang}`)}.npy`, {
        rows: src.ids.length,
        rowsOf: f.src,
      });
      trgVectors = await readEmbeddings(`${join(o.embeddings, `${f.lang}-en.${f.split}.en`)}.npy`, { rows: trg.ids.length, rowsOf: f.trg });
    } else {
      if (!cache)
        throw createError('USAGE', `BUCC needs ${opt('embeddings')} (<file>.npy beside each) or ${opt('model')} to embed the sentences`, {
          params: ['embeddings', 'model'],
        });
      const textDir = join(cache.root, 'bucc', 'text');
      const sp = join(textDir, `${f.lang}-${f.split}.src.txt`);
      const tp = join(textDir, `${f.lang}-${f.split}.trg.txt`);
      await writeFileAtomic(sp, src.texts.join('\n') + '\n');
      await writeFileAtomic(tp, trg.texts.join('\n') + '\n');
      srcVectors = await readEmbeddings(
        join(await cache.embed(join('bucc', f.split, 'src'), { inputs: [{ lang: f.lang, path: sp }] }), `${f.lang}.npy`),
        { rows: src.ids.length, rowsOf: f.src },
      );
      trgVectors = await readEmbeddings(
        join(await cache.embed(join('bucc', f.split, 'trg'), { inputs: [{ lang: f.lang, path: tp }] }), `${f.lang}.npy`),
        { rows: trg.ids.length, rowsOf: f.trg },
      );
    }
    const entry = splits.get(f.lang) ?? {};
    entry[f.split] = { src: srcVectors, trg: trgVectors, gold };
    splits.set(f.lang, entry);
  }
  return [...splits].map(([lang, s]) => {
    if (!s.dev || !s.test)
      throw createError('NOT_FOUND', `BUCC ${lang}: both the dev and the test split are needed (the threshold is chosen on dev)`);
    return { lang, dev: s.dev, test: s.test };
  });
}

/** Mined pairs of a split (all of them, threshold -Infinity) with their scores. */
async function minedPairs(
  run: MethodRun,
  lang: string,
  split: MiningSplit,
  searcher: SearchLog,
): Promise<{ scores: Float64Array; keys: string[] }> {
  const unit = (e: Embeddings, l: string) => {
    const x = projectFor(run, e, l);
    normalizeRowsInPlace(x.data, x.dim);
    return { ...x, normalized: true };
  };
  const x = unit(split.src, lang);
  const y = unit(split.trg, 'en');
  const fwd = await searcher.search(y, x, Math.min(4, y.rows));
  const bwd = await searcher.search(x, y, Math.min(4, x.rows));
  const p = minePairs(fwd, bwd, x.rows, y.rows, { margin: 'ratio', retrieval: 'max', threshold: -Infinity });
  return { scores: p.scores, keys: Array.from(p.src, (i, r) => `${i}-${p.trg[r]}`) };
}

/** P/R/F1 keeping the pairs scoring above `t` (pairs in descending score order). */
function prf(scores: Float64Array, keys: string[], gold: Set<string>, t: number): { p: number; r: number; f1: number } {
  let tp = 0;
  let n = 0;
  for (let i = 0; i < scores.length && (scores[i] as number) > t; i++) {
    n++;
    if (gold.has(keys[i] as string)) tp++;
  }
  const p = n ? tp / n : 0;
  const r = gold.size ? tp / gold.size : 0;
  return { p, r, f1: p + r > 0 ? (2 * p * r) / (p + r) : 0 };
}

/** The threshold maximising F1 on mined pairs: just below one of their scores. */
function bestThreshold(scores: Float64Array, keys: string[], gold: Set<string>): number {
  let best = { f1: -1, t: Infinity };
  let tp = 0;
  for (let i = 0; i < scores.length; i++) {
    if (gold.has(keys[i] as string)) tp++;
    const p = tp / (i + 1);
    const r = gold.size ? tp / gold.size : 0;
    const f1 = p + r > 0 ? (2 * p * r) / (p + r) : 0;
    const next = i + 1 < scores.length ? (scores[i + 1] as number) : -Infinity;
    // keep the first i + 1 pairs: a threshold between this score and the next (ties stay together)
    if (f1 > best.f1 && next < (scores[i] as number))
      best = { f1, t: next === -Infinity ? (scores[i] as number) - 1 : (next + (scores[i] as number)) / 2 };
  }
  return best.t;
}

export async function evaluateMining(
  sets: MiningSet[],
  runs: MethodRun[],
  searcher: SearchLog,
  progress: (stage: string, done?: number, total?: number, unit?: string) => void,
): Promise<{ main: MetricTable; also: Record<string, MetricTable> }> {
  const t = (metric: string): MetricTable => ({ metric, search: searcher.kind, results: {} });
  const f1 = t('F1 (test, threshold chosen on dev; margin ratio, k=4, max)');
  const precision = t('precision (test)');
  const recall = t('recall (test)');
  const threshold = t('threshold (chosen on dev)');
  for (const run of runs) {
    const per = {
      f1: {} as Record<string, number>,
      p: {} as Record<string, number>,
      r: {} as Record<string, number>,
      t: {} as Record<string, number>,
    };
    for (const s of sets) {
      checkDims([run], s.dev.src.dim, s.lang);
      progress(`mine ${run.name}`, sets.indexOf(s), sets.length, 'languages');
      const dev = await minedPairs(run, s.lang, s.dev, searcher);
      const th = bestThreshold(dev.scores, dev.keys, s.dev.gold);
      const test = await minedPairs(run, s.lang, s.test, searcher);
      const m = prf(test.scores, test.keys, s.test.gold, th);
      per.f1[s.lang] = m.f1;
      per.p[s.lang] = m.p;
      per.r[s.lang] = m.r;
      per.t[s.lang] = th;
    }
    const mean = (o: Record<string, number>) => Object.values(o).reduce((a, b) => a + b, 0) / Object.values(o).length;
    f1.results[run.name] = { mean: mean(per.f1), perLanguage: per.f1 };
    precision.results[run.name] = { mean: mean(per.p), perLanguage: per.p };
    recall.results[run.name] = { mean: mean(per.r), perLanguage: per.r };
    threshold.results[run.name] = { mean: mean(per.t), perLanguage: per.t };
  }
  for (const x of [f1, precision, recall]) x.search = searcher.kind;
  return { main: f1, also: { precision, recall, threshold } };
}
