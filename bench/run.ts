/**
 * Benchmarks (npm run bench [-- search|fit|project|mine|embed|export|parquet|serve|inspect|hnsw-engines]). Every figure is printed next to a
 * baseline measured in the same run on the same files (numpy + faiss, C++ hnswlib, onnxruntime,
 * or a plain copy), so the ratios hold on any machine. BENCH_SCALE=0.1 shrinks the data for a
 * quick look; BENCH_REPS sets the runs per median (3). Data goes to .bench/ (reused).
 * The last line is a JSON summary: {"bench": "<parts>", "rows": [{"stage", "lsar", "reference", "unit"}]}.
 */
import { mkdir } from 'node:fs/promises';
import { closeWorkerPool } from '../src/adapters/pool.js';
import { benchEmbed } from './embed.js';
import { benchExport } from './export.js';
import { benchFit } from './fit.js';
import { benchHnswEngines } from './hnsw-engines.js';
import { benchInspect } from './inspect.js';
import { benchMine } from './mine.js';
import { benchParquet } from './parquet.js';
import { DIR, SCALE } from './lib.js';
import { benchProject } from './project.js';
import { benchSearch, type Row } from './search.js';
import { benchServe } from './serve.js';

const parts: Record<string, (rows: Row[]) => Promise<void | Record<string, unknown>>> = {
  fit: benchFit,
  project: benchProject,
  search: benchSearch,
  mine: benchMine,
  embed: benchEmbed,
  export: benchExport,
  parquet: benchParquet,
  serve: benchServe,
  inspect: benchInspect,
  'hnsw-engines': benchHnswEngines,
};
const which = process.argv[2] ?? 'all';
if (which !== 'all' && !parts[which]) {
  console.error(`bench: unknown part "${which}": expected one of ${Object.keys(parts).join(', ')} (or nothing for all)`);
  process.exit(2);
}
await mkdir(DIR, { recursive: true });
console.log(`lsar bench (scale ${SCALE}), node ${process.version}`);
const rows: Row[] = [];
/** What parts add to the final JSON line (embed: its results). */
const extra: Record<string, unknown> = {};
for (const [name, f] of Object.entries(parts)) {
  if (which !== 'all' && which !== name) continue;
  console.log(name);
  Object.assign(extra, await f(rows));
}
await closeWorkerPool();
if (rows.length > 0) console.log('\nstage | lsar | reference | ratio');
for (const r of rows) {
  const v = (x: number) => (r.unit === 's' ? `${x.toFixed(2)} s` : r.unit === 'MiB' ? `${Math.round(x)} MiB` : x.toFixed(4));
  console.log(
    `${r.stage} | ${v(r.lsar)} | ${r.reference !== undefined ? v(r.reference) : '-'} | ${r.reference !== undefined && r.unit !== '' ? (r.lsar / r.reference).toFixed(2) + 'x' : '-'}`,
  );
}
console.log(JSON.stringify({ bench: which, ...(rows.length > 0 || !('results' in extra) ? { rows } : {}), ...extra }));
