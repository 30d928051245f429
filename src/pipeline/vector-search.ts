/**
 * The search backend every command uses (retrieve, search, and later mine and serve):
 * build an exact or HNSW index over vectors, save it with the key of what it indexes,
 * load it back only for the same data and projection, and measure HNSW recall against
 * exact search.
 *
 * A saved index is two files: `<path>` (the index itself: hnswlib's binary, or the rows as
 * .npy for exact) and `<path>.json` (kind, metric, shape, parameters, and the key: hashes of
 * the indexed data and of the projection applied to it).
 */
import { readFile, rename, rm, writeFile } from 'node:fs/promises';
import type { Embeddings } from '../core/embeddings.js';
import { checkNumber, createError } from '../core/errors.js';
import type { Projection } from '../core/projection.js';
import { ExactIndex, type IndexKind, type Metric, type VectorIndex } from '../core/vector-index.js';
import { gemmScorer } from '../adapters/gemm.js';
import { HNSW_DEFAULTS, HnswIndex, type HnswParams } from '../adapters/hnsw.js';
import { ensureParentDir, releaseTemp, tempPathFor } from '../io/atomic.js';
import { hashBytes } from '../io/hash.js';
import { readNpy, writeNpy } from '../io/npy.js';

export interface IndexOptions {
  kind: IndexKind;
  metric?: Metric;
  hnsw?: HnswParams;
  /** The index may keep (and normalise in place) the given float32 rows instead of copying them. */
  owned?: boolean;
}

/** An exact index, with the GEMM scorer when onnxruntime-node is installed. */
export async function exactIndex(dim: number, metric: Metric): Promise<ExactIndex> {
  const gemm = await gemmScorer();
  return new ExactIndex(dim, metric, gemm ? (q, t, k) => gemm.blocks(q, t, k) : undefined);
}

/** What a saved index was built from: the indexed vectors and the projection applied to them. */
export interface IndexKey {
  /** Hash of the input vectors as given (before projection). */
  data: string;
  /** `none`, or `<method>-<hash>` of the projection (and language) applied. */
  projection: string;
}

interface IndexMeta {
  format: 'lsar-index';
  formatVersion: 1;
  kind: IndexKind;
  metric: Metric;
  dim: number;
  count: number;
  m?: number;
  efConstruction?: number;
  key: IndexKey;
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

/** An index over `vectors` (labels 0..rows-1). */
export async function buildIndex(vectors: Embeddings, options: IndexOptions): Promise<VectorIndex> {
  const metric = options.metric ?? 'cosine';
  const index =
    options.kind === 'exact'
      ? await exactIndex(vectors.dim, metric)
      : HnswIndex.create(vectors.dim, metric, checkHnswParams(options.hnsw), vectors.rows);
  await index.add(vectors, { owned: options.owned === true });
  return index;
}

/** Key of a projection as applied (with its language for lir/demean): `none` or `<method>-<16 hex>`. */
export function projectionKey(p: Projection | undefined, lang?: string): string {
  if (!p || p.method === 'none') return 'none';
  const parts: (string | Float64Array)[] = [`${p.method}:${p.remove}:${lang ?? ''}`];
  if (p.basis) parts.push(p.basis.data);
  if (lang !== undefined) {
    const m = p.means[lang];
    const b = p.languageBases?.[lang]?.data;
    if (m) parts.push(m);
    if (b) parts.push(b);
  }
  return `${p.method}-${hashBytes(...parts).slice(0, 16)}`;
}

/** Hash of the vectors as given. */
export function dataKey(vectors: Embeddings): string {
  return hashBytes(vectors.data);
}

/** Save an index and its description atomically. */
export async function saveIndex(index: VectorIndex, path: string, key: IndexKey): Promise<void> {
  await ensureParentDir(path);
  const tmp = await tempPathFor(path);
  const meta: IndexMeta = {
    format: 'lsar-index',
    formatVersion: 1,
    kind: index.kind,
    metric: index.metric,
    dim: index.dim,
    count: index.size,
    ...(index instanceof HnswIndex ? { m: index.m, efConstruction: index.efConstruction } : {}),
    key,
  };
  try {
    if (index instanceof HnswIndex) await index.writeTo(tmp);
    else if (index instanceof ExactIndex) {
      const v = index.vectors();
      await writeNpy(tmp, v.data, v.rows, v.dim);
    } else throw new Error(`internal: cannot save a ${index.kind} index`);
    await writeFile(`${tmp}.json`, JSON.stringify(meta, null, 1) + '\n');
    await rename(`${tmp}.json`, `${path}.json`);
    await rename(tmp, path);
    releaseTemp(tmp);
  } catch (e) {
    await rm(tmp, { force: true });
    await rm(`${tmp}.json`, { force: true });
    releaseTemp(tmp);
    throw createError('OUTPUT', `${path}: cannot write the index (${(e as Error).message})`, { cause: e });
  }
}

/** Load an index saved by `saveIndex`, refusing one built from other data or another projection. */
export async function loadIndex(
  path: string,
  expect: { dim: number; count: number; key: IndexKey; metric?: Metric },
  hnsw: HnswParams = {},
): Promise<VectorIndex> {
  let meta: IndexMeta;
  try {
    meta = JSON.parse(await readFile(`${path}.json`, 'utf8')) as IndexMeta;
  } catch (e) {
    throw createError('NOT_FOUND', `${path}.json: missing or unreadable: an lsar index is saved with indexOut as <file> and <file>.json`, {
      cause: e,
      params: ['indexOut'],
    });
  }
  if ((meta as { format?: string }).format === 'lsar-hnsw') {
    throw createError('INDEX', `${path}: saved by an older lsar, without the hash of the data it indexes: rebuild it with indexOut`, {
      params: ['indexOut'],
    });
  }
  if (meta?.format !== 'lsar-index' || typeof meta.key !== 'object')
    throw createError('INDEX', `${path}.json: not an lsar index description`);
  const want = expect.key;
  if (meta.dim !== expect.dim || meta.count !== expect.count || meta.key.projection !== want.projection) {
    throw createError(
      'INDEX',
      `${path}: built for ${meta.count} x ${meta.dim} vectors (${meta.key.projection}), but this run indexes ${expect.count} x ${expect.dim} (${want.projection}): rebuild it with indexOut`,
      { params: ['indexOut'] },
    );
  }
  if (meta.key.data !== want.data) {
    throw createError(
      'INDEX',
      `${path}: built from other vectors (data hash ${meta.key.data.slice(0, 12)}), but this run indexes vectors with data hash ${want.data.slice(0, 12)}: rebuild it with indexOut`,
      { params: ['indexOut'] },
    );
  }
  const metric = meta.metric ?? 'cosine';
  try {
    if (meta.kind === 'hnsw') {
      const params = checkHnswParams(hnsw);
      const index = await HnswIndex.readFrom(path, meta.dim, metric, {
        m: meta.m ?? HNSW_DEFAULTS.m,
        efConstruction: meta.efConstruction ?? HNSW_DEFAULTS.efConstruction,
        ef: params.ef ?? HNSW_DEFAULTS.ef,
      });
      if (index.size !== meta.count) throw new Error(`it holds ${index.size} vectors, its description says ${meta.count}`);
      return index;
    }
    const rows = await readNpy(path);
    if (rows.rows !== meta.count || rows.dim !== meta.dim)
      throw new Error(`it holds ${rows.rows} x ${rows.dim} vectors, its description says ${meta.count} x ${meta.dim}`);
    const index = await exactIndex(meta.dim, metric);
    index.adopt({ data: rows.data as Float32Array, rows: rows.rows, dim: rows.dim, dtype: 'float32' });
    return index;
  } catch (e) {
    if ((e as { code?: string }).code === 'DEPENDENCY') throw e;
    throw createError('INDEX', `${path}: not a valid lsar ${meta.kind} index (${(e as Error).message})`, { cause: e });
  }
}

export interface Recall {
  /** Sampled queries. */
  queries: number;
  /** Sum over queries of (top-1 equal to exact top-1). */
  hits1: number;
  /** Sum over queries of |approximate top-k ∩ exact top-k| / k, k = min(10, size). */
  hits10: number;
}

/**
 * Recall of an approximate index against exact search over the same vectors, on up to
 * `sample` evenly spaced query rows.
 */
export async function measureRecall(index: VectorIndex, vectors: Embeddings, queries: Embeddings, sample: number): Promise<Recall> {
  const n = Math.min(sample, queries.rows);
  if (n === 0 || !index.approximate) return { queries: 0, hits1: 0, hits10: 0 };
  const stride = queries.rows / n;
  const d = queries.dim;
  const data = new Float32Array(n * d);
  for (let i = 0; i < n; i++) {
    const r = Math.floor(i * stride);
    data.set(queries.data.subarray(r * d, (r + 1) * d), i * d);
  }
  const picked: Embeddings = { data, rows: n, dim: d, dtype: 'float32' };
  const k = Math.min(10, vectors.rows);
  const exact = await buildIndex(vectors, { kind: 'exact', metric: index.metric });
  const truth = await exact.search(picked, k);
  const approx = await index.search(picked, k);
  let hits1 = 0;
  let hits10 = 0;
  for (let q = 0; q < n; q++) {
    if (truth.indices[q * k] === approx.indices[q * k]) hits1++;
    const set = new Set(Array.from(truth.indices.subarray(q * k, (q + 1) * k)));
    let hit = 0;
    for (let j = 0; j < k; j++) if (set.has(approx.indices[q * k + j] as number)) hit++;
    hits10 += hit / k;
  }
  return { queries: n, hits1, hits10 };
}
