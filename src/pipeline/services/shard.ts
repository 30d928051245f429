/**
 * The task's shard: `--shard i/N`, or from the job array's environment: Slurm's
 * SLURM_ARRAY_TASK_ID (minus SLURM_ARRAY_TASK_MIN) of SLURM_ARRAY_TASK_COUNT, or a Kubernetes
 * Indexed Job's JOB_COMPLETION_INDEX with `--shard-count N`. `--shard none` ignores the
 * environment. Where the shard came from is reported, so a task that shards by surprise says so.
 */
import { createError, opt } from '../../core/errors.js';
import type { Events } from '../../core/events.js';
import type { Schema } from '../../core/schema.js';
import { parseShard, type Shard } from '../../core/shard.js';

export const shardSchema = {
  shard: {
    type: 'string',
    description:
      'i/N: do task i of N (from 0) of a job array; default from SLURM_ARRAY_TASK_ID/SLURM_ARRAY_TASK_COUNT, or JOB_COMPLETION_INDEX with --shard-count; none: the whole input',
    group: 'Shards:',
  },
  shardCount: {
    type: 'integer',
    min: 1,
    description: 'N for a Kubernetes Indexed Job (its JOB_COMPLETION_INDEX is i)',
    group: 'Shards:',
  },
} as const satisfies Schema;

export interface ShardOptions {
  shard?: string | undefined;
  shardCount?: number | undefined;
}

/** The shard this task does (undefined: the whole input), and from where it was taken. */
export function resolveShard(o: ShardOptions, env: NodeJS.ProcessEnv = process.env): { shard: Shard; from: string } | undefined {
  if (o.shard === 'none') return undefined;
  if (o.shard !== undefined) return { shard: parseShard(o.shard), from: 'the shard option' };
  const int = (name: string): number | undefined => {
    const v = env[name];
    if (v === undefined || v === '') return undefined;
    if (!/^\d+$/.test(v))
      throw createError('USAGE', `${name}=${v}: expected a non-negative integer (the job array's task)`, { param: 'shard' });
    return Number(v);
  };
  const id = int('SLURM_ARRAY_TASK_ID');
  const count = int('SLURM_ARRAY_TASK_COUNT');
  if (id !== undefined && count !== undefined) {
    const index = id - (int('SLURM_ARRAY_TASK_MIN') ?? 0);
    const step = int('SLURM_ARRAY_TASK_STEP') ?? 1;
    if (step !== 1 || index < 0 || index >= count)
      throw createError(
        'USAGE',
        `SLURM_ARRAY_TASK_ID ${id} is not task 0..${count - 1} of a contiguous array (min ${int('SLURM_ARRAY_TASK_MIN') ?? 0}, step ${step}): give ${opt('shard')} i/N`,
        { param: 'shard' },
      );
    return { shard: { index, count }, from: 'SLURM_ARRAY_TASK_ID/SLURM_ARRAY_TASK_COUNT' };
  }
  const k8s = int('JOB_COMPLETION_INDEX');
  if (o.shardCount !== undefined) {
    if (k8s === undefined)
      throw createError(
        'USAGE',
        `${opt('shardCount')} needs JOB_COMPLETION_INDEX (a Kubernetes Indexed Job), or give ${opt('shard')} i/N`,
        {
          param: 'shardCount',
        },
      );
    if (k8s >= o.shardCount)
      throw createError('USAGE', `JOB_COMPLETION_INDEX ${k8s} is not below ${opt('shardCount')} ${o.shardCount}`, { param: 'shardCount' });
    return { shard: { index: k8s, count: o.shardCount }, from: 'JOB_COMPLETION_INDEX and the shard count' };
  }
  return undefined;
}

/** Resolve the shard and say which one this task does (a progress line that is always shown). */
export function taskShard(o: ShardOptions, events: Events | undefined, env: NodeJS.ProcessEnv = process.env): Shard | undefined {
  const r = resolveShard(o, env);
  if (r) events?.progress?.(`shard ${r.shard.index}/${r.shard.count}`, 0, undefined, { unit: '', note: `from ${r.from}`, final: true });
  return r?.shard;
}
