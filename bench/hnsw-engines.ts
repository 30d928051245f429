/**
 * HNSW engines behind the same VectorIndex (issue 21, item 3): lsar's sharded hnswlib-node
 * (one graph per core in worker threads, results merged) against USearch (one graph, its own
 * threads), each in a fresh process, on clustered and isotropic 100,000 x 768 rows with 1,000
 * queries: build time, the search time of all queries at the smallest ef (64, 128, ...) whose
 * recall@10 against exact search reaches 0.99, and peak memory (GNU time). The baseline is
 * hnswlib-node measured in the same run. Last line:
 * {"bench":"hnsw-engines","results":[{engine,data,build_s,search_s,recall10,rss_mib}]}.
 */
import { join } from 'node:path';
import { HNSW_DEFAULTS } from '../src/adapters/hnsw.js';
import { DIR, exists, fmt, lsarChild, makeNpy, ratio, SCALE } from './lib.js';
import type { Row } from './search.js';

export interface EngineResult {
  engine: string;
  data: string;
  build_s: number;
  search_s: number;
  recall10: number;
  rss_mib: number;
  ef: number;
}

export async function benchHnswEngines(_rows: Row[]): Promise<{ results: EngineResult[] }> {
  const { m, efConstruction } = HNSW_DEFAULTS;
  const n = Math.max(2000, Math.round(100_000 * SCALE));
  const results: EngineResult[] = [];
  for (const [data, clusters] of [
    ['clustered', 1000],
    ['isotropic', 0],
  ] as const) {
    const x = join(DIR, `engines-${data}-${n}.npy`);
    const q = join(DIR, `engines-${data}-q.npy`);
    await makeNpy(x, n, 768, 31, clusters);
    await makeNpy(q, 1000, 768, 32, clusters);
    const truth = join(DIR, `engines-${data}-${n}.truth.json`);
    if (!(await exists(truth))) lsarChild('truth', { index: x, queries: q, k: 10, out: truth });
    console.log(`  ${data} ${fmt(n)} x 768, 1,000 queries, top-10 (M ${m}, efConstruction ${efConstruction}), ef for recall@10 >= 0.99`);
    const base = lsarChild('hnsw-engine', { engine: 'hnswlib', index: x, queries: q, truth, m, efConstruction, recall: 0.99 });
    const other = lsarChild('hnsw-engine', { engine: 'usearch', index: x, queries: q, truth, m, efConstruction, recall: 0.99 });
    for (const [engine, r] of [
      ['hnswlib-node (sharded)', base],
      ['usearch', other],
    ] as const) {
      results.push({
        engine,
        data,
        build_s: r.build_s as number,
        search_s: r.search_s as number,
        recall10: r.recall10 as number,
        rss_mib: Math.round(r.rss_mib),
        ef: r.ef as number,
      });
      console.log(
        `    ${engine.padEnd(24)} build ${(r.build_s as number).toFixed(1)} s, search ${(r.search_s as number).toFixed(2)} s at ef ${r.ef} (recall@10 ${(r.recall10 as number).toFixed(4)}), peak ${Math.round(r.rss_mib)} MiB`,
      );
    }
    console.log(
      `    usearch / hnswlib-node: build ${ratio(other.build_s as number, base.build_s as number)}, search ${ratio(other.search_s as number, base.search_s as number)}, memory ${ratio(other.rss_mib, base.rss_mib)}`,
    );
  }
  return { results };
}
