/**
 * Fit: lsar fit (means, SVD and the provenance hash of every input) against the numpy
 * reference's means + SVD (perf_ref.py run), on the paper-scale data (37 languages x 10,000 x
 * 768), and lsar alone at 1,000, 10,000 and 100,000 rows per language (linear in rows).
 */
import { join } from 'node:path';
import { exists, fmt, lsarChild, median, PERF_REF, python, pythonHas, ratio, REPS, SCALE, DIR } from './lib.js';
import type { Row } from './search.js';

export async function benchFit(rows: Row[]): Promise<void> {
  const haveRef = pythonHas('numpy', 'faiss');
  if (!haveRef) console.log('  reference skipped: /usr/bin/python3 with numpy and faiss not found');
  const sizes = (process.env.BENCH_FIT_ROWS ?? '1000,10000,100000').split(',').map((s) => Math.max(100, Math.round(Number(s) * SCALE)));
  for (const n of sizes) {
    const dir = join(DIR, `paper-${n}`);
    if (!(await exists(join(dir, 'fit')))) {
      if (!haveRef) continue;
      python([PERF_REF, 'make', dir, '--langs', '37', '--rows', String(n)]);
    }
    const l: number[] = [];
    const r: number[] = [];
    for (let i = 0; i < REPS; i++) {
      l.push(lsarChild('fit', { dir: join(dir, 'fit') }).seconds as number);
      if (haveRef) {
        const p = python([PERF_REF, 'run', dir]);
        r.push((p.means_s as number) + (p.svd_s as number));
      }
    }
    const total = 37 * n;
    console.log(
      `  37 x ${fmt(n)} x 768: lsar fit (with hashes) ${median(l).toFixed(3)} s (${fmt(total / median(l))} rows/s)${haveRef ? `, numpy means + SVD ${median(r).toFixed(3)} s   ratio ${ratio(median(l), median(r))} (target <= 1.1x)` : ''}`,
    );
    rows.push({ stage: `fit 37 x ${fmt(n)} x 768`, lsar: median(l), ...(haveRef ? { reference: median(r) } : {}), unit: 's' });
  }
}
