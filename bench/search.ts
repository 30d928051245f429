/**
 * Search: lsar against numpy + faiss (IndexFlatIP) and C++ hnswlib, each in its own process,
 * alternated, medians of BENCH_REPS runs.
 *  - exact: 100,000 x 768 rows, 1,000 queries, top-1 (perf_ref.py search), time and peak memory;
 *  - pairs: the paper-scale set (37 languages x 10,000 fit rows, 36 x 1,000 pairs, 768-d): the
 *    projection applied and exact search (lsar retrieve pairs with a saved projection) against
 *    perf_ref.py run's project + search; and the whole pipeline (fit + project + search);
 *  - HNSW: build time against hnswlib with the same M, efConstruction and cores, recall@1/@10
 *    of the default (ef chosen for recall 0.99) against exact on every query, on clustered and
 *    isotropic data; and what `auto` would choose for such jobs.
 */
import { join } from 'node:path';
import {
  fmt,
  lsarChild,
  makeNpy,
  median,
  PERF_REF,
  python,
  pythonHas,
  ratio,
  REPS,
  SCALE,
  DIR,
  blasName,
  exists,
  pythonRun,
} from './lib.js';
import { HNSW_DEFAULTS } from '../src/adapters/hnsw.js';
import { chooseKind } from '../src/pipeline/services/search/index.js';

export interface Row {
  stage: string;
  lsar: number;
  reference?: number;
  unit: string;
}

export async function benchSearch(rows: Row[]): Promise<void> {
  const haveRef = pythonHas('numpy', 'faiss');
  if (!haveRef)
    console.log('  reference skipped: /usr/bin/python3 with numpy and faiss not found (apt-get install python3-numpy python3-faiss)');
  else console.log(`  reference: numpy + faiss IndexFlatIP, BLAS ${blasName()}`);
  const n = Math.max(2000, Math.round(100_000 * SCALE));
  const x = join(DIR, `search-x-${n}.npy`);
  const q = join(DIR, 'search-q-1000.npy');
  await makeNpy(x, n, 768, 11);
  await makeNpy(q, 1000, 768, 12);
  const ls: number[] = [];
  const lm: number[] = [];
  const rs: number[] = [];
  const rm: number[] = [];
  for (let i = 0; i < REPS; i++) {
    const a = lsarChild('exact-search', { index: x, queries: q, k: 1 });
    ls.push(a.seconds as number);
    lm.push(a.rss_mib);
    if (haveRef) {
      const b = python([PERF_REF, 'search', x, q, '--k', '1']);
      rs.push(b.search_s as number);
      rm.push(b.rss_mib);
    }
  }
  const dataMib = (n * 768 * 4 + 1000 * 768 * 4) / 2 ** 20;
  console.log(`  exact, ${fmt(n)} x 768, 1,000 queries, top-1 (load, normalise, search; medians of ${REPS})`);
  console.log(
    `    lsar  ${median(ls).toFixed(2)} s, peak ${fmt(median(lm))} MiB (${(median(lm) / dataMib).toFixed(2)}x the ${fmt(dataMib)} MiB of data)`,
  );
  if (haveRef) {
    console.log(
      `    faiss ${median(rs).toFixed(2)} s, peak ${fmt(median(rm))} MiB   ratio ${ratio(median(ls), median(rs))} (target <= 1.5x)`,
    );
  }
  rows.push({
    stage: `exact search ${fmt(n)} x 768, 1k queries`,
    lsar: median(ls),
    ...(haveRef ? { reference: median(rs) } : {}),
    unit: 's',
  });
  rows.push({ stage: 'exact search peak memory', lsar: median(lm), ...(haveRef ? { reference: median(rm) } : {}), unit: 'MiB' });

  if (haveRef) await benchPairs(rows);
  await benchHnsw(rows);
}

/** The paper-scale pairs (perf_ref.py make), projected and searched; and the whole pipeline. */
async function benchPairs(rows: Row[]): Promise<void> {
  const langs = 37;
  const fitRows = Math.max(200, Math.round(10_000 * SCALE));
  const dir = join(DIR, `paper-${fitRows}`);
  if (!(await exists(join(dir, 'bitext')))) python([PERF_REF, 'make', dir, '--langs', String(langs), '--rows', String(fitRows)]);
  const proj = join(dir, 'proj.json');
  const { fitToArtifact } = await import('../src/pipeline/fit.js');
  if (!(await exists(proj))) await fitToArtifact({ dir: join(dir, 'fit'), method: 'lsar', out: proj });
  const search: number[] = [];
  const whole: number[] = [];
  const refSearch: number[] = [];
  const refWhole: number[] = [];
  for (let i = 0; i < REPS; i++) {
    search.push(lsarChild('retrieve-pairs', { embeddings: join(dir, 'bitext'), methods: [], projections: [proj] }).seconds as number);
    whole.push(
      lsarChild('retrieve-pairs', { embeddings: join(dir, 'bitext'), fitEmbeddings: join(dir, 'fit'), methods: ['lsar'] })
        .seconds as number,
    );
    const r = python([PERF_REF, 'run', dir]);
    refSearch.push((r.project_s as number) + (r.search_s as number));
    refWhole.push(r.total_s as number);
  }
  console.log(`  paper-scale pairs: 36 languages x 1,000 pairs x 768, exact cosine top-1 (medians of ${REPS})`);
  console.log(
    `    project + search: lsar ${median(search).toFixed(2)} s, numpy + faiss ${median(refSearch).toFixed(2)} s   ratio ${ratio(median(search), median(refSearch))} (target <= 1.5x)`,
  );
  console.log(
    `    fit + project + search: lsar ${median(whole).toFixed(2)} s, numpy + faiss ${median(refWhole).toFixed(2)} s   ratio ${ratio(median(whole), median(refWhole))}`,
  );
  rows.push({ stage: 'pairs: project + exact search', lsar: median(search), reference: median(refSearch), unit: 's' });
  rows.push({ stage: 'pairs: fit + project + search', lsar: median(whole), reference: median(refWhole), unit: 's' });
}

async function benchHnsw(rows: Row[]): Promise<void> {
  const haveRef = pythonHas('numpy', 'hnswlib');
  const { m, efConstruction } = HNSW_DEFAULTS;
  for (const [kind, n, clusters] of [
    ['clustered', Math.max(2000, Math.round(100_000 * SCALE)), 1000],
    ['isotropic', Math.max(2000, Math.round(20_000 * SCALE)), 0],
  ] as const) {
    const x = join(DIR, `hnsw-${kind}-${n}.npy`);
    const q = join(DIR, `hnsw-${kind}-q.npy`);
    await makeNpy(x, n, 768, 21, clusters);
    await makeNpy(q, 1000, 768, 22, clusters);
    const a = lsarChild('hnsw', { index: x, queries: q, m, efConstruction });
    const ref = haveRef ? python([join(import.meta.dirname, 'hnsw_ref.py'), x, String(m), String(efConstruction)]) : undefined;
    console.log(`  HNSW, ${kind} ${fmt(n)} x 768 (M ${m}, efConstruction ${efConstruction}, ${a.shards} shard(s))`);
    console.log(
      `    build: lsar ${(a.build_seconds as number).toFixed(1)} s${ref ? `, C++ hnswlib (${ref.threads} threads) ${(ref.build_s as number).toFixed(1)} s   ratio ${ratio(a.build_seconds as number, ref.build_s as number)} (target <= 1.2x)` : ' (hnswlib reference skipped: python3-hnswlib not found)'}`,
    );
    console.log(
      `    search 1,000 queries, top-10: ef ${a.ef} (chosen for recall 0.99 on a sample), recall@1 ${(a.recall1 as number).toFixed(4)}, recall@10 ${(a.recall10 as number).toFixed(4)} on all 1,000 (target >= 0.99)`,
    );
    console.log(
      `    HNSW ${(a.search_seconds as number).toFixed(2)} s (with ef tuning) vs exact ${(a.exact_seconds as number).toFixed(2)} s; one-off build + search vs exact: ${ratio((a.build_seconds as number) + (a.search_seconds as number), a.exact_seconds as number)}`,
    );
    const choice = await chooseKind('auto', { rows: n, queries: 1000, dim: 768 });
    console.log(`    auto for this job: ${choice.kind} (${choice.reason})`);
    rows.push({
      stage: `HNSW build, ${kind} ${fmt(n)}`,
      lsar: a.build_seconds as number,
      ...(ref ? { reference: ref.build_s as number } : {}),
      unit: 's',
    });
    rows.push({ stage: `HNSW recall@10 (ef ${a.ef}), ${kind}`, lsar: a.recall10 as number, unit: '' });
  }
  void pythonRun;
}
