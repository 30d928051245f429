/**
 * The evaluation data of each task as embeddings: read from pre-computed files, or embedded
 * from the texts with the run's model (through the embedding cache).
 */
import { mkdir, readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { takeRows, type Embeddings } from '../../core/embeddings.js';
import { createError, opt } from '../../core/errors.js';
import { writeFileAtomic } from '../../io/atomic.js';
import { checkColumnApplies, openEmbeddings, readEmbeddings } from '../../io/embeddings.js';
import { canonicalLanguage, XTREME_TATOEBA } from '../../io/languages.js';
import { isParquet } from '../../io/parquet.js';
import { listTatoebaLanguages, loadTatoeba } from '../../io/tatoeba.js';
import { loadXquadR, type XquadR } from '../../io/xquadr.js';
import type { EmbeddingCache } from '../services/embedding-cache.js';

export interface Side {
  vectors: Embeddings;
  lang: string;
  file: string;
}

/** An aligned set: row i of `foreign` translates row i of `english`. */
export interface PairSet {
  lang: string;
  foreign: Side;
  english: Side;
}

/**
 * An aligned set whose files are checked (headers: rows, dimension) but read only by `load()`:
 * languages are evaluated one at a time, so memory holds one language's rows at once.
 */
export interface LazyPairSet {
  lang: string;
  /** The file the foreign side is read from. */
  file: string;
  /** Read the rows, into `reuse` buffers of an earlier set when they are large enough. */
  load(reuse?: { foreign?: Float32Array; english?: Float32Array }): Promise<PairSet>;
}

/** A side's file: read when its set is loaded, its shape checked now. */
async function sideFile(
  file: string,
  o: { rows?: number; rowsOf?: string; dim?: number; what?: string },
): Promise<{ rows: number; dim: number; read: (into?: Float32Array) => Promise<Embeddings> }> {
  const r = await readHeader(file, o.what);
  if (o.rows !== undefined && r.rows !== o.rows) {
    throw createError(
      'INPUT',
      `${file}: ${r.rows} rows, but ${o.rowsOf ?? 'the data'} has ${o.rows}: embeddings must follow the data line by line`,
    );
  }
  if (o.dim !== undefined && r.dim !== o.dim)
    throw createError('DIM_MISMATCH', `${file}: dimension ${r.dim}, but this run needs dimension ${o.dim}`);
  return {
    ...r,
    read: (into?: Float32Array) =>
      readEmbeddings(file, {
        ...(o.what ? { what: o.what } : {}),
        rows: r.rows,
        ...(o.rowsOf ? { rowsOf: o.rowsOf } : {}),
        ...(into ? { into } : {}),
      }),
  };
}

async function readHeader(file: string, what?: string): Promise<{ rows: number; dim: number }> {
  const src = await openEmbeddings(file, what ? { what } : {});
  await src.close();
  return { rows: src.rows as number, dim: src.dim as number };
}

/** A lazy set from two checked side files. */
async function lazySet(
  lang: string,
  f: { file: string; rows?: number; rowsOf?: string; what?: string },
  e: { file: string; lang: string; rowsOf?: string; what?: string },
): Promise<LazyPairSet> {
  const fs = await sideFile(f.file, f);
  const es = await sideFile(e.file, { ...e, rows: fs.rows, dim: fs.dim });
  return {
    lang,
    file: f.file,
    load: async (reuse = {}) => ({
      lang,
      foreign: { vectors: await fs.read(reuse.foreign), lang, file: f.file },
      english: { vectors: await es.read(reuse.english), lang: e.lang, file: e.file },
    }),
  };
}

/** Where a task's evaluation data comes from. */
export interface DataOptions {
  /** tatoeba: LASER's Tatoeba directory; lareqa: the XQuAD-R directory. */
  data?: string;
  /**
   * Pre-computed embeddings. tatoeba and pairs: `<lang>.npy` (foreign side) and
   * `<lang>.en.npy` (English side) per language; lareqa: `<lang>.questions.npy` and
   * `<lang>.candidates.npy` in file order.
   */
  embeddings?: string;
  /** pairs: explicit aligned files (instead of `embeddings`). */
  queries?: string;
  targets?: string;
  queryLang?: string;
  targetLang?: string;
  /** pairs: the embedding column of Parquet queries and targets (default embedding). */
  column?: string;
  /** pairs: a column of the Parquet queries holding each row's language: one set per language. */
  langColumn?: string;
  /** Languages to evaluate (default: tatoeba's 36 XTREME languages that are present, or all). */
  langs?: string[];
}

type PairSource = DataOptions & { task: 'tatoeba' | 'pairs' };

/** Languages with both `<lang>.npy` and `<lang>.en.npy` in `dir`, sorted. */
export async function listPairLanguages(dir: string): Promise<string[]> {
  let names: string[];
  try {
    names = await readdir(dir);
  } catch {
    throw createError('NOT_FOUND', `${dir}: no such embeddings directory`);
  }
  const set = new Set(names);
  return names
    .filter((n) => /^[a-z]{2,3}(?:[-_][A-Za-z0-9]{2,8})?\.npy$/.test(n) && set.has(n.replace(/\.npy$/, '.en.npy')))
    .map((n) => n.replace(/\.npy$/, ''))
    .filter((l) => l !== 'en')
    .sort();
}

export async function tatoebaLanguages(data: string, langs: string[] | undefined): Promise<string[]> {
  if (langs) return langs;
  const present = await listTatoebaLanguages(data);
  return XTREME_TATOEBA.filter((l) => present.includes(l));
}

/** The aligned sets of the tatoeba and pairs tasks. */
export async function loadPairSets(o: PairSource, cache: EmbeddingCache | undefined): Promise<LazyPairSet[]> {
  if (o.task === 'pairs' && o.queries) {
    const set = await loadExplicitPairs(o, cache);
    const sets = o.langColumn !== undefined ? await splitByLanguage(set, o) : [set];
    return sets.map((s) => ({ lang: s.lang, file: s.foreign.file, load: async () => s }));
  }
  if (o.task === 'tatoeba' && cache && !o.embeddings) {
    if (!o.data)
      throw createError('USAGE', `tatoeba needs ${opt('data')} <Tatoeba directory> (LASER tatoeba.<xxx>-eng.* files)`, {
        params: ['data'],
      });
    const data = o.data;
    const tsets = await Promise.all((await tatoebaLanguages(data, o.langs)).map((l) => loadTatoeba(data, l)));
    const fdir = await cache.embed(join('tatoeba', 'foreign'), { inputs: tsets.map((t) => ({ lang: t.lang, path: t.files.foreign })) });
    const edir = await cache.embed(join('tatoeba', 'english'), { inputs: tsets.map((t) => ({ lang: t.lang, path: t.files.english })) });
    const sets: LazyPairSet[] = [];
    for (const t of tsets) {
      const ff = join(fdir, `${t.lang}.npy`);
      const ef = join(edir, `${t.lang}.npy`);
      sets.push(
        await lazySet(
          t.lang,
          { file: ff, rows: t.foreign.length, rowsOf: t.files.foreign },
          { file: ef, lang: 'en', rowsOf: t.files.english },
        ),
      );
    }
    return sets;
  }
  if (!o.embeddings) {
    throw createError(
      'USAGE',
      `${o.task} needs ${opt('embeddings')} <dir> with <lang>.npy and <lang>.en.npy${o.task === 'pairs' ? ', or queries and targets' : ''}`,
      { params: ['embeddings', 'queries', 'targets'] },
    );
  }
  const dir = o.embeddings;
  let langs = o.langs;
  if (!langs) {
    const available = await listPairLanguages(dir);
    langs = (o.task === 'tatoeba' && o.data ? await tatoebaLanguages(o.data, undefined) : available).filter((l) => available.includes(l));
    if (langs.length === 0) throw createError('NOT_FOUND', `${dir}: no <lang>.npy embeddings for the languages to evaluate`);
  }
  const sets: LazyPairSet[] = [];
  for (const lang of langs) {
    let lines: number | undefined;
    let rowsOf = `${lang} pairs`;
    if (o.task === 'tatoeba') {
      if (!o.data)
        throw createError('USAGE', `tatoeba needs ${opt('data')} <Tatoeba directory> (LASER tatoeba.<xxx>-eng.* files)`, {
          params: ['data'],
        });
      const t = await loadTatoeba(o.data, lang);
      lines = t.foreign.length;
      rowsOf = t.files.foreign;
    }
    const ff = join(dir, `${lang}.npy`);
    const ef = join(dir, `${lang}.en.npy`);
    sets.push(
      await lazySet(
        lang,
        { file: ff, what: rowsOf, ...(lines !== undefined ? { rows: lines, rowsOf } : {}) },
        { file: ef, lang: 'en', what: rowsOf, rowsOf: lines !== undefined ? rowsOf : ff },
      ),
    );
  }
  return sets;
}

/** pairs with --queries/--targets: two aligned files (.npy, or .txt embedded with the model). */
async function loadExplicitPairs(o: PairSource, cache: EmbeddingCache | undefined): Promise<PairSet> {
  if (!o.targets) throw createError('USAGE', `pairs needs ${opt('targets')} with ${opt('queries')}`, { params: ['targets', 'queries'] });
  let qFile = o.queries as string;
  let tFile = o.targets;
  if (/\.txt$/i.test(qFile) || /\.txt$/i.test(tFile)) {
    if (!cache) throw createError('USAGE', 'pairs of text files (.txt) need a model to embed them', { param: 'model' });
    const ql = o.queryLang ?? 'qq';
    const tl = o.targetLang ?? 'tt';
    qFile = join(await cache.embed(join('pairs', 'queries'), { inputs: [{ lang: ql, path: qFile }] }), `${ql}.npy`);
    tFile = join(await cache.embed(join('pairs', 'targets'), { inputs: [{ lang: tl, path: tFile }] }), `${tl}.npy`);
  }
  checkColumnApplies(o.column, [qFile, tFile]);
  const col = o.column !== undefined ? { column: o.column } : {};
  const q = await readEmbeddings(qFile, { what: 'queries', ...col });
  const t = await readEmbeddings(tFile, { what: 'targets', dim: q.dim, ...col });
  if (q.rows !== t.rows)
    throw createError('INPUT', `${o.targets}: ${t.rows} rows, but ${o.queries} has ${q.rows}: aligned pairs need equal lengths`);
  const ql = o.queryLang ?? 'queries';
  return {
    lang: ql,
    foreign: { vectors: q, lang: ql, file: qFile },
    english: { vectors: t, lang: o.targetLang ?? 'targets', file: tFile },
  };
}

/** Aligned pairs split by the queries' language column: one set per language, rows in file order. */
async function splitByLanguage(set: PairSet, o: PairSource): Promise<PairSet[]> {
  const file = set.foreign.file;
  if (!isParquet(file)) throw createError('USAGE', `${file}: a language column needs Parquet queries`, { params: ['langColumn'] });
  const src = await openEmbeddings(file, { langColumn: o.langColumn as string, ...(o.column !== undefined ? { column: o.column } : {}) });
  const rowsOf = new Map<string, number[]>();
  let row = 0;
  try {
    for await (const b of src.blocks()) {
      for (const l of b.langs ?? []) {
        const lang = canonicalLanguage(l, `${file} (${o.langColumn})`).lang;
        let list = rowsOf.get(lang);
        if (!list) rowsOf.set(lang, (list = []));
        list.push(row++);
      }
    }
  } finally {
    await src.close();
  }
  const langs = [...rowsOf.keys()].sort().filter((l) => !o.langs || o.langs.includes(l));
  if (langs.length === 0) throw createError('EMPTY', `${file}: no rows in the languages asked for (${(o.langs ?? []).join(', ')})`);
  return langs.map((lang) => {
    const rows = rowsOf.get(lang) as number[];
    return {
      lang,
      foreign: { vectors: takeRows(set.foreign.vectors, rows, 'keep-dtype'), lang, file },
      english: { vectors: takeRows(set.english.vectors, rows, 'keep-dtype'), lang: set.english.lang, file: set.english.file },
    };
  });
}

/** XQuAD-R with the embeddings of its questions and candidate sentences, per language. */
export interface LareqaSet {
  xq: XquadR;
  questions: Side[];
  candidates: Side[];
  dim: number;
}

export async function loadLareqa(
  o: { data?: string; embeddings?: string; langs?: string[] },
  cache: EmbeddingCache | undefined,
): Promise<LareqaSet> {
  if (!o.data) throw createError('USAGE', `lareqa needs ${opt('data')} <XQuAD-R directory>`, { params: ['data'] });
  if (!o.embeddings && !cache) {
    throw createError(
      'USAGE',
      `lareqa needs ${opt('embeddings')} <dir> with <lang>.questions.npy and <lang>.candidates.npy, or ${opt('model')} to embed the texts`,
      { params: ['embeddings', 'model'] },
    );
  }
  const xq = await loadXquadR(o.data, o.langs);
  let path = (lang: string, what: 'questions' | 'candidates') => join(o.embeddings as string, `${lang}.${what}.npy`);
  if (!o.embeddings && cache) {
    // Write the texts one per line, embed them, read them back in the same order.
    const textDir = join(cache.root, 'lareqa', 'text');
    await mkdir(textDir, { recursive: true });
    const files: Record<'questions' | 'candidates', { lang: string; path: string }[]> = { questions: [], candidates: [] };
    for (const lang of xq.languages) {
      for (const what of ['questions', 'candidates'] as const) {
        const items = what === 'questions' ? xq.questions.filter((q) => q.lang === lang) : xq.candidates.filter((c) => c.lang === lang);
        const file = join(textDir, `${lang}.${what}.txt`);
        await writeFileAtomic(file, items.map((x) => x.text.replace(/\s+/g, ' ').trim() || '-').join('\n') + '\n');
        files[what].push({ lang, path: file });
      }
    }
    const qdir = await cache.embed(join('lareqa', 'questions'), { inputs: files.questions });
    const cdir = await cache.embed(join('lareqa', 'candidates'), { inputs: files.candidates });
    path = (lang, what) => join(what === 'questions' ? qdir : cdir, `${lang}.npy`);
  }
  const questions: Side[] = [];
  const candidates: Side[] = [];
  let dim: number | undefined;
  for (const lang of xq.languages) {
    const json = join(o.data, `${lang}.json`);
    const nq = xq.questions.filter((q) => q.lang === lang).length;
    const nc = xq.candidates.filter((c) => c.lang === lang).length;
    const qf = path(lang, 'questions');
    const cf = path(lang, 'candidates');
    const q = await readEmbeddings(qf, { rows: nq, rowsOf: `${json} (questions)`, ...(dim !== undefined ? { dim } : {}) });
    dim = q.dim;
    const c = await readEmbeddings(cf, { rows: nc, rowsOf: `${json} (candidate sentences)`, dim });
    questions.push({ vectors: q, lang, file: qf });
    candidates.push({ vectors: c, lang, file: cf });
  }
  return { xq, questions, candidates, dim: dim as number };
}
