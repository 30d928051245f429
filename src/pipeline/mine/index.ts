/**
 * `lsar mine`: parallel sentences in two monolingual collections, by margin scoring of the
 * k nearest neighbours in both directions (core/mining.ts, LASER's mine_bitexts.py), with a
 * projection applied. The neighbour lists come from the search backend (exact by default for
 * sizes where it is faster, HNSW for large sides), so memory is the data plus O((n + m) k).
 */
import { createOperator, projectRows } from '../../core/apply.js';
import { createError, opt } from '../../core/errors.js';
import type { MinedPairs } from '../../core/margin.js';
import { normalizeRowsInPlace } from '../../core/rows.js';
import { validate } from '../../core/schema.js';
import { projectionFiles, projectionOf, projectionOption } from '../../io/artifact.js';
import { checkColumnApplies } from '../../io/embeddings.js';
import { canonicalLanguageOptions } from '../../io/languages.js';
import { refuseOverwrite } from '../../io/same-file.js';
import { cacheFor } from '../services/embedding-cache.js';
import { dataKey, projectionKey, runSearchBoth, searchSettings } from '../services/search/index.js';
import { taskShard } from '../services/shard.js';
import { mineSchema, type MineOptions, type MineSummary } from './schema.js';
import { mineFromNeighbours, mineShard, neighbourFiles } from './shards.js';
import { finishMining, loadSide, type Side } from './sides.js';

export { mineSchema, type MineOptions, type MineSummary } from './schema.js';

export async function mine(given: MineOptions): Promise<{ pairs: MinedPairs; summary: MineSummary }> {
  const start = Date.now();
  const options = {
    ...canonicalLanguageOptions(validate(mineSchema, { ...given, projection: projectionOption(given.projection) }), ['srcLang', 'trgLang']),
    projection: await projectionOf(given.projection),
  };
  if (options.fromNeighbours !== undefined) return mineFromNeighbours(options, start);
  if (options.src === undefined || options.trg === undefined)
    throw createError(
      'USAGE',
      `${opt('src')} and ${opt('trg')} are required (or ${opt('fromNeighbours')} <dir> to merge the neighbours of shards)`,
      {
        params: ['src', 'trg'],
      },
    );
  const srcPath = options.src;
  const trgPath = options.trg;
  const shard = taskShard(options, given.events);
  if (shard && (options.unify || options.out === '-' || options.indexOut !== undefined))
    throw createError(
      'USAGE',
      `${opt('shard')}: each task writes its neighbours into the directory ${opt('out')} (not -), without ${opt('unify')} or ${opt('indexOut')}`,
      { param: 'shard' },
    );
  const k = options.k;
  const settings = searchSettings(options);
  checkColumnApplies(options.column, [srcPath, trgPath]);
  const indexOut = options.indexOut !== undefined ? [`${options.indexOut}.trg`, `${options.indexOut}.src`] : [];
  await refuseOverwrite(
    [
      ...(shard ? neighbourFiles(options.out, shard).map((path) => ({ path, param: 'out' })) : [{ path: options.out, param: 'out' }]),
      ...indexOut.map((path) => ({ path, param: 'indexOut', mayBeDirectory: true })),
      ...indexOut.map((f) => ({ path: `${f}.json`, param: 'indexOut' })),
    ],
    [
      srcPath,
      trgPath,
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
    src = await loadSide('source', srcPath, options.srcText, options.srcLang ?? 'src', cache, options);
    trg = await loadSide('target', trgPath, options.trgText, options.trgLang ?? 'trg', cache, options);
  } finally {
    await cache?.dispose();
  }
  if (src.vectors.dim !== trg.vectors.dim) {
    throw createError('DIM_MISMATCH', `${trgPath}: dimension ${trg.vectors.dim}, but ${srcPath} has dimension ${src.vectors.dim}`);
  }
  const p = options.projection;
  // what each side's index is of: its vectors as read, and the projection applied to them
  const keys =
    options.indexIn !== undefined || options.indexOut !== undefined || shard
      ? {
          src: { data: dataKey(src.vectors), projection: projectionKey(p, options.srcLang) },
          trg: { data: dataKey(trg.vectors), projection: projectionKey(p, options.trgLang) },
        }
      : undefined;
  if (p && p.method !== 'none') {
    if (p.dim !== src.vectors.dim)
      throw createError('DIM_MISMATCH', `${srcPath}: dimension ${src.vectors.dim}, but the projection was fitted on dimension ${p.dim}`);
    progress(`projecting (${p.method})`, src.vectors.rows + trg.vectors.rows);
    for (const [side, lang, file] of [
      [src, options.srcLang, srcPath],
      [trg, options.trgLang, trgPath],
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
  if (shard && keys) return mineShard(options, shard, src.vectors, trg.vectors, { job, keys, progress, start, k });
  const knnStage = `${k}-NN both ways (${n} x ${m})`;
  progress(knnStage, m);
  const { forward: fwd, backward: bwd } = await runSearchBoth(
    src.vectors,
    trg.vectors,
    { forward: Math.min(k, m), backward: Math.min(k, n) },
    { forward: job('trg'), backward: job('src') },
    (done, total, what) => given.events?.progress?.(`mine: ${knnStage}`, done, total, { unit: 'rows', note: what }),
  );
  return finishMining(options, {
    fwd: fwd.top,
    bwd: bwd.top,
    n,
    m,
    k,
    src,
    trg,
    search: { forward: fwd.report, backward: bwd.report },
    start,
  });
}
