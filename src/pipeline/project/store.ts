/**
 * Projected rows into PostgreSQL + pgvector (or PGlite): one table with a `vector(d)` column,
 * created when missing (with source, row, lang, id and text columns) or appended to after a
 * dimension check. Each input file is one transaction: its earlier rows (same `source`) are
 * replaced, its rows go in by COPY in batches, and a failure or a killed writer leaves none of
 * that file's rows. The column's comment records the projection applied (`lsar search` checks it).
 */
import { createError, LsarError, opt } from '../../core/errors.js';
import { needsLanguage, outputDim, type Projection } from '../../core/projection.js';
import { copyText, openStore, pgliteReason, quoteTable, type VectorStore } from '../../adapters/pgvector.js';
import { openEmbeddings, type Block } from '../../io/embeddings.js';
import { isParquet, ParquetEmbeddings } from '../../io/parquet.js';
import { projectionKey } from '../services/search/index.js';
import { applyBlock, castRows, operators, type ProjectOptions, type ProjectSummary } from './rows.js';

/** Rows per COPY statement (a 768-d row is about 9 kB of text). */
const COPY_ROWS = 1000;

export interface StoreOptions extends Omit<ProjectOptions, 'output' | 'stdin' | 'stdout' | 'as' | 'dtype' | 'workers'> {
  /** The vector column (default `embedding`). */
  column?: string;
}

export interface StoreTarget {
  /** `postgresql://...` or `pglite:<dir>`. */
  target: string;
  /** Table, optionally schema.table. */
  table: string;
  /** The vector column. */
  vectorColumn: string;
}

/** The comment on the vector column: what was applied to its rows. */
export function storeComment(projection: Projection): string {
  return `lsar projection ${projectionKey(projection)}`;
}

/** The projection key a vector column's comment records (undefined when lsar did not write it). */
export function keyOfComment(comment: string | null | undefined): string | undefined {
  const m = /^lsar projection (\S+)$/.exec(comment ?? '');
  return m?.[1];
}

/** The column's type as PostgreSQL prints it (`vector(768)`), or undefined when the table or column is missing. */
export async function columnType(
  db: VectorStore,
  table: string,
  column: string,
): Promise<{ type: string; comment: string | null } | undefined> {
  const rows = await db.query<{ type: string; comment: string | null }>(
    `SELECT format_type(a.atttypid, a.atttypmod) AS type, col_description(a.attrelid, a.attnum) AS comment
       FROM pg_attribute a WHERE a.attrelid = to_regclass($1) AND a.attname = $2 AND NOT a.attisdropped`,
    [table, column],
  );
  return rows[0];
}

/** The columns of a table (empty when it does not exist). */
async function tableColumns(db: VectorStore, table: string): Promise<Set<string>> {
  const rows = await db.query<{ name: string }>(
    `SELECT attname AS name FROM pg_attribute WHERE attrelid = to_regclass($1) AND attnum > 0 AND NOT attisdropped`,
    [table],
  );
  return new Set(rows.map((r) => r.name));
}

/**
 * Project each input file into the table, one transaction per file (inputs in order; each
 * file's language from `langOf` for lir and demean).
 */
export async function projectToStore(
  projection: Projection,
  files: { path: string; lang: string | undefined }[],
  to: StoreTarget,
  options: StoreOptions,
): Promise<ProjectSummary[]> {
  const table = quoteTable(to.table);
  const col = quoteTable(to.vectorColumn, 'as');
  const od = outputDim(projection);
  const db = await openStore(to.target);
  const out: ProjectSummary[] = [];
  try {
    await prepareTable(db, to, table, col, od, projection);
    const columns = await tableColumns(db, to.table);
    for (const f of files) out.push(await storeFile(db, projection, f, to, table, col, columns, options));
  } catch (e) {
    await db.close();
    // a PGlite database this run made and wrote no file into is not left behind
    if (out.length === 0) await db.discardIfNew();
    throw e;
  }
  await db.close();
  return out;
}

async function prepareTable(
  db: VectorStore,
  to: StoreTarget,
  table: string,
  col: string,
  od: number,
  projection: Projection,
): Promise<void> {
  const where = `${db.label} table ${to.table}`;
  try {
    await db.query('CREATE EXTENSION IF NOT EXISTS vector');
  } catch (e) {
    throw createError('STORE', `${db.label}: the pgvector extension is not available (${pgliteReason(e)})`, { cause: e });
  }
  const existing = await columnType(db, to.table, to.vectorColumn);
  if (!existing) {
    if ((await tableColumns(db, to.table)).size > 0)
      throw createError('STORE', `${where} has no column ${to.vectorColumn}: name the vector column with ${opt('as')}`, { param: 'as' });
    await db.query(
      `CREATE TABLE IF NOT EXISTS ${table} (source text NOT NULL, "row" bigint NOT NULL, lang text, id text, text text, ${col} vector(${od}) NOT NULL)`,
    );
    await db.query(`COMMENT ON COLUMN ${table}.${col} IS '${storeComment(projection)}'`);
    return;
  }
  if (existing.type !== `vector(${od})`)
    throw createError(
      'STORE',
      `${where}: column ${to.vectorColumn} is ${existing.type}, but the projected rows have ${od} values (vector(${od}))`,
      {
        param: 'out',
      },
    );
  const key = keyOfComment(existing.comment);
  if (key !== undefined && key !== projectionKey(projection))
    throw createError(
      'STORE',
      `${where}: its rows were projected with ${key}, this projection is ${projectionKey(projection)}: write to another ${opt('table')} (one table holds one space)`,
      { param: 'table' },
    );
}

async function storeFile(
  db: VectorStore,
  projection: Projection,
  f: { path: string; lang: string | undefined },
  to: StoreTarget,
  table: string,
  col: string,
  have: Set<string>,
  options: StoreOptions,
): Promise<ProjectSummary> {
  const d = projection.dim;
  const od = outputDim(projection);
  const byRow = options.langColumn !== undefined && needsLanguage(projection.method);
  const opFor = operators(projection, {
    ...options,
    input: f.path,
    output: to.target,
    ...(byRow ? {} : f.lang !== undefined ? { lang: f.lang } : {}),
  });
  if (!byRow) opFor(undefined);
  const pq = isParquet(f.path)
    ? await ParquetEmbeddings.open(f.path, {
        ...(options.column !== undefined ? { column: options.column } : {}),
        ...(options.langColumn !== undefined ? { langColumn: options.langColumn } : {}),
        allColumns: true,
      })
    : undefined;
  const src = pq ? undefined : await openEmbeddings(f.path, { dim: d, dimOf: 'the projection was fitted on dimension' });
  const total = pq ? pq.rows : src?.rows;
  const extra = pq ? pq.schema.fields.map((x) => x.name).filter((n) => n === 'id' || n === 'text') : [];
  const lang = f.lang ?? options.lang;
  const wants = ['source', 'row', ...(lang !== undefined || options.langColumn !== undefined ? ['lang'] : []), ...extra, to.vectorColumn];
  const missing = wants.filter((c) => !have.has(c));
  if (missing.length)
    throw createError(
      'STORE',
      `${db.label} table ${to.table} has no column${missing.length > 1 ? 's' : ''} ${missing.join(', ')} (lsar writes source, row, lang, id, text and the vector): add ${missing.length > 1 ? 'them' : 'it'} or write to a new ${opt('table')}`,
      { param: 'table' },
    );
  const columns = wants.map((c) => (c === to.vectorColumn ? col : `"${c}"`));
  let rows = 0;
  try {
    await db.query('BEGIN');
    await db.query(`DELETE FROM ${table} WHERE source = $1`, [f.path]);
    const blocks: AsyncGenerator<Block & { table?: unknown }> = pq ? pq.batches() : (src as NonNullable<typeof src>).blocks();
    for await (const b of blocks) {
      if (pq && pq.dim !== d)
        throw createError('DIM_MISMATCH', `${f.path}: dimension ${pq.dim}, but the projection was fitted on dimension ${d}`);
      applyBlock(opFor, b, d, f.path, byRow);
      const x = castRows(b.data, b.rows, od, '<f4', f.path, rows);
      const t = (b as { table?: { getChild(n: string): { get(i: number): unknown } | null } }).table;
      const cols = extra.map((n) => t?.getChild(n));
      for (let a = 0; a < b.rows; a += COPY_ROWS) {
        const z = Math.min(b.rows, a + COPY_ROWS);
        let text = '';
        for (let i = a; i < z; i++) {
          const parts = [copyText(f.path), String(rows + i)];
          if (wants.includes('lang')) parts.push(copyText(b.langs?.[i] ?? lang));
          for (const c of cols) parts.push(copyText(stringOf(c?.get(i))));
          parts.push(vectorText(x, i * od, od));
          text += parts.join('\t') + '\n';
        }
        await db.copyIn(table, columns, text);
      }
      rows += b.rows;
      options.events?.progress?.(`project ${f.path}`, rows, total, { unit: 'rows' });
    }
    if (rows === 0) throw createError('EMPTY', `${f.path}: no rows`);
    await db.query('COMMIT');
  } catch (e) {
    await db.query('ROLLBACK').catch(() => undefined);
    if (!(e instanceof LsarError))
      throw createError('STORE', `${db.label} table ${to.table}: writing ${f.path} failed, none of its rows kept (${pgliteReason(e)})`, {
        cause: e,
      });
    throw e;
  } finally {
    pq?.close();
    await src?.close();
  }
  return { rows, dim: od, output: `${to.table}:${f.path}` };
}

function stringOf(v: unknown): string | null {
  if (v === null || v === undefined) return null;
  return typeof v === 'string' ? v : String(v);
}

/** pgvector's text form of one row: [v1,v2,...], each float32 in its shortest exact decimal. */
function vectorText(x: ArrayLike<number>, at: number, d: number): string {
  let s = '[';
  for (let j = 0; j < d; j++) s += (j ? ',' : '') + shortestFloat32(x[at + j] as number);
  return s + ']';
}

/** The shortest decimal that reads back (as pgvector's strtof does) as this float32. */
function shortestFloat32(v: number): string {
  for (let p = 6; p < 9; p++) {
    const s = v.toPrecision(p);
    if (Math.fround(Number(s)) === v) return String(Number(s));
  }
  return String(v);
}
