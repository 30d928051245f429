/**
 * The k nearest neighbours of one task's block of query rows (lsar mine --shard), so that a
 * merge (lsar mine --from-neighbours) has every row's k-NN over the whole other side, as
 * LASER's margin needs. Per direction (fwd: source rows -> targets; bwd: target rows ->
 * sources) and task, three files in the directory:
 *
 *   <dir>/<fwd|bwd>.shard-<i>-of-<N>.indices.npy   float64 [rows, k] (row numbers, exact in float64)
 *   <dir>/<fwd|bwd>.shard-<i>-of-<N>.scores.npy    float64 [rows, k] (cosine similarities, best first)
 *   <dir>/<fwd|bwd>.shard-<i>-of-<N>.json          {"format": "lsar-neighbours", "formatVersion": 1,
 *        "direction", "shard": {index, count}, "rows": {start, end, total}, "targets", "k", "key", "search"[, "over"]}
 *
 * A block with `over` {start, end} is partial: every row of its side, each with its k nearest
 * among the other side's rows [start, end) only (a task that searched its block of sources
 * both ways in one exact pass writes the targets' lists so). The partial blocks of a direction
 * tile the other side, and the merge keeps each row's best k of their union (ties to the lower
 * row, as one search): the same lists as one process.
 *
 * The JSON is written last: a block without it is not complete.
 */
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { createError } from '../core/errors.js';
import { shardName, type Shard } from '../core/shard.js';
import type { TopK } from '../core/topk.js';
import { writeFileAtomic } from './atomic.js';
import { readNpy, writeNpy } from './npy.js';

export const NEIGHBOURS_FORMAT = 'lsar-neighbours';

export type Direction = 'fwd' | 'bwd';

export interface NeighbourMeta {
  direction: Direction;
  shard: Shard;
  /** The query rows [start, end) of this block, of `total` on the query side. */
  rows: { start: number; end: number; total: number };
  /** Rows of the other side (the targets searched). */
  targets: number;
  /** This direction's k (the k asked, capped at the other side's rows). */
  k: number;
  /** The k asked (lsar mine -k). */
  kAsked: number;
  /** What was searched: the two sides' data and the projection applied; equal across a job's blocks. */
  key: unknown;
  search?: unknown;
  /** A partial block: the k-NN of every row among the other side's rows [start, end) only. */
  over?: { start: number; end: number };
}

export async function writeNeighbours(dir: string, meta: NeighbourMeta, top: TopK): Promise<void> {
  const base = join(dir, `${meta.direction}.${shardName(meta.shard)}`);
  const rows = meta.rows.end - meta.rows.start;
  // a task with an empty block (a side with fewer rows than tasks) has no lists: no arrays
  if (rows === 0 || meta.k === 0)
    return writeFileAtomic(`${base}.json`, JSON.stringify({ format: NEIGHBOURS_FORMAT, formatVersion: 1, ...meta }, null, 1) + '\n');
  await writeNpy(`${base}.indices.npy`, Float64Array.from(top.indices), rows, meta.k, '<f8');
  await writeNpy(`${base}.scores.npy`, top.scores, rows, meta.k, '<f8');
  await writeFileAtomic(`${base}.json`, JSON.stringify({ format: NEIGHBOURS_FORMAT, formatVersion: 1, ...meta }, null, 1) + '\n');
}

/** Every block of a job, checked to cover each side's rows once, assembled into one TopK per direction. */
export async function readNeighbours(
  dir: string,
): Promise<{ fwd: TopK; bwd: TopK; n: number; m: number; k: number; key: unknown; blocks: NeighbourMeta[] }> {
  let names: string[];
  try {
    names = (await readdir(dir)).filter((f) => /^(fwd|bwd)\.shard-\d+-of-\d+\.json$/.test(f)).sort();
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOTDIR')
      throw createError('INPUT', `${dir}: is a file; expected the directory of neighbour files of lsar mine --shard`);
    throw createError('NOT_FOUND', `${dir}: no such directory (expected the neighbour files of lsar mine --shard)`);
  }
  if (names.length === 0) throw createError('NOT_FOUND', `${dir}: no neighbour files (fwd.shard-<i>-of-<N>.json) of lsar mine --shard`);
  const metas: NeighbourMeta[] = [];
  for (const f of names) {
    let m: NeighbourMeta & { format?: string };
    try {
      m = JSON.parse(await readFile(join(dir, f), 'utf8')) as NeighbourMeta & { format?: string };
    } catch (e) {
      throw createError(
        'INPUT',
        `${join(dir, f)}: not valid JSON (${(e as Error).message}): was the task's write cut short? Run that task again`,
      );
    }
    if (m.format !== NEIGHBOURS_FORMAT) throw createError('INPUT', `${join(dir, f)}: not an lsar neighbours file`);
    metas.push(m);
  }
  const first = metas[0] as NeighbourMeta;
  const keyText = JSON.stringify(first.key);
  for (const [i, m] of metas.entries()) {
    if (JSON.stringify(m.key) !== keyText)
      throw createError(
        'INPUT',
        `${join(dir, names[i] as string)}: made from other data, projection or k than ${join(dir, names[0] as string)}: one directory holds one mining job`,
      );
  }
  const side = async (direction: Direction): Promise<{ top: TopK; total: number; targets: number }> => {
    const blocks = metas.filter((m) => m.direction === direction).sort((a, b) => a.rows.start - b.rows.start);
    const count = blocks[0]?.shard.count;
    if (count === undefined) throw createError('NOT_FOUND', `${dir}: no ${direction} neighbour files`);
    const seen = new Set(blocks.map((b) => b.shard.index));
    const missing = Array.from({ length: count }, (_, i) => i).filter((i) => !seen.has(i));
    if (missing.length || blocks.length !== count || blocks.some((b) => b.shard.count !== count))
      throw createError(
        'INPUT',
        `${dir}: ${direction} neighbours of task${missing.length === 1 ? '' : 's'} ${missing.join(', ') || '(repeated)'} of ${count} missing: every task must have finished (did one fail?)`,
      );
    if (blocks.some((b) => b.over)) return partialSide(dir, direction, blocks);
    const total = (blocks[0] as NeighbourMeta).rows.total;
    const k = (blocks[0] as NeighbourMeta).k;
    if (blocks.some((b) => b.k !== k))
      throw createError('INPUT', `${dir}: ${direction} blocks of different k: one directory holds one mining job`);
    const top: TopK = { k, indices: new Int32Array(total * k), scores: new Float64Array(total * k) };
    let next = 0;
    for (const b of blocks) {
      if (b.rows.start !== next || b.rows.total !== total)
        throw createError('INPUT', `${dir}: ${direction} blocks do not tile rows 0-${total}`);
      const block = await readBlock(dir, direction, b, b.rows.end - b.rows.start, k);
      top.indices.set(Int32Array.from(block.indices), b.rows.start * k);
      top.scores.set(block.scores, b.rows.start * k);
      next = b.rows.end;
    }
    if (next !== total) throw createError('INPUT', `${dir}: ${direction} blocks end at row ${next} of ${total}`);
    return { top, total, targets: (blocks[0] as NeighbourMeta).targets };
  };
  const fwd = await side('fwd');
  const bwd = await side('bwd');
  if (fwd.targets !== bwd.total || bwd.targets !== fwd.total)
    throw createError('INPUT', `${dir}: fwd blocks searched ${fwd.targets} targets, but the bwd blocks cover ${bwd.total} rows`);
  return { fwd: fwd.top, bwd: bwd.top, n: fwd.total, m: bwd.total, k: first.kAsked, key: first.key, blocks: metas };
}

async function readBlock(dir: string, direction: Direction, b: NeighbourMeta, rows: number, k: number) {
  if (rows === 0 || k === 0) return { indices: new Float64Array(0), scores: new Float64Array(0) };
  const base = join(dir, `${direction}.${shardName(b.shard)}`);
  const idx = await readNpy(`${base}.indices.npy`);
  const sc = await readNpy(`${base}.scores.npy`);
  if (idx.rows !== rows || sc.rows !== rows || idx.dim !== k || sc.dim !== k)
    throw createError('INPUT', `${base}: ${idx.rows} x ${idx.dim} neighbours, expected ${rows} x ${k}`);
  return { indices: idx.data, scores: sc.data };
}

/** A direction written as partial blocks: their `over` ranges tile the other side; each row's best k of the union. */
async function partialSide(
  dir: string,
  direction: Direction,
  blocks: NeighbourMeta[],
): Promise<{ top: TopK; total: number; targets: number }> {
  const first = blocks[0] as NeighbourMeta;
  const { total } = first.rows;
  const targets = first.targets;
  const sorted = [...blocks].sort((a, b) => (a.over?.start ?? -1) - (b.over?.start ?? -1));
  let next = 0;
  for (const b of sorted) {
    if (!b.over || b.over.start !== next || b.rows.start !== 0 || b.rows.end !== total || b.rows.total !== total || b.targets !== targets)
      throw createError('INPUT', `${dir}: ${direction} partial blocks do not tile rows 0-${targets} of the other side`);
    if (b.k !== Math.min(b.kAsked, b.over.end - b.over.start))
      throw createError(
        'INPUT',
        `${dir}: ${direction} block of task ${b.shard.index}: k ${b.k}, expected ${Math.min(b.kAsked, b.over.end - b.over.start)}`,
      );
    next = b.over.end;
  }
  if (next !== targets) throw createError('INPUT', `${dir}: ${direction} partial blocks end at row ${next} of ${targets}`);
  const k = Math.min(first.kAsked, targets);
  const parts = [];
  for (const b of sorted) parts.push({ k: b.k, ...(await readBlock(dir, direction, b, total, b.k)) });
  const top: TopK = { k, indices: new Int32Array(total * k), scores: new Float64Array(total * k) };
  const cand: { i: number; s: number }[] = [];
  for (let r = 0; r < total; r++) {
    cand.length = 0;
    for (const p of parts)
      for (let j = 0; j < p.k; j++) cand.push({ i: p.indices[r * p.k + j] as number, s: p.scores[r * p.k + j] as number });
    cand.sort((x, y) => y.s - x.s || x.i - y.i);
    for (let j = 0; j < k; j++) {
      top.indices[r * k + j] = (cand[j] as { i: number }).i;
      top.scores[r * k + j] = (cand[j] as { s: number }).s;
    }
  }
  return { top, total, targets };
}
