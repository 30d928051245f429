// One measured lsar task in a fresh process (as a user's run would be), from dist/ (npm run bench
// builds it first). Prints one JSON line: the seconds of the task (from the call to its result).
const [task, json] = process.argv.slice(2);
const a = JSON.parse(json ?? '{}');
const dist = (p) => import(new URL(`../dist/${p}`, import.meta.url).href);
const { closeWorkerPool } = await dist('adapters/pool.js');
// Modules load before the clock starts, as the Python reference imports numpy and faiss first.
const modules = {
  'exact-search': ['io/embeddings.js', 'pipeline/services/search/index.js'],
  'retrieve-pairs': ['pipeline/retrieve/index.js'],
  fit: ['pipeline/fit.js', 'io/inputs.js'],
  hnsw: ['io/embeddings.js', 'pipeline/services/search/index.js'],
  project: ['io/artifact.js', 'pipeline/project/index.js'],
  mine: ['pipeline/mine/index.js'],
  truth: ['io/embeddings.js', 'pipeline/services/search/index.js'],
  'hnsw-engine': ['io/embeddings.js', 'pipeline/services/search/index.js', 'adapters/usearch.js'],
};
for (const m of modules[task] ?? []) await dist(m);
const t0 = process.hrtime.bigint();
const secs = () => Number(process.hrtime.bigint() - t0) / 1e9;
const out = {};
if (task === 'exact-search') {
  const { readEmbeddings } = await dist('io/embeddings.js');
  const { buildIndex } = await dist('pipeline/services/search/index.js');
  const x = await readEmbeddings(a.index);
  const q = await readEmbeddings(a.queries);
  const index = await buildIndex(x, { kind: 'exact', owned: true });
  const top = await index.search(q, a.k);
  out.seconds = secs();
  out.first = Array.from(top.indices.slice(0, 5));
} else if (task === 'retrieve-pairs') {
  const { retrieve } = await dist('pipeline/retrieve/index.js');
  const r = await retrieve({ task: 'pairs', direction: 'en-xx', exact: true, ...a });
  out.seconds = secs();
  out.mean = Object.values(r.results)[0].mean;
} else if (task === 'fit') {
  const { fitFromFiles } = await dist('pipeline/fit.js');
  const { listLanguageFiles } = await dist('io/inputs.js');
  const r = await fitFromFiles(await listLanguageFiles(a.dir, '.npy'), { method: 'lsar' });
  out.seconds = secs();
  out.rank = r.projection.rank;
} else if (task === 'hnsw') {
  const { readEmbeddings } = await dist('io/embeddings.js');
  const { buildIndex, searchTuned } = await dist('pipeline/services/search/index.js');
  const x = await readEmbeddings(a.index);
  const q = await readEmbeddings(a.queries);
  const t1 = secs();
  const index = await buildIndex(x, { kind: 'hnsw', hnsw: { m: a.m, efConstruction: a.efConstruction } });
  out.build_seconds = secs() - t1;
  const t2 = secs();
  const tuned = await searchTuned(index, x, q, 10, { recall: a.recall ?? 0.99 });
  out.search_seconds = secs() - t2;
  out.ef = tuned.ef;
  const exact = await buildIndex(x, { kind: 'exact' });
  const t3 = secs();
  const truth = await exact.search(q, 10);
  out.exact_seconds = secs() - t3;
  let hits1 = 0;
  let hits10 = 0;
  for (let i = 0; i < q.rows; i++) {
    if (truth.indices[i * 10] === tuned.top.indices[i * 10]) hits1++;
    const s = new Set(truth.indices.subarray(i * 10, i * 10 + 10));
    for (let j = 0; j < 10; j++) if (s.has(tuned.top.indices[i * 10 + j])) hits10++;
  }
  out.recall1 = hits1 / q.rows;
  out.recall10 = hits10 / (10 * q.rows);
  out.shards = index.shardCount;
  await index.dispose();
} else if (task === 'project') {
  const { loadProjection } = await dist('io/artifact.js');
  const { projectStream } = await dist('pipeline/project/index.js');
  await projectStream(await loadProjection(a.projection), { input: a.input, output: a.output });
  out.seconds = secs();
} else if (task === 'mine') {
  const { mine } = await dist('pipeline/mine/index.js');
  const { summary } = await mine({ src: a.src, trg: a.trg, out: a.out, k: 4, search: a.search });
  out.seconds = secs();
  out.pairs = summary.pairs;
  out.kind = summary.search.forward.kind;
  out.ef = summary.search.forward.ef ?? 0;
  out.recall10 = summary.search.forward.recall?.at10 ?? 1;
  out.gold = 0;
  const { readFileSync } = await import('node:fs');
  for (const line of readFileSync(a.out, 'utf8').split('\n')) {
    const [, i, j] = line.split('\t');
    if (i !== undefined && Number(i) === Number(j) && Number(i) < a.half) out.gold++;
  }
} else if (task === 'truth') {
  // exact top-k of every query, the ground truth of the engines' recall
  const { readEmbeddings } = await dist('io/embeddings.js');
  const { buildIndex } = await dist('pipeline/services/search/index.js');
  const { writeFileSync } = await import('node:fs');
  const x = await readEmbeddings(a.index);
  const q = await readEmbeddings(a.queries);
  const index = await buildIndex(x, { kind: 'exact', owned: true });
  const top = await index.search(q, a.k);
  writeFileSync(a.out, JSON.stringify(Array.from(top.indices)));
  out.seconds = secs();
} else if (task === 'hnsw-engine') {
  // one HNSW engine behind VectorIndex: build, then the smallest ef of 64, 128, ... whose
  // recall@10 on all queries reaches a.recall; search_s is the search of all queries at that ef
  const { readEmbeddings } = await dist('io/embeddings.js');
  const { buildIndex } = await dist('pipeline/services/search/index.js');
  const { UsearchIndex } = await dist('adapters/usearch.js');
  const { readFileSync } = await import('node:fs');
  const x = await readEmbeddings(a.index);
  const q = await readEmbeddings(a.queries);
  const truth = JSON.parse(readFileSync(a.truth, 'utf8'));
  const k = 10;
  const params = { m: a.m, efConstruction: a.efConstruction };
  const t1 = secs();
  let index;
  if (a.engine === 'usearch') {
    index = UsearchIndex.create(x.dim, 'cosine', params);
    await index.add(x, { owned: true });
  } else index = await buildIndex(x, { kind: 'hnsw', hnsw: params, owned: true });
  out.build_s = secs() - t1;
  for (let ef = 64; ; ef *= 2) {
    const t2 = secs();
    const top = await index.search(q, k, { ef });
    const s = secs() - t2;
    let hits1 = 0;
    let hits10 = 0;
    for (let i = 0; i < q.rows; i++) {
      if (truth[i * k] === top.indices[i * k]) hits1++;
      const set = new Set(truth.slice(i * k, i * k + k));
      for (let j = 0; j < k; j++) if (set.has(top.indices[i * k + j])) hits10++;
    }
    Object.assign(out, { ef, search_s: s, recall1: hits1 / q.rows, recall10: hits10 / (k * q.rows) });
    if (out.recall10 >= a.recall || ef >= 4096) break;
  }
  await index.dispose();
} else throw new Error(`unknown task ${task}`);
await closeWorkerPool();
console.log(JSON.stringify(out));
