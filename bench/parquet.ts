/**
 * Parquet: lsar project of 1,000,000 x 768 float32 embeddings stored as Parquet
 * (FixedSizeList<float32>), Parquet to Parquet, against the same rows as
 * .npy to .npy, in the same run. Target: within 1.5x.
 */
import { rm, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { execSync } from 'node:child_process';
import { projectStream } from '../src/pipeline/project/index.js';
import { DIR, exists, fmt, makeNpy, median, REPS, SCALE, syntheticProjections, time } from './lib.js';
import type { Row } from './search.js';

const D = 768;

export async function benchParquet(rows: Row[]): Promise<void> {
  const n = Math.max(1000, Math.round(1_000_000 * SCALE));
  const npy = join(DIR, `project-${n}.npy`);
  await makeNpy(npy, n, D, 99);
  const { lsar: projection, none: identity } = await syntheticProjections(D);
  // the Parquet input: the same rows, written once by lsar (method none leaves them unchanged)
  const pq = join(DIR, `project-${n}.parquet`);
  if (!(await exists(pq))) await projectStream(identity, { input: npy, output: pq });
  const outNpy = join(DIR, 'projected.npy');
  const outPq = join(DIR, 'projected.parquet');
  const tNpy: number[] = [];
  const tPq: number[] = [];
  for (let i = 0; i < REPS; i++) {
    await rm(outNpy, { force: true });
    execSync('sync');
    tNpy.push((await time(() => projectStream(projection, { input: npy, output: outNpy })))[0]);
    await rm(outPq, { force: true });
    execSync('sync');
    tPq.push((await time(() => projectStream(projection, { input: pq, output: outPq })))[0]);
  }
  const size = (await stat(pq)).size;
  await rm(outNpy, { force: true });
  await rm(outPq, { force: true });
  const a = median(tNpy);
  const b = median(tPq);
  console.log(`  ${fmt(n)} x ${D} float32, lsar rank ${projection.rank}; Parquet input ${(size / 2 ** 20).toFixed(0)} MiB (Snappy)`);
  console.log(`  .npy -> .npy        : ${a.toFixed(2)} s  ${fmt(n / a)} rows/s`);
  console.log(`  .parquet -> .parquet: ${b.toFixed(2)} s  ${fmt(n / b)} rows/s   ratio ${(b / a).toFixed(2)}x (target <= 1.5x)`);
  rows.push({ stage: `project ${fmt(n)} x ${D} Parquet (vs .npy)`, lsar: b, reference: a, unit: 's' });
}
