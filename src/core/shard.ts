/**
 * Splitting work among the tasks of a job array (Slurm `--array`, a Kubernetes Indexed Job):
 * task `index` of `count` takes a contiguous range of the rows (or of a sorted list of files).
 * Every row is in exactly one shard, for any count; shards may be empty (more tasks than rows).
 */
import { createError, opt } from './errors.js';

export interface Shard {
  /** 0-based task index. */
  index: number;
  /** Number of tasks. */
  count: number;
}

/** "i/N" (0 <= i < N) as a shard; `param` names the option in the message. */
export function parseShard(text: string, param = 'shard'): Shard {
  const m = /^\s*(\d+)\s*\/\s*(\d+)\s*$/.exec(text);
  const index = m ? Number(m[1]) : NaN;
  const count = m ? Number(m[2]) : NaN;
  if (!m || !Number.isSafeInteger(index) || !Number.isSafeInteger(count) || count < 1 || index >= count) {
    throw createError('USAGE', `${opt(param)} expects i/N with 0 <= i < N (task i of N, counted from 0), got "${text}"`, { param });
  }
  return { index, count };
}

/** The rows [start, end) of shard `s` of `total` rows: floor(total * i / N) to floor(total * (i + 1) / N). */
export function shardRange(total: number, s: Shard): [number, number] {
  // exact in float64 for total * count < 2^53 (e.g. 10^12 rows x 9000 tasks)
  return [Math.floor((total * s.index) / s.count), Math.floor((total * (s.index + 1)) / s.count)];
}

/** The items (already in a deterministic order) of shard `s`. */
export function shardItems<T>(items: readonly T[], s: Shard): T[] {
  const [a, b] = shardRange(items.length, s);
  return items.slice(a, b);
}

/** `shard-00002-of-00004`: a name part that sorts in task order. */
export function shardName(s: Shard): string {
  const w = Math.max(5, String(s.count - 1).length);
  return `shard-${String(s.index).padStart(w, '0')}-of-${String(s.count).padStart(w, '0')}`;
}
