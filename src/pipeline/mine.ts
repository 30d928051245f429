/**
 * `lsar mine`: parallel sentences in two monolingual collections, by margin scoring of the
 * k nearest neighbours in both directions (core/mining.ts, LASER's mine_bitexts.py), with a
 * projection applied. The neighbour lists come from the search backend (exact by default for
 * sizes where it is faster, HNSW for large sides), so memory is the data plus O((n + m) k).
 */
import { join } from 'node:path';
import type { Writable } from 'node:stream';
import type { Embeddings } from '../core/embeddings.js';
import type { Events } from '../core/events.js';
import { validate, type OptionsOf, type Schema } from '../core/schema.js';
import { createError, opt } from '../core/errors.js';
import { MARGINS, minePairs, RETRIEVALS, type Margin, type MinedPairs, type Retrieval } from '../core/margin.js';
import type { Projection } from '../core/projection.js';
import { createOperator, projectRows } from '../core/apply.js';
import { normalizeRowsInPlace } from '../core/rows.js';
import { projectionFiles, projectionOf, projectionOption } from '../io/artifact.js';
import { AtomicTextWriter } from '../io/atomic.js';
import { refuseOverwrite } from '../io/same-file.js';
import { checkColumnApplies, readEmbeddings } from '../io/embeddings.js';
import { writeText } from '../io/jsonl.js';
import { readLines } from '../io/text.js';
import { EmbeddingCache, cacheFor, cacheSchema } from './services/embedding-cache.js';
import { columnSchema } from './services/moments.js';
import { modelSchema } from './services/model.js';
import { dataKey, projectionKey, runSearch, searchSchema, searchSettings, type SearchReport } from './services/search/index.js';
import { canonicalLanguageOptions } from '../io/languages.js';

/** `lsar mine`: the two sides, the projection, the margin, and the search options. */
export const mineSchema = {
  src: {
    type: 'string',
    required: true,
    description: 'Source side: embeddings (.npy, .parquet, .jsonl) or texts (.txt, embedded with --model)',
  },
  trg: {
    type: 'string',
    required: true,
    description: 'Target side: embeddings (.npy, .parquet, .jsonl) or texts (.txt, embedded with --model)',
  },
  srcText: { type: 'string', description: 'Source texts (one per non-empty line, as the embeddings) to write beside each pair' },
  trgText: { type: 'string', description: 'Target texts (one per non-empty line) to write beside each pair' },
  projection: { type: 'string', alias: 'p', description: 'Apply this projection (lsar fit --out) to both sides' },
  srcLang: { type: 'string', description: 'Source language (lir and demean projections)' },
  trgLang: { type: 'string', description: 'Target language (lir and demean projections)' },
  margin: {
    type: 'string',
    choices: MARGINS,
    default: 'ratio',
    description: "ratio a/b (LASER default), distance a-b, or absolute a, with a = cosine, b = mean of both rows' k-NN similarities",
  },
  retrieval: {
    type: 'string',
    choices: RETRIEVALS,
    default: 'max',
    description: 'max: pooled best pairs of both directions, each row used once (LASER default); fwd; bwd; intersect',
  },
  k: { type: 'integer', min: 1, max: 100_000, default: 4, description: "Neighbourhood size (capped at each side's size)" },
  threshold: {
    type: 'number',
    description: 'Keep pairs scoring above this',
    defaultText: 'for max: 1.0 with ratio, 0 otherwise; other modes keep all',
  },
  unify: {
    type: 'boolean',
    default: false,
    description: "Deduplicate each side's texts first, as LASER --unify (pairs then name the first row of each text)",
  },
  out: {
    type: 'string',
    alias: 'o',
    required: true,
    description: 'Output TSV (score, src row, trg row[, src text, trg text]), or - for stdout; written atomically',
  },
  ...cacheSchema,
  column: columnSchema.column,
  ...searchSchema,
  ...modelSchema,
} as const satisfies Schema;

export type MineOptions = Omit<OptionsOf<typeof mineSchema>, 'projection'> & {
  /** A projection applied to both sides (lir/demean need srcLang and trgLang), or its path. */
  projection?: string | Projection | undefined;
  stdout?: Writable;
  events?: Events;
};

export interface MineSummary {
  sources: number;
  targets: number;
  k: number;
  margin: Margin;
  retrieval: Retrieval;
  threshold: number | null;
  pairs: number;
  /** Score quantiles of the mined pairs (min, 25%, median, 75%, max). */
  scores: { min: number; q25: number; median: number; q75: number; max: number } | null;
  search: { forward: SearchReport; backward: SearchReport };
  seconds: number;
  output: string;
}

interface Side {
  vectors: Embeddings<Float32Array>;
  texts?: string[];
  /** With unify: the original row of each unique text (its first occurrence). */
  rows?: Int32Array;
}

export async function mine(given: MineOptions): Promise<{ pairs: MinedPairs; summary: MineSummary }> {
  const start = Date.now();
  const options = {
    ...canonicalLanguageOptions(validate(mineSchema, { ...given, projection: projectionOption(given.projection) }), ['srcLang', 'trgLang']),
    projection: await projectionOf(given.projection),
  };
  const k = options.k;
  const settings = searchSettings(options);
  checkColumnApplies(options.column, [options.src, options.trg]);
  const indexOut = options.indexOut !== undefined ? [`${options.indexOut}.trg`, `${options.indexOut}.src`] : [];
  await refuseOverwrite(
    [
      { path: options.out, param: 'out' },
      ...indexOut.map((path) => ({ path, param: 'indexOut', mayBeDirectory: true })),
      ...indexOut.map((f) => ({ path: `${f}.json`, param: 'indexOut' })),
    ],
    [
      options.src,
      options.trg,
      options.srcText,
      options.trgText,
      options.indexIn && `${options.indexIn}.trg`,
      options.indexIn && `${options.indexIn}.src`,
      ...projectionFiles(options.projection),
    ],
  );
  const progress = (stage: string, total?: number) => given.events?.progress?.(`mine: ${stage}`, 0, total, { unit: 'rows' });
  const cache = cacheFor(options, given.events);
  let src: Side;
  let trg: Side;
  try {
    src = await loadSide('source', options.src, options.srcText, options.srcLang ?? 'src', cache, options);
    trg = await loadSide('target', options.trg, options.trgText, options.trgLang ?? 'trg', cache, options);
  } finally {
    await cache?.dispose();
  }
  if (src.vectors.dim !== trg.vectors.dim) {
    throw createError('DIM_MISMATCH', `${options.trg}: dimension ${trg.vectors.dim}, but ${options.src} has dimension ${src.vectors.dim}`);
  }
  const p = options.projection;
  // what each side's index is of: its vectors as read, and the projection applied to them
  const keys =
    options.indexIn !== undefined || options.indexOut !== undefined
      ? {
          src: { data: dataKey(src.vectors), projection: projectionKey(p, options.srcLang) },
          trg: { data: dataKey(trg.vectors), projection: projectionKey(p, options.trgLang) },
        }
      : undefined;
  if (p && p.method !== 'none') {
    if (p.dim !== src.vectors.dim)
      throw createError(
        'DIM_MISMATCH',
        `${options.src}: dimension ${src.vectors.dim}, but the projection was fitted on dimension ${p.dim}`,
      );
    progress(`projecting (${p.method})`, src.vectors.rows + trg.vectors.rows);
    for (const [side, lang, file] of [
      [src, options.srcLang, options.src],
      [trg, options.trgLang, options.trg],
    ] as const) {
      const r = projectRows(createOperator(p, lang !== undefined ? { lang } : {}), side.vectors.data, side.vectors.rows, file);
      side.vectors = { ...side.vectors, data: r.data, dim: r.dim };
    }
  }
  for (const side of [src, trg]) {
    normalizeRowsInPlace(side.vectors.data, side.vectors.dim);
    side.vectors = { ...side.vectors, normalized: true };
  }
  const n = src.vectors.rows;
  const m = trg.vectors.rows;
  const job = (side: 'src' | 'trg') => ({
    ...settings,
    ...(options.indexIn !== undefined ? { indexIn: `${options.indexIn}.${side}` } : {}),
    ...(options.indexOut !== undefined ? { indexOut: `${options.indexOut}.${side}` } : {}),
    ...(keys ? { key: keys[side] } : {}),
  });
  progress(`${k}-NN source -> target (${n} x ${m})`, n);
  const fwd = await runSearch(trg.vectors, src.vectors, Math.min(k, m), job('trg'));
  progress(`${k}-NN target -> source`, m);
  const bwd = await runSearch(src.vectors, trg.vectors, Math.min(k, n), job('src'));
  const pairs = minePairs(fwd.top, bwd.top, n, m, {
    ...(options.margin ? { margin: options.margin } : {}),
    ...(options.retrieval ? { retrieval: options.retrieval } : {}),
    ...(options.threshold !== undefined ? { threshold: options.threshold } : {}),
  });
  await writePairs(options, pairs, src, trg);
  const retrieval = options.retrieval ?? 'max';
  const margin = options.margin ?? 'ratio';
  const summary: MineSummary = {
    sources: n,
    targets: m,
    k,
    margin,
    retrieval,
    threshold: options.threshold ?? (retrieval === 'max' ? (margin === 'ratio' ? 1 : 0) : null),
    pairs: pairs.scores.length,
    scores: quantiles(pairs.scores),
    search: { forward: fwd.report, backward: bwd.report },
    seconds: (Date.now() - start) / 1000,
    output: options.out,
  };
  return { pairs, summary };
}

async function loadSide(
  what: string,
  path: string,
  textFile: string | undefined,
  lang: string,
  cache: EmbeddingCache | undefined,
  o: MineOptions,
): Promise<Side> {
  let file = path;
  let texts = textFile !== undefined ? await readLines(textFile) : undefined;
  if (/\.txt$/i.test(path)) {
    if (!cache)
      throw createError('USAGE', `${path}: the ${what} texts need ${opt('model')} to embed them (or give embeddings: .npy or .jsonl)`, {
        params: ['model'],
      });
    texts ??= await readLines(path);
    file = join(await cache.embed(join('mine', what), { inputs: [{ lang, path }] }), `${lang}.npy`);
  }
  const raw = await readEmbeddings(file, { what: `the ${what} side`, ...(o.column !== undefined ? { column: o.column } : {}) });
  if (raw.rows === 0) throw createError('EMPTY', `${file}: the ${what} side has no rows`);
  const vectors: Embeddings<Float32Array> = {
    data: raw.data instanceof Float32Array ? raw.data : Float32Array.from(raw.data),
    rows: raw.rows,
    dim: raw.dim,
    dtype: 'float32',
  };
  if (texts && texts.length !== raw.rows) {
    throw createError(
      'INPUT',
      `${textFile ?? path}: ${texts.length} non-empty lines, but ${file} has ${raw.rows} embeddings: they must match line by line`,
    );
  }
  if (!o.unify) return { vectors, ...(texts ? { texts } : {}) };
  if (!texts)
    throw createError('USAGE', `${opt('unify')} needs the ${what} texts (a .txt side, or ${what === 'source' ? 'srcText' : 'trgText'})`, {
      params: ['unify', 'srcText', 'trgText'],
    });
  // As LASER's TextLoadUnify: unique texts in order of first occurrence; each takes the
  // embedding of its last occurrence (unique_embeddings); pairs name its first row.
  const first = new Map<string, number>();
  const last = new Map<string, number>();
  texts.forEach((t, i) => {
    if (!first.has(t)) first.set(t, i);
    last.set(t, i);
  });
  const unique = [...first.keys()];
  const d = raw.dim;
  const data = new Float32Array(unique.length * d);
  unique.forEach((t, u) => data.set(vectors.data.subarray((last.get(t) as number) * d, ((last.get(t) as number) + 1) * d), u * d));
  return {
    vectors: { data, rows: unique.length, dim: d, dtype: 'float32' },
    texts: unique,
    rows: Int32Array.from(unique, (t) => first.get(t) as number),
  };
}

async function writePairs(o: MineOptions, p: MinedPairs, src: Side, trg: Side): Promise<void> {
  const texts = src.texts && trg.texts;
  const clean = (t: string) => t.replace(/[\t\r\n]/g, ' ');
  const line = (i: number) => {
    const s = p.src[i] as number;
    const t = p.trg[i] as number;
    const base = `${p.scores[i]}\t${src.rows ? src.rows[s] : s}\t${trg.rows ? trg.rows[t] : t}`;
    return texts ? `${base}\t${clean(src.texts![s] as string)}\t${clean(trg.texts![t] as string)}\n` : `${base}\n`;
  };
  const chunks = function* () {
    for (let a = 0; a < p.scores.length; a += 4096) {
      let s = '';
      for (let i = a; i < Math.min(p.scores.length, a + 4096); i++) s += line(i);
      yield s;
    }
  };
  if (o.out === '-') {
    for (const c of chunks()) await writeText(o.stdout ?? process.stdout, c);
    return;
  }
  const w = await AtomicTextWriter.create(o.out);
  try {
    for (const c of chunks()) await w.write(c);
    await w.close();
  } catch (e) {
    await w.abort();
    throw e;
  }
}

function quantiles(x: Float64Array): MineSummary['scores'] {
  if (x.length === 0) return null;
  const s = Float64Array.from(x).sort();
  const q = (f: number) => s[Math.min(s.length - 1, Math.round(f * (s.length - 1)))] as number;
  return { min: s[0] as number, q25: q(0.25), median: q(0.5), q75: q(0.75), max: s[s.length - 1] as number };
}
