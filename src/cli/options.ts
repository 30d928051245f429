/** Shared option parsing for the commands. */
import type { Argv } from 'yargs';
import { HNSW_DEFAULTS, type HnswOptions } from '../adapters/hnsw.js';
import { createError } from '../core/errors.js';

/** A whole-number option, or undefined when absent. */
export function intOption(name: string, value: unknown): number | undefined {
  if (value === undefined) return undefined;
  const n = typeof value === 'number' ? value : Number(value);
  if (!Number.isInteger(n)) throw createError('USAGE', `--${name} expects a whole number, got ${JSON.stringify(value)}`);
  return n;
}

export function stringList(value: unknown): string[] {
  if (value === undefined) return [];
  return (Array.isArray(value) ? value : [value]).map(String);
}

/** --exact and the HNSW options, shared by retrieve and search. */
export function searchOptions(y: Argv): Argv {
  return y
    .option('exact', {
      type: 'boolean',
      default: false,
      describe: 'Exact brute-force search (blocked float32 SIMD, candidates re-scored in float64) instead of HNSW',
    })
    .option('m', { type: 'string', describe: `HNSW M (default ${HNSW_DEFAULTS.m})` })
    .option('ef-construction', { type: 'string', describe: `HNSW efConstruction (default ${HNSW_DEFAULTS.efConstruction})` })
    .option('ef', { type: 'string', describe: `HNSW ef at query time (default ${HNSW_DEFAULTS.ef})` })
    .option('index-out', { type: 'string', describe: 'Save the HNSW index (and a <file>.json description)' })
    .option('index-in', { type: 'string', describe: 'Reuse an index saved with --index-out' })
    .group(['exact', 'm', 'ef-construction', 'ef', 'index-out', 'index-in'], 'Search:');
}

export function hnswArgs(argv: Record<string, unknown>): HnswOptions {
  return {
    ...(argv.m !== undefined ? { m: intOption('m', argv.m) as number } : {}),
    ...(argv['ef-construction'] !== undefined ? { efConstruction: intOption('ef-construction', argv['ef-construction']) as number } : {}),
    ...(argv.ef !== undefined ? { ef: intOption('ef', argv.ef) as number } : {}),
  };
}
