/**
 * Mining: lsar mine on n x n planted 768-d sides (the first half of the targets translates the
 * first half of the sources, row for row; the rest is unrelated), exact and HNSW, time and peak
 * memory. With BENCH_MINE_LARGE=1 also 300,000 x 300,000, exact (both directions from one pass
 * of scores; about 20 minutes on 2 cores), against the 60-minute target, with the exact run at
 * 100,000 as the baseline; BENCH_MINE_LARGE_HNSW=1 adds HNSW at 300,000 (over 45 minutes here),
 * BENCH_MINE_SMALL_HNSW=0 leaves out HNSW at the small size.
 */
import { mkdir, open, rename, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { gaussianFrom } from './gauss.js';
import { DIR, exists, fmt, lsarChild, SCALE } from './lib.js';
import type { Row } from './search.js';

const D = 768;

/** Write src and trg .npy files: shared content (a 384-d subspace) + a side offset + noise. */
async function makeSides(dir: string, n: number): Promise<void> {
  if (await exists(join(dir, 'trg.npy'))) return;
  await mkdir(dir, { recursive: true });
  const { encodeNpyHeader } = await import('../src/io/npy.js');
  const g = gaussianFrom(5);
  const sem = Float32Array.from({ length: (D / 2) * D }, () => g() / Math.sqrt(D / 2));
  const offsets = [Float32Array.from({ length: D }, () => 0.5 * g()), Float32Array.from({ length: D }, () => 0.5 * g())];
  const files = await Promise.all(['src', 'trg'].map((s) => open(join(dir, `${s}.npy.tmp`), 'w')));
  const header = encodeNpyHeader('<f4', [n, D]);
  for (const f of files) await f.write(header, 0, header.length, 0);
  const rows = 1024;
  const content = new Float32Array(D / 2);
  const blocks = [new Float32Array(rows * D), new Float32Array(rows * D)];
  for (let r0 = 0; r0 < n; r0 += rows) {
    const m = Math.min(rows, n - r0);
    for (let r = 0; r < m; r++) {
      for (let side = 0; side < 2; side++) {
        // translations share their content; unrelated targets draw their own
        if (side === 0 || r0 + r >= n / 2) for (let c = 0; c < D / 2; c++) content[c] = g();
        const out = blocks[side] as Float32Array;
        for (let i = 0; i < D; i++) {
          let v = (offsets[side] as Float32Array)[i] as number;
          for (let c = 0; c < D / 2; c += 8) v += (content[c] as number) * (sem[c * D + i] as number);
          out[r * D + i] = v + 0.3 * g();
        }
      }
    }
    for (let side = 0; side < 2; side++) {
      const bytes = new Uint8Array((blocks[side] as Float32Array).buffer, 0, m * D * 4);
      await (files[side] as Awaited<ReturnType<typeof open>>).write(bytes, 0, bytes.length, header.length + r0 * D * 4);
    }
  }
  for (const f of files) await f.close();
  for (const s of ['src', 'trg']) await rename(join(dir, `${s}.npy.tmp`), join(dir, `${s}.npy`));
}

export async function benchMine(rows: Row[]): Promise<void> {
  const small = Math.max(2000, Math.round(100_000 * SCALE));
  const large = process.env.BENCH_MINE_LARGE === '1';
  // BENCH_MINE_SMALL_HNSW=0: exact only at the small size (HNSW at 100,000 took over 23 minutes here)
  const plan: [number, string[]][] = [[small, process.env.BENCH_MINE_SMALL_HNSW === '0' ? ['exact'] : ['exact', 'hnsw']]];
  if (large) plan.push([300_000, process.env.BENCH_MINE_LARGE_HNSW === '1' ? ['exact', 'hnsw'] : ['exact']]);
  const exactSeconds = new Map<number, number>();
  for (const [n, searches] of plan) {
    const dir = join(DIR, `mine-${n}`);
    await makeSides(dir, n);
    for (const search of searches) {
      const out = join(dir, `pairs-${search}.tsv`);
      const r = lsarChild('mine', { src: join(dir, 'src.npy'), trg: join(dir, 'trg.npy'), out, search, half: n / 2 });
      await rm(out, { force: true });
      const dataMib = (2 * n * D * 4) / 2 ** 20;
      console.log(
        `  ${fmt(n)} x ${fmt(n)} x ${D}, ${search}: ${(r.seconds as number).toFixed(1)} s, peak ${fmt(r.rss_mib)} MiB (${(r.rss_mib / dataMib).toFixed(2)}x the data); ${fmt(r.pairs as number)} pairs, ${fmt(r.gold as number)} of the ${fmt(n / 2)} planted translations${search === 'hnsw' ? `; ef ${r.ef}, recall@10 ${(r.recall10 as number).toFixed(3)} on a sample` : ''}`,
      );
      rows.push({ stage: `mine ${fmt(n)} x ${fmt(n)} ${search}`, lsar: r.seconds as number, unit: 's' });
      if (search === 'exact') exactSeconds.set(n, r.seconds as number);
      if (n === 300_000) {
        const base = exactSeconds.get(small);
        console.log(
          `  300,000 x 300,000 ${search}: ${((r.seconds as number) / 60).toFixed(1)} min against the 60-minute target: ${(r.seconds as number) <= 3600 ? 'met' : 'NOT met'}${base !== undefined ? `; ${((r.seconds as number) / base).toFixed(1)}x the exact run at ${fmt(small)} (${(n / small) ** 2}x the pairs of rows)` : ''}`,
        );
      }
      rows.push({ stage: `mine ${fmt(n)} x ${fmt(n)} ${search} peak memory`, lsar: r.rss_mib, unit: 'MiB' });
    }
  }
  if (!large) console.log('  (300,000 x 300,000: BENCH_MINE_LARGE=1 npm run bench -- mine)');
}
