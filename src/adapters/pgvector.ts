/**
 * PostgreSQL with pgvector, where pipelines keep vectors: a server (`postgresql://...`, with the
 * maintained `pg` client and `pg-copy-streams`), or PGlite, the same database in WebAssembly with
 * its vector extension, in a local directory (`pglite:<dir>`), which needs no server. One small
 * interface over both: SQL with parameters, and COPY ... FROM STDIN in PostgreSQL's text format.
 * The clients are optional dependencies, loaded on first use.
 */
import { createError } from '../core/errors.js';
import { existsSync } from 'node:fs';
import { readdir, rm, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { systemReason } from '../io/atomic.js';
import { importOptional, requireOptional } from '../io/optional.js';

export interface VectorStore {
  kind: 'postgresql' | 'pglite';
  /** The target as the user gave it, without a password. */
  label: string;
  query<T = Record<string, unknown>>(sql: string, params?: unknown[]): Promise<T[]>;
  /** COPY <table> (<columns>) FROM STDIN, rows in the text format (tab-separated, \N for NULL). */
  copyIn(table: string, columns: string[], text: string): Promise<void>;
  close(): Promise<void>;
  /** PGlite: remove the database directory if this call created it (a write that kept nothing). */
  discardIfNew(): Promise<void>;
}

export interface OpenStoreOptions {
  /** Reading: a PGlite directory must exist already (no empty database is made). */
  mustExist?: boolean;
}

/** Whether a path names a vector store rather than a file. */
export function isStoreTarget(target: string): boolean {
  return /^postgres(ql)?:\/\//i.test(target) || /^pglite:/i.test(target);
}

/** The target without its password, for messages. */
export function storeLabel(target: string): string {
  return target.replace(/^(postgres(?:ql)?:\/\/[^:/@]*):[^@]*@/i, '$1:***@');
}

const IDENT = /^[A-Za-z_][A-Za-z0-9_]{0,62}$/;

/** A table name (optionally schema.table) as a quoted SQL identifier; anything else is refused. */
export function quoteTable(name: string, param = 'table'): string {
  const parts = name.split('.');
  if (parts.length > 2 || parts.some((p) => !IDENT.test(p)))
    throw createError('USAGE', `table "${name}": expected a name of letters, digits and _ (optionally schema.table)`, { param });
  return parts.map((p) => `"${p}"`).join('.');
}

type Pg = typeof import('pg');
type CopyStreams = typeof import('pg-copy-streams');

export async function openStore(target: string, options: OpenStoreOptions = {}): Promise<VectorStore> {
  const label = storeLabel(target);
  if (/^pglite:/i.test(target)) return openPglite(target.slice('pglite:'.length), label, options);
  const pg = requireOptional<Pg>('pg', 'Writing to and searching PostgreSQL');
  const copy = requireOptional<CopyStreams>('pg-copy-streams', 'Writing to PostgreSQL');
  const client = new pg.Client({ connectionString: target });
  try {
    await client.connect();
  } catch (e) {
    throw createError('STORE', `${label}: cannot connect (${(e as Error).message})`, { cause: e });
  }
  // a server error after connecting (the connection dropped) must not crash the process
  client.on('error', () => undefined);
  return {
    kind: 'postgresql',
    label,
    async query<T>(sql: string, params: unknown[] = []) {
      return (await client.query(sql, params)).rows as T[];
    },
    async copyIn(table, columns, text) {
      const stream = client.query(copy.from(`COPY ${table} (${columns.join(', ')}) FROM STDIN`));
      await new Promise<void>((resolve, reject) => {
        stream.on('error', reject);
        stream.on('finish', () => resolve());
        stream.end(text);
      });
    },
    async close() {
      await client.end().catch(() => undefined);
    },
    async discardIfNew() {},
  };
}

async function openPglite(dir: string, label: string, options: OpenStoreOptions): Promise<VectorStore> {
  if (dir === '') throw createError('USAGE', 'pglite: needs a directory for the database (pglite:<dir>)', { param: 'out' });
  const st = await stat(dir).catch((e: NodeJS.ErrnoException) => {
    if (e.code === 'ENOENT') return undefined;
    throw createError('STORE', `${label}: cannot open the database (${systemReason(e)})`, { cause: e });
  });
  if (st && !st.isDirectory())
    throw createError('USAGE', `${label}: ${dir} is a file; expected a directory for the PGlite database`, { param: 'out' });
  if (!st && options.mustExist) throw createError('NOT_FOUND', `${label}: no such directory (a PGlite database)`);
  if (st && (await readdir(dir)).length > 0 && !existsSync(join(dir, 'PG_VERSION')))
    throw createError(
      'USAGE',
      `${label}: ${dir} holds other files, not a PGlite database (no PG_VERSION): give a new or a database directory`,
      {
        param: 'out',
      },
    );
  const { PGlite } = await importOptional<typeof import('@electric-sql/pglite')>('@electric-sql/pglite', 'A PGlite vector store');
  const { vector } = await importOptional<typeof import('@electric-sql/pglite/vector')>(
    '@electric-sql/pglite/vector',
    'A PGlite vector store',
  );
  let db: InstanceType<typeof PGlite>;
  try {
    db = await PGlite.create(dir, { extensions: { vector } });
  } catch (e) {
    if (!st) await rm(dir, { recursive: true, force: true });
    throw createError('STORE', `${label}: cannot open the database (${pgliteReason(e)})`, { cause: e });
  }
  return {
    kind: 'pglite',
    label,
    async query<T>(sql: string, params: unknown[] = []) {
      return (await db.query<T>(sql, params)).rows;
    },
    async copyIn(table, columns, text) {
      await db.query(`COPY ${table} (${columns.join(', ')}) FROM '/dev/blob'`, [], { blob: new Blob([text]) });
    },
    async close() {
      await db.close().catch(() => undefined);
    },
    async discardIfNew() {
      if (!st) await rm(dir, { recursive: true, force: true });
    },
  };
}

/** A value in COPY's text format: backslash, tab, newline and carriage return escaped; null as \N. */
export function copyText(v: string | number | bigint | null | undefined): string {
  if (v === null || v === undefined) return '\\N';
  return String(v).replace(/[\\\t\n\r]/g, (c) => (c === '\\' ? '\\\\' : c === '\t' ? '\\t' : c === '\n' ? '\\n' : '\\r'));
}

/** Emscripten's errno numbers (PGlite's file system errors carry only these) for the failures a user can fix. */
const WASM_ERRNO: Record<number, string> = {
  2: 'permission denied',
  44: 'no such file or directory',
  51: 'no space left on device',
  63: 'read-only file system',
  69: 'read-only file system',
};

/** A PGlite failure in words: Node's system errors as they are, Emscripten's by errno. */
export function pgliteReason(e: unknown): string {
  const x = e as { name?: string; errno?: number; message?: string } | undefined;
  if (x?.name === 'ErrnoError' && typeof x.errno === 'number') return WASM_ERRNO[x.errno] ?? `file system error ${x.errno}`;
  return x?.message ? systemReason(e) : String(e);
}
