/**
 * Saving and loading indexes. A saved index is `<path>` (the index: hnswlib's binary, or for
 * an HNSW index of several shards a directory of `shard-<i>.bin`, or the rows as .npy for
 * exact) and `<path>.json` (kind, metric, shape, parameters, and the key: hashes of the
 * indexed data and of the projection applied to it).
 */
import { mkdir, readFile, rename, rm, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Embeddings } from '../../../core/embeddings.js';
import { createError, LsarError, opt } from '../../../core/errors.js';
import { pooledMean, type Projection } from '../../../core/projection.js';
import { hashBytes } from '../../../io/hash.js';
import { ExactIndex, type IndexKind, type Metric, type VectorIndex } from '../../../core/vector-index.js';
import { HNSW_DEFAULTS, HnswIndex, type HnswParams } from '../../../adapters/hnsw.js';
import { discard, ensureParentDir, releaseTemp, systemReason, tempPathFor } from '../../../io/atomic.js';
import { readNpy, writeNpy } from '../../../io/npy.js';
import { checkHnswParams, exactIndex } from './build.js';

/** Key of a projection as applied (with its language for lir/demean): `none` or `<method>-<16 hex>`. */
export function projectionKey(p: Projection | undefined, lang?: string): string {
  if (!p || p.method === 'none') return 'none';
  const parts: (string | Float64Array)[] = [`${p.method}:${p.remove}:${lang ?? ''}`];
  if (p.basis) parts.push(p.basis.data);
  // abtt and whiten also subtract the pooled mean, and whiten scales by its eigenvalues
  if (p.method === 'abtt' || p.method === 'whiten') parts.push(pooledMean(p));
  if (p.method === 'whiten') parts.push(Float64Array.from(p.singularValues ?? []));
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
  /** HNSW: the number of shards (files shard-<i>.bin in the directory <path>) when more than one. */
  shards?: number;
  key: IndexKey;
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
    ...(index instanceof HnswIndex
      ? { m: index.m, efConstruction: index.efConstruction, ...(index.shardCount > 1 ? { shards: index.shardCount } : {}) }
      : {}),
    key,
  };
  try {
    if (index instanceof HnswIndex && index.shardCount > 1) {
      await mkdir(tmp);
      await index.writeTo(Array.from({ length: index.shardCount }, (_, i) => join(tmp, `shard-${i}.bin`)));
    } else if (index instanceof HnswIndex) await index.writeTo([tmp]);
    else if (index instanceof ExactIndex) {
      const v = index.vectors();
      await writeNpy(tmp, v.data, v.rows, v.dim);
    } else throw new Error(`internal: cannot save a ${index.kind} index`);
    await writeFile(`${tmp}.json`, JSON.stringify(meta, null, 1) + '\n');
    await rename(`${tmp}.json`, `${path}.json`);
    if ((await stat(path).catch(() => undefined))?.isDirectory()) await rm(path, { recursive: true, force: true });
    await rename(tmp, path);
    releaseTemp(tmp);
  } catch (e) {
    await discard(tmp);
    await discard(`${tmp}.json`);
    releaseTemp(tmp);
    // a system error (or lsar's writer's error with one as its cause) is told for `path`, not its temporary
    const sys = e instanceof LsarError ? e.cause : e;
    if (sys === undefined) throw e;
    throw createError('OUTPUT', `${path}: cannot write the index (${systemReason(sys)})`, { cause: e });
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
    throw createError(
      'NOT_FOUND',
      `${path}.json: missing or unreadable: an lsar index is saved with ${opt('indexOut')} as <file> and <file>.json`,
      {
        cause: e,
        params: ['indexOut'],
      },
    );
  }
  if ((meta as { format?: string }).format === 'lsar-hnsw') {
    throw createError(
      'INDEX',
      `${path}: saved by an older lsar, without the hash of the data it indexes: rebuild it with ${opt('indexOut')}`,
      {
        params: ['indexOut'],
      },
    );
  }
  if (meta?.format !== 'lsar-index' || typeof meta.key !== 'object')
    throw createError('INDEX', `${path}.json: not an lsar index description`);
  const want = expect.key;
  if (meta.dim !== expect.dim || meta.count !== expect.count || meta.key.projection !== want.projection) {
    throw createError(
      'INDEX',
      `${path}: built for ${meta.count} x ${meta.dim} vectors (${meta.key.projection}), but this run indexes ${expect.count} x ${expect.dim} (${want.projection}): rebuild it with ${opt('indexOut')}`,
      { params: ['indexOut'] },
    );
  }
  if (meta.key.data !== want.data) {
    throw createError(
      'INDEX',
      `${path}: built from other vectors (data hash ${meta.key.data.slice(0, 12)}), but this run indexes vectors with data hash ${want.data.slice(0, 12)}: rebuild it with ${opt('indexOut')}`,
      { params: ['indexOut'] },
    );
  }
  const metric = meta.metric ?? 'cosine';
  try {
    if (meta.kind === 'hnsw') {
      const params = checkHnswParams(hnsw);
      const shards = meta.shards ?? 1;
      const paths = shards > 1 ? Array.from({ length: shards }, (_, i) => join(path, `shard-${i}.bin`)) : [path];
      return await HnswIndex.readFrom(
        paths,
        meta.dim,
        metric,
        {
          m: meta.m ?? HNSW_DEFAULTS.m,
          efConstruction: meta.efConstruction ?? HNSW_DEFAULTS.efConstruction,
          ef: params.ef ?? HNSW_DEFAULTS.ef,
        },
        meta.count,
      );
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
