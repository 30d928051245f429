/**
 * `lsar search --index postgresql://...` (or `pglite:<dir>`): the k nearest rows of a pgvector
 * table, by pgvector itself. exact: a sequential scan (index scans switched off in the query's
 * transaction); hnsw: pgvector's HNSW index on the column (created when missing), with
 * hnsw.ef_search chosen, as for lsar's own indexes, as the smallest that reaches the recall
 * target against exact search on a sample of the queries. auto is exact: an HNSW index is a
 * lasting change to the user's database, made only when asked for.
 */
import { createError, opt } from '../../core/errors.js';
import type { Embeddings } from '../../core/embeddings.js';
import type { Metric } from '../../core/vector-index.js';
import type { Projection } from '../../core/projection.js';
import { openStore, quoteTable, type VectorStore } from '../../adapters/pgvector.js';
import { HNSW_DEFAULTS } from '../../adapters/hnsw.js';
import { projectionKey, type SearchSettings } from '../services/search/index.js';
import { columnType, keyOfComment } from '../project/store.js';
import type { SearchResult } from './result.js';

export interface StoreSearch extends SearchSettings {
  target: string;
  table: string;
  column: string;
  metric: Metric;
  k: number;
  /** The projection the queries were given (undefined or none: unprojected). */
  projection: Projection | undefined;
}

/** pgvector's ordering operator and its operator class, and the score from the distance. */
const OPS: Record<Metric, { op: string; ops: string; score: string }> = {
  cosine: { op: '<=>', ops: 'vector_cosine_ops', score: '1 - d' },
  dot: { op: '<#>', ops: 'vector_ip_ops', score: '-d' },
};

/** Queries per statement. */
const QUERY_BATCH = 256;

/** pgvector's largest hnsw.ef_search. */
const EF_MAX = 1000;

/** The table's vector dimension (checked against the projection's record) before the queries are read. */
export async function openStoreSearch(s: StoreSearch): Promise<{ db: VectorStore; dim: number }> {
  const table = quoteTable(s.table);
  const db = await openStore(s.target, { mustExist: true });
  try {
    const c = await columnType(db, s.table, s.column);
    if (!c)
      throw createError('STORE', `${db.label}: no table ${s.table} with a column ${s.column} (${opt('table')}, ${opt('column')})`, {
        param: 'table',
      });
    const m = /^vector\((\d+)\)$/.exec(c.type);
    if (!m)
      throw createError('STORE', `${db.label} table ${s.table}: column ${s.column} is ${c.type}, expected vector(d)`, { param: 'column' });
    const stored = keyOfComment(c.comment);
    const given = projectionKey(s.projection);
    if (stored !== undefined && stored !== given)
      throw createError(
        'STORE',
        stored === 'none'
          ? `${db.label} table ${table}: its rows were not projected, but ${opt('projection')} would project the queries: leave it out`
          : `${db.label} table ${table}: its rows were projected with ${stored}, the queries ${given === 'none' ? 'would not be' : `with ${given}`}: give ${opt('projection')} the projection that wrote the table`,
        { param: 'projection' },
      );
    return { db, dim: Number(m[1]) };
  } catch (e) {
    await db.close();
    throw e;
  }
}

/** Search the (projected, float32) queries in the table. */
export async function searchStore(db: VectorStore, s: StoreSearch, q: Embeddings<Float32Array>): Promise<SearchResult> {
  const table = quoteTable(s.table);
  const col = quoteTable(s.column, 'column');
  const { op, ops, score } = OPS[s.metric];
  const mode = s.search === 'hnsw' ? 'hnsw' : 'exact';
  // one statement per batch of queries: each query's k nearest rows by a lateral subquery
  const sql = `SELECT q.i, n.source, n."row", n.score FROM unnest($1::text[]::vector[]) WITH ORDINALITY AS q(v, i)
    CROSS JOIN LATERAL (SELECT source, "row", ${score.replace('d', `(${col} ${op} q.v)`)} AS score
      FROM ${table} ORDER BY ${col} ${op} q.v LIMIT ${s.k}) n ORDER BY q.i, n.score DESC, n.source, n."row"`;
  const texts = await labelColumns(db, s.table);
  type Hit = { source: string; row: number; score: number };
  const batch = async (rows: number[]): Promise<Hit[][]> => {
    const out: Hit[][] = rows.map(() => []);
    const got = await db.query<{ i: string; source: string; row: string; score: number }>(sql, [
      rows.map((i) => vectorLiteral(q.data, i, q.dim)),
    ]);
    for (const r of got) out[Number(r.i) - 1]?.push({ source: r.source, row: Number(r.row), score: Number(r.score) });
    return out;
  };
  const run = async (rows: number[], ef: number | undefined) => {
    const out = [];
    await db.query('BEGIN');
    try {
      if (ef === undefined) {
        await db.query('SET LOCAL enable_indexscan = off');
        await db.query('SET LOCAL enable_bitmapscan = off');
      } else await db.query(`SET LOCAL hnsw.ef_search = ${ef}`);
      for (let a = 0; a < rows.length; a += QUERY_BATCH) out.push(...(await batch(rows.slice(a, a + QUERY_BATCH))));
    } finally {
      await db.query('COMMIT');
    }
    return out;
  };
  const all = Array.from({ length: q.rows }, (_, i) => i);
  let found;
  let ef: number | undefined;
  let recall: SearchResult['recall'];
  let reason: string;
  if (mode === 'exact') {
    found = await run(all, undefined);
    reason = s.search === 'exact' ? 'asked for' : 'in the database, a sequential scan (an HNSW index is built only with --search hnsw)';
  } else {
    const m = s.hnsw?.m ?? HNSW_DEFAULTS.m;
    const efc = s.hnsw?.efConstruction ?? HNSW_DEFAULTS.efConstruction;
    const name = `${s.table.replace(/^.*\./, '')}_${s.column}_hnsw_${s.metric}`.slice(0, 63);
    await db.query(`CREATE INDEX IF NOT EXISTS "${name}" ON ${table} USING hnsw (${col} ${ops}) WITH (m = ${m}, ef_construction = ${efc})`);
    reason = `pgvector's HNSW index ${name}`;
    if (s.hnsw?.ef !== undefined) {
      ef = Math.min(EF_MAX, s.hnsw.ef);
      found = await run(all, ef);
    } else {
      const target = s.recall ?? 0.99;
      const n = Math.min(q.rows, s.recallSample ?? 200);
      const sample = Array.from({ length: n }, (_, j) => Math.floor((j * q.rows) / n));
      const truth = await run(sample, undefined);
      for (ef = 64; ; ef = Math.min(EF_MAX, ef * 2)) {
        const got = await run(sample, ef);
        recall = rates(truth, got, s.k);
        if (recall.at10 >= target || ef === EF_MAX) break;
      }
      found = await run(all, ef);
    }
  }
  const labels = texts ? await labelsOf(db, table, texts, found) : undefined;
  return {
    search: mode,
    reason,
    ...(ef !== undefined ? { ef } : {}),
    ...(recall ? { recall } : {}),
    k: s.k,
    results: found.map((hits, query) => ({
      query,
      neighbors: hits.map((h) => {
        const label = labels?.get(`${h.source}\u0000${h.row}`);
        return { index: h.row, score: h.score, source: h.source, ...(label !== undefined ? { label } : {}) };
      }),
    })),
  };
}

/** The table's text column, if any: shown as each neighbour's label. */
async function labelColumns(db: VectorStore, table: string): Promise<string | undefined> {
  const rows = await db.query<{ n: string }>(
    `SELECT attname AS n FROM pg_attribute WHERE attrelid = to_regclass($1) AND attname IN ('text', 'id') AND NOT attisdropped`,
    [table],
  );
  const names = rows.map((r) => r.n);
  return names.includes('text') ? 'text' : names.includes('id') ? 'id' : undefined;
}

async function labelsOf(
  db: VectorStore,
  table: string,
  column: string,
  found: { source: string; row: number }[][],
): Promise<Map<string, string>> {
  const keys = new Map<string, { source: string; row: number }>();
  for (const hits of found) for (const h of hits) keys.set(`${h.source}\u0000${h.row}`, h);
  const out = new Map<string, string>();
  const list = [...keys.values()];
  for (let a = 0; a < list.length; a += 1000) {
    const part = list.slice(a, a + 1000);
    const rows = await db.query<{ source: string; row: string; label: string | null }>(
      `SELECT t.source, t."row", t."${column}" AS label FROM ${table} t JOIN unnest($1::text[], $2::bigint[]) AS k(source, "row") ON t.source = k.source AND t."row" = k."row"`,
      [part.map((h) => h.source), part.map((h) => String(h.row))],
    );
    for (const r of rows) if (r.label !== null) out.set(`${r.source}\u0000${Number(r.row)}`, r.label);
  }
  return out;
}

/** recall@1 and recall@10 of `got` against `truth` (rows named by source and row). */
function rates(truth: { source: string; row: number }[][], got: { source: string; row: number }[][], k: number) {
  const ids = (hits: { source: string; row: number }[]) => hits.map((h) => `${h.source}\u0000${h.row}`);
  const n = Math.min(10, k);
  let at1 = 0;
  let at10 = 0;
  truth.forEach((hits, q) => {
    const t = ids(hits);
    const g = ids(got[q] ?? []);
    if (t[0] !== undefined && t[0] === g[0]) at1++;
    const set = new Set(t.slice(0, n));
    at10 += g.slice(0, n).filter((x) => set.has(x)).length / Math.max(1, Math.min(n, t.length));
  });
  const m = Math.max(1, truth.length);
  return { at1: at1 / m, at10: at10 / m, queries: truth.length };
}

function vectorLiteral(x: Float32Array, i: number, d: number): string {
  return `[${Array.from(x.subarray(i * d, (i + 1) * d)).join(',')}]`;
}
