/**
 * The pgvector sink and source (issue 21): `lsar project --out <store>` and `lsar search --index
 * <store>`, on PGlite (embedded, always) and on a real PostgreSQL 15 server with pgvector,
 * started by the test on 127.0.0.1 in a temporary data directory and stopped by PID (skipped,
 * with the reason, where postgres or pgvector is missing: .ci/run installs both).
 * Rows read back equal `lsar project`'s files (1e-6: pgvector stores float32, lsar writes the
 * shortest decimal that reads back as the same float32); search equals lsar's exact search on the
 * same rows (same rows in the same order, scores 1e-5: pgvector sums in float32); a writer killed
 * (SIGKILL) in the middle of a file leaves none of that file's rows.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { encodeNpy } from '../src/io/npy.js';
import { readEmbeddings } from '../src/io/embeddings.js';
import { openStore, type VectorStore } from '../src/adapters/pgvector.js';
import { BIN, oneLine, planted, runCli, tempDir } from './helpers.js';

const LANGS = ['en', 'de', 'fr'];
const ROWS = 120;
const DIM = 16;

/** Inputs (en.npy, de.npy, fr.parquet with id and text columns), a fitted projection, and lsar project's own outputs. */
async function prepare(): Promise<{ dir: string; proj: string; files: string; outs: string }> {
  const dir = await tempDir();
  const data = planted(LANGS, ROWS, DIM, 7);
  const files = join(dir, 'in');
  mkdirSync(files);
  for (const l of ['en', 'de']) await writeFile(join(files, `${l}.npy`), encodeNpy(data[l] as Float32Array, [ROWS, DIM]));
  const fr = data.fr as Float32Array;
  const { parquetWriteBuffer } = await import('hyparquet-writer');
  const buf = parquetWriteBuffer({
    columnData: [
      { name: 'id', data: Array.from({ length: ROWS }, (_, i) => `fr-${i}`) },
      { name: 'text', data: Array.from({ length: ROWS }, (_, i) => `phrase\t${i}\n\\ é`) },
      { name: 'embedding', data: Array.from({ length: ROWS }, (_, i) => Array.from(fr.subarray(i * DIM, (i + 1) * DIM))) },
    ],
    schema: [
      { name: 'root', num_children: 3 },
      { name: 'id', type: 'BYTE_ARRAY', converted_type: 'UTF8', repetition_type: 'REQUIRED' },
      { name: 'text', type: 'BYTE_ARRAY', converted_type: 'UTF8', repetition_type: 'REQUIRED' },
      { name: 'embedding', repetition_type: 'OPTIONAL', num_children: 1, converted_type: 'LIST' },
      { name: 'list', repetition_type: 'REPEATED', num_children: 1 },
      { name: 'element', repetition_type: 'OPTIONAL', type: 'FLOAT' },
    ],
    rowGroupSize: 50,
  });
  await writeFile(join(files, 'fr.parquet'), new Uint8Array(buf));
  const proj = join(dir, 'p');
  const fit = await runCli([
    'fit',
    ...LANGS.map((l) => ['-i', `${l}=${join(files, l === 'fr' ? 'fr.parquet' : `${l}.npy`)}`]).flat(),
    '--out',
    proj,
  ]);
  expect(fit.code, fit.stderr).toBe(0);
  const outs = join(dir, 'out');
  const p = await runCli(['project', '-p', proj, '--in', files, '--out', outs]);
  expect(p.code, p.stderr).toBe(0);
  return { dir, proj, files, outs };
}

interface Row {
  source: string;
  row: string;
  lang: string | null;
  id: string | null;
  text: string | null;
  v: string;
}

async function rowsOf(target: string, table: string): Promise<Row[]> {
  const db = await openStore(target);
  try {
    return await db.query<Row>(`SELECT source, "row", lang, id, text, embedding::text AS v FROM ${table} ORDER BY source, "row"`);
  } finally {
    await db.close();
  }
}

/** The store's rows equal lsar project's files, row by row (1e-6), with lang, id and text where the input had them. */
async function expectSameAsFiles(rows: Row[], files: string, outs: string): Promise<void> {
  expect(rows.length).toBe(LANGS.length * ROWS);
  for (const name of ['de.npy', 'en.npy', 'fr.parquet']) {
    const mine = rows.filter((r) => r.source === join(files, name));
    expect(mine.length, name).toBe(ROWS);
    const want = await readEmbeddings(join(outs, name));
    let worst = 0;
    mine.forEach((r, i) => {
      expect(Number(r.row)).toBe(i);
      const v = JSON.parse(r.v) as number[];
      expect(v.length).toBe(want.dim);
      for (let j = 0; j < v.length; j++) worst = Math.max(worst, Math.abs((v[j] as number) - (want.data[i * want.dim + j] as number)));
    });
    expect(worst, name).toBeLessThanOrEqual(1e-6);
  }
  const fr = rows.filter((r) => r.source.endsWith('fr.parquet'));
  expect(fr[3]?.id).toBe('fr-3');
  expect(fr[3]?.text).toBe('phrase\t3\n\\ é');
  expect(rows.find((r) => r.source.endsWith('de.npy'))?.id).toBeNull();
}

/** lsar search on a store equals lsar's exact search on the projected file (rows and order; scores 1e-5). */
async function expectSearchMatches(target: string, ctx: { dir: string; proj: string; files: string; outs: string }): Promise<void> {
  const table = 'only_en';
  const w = await runCli(['project', '-p', ctx.proj, '--in', join(ctx.files, 'en.npy'), '--out', target, '--table', table]);
  expect(w.code, w.stderr).toBe(0);
  const queries = join(ctx.files, 'de.npy');
  const want = await runCli([
    'search',
    '-x',
    join(ctx.files, 'en.npy'),
    '-p',
    ctx.proj,
    '--queries',
    queries,
    '-k',
    '10',
    '--exact',
    '--json',
  ]);
  const got = await runCli([
    'search',
    '-x',
    target,
    '--table',
    table,
    '-p',
    ctx.proj,
    '--queries',
    queries,
    '-k',
    '10',
    '--exact',
    '--json',
  ]);
  expect(want.code, want.stderr).toBe(0);
  expect(got.code, got.stderr).toBe(0);
  const parse = (s: string) =>
    s
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as { neighbors: { index: number; score: number; source?: string }[] });
  const a = parse(want.stdout);
  const b = parse(got.stdout);
  expect(b.length).toBe(ROWS);
  let worst = 0;
  a.forEach((q, i) => {
    expect(b[i]?.neighbors.map((n) => n.index)).toEqual(q.neighbors.map((n) => n.index));
    q.neighbors.forEach((n, j) => (worst = Math.max(worst, Math.abs(n.score - (b[i]?.neighbors[j]?.score as number)))));
    expect(b[i]?.neighbors[0]?.source).toBe(join(ctx.files, 'en.npy'));
  });
  expect(worst).toBeLessThanOrEqual(1e-5);
  // pgvector's HNSW: ef tuned against exact search on a sample, recall reported
  const h = await runCli([
    'search',
    '-x',
    target,
    '--table',
    table,
    '-p',
    ctx.proj,
    '--queries',
    queries,
    '-k',
    '10',
    '--search',
    'hnsw',
    '--json',
  ]);
  expect(h.code, h.stderr).toBe(0);
  const m = /recall@10 ([0-9.]+)/.exec(h.stderr);
  expect(Number(m?.[1])).toBeGreaterThanOrEqual(0.99);
  // the rows were projected: queries without the projection are refused
  oneLine(await runCli(['search', '-x', target, '--table', table, '--queries', queries]), 1, /projected with lsar-[0-9a-f]+.*--projection/);
}

/** Writing again replaces a file's rows; a table of another dimension or projection is refused. */
async function expectRefusals(
  target: string,
  ctx: { dir: string; proj: string; files: string },
  db: () => Promise<VectorStore>,
): Promise<void> {
  const again = await runCli(['project', '-p', ctx.proj, '--in', join(ctx.files, 'de.npy'), '--out', target]);
  expect(again.code, again.stderr).toBe(0);
  const s = await db();
  try {
    const n = await s.query<{ n: string }>(`SELECT count(*) AS n FROM lsar_embeddings`);
    expect(Number(n[0]?.n)).toBe(LANGS.length * ROWS);
    await s.query('CREATE TABLE narrow (source text, "row" bigint, embedding vector(8))');
  } finally {
    await s.close();
  }
  oneLine(
    await runCli(['project', '-p', ctx.proj, '--in', join(ctx.files, 'de.npy'), '--out', target, '--table', 'narrow']),
    1,
    /table narrow: column embedding is vector\(8\), but the projected rows have 16 values/,
  );
  const other = join(ctx.dir, 'p2');
  const fit = await runCli(['fit', '-i', `en=${join(ctx.files, 'en.npy')}`, '-i', `de=${join(ctx.files, 'de.npy')}`, '--out', other]);
  expect(fit.code, fit.stderr).toBe(0);
  oneLine(
    await runCli(['project', '-p', other, '--in', join(ctx.files, 'de.npy'), '--out', target]),
    1,
    /rows were projected with lsar-[0-9a-f]+, this projection is lsar-[0-9a-f]+: write to another --table/,
  );
  oneLine(await runCli(['project', '-p', ctx.proj, '--out', target]), 2, /--in -: a vector store output needs named input files/);
  oneLine(
    await runCli(['project', '-p', ctx.proj, '--in', join(ctx.files, 'de.npy'), '--out', target, '--table', 'a;b']),
    2,
    /table "a;b": expected a name/,
  );
}

/** Kill the writer (SIGKILL) while it copies the second file's rows: the first file's rows stay, the second's are absent. */
async function expectKillLeavesNothing(target: string, ctx: { dir: string; proj: string; files: string }, big: number): Promise<void> {
  const dir = join(ctx.dir, 'kill');
  mkdirSync(dir);
  const data = planted(['xx'], big, DIM, 9).xx as Float32Array;
  await writeFile(join(dir, 'a.npy'), encodeNpy(data.subarray(0, ROWS * DIM), [ROWS, DIM]));
  await writeFile(join(dir, 'b.npy'), encodeNpy(data, [big, DIM]));
  const child: ChildProcess = spawn(process.execPath, [BIN, 'project', '-p', ctx.proj, '--in', dir, '--out', target, '--table', 'killed'], {
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let err = '';
  const killed = await new Promise<boolean>((resolve) => {
    const timer = setTimeout(() => resolve(false), 120_000);
    child.stderr?.on('data', (c: Buffer) => {
      err += c.toString();
      // some but not all of b.npy's rows went in: the COPY of that file is under way
      const m = /project \S*b\.npy: ([0-9,]+)\/([0-9,]+)/.exec(err);
      if (m && Number(m[1]?.replace(/,/g, '')) < Number(m[2]?.replace(/,/g, '')) && !child.killed) {
        child.kill('SIGKILL');
        clearTimeout(timer);
        resolve(true);
      }
    });
    child.on('exit', () => resolve(child.killed));
  });
  await new Promise((r) => (child.exitCode === null && child.signalCode === null ? child.once('exit', r) : r(undefined)));
  expect(killed, `the writer finished before it could be killed:\n${err}`).toBe(true);
  expect(child.signalCode).toBe('SIGKILL');
  const db = await openStore(target);
  try {
    const counts = await db.query<{ source: string; n: string }>(
      'SELECT source, count(*) AS n FROM killed GROUP BY source ORDER BY source',
    );
    expect(counts.map((c) => [c.source, Number(c.n)])).toEqual([[join(dir, 'a.npy'), ROWS]]);
  } finally {
    await db.close();
  }
}

const hasPglite = (() => {
  try {
    return existsSync(join(import.meta.dirname, '..', 'node_modules', '@electric-sql', 'pglite', 'package.json'));
  } catch {
    return false;
  }
})();

describe.skipIf(!hasPglite)('pgvector sink and source on PGlite (embedded)', () => {
  it('project writes the same rows as the files, search equals exact search, refusals are one line, a killed writer leaves no rows', async () => {
    const ctx = await prepare();
    const target = `pglite:${join(ctx.dir, 'db')}`;
    const r = await runCli(['project', '-p', ctx.proj, '--in', ctx.files, '--out', target, '--json']);
    expect(r.code, r.stderr).toBe(0);
    expect(JSON.parse(r.stdout).rows).toBe(LANGS.length * ROWS);
    await expectSameAsFiles(await rowsOf(target, 'lsar_embeddings'), ctx.files, ctx.outs);
    await expectSearchMatches(target, ctx);
    await expectRefusals(target, ctx, () => openStore(target));
    await expectKillLeavesNothing(target, ctx, 200_000);
  }, 300_000);
});

// --- a real PostgreSQL 15 server with pgvector ---
const PG_BIN = '/usr/lib/postgresql/15/bin';
const pgWhy = !existsSync(join(PG_BIN, 'postgres'))
  ? 'PostgreSQL 15 is not installed (apt-get install postgresql-15)'
  : !existsSync('/usr/share/postgresql/15/extension/vector.control')
    ? 'pgvector is not installed for PostgreSQL 15 (.ci/run builds it from Debian trixie source)'
    : process.getuid?.() !== 0 && spawnSync('id', ['-u', 'postgres']).status !== 0
      ? 'no postgres user to run the server as'
      : undefined;

let pgDir = '';
let pgPid = 0;
let url = '';

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => resolve(port));
    });
  });
}

/** Run as the postgres user when the tests run as root (the server refuses root). */
function asPostgres(cmd: string, args: string[]): ReturnType<typeof spawnSync> {
  return process.getuid?.() === 0
    ? spawnSync('runuser', ['-u', 'postgres', '--', cmd, ...args], { encoding: 'utf8' })
    : spawnSync(cmd, args, { encoding: 'utf8' });
}

describe.skipIf(pgWhy !== undefined)(`pgvector sink and source on a PostgreSQL 15 server${pgWhy ? ` [skipped: ${pgWhy}]` : ''}`, () => {
  beforeAll(async () => {
    pgDir = mkdtempSync(join(tmpdir(), 'lsar-pg-'));
    spawnSync('chown', ['postgres:postgres', pgDir]);
    const init = asPostgres(join(PG_BIN, 'initdb'), ['-D', join(pgDir, 'data'), '-A', 'trust', '-U', 'lsar', '--no-sync']);
    if (init.status !== 0) throw new Error(`initdb failed: ${String(init.stderr)}`);
    const port = await freePort();
    const start = asPostgres(join(PG_BIN, 'pg_ctl'), [
      '-D',
      join(pgDir, 'data'),
      '-l',
      join(pgDir, 'log'),
      '-o',
      `-p ${port} -k ${pgDir} -c listen_addresses=127.0.0.1 -c fsync=off`,
      '-w',
      'start',
    ]);
    if (start.status !== 0) throw new Error(`pg_ctl start failed: ${String(start.stderr)} ${String(start.stdout)}`);
    const pidLine = asPostgres('head', ['-1', join(pgDir, 'data', 'postmaster.pid')]);
    pgPid = Number(String(pidLine.stdout).trim());
    const db = asPostgres(join(PG_BIN, 'createdb'), ['-h', '127.0.0.1', '-p', String(port), '-U', 'lsar', 'lsar']);
    if (db.status !== 0) throw new Error(`createdb failed: ${String(db.stderr)}`);
    url = `postgresql://lsar@127.0.0.1:${port}/lsar`;
  }, 60_000);

  afterAll(async () => {
    if (pgPid > 0) {
      try {
        process.kill(pgPid, 'SIGINT'); // fast shutdown
      } catch {
        /* already stopped */
      }
      for (let i = 0; i < 100 && isAlive(pgPid); i++) await new Promise((r) => setTimeout(r, 100));
      if (isAlive(pgPid)) process.kill(pgPid, 'SIGKILL');
    }
    if (pgDir) rmSync(pgDir, { recursive: true, force: true });
  });

  it('project writes the same rows as the files, search equals exact search, refusals are one line, a killed writer leaves no rows', async () => {
    const ctx = await prepare();
    const r = await runCli(['project', '-p', ctx.proj, '--in', ctx.files, '--out', url]);
    expect(r.code, r.stderr).toBe(0);
    await expectSameAsFiles(await rowsOf(url, 'lsar_embeddings'), ctx.files, ctx.outs);
    await expectSearchMatches(url, ctx);
    await expectRefusals(url, ctx, () => openStore(url));
    await expectKillLeavesNothing(url, ctx, 2_000_000);
    // no server: one line naming the target without its password
    const down = `postgresql://lsar:secret@127.0.0.1:${await freePort()}/lsar`;
    oneLine(
      await runCli(['project', '-p', ctx.proj, '--in', join(ctx.files, 'en.npy'), '--out', down]),
      1,
      /lsar:\*\*\*@127\.0\.0\.1:\d+\/lsar: cannot connect/,
    );
  }, 300_000);
});

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}
