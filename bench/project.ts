/**
 * Project: 1,000,000 x 768 float32 .npy through lsar project (rank 36, all removed) against a
 * plain read-and-write copy of the same file (the floor any streaming tool pays).
 */
import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import { projectStream } from '../src/pipeline/project/index.js';
import { execSync } from 'node:child_process';
import { DIR, fmt, makeNpy, median, REPS, SCALE, syntheticProjections, time } from './lib.js';
import { plainCopy } from './io.js';
import type { Row } from './search.js';

const D = 768;

export async function benchProject(rows: Row[]): Promise<void> {
  const n = Math.max(1000, Math.round(1_000_000 * SCALE));
  const src = join(DIR, `project-${n}.npy`);
  await makeNpy(src, n, D, 99);
  const { lsar: projection } = await syntheticProjections(D);
  const copy = join(DIR, 'copy.npy');
  const out = join(DIR, 'projected.npy');
  await plainCopy(src, copy); // warm up the page cache
  // Both write 3 GB: dirty pages left by one run slow the next one's writes, so each run starts
  // after `sync`, and the two alternate; medians.
  const copies: number[] = [];
  const projs: number[] = [];
  for (let i = 0; i < REPS; i++) {
    await rm(copy, { force: true });
    execSync('sync');
    copies.push((await time(() => plainCopy(src, copy)))[0]);
    await rm(out, { force: true });
    execSync('sync');
    projs.push((await time(() => projectStream(projection, { input: src, output: out })))[0]);
  }
  await rm(copy, { force: true });
  await rm(out, { force: true });
  const tCopy = median(copies);
  const tProj = median(projs);
  console.log(`  ${fmt(n)} x ${D} float32, lsar rank ${projection.rank}, removing ${projection.remove}`);
  console.log(`  plain copy : ${tCopy.toFixed(2)} s  ${fmt(n / tCopy)} rows/s`);
  console.log(`  lsar project: ${tProj.toFixed(2)} s  ${fmt(n / tProj)} rows/s   ratio ${(tProj / tCopy).toFixed(2)}x (target <= 1.3x)`);
  rows.push({ stage: `project ${fmt(n)} x ${D} (vs plain copy)`, lsar: tProj, reference: tCopy, unit: 's' });
}
