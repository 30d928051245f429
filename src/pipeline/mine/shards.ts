/**
 * Mining in shards (a Slurm array, a Kubernetes Indexed Job): task i of N writes the k nearest
 * neighbours of its block of source rows over all targets, and of its block of target rows over
 * all sources (io/neighbours-file.ts); `lsar mine --from-neighbours dir/` reads every block and
 * margin-scores them as one process would: the margin's neighbour means need each row's k-NN
 * over the whole other side, which the blocks hold. The index is chosen for the whole job's
 * queries, so every task searches as the single process does. With exact search, a task
 * searches its source rows against every target once, both ways (each target's lists over
 * those sources are a partial block, merged across tasks).
 */
import { join } from 'node:path';
import type { Embeddings } from '../../core/embeddings.js';
import { createError, opt } from '../../core/errors.js';
import type { MinedPairs } from '../../core/margin.js';
import { shardName, shardRange, type Shard } from '../../core/shard.js';
import { readLines } from '../../io/text.js';
import { readNeighbours, writeNeighbours, type Direction } from '../../io/neighbours-file.js';
import { onePassChoices, runSearch, runSearchBoth, type SearchJob } from '../services/search/index.js';
import type { MineOptions, MineSummary } from './schema.js';
import { finishMining } from './sides.js';

/** The files a task writes into the neighbours directory. */
export function neighbourFiles(dir: string, shard: Shard): string[] {
  return (['fwd', 'bwd'] as const).flatMap((d) =>
    ['indices.npy', 'scores.npy', 'json'].map((ext) => join(dir, `${d}.${shardName(shard)}.${ext}`)),
  );
}

function rowsOf(x: Embeddings<Float32Array>, start: number, end: number): Embeddings<Float32Array> {
  return { ...x, data: x.data.subarray(start * x.dim, end * x.dim), rows: end - start };
}

/** One task: both directions' neighbours of its rows, written to `options.out` (a directory). */
export async function mineShard(
  options: MineOptions,
  shard: Shard,
  src: Embeddings<Float32Array>,
  trg: Embeddings<Float32Array>,
  ctx: {
    job: (side: 'src' | 'trg') => SearchJob;
    keys: { src: unknown; trg: unknown };
    progress: (stage: string, total?: number) => void;
    start: number;
    k: number;
  },
): Promise<{ pairs: MinedPairs; summary: MineSummary }> {
  const n = src.rows;
  const m = trg.rows;
  const k = ctx.k;
  const key = { src: ctx.keys.src, trg: ctx.keys.trg };
  const [a, b] = shardRange(n, shard);
  const [c, d] = shardRange(m, shard);
  const reports: Partial<Record<Direction, MineSummary['search']['forward']>> = {};
  const meta = (direction: Direction, rows: [number, number], total: number, targets: number, kk: number, search: unknown) => ({
    direction,
    shard,
    rows: { start: rows[0], end: rows[1], total },
    targets,
    k: kk,
    kAsked: k,
    key,
    search,
  });
  // Exact both ways: the task's source rows against every target in one pass; its forward lists
  // are complete, and every target's list over these sources is a partial block (the merge
  // takes the best of the tasks'): half the multiply-adds of two searches per task.
  const jobs = { forward: { ...ctx.job('trg'), plannedQueries: n }, backward: { ...ctx.job('src'), plannedQueries: m } };
  const block = rowsOf(src, a, b);
  const onePass = (await onePassChoices(block, trg, jobs)) !== undefined;
  if (onePass) {
    const kf = Math.min(k, m);
    const kb = Math.min(k, b - a);
    ctx.progress(`source rows ${a}-${b} of ${n} against every target, both ways`, m);
    const r = await runSearchBoth(block, trg, { forward: kf, backward: kb }, jobs);
    for (let i = 0; i < r.backward.top.indices.length; i++) r.backward.top.indices[i] = (r.backward.top.indices[i] as number) + a;
    await writeNeighbours(options.out, meta('fwd', [a, b], n, m, kf, r.forward.report), r.forward.top);
    await writeNeighbours(options.out, { ...meta('bwd', [0, m], m, n, kb, r.backward.report), over: { start: a, end: b } }, r.backward.top);
    reports.fwd = r.forward.report;
    reports.bwd = r.backward.report;
  } else
    for (const [direction, queries, targets, from, to, side] of [
      ['fwd', src, trg, a, b, 'trg'],
      ['bwd', trg, src, c, d, 'src'],
    ] as const) {
      const kk = Math.min(k, targets.rows);
      ctx.progress(`${direction === 'fwd' ? 'source -> target' : 'target -> source'} rows ${from}-${to} of ${queries.rows}`, to - from);
      const r = await runSearch(targets, rowsOf(queries, from, to), kk, { ...ctx.job(side), plannedQueries: queries.rows });
      reports[direction] = r.report;
      await writeNeighbours(options.out, meta(direction, [from, to], queries.rows, targets.rows, kk, r.report), r.top);
    }
  const empty: MinedPairs = { src: new Int32Array(0), trg: new Int32Array(0), scores: new Float64Array(0) };
  const retrieval = options.retrieval ?? 'max';
  const margin = options.margin ?? 'ratio';
  return {
    pairs: empty,
    summary: {
      sources: n,
      targets: m,
      k,
      margin,
      retrieval,
      threshold: null,
      pairs: 0,
      scores: null,
      search: { forward: reports.fwd as MineSummary['search']['forward'], backward: reports.bwd as MineSummary['search']['forward'] },
      seconds: (Date.now() - ctx.start) / 1000,
      output: options.out,
      shard: {
        index: shard.index,
        count: shard.count,
        sourceRows: [a, b],
        targetRows: onePass ? [0, m] : [c, d],
        files: neighbourFiles(options.out, shard),
      },
    },
  };
}

/** The merge: every task's neighbours, margin-scored as one process would, the pairs written to `out`. */
export async function mineFromNeighbours(options: MineOptions, start: number): Promise<{ pairs: MinedPairs; summary: MineSummary }> {
  const dir = options.fromNeighbours as string;
  const given = (['src', 'trg', 'unify', 'indexIn', 'indexOut', 'projection'] as const).filter(
    (k) => options[k] !== undefined && options[k] !== false,
  );
  if (given.length)
    throw createError(
      'USAGE',
      `${opt('fromNeighbours')} mines from the neighbour files alone: drop ${given.map((k) => opt(k)).join(', ')} (the tasks used them)`,
      { param: given[0] as string },
    );
  const r = await readNeighbours(dir);
  const texts = async (file: string | undefined, rows: number): Promise<string[] | undefined> => {
    if (file === undefined) return undefined;
    const t = await readLines(file);
    if (t.length !== rows)
      throw createError(
        'INPUT',
        `${file}: ${t.length} non-empty lines, but the neighbours cover ${rows} rows: they must match line by line`,
      );
    return t;
  };
  const srcTexts = await texts(options.srcText, r.n);
  const trgTexts = await texts(options.trgText, r.m);
  const side = (rows: number, t: string[] | undefined) => ({
    vectors: { data: new Float32Array(0), rows, dim: 0, dtype: 'float32' as const },
    ...(t ? { texts: t } : {}),
  });
  const search = (d: Direction) =>
    (r.blocks.find((b) => b.direction === d)?.search ?? {
      kind: 'exact',
      reason: 'from the neighbour files',
    }) as MineSummary['search']['forward'];
  return finishMining(options, {
    fwd: r.fwd,
    bwd: r.bwd,
    n: r.n,
    m: r.m,
    k: r.k,
    src: side(r.n, srcTexts),
    trg: side(r.m, trgTexts),
    search: { forward: search('fwd'), backward: search('bwd') },
    start,
  });
}
