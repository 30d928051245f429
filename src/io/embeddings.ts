/**
 * The one embeddings loader: `.npy` files, Parquet files (an embedding column, see
 * io/parquet.ts), JSON Lines files (`.jsonl`, `.ndjson`) and `-` (JSON Lines on standard
 * input), as a stream of row blocks (`openEmbeddings`) or whole (`readEmbeddings`).
 */
import { readError } from './fs-errors.js';
import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import type { Readable } from 'node:stream';
import type { Embeddings } from '../core/embeddings.js';
import { createError, opt } from '../core/errors.js';
import type { FloatArray } from '../core/rows.js';
import { readJsonlBlocks } from './jsonl.js';
import { NpyReader } from './npy.js';
import { isParquet, ParquetEmbeddings } from './parquet.js';

export type EmbeddingFormat = 'npy' | 'jsonl' | 'parquet';

/** Whether a file name is one of the embedding formats (.npy, .parquet, .jsonl, .ndjson). */
export function isEmbeddingFile(name: string): boolean {
  return /\.(npy|jsonl|ndjson)$/i.test(name) || isParquet(name);
}

/** The format of an embeddings path; `role` names the option in the message when it is neither. */
export function embeddingFormat(path: string, role = 'input'): EmbeddingFormat {
  if (path === '-' || /\.(jsonl|ndjson)$/i.test(path)) return 'jsonl';
  if (/\.npy$/i.test(path)) return 'npy';
  if (isParquet(path)) return 'parquet';
  throw createError('USAGE', `${role} "${path}": expected a .npy, .parquet or .jsonl file, or - for JSON Lines on standard input/output`);
}

export interface Block {
  /** Index of the block's first row. */
  start: number;
  rows: number;
  /** rows x dim, row-major; valid until the next block is read. */
  data: FloatArray;
  /** Parquet with a language column: each row's language. */
  langs?: string[];
}

export interface EmbeddingSource {
  /** How errors name the input (`<stdin>` for standard input). */
  label: string;
  format: EmbeddingFormat;
  /** Known before reading for .npy; for JSON Lines after the first row. */
  dim: number | undefined;
  rows: number | undefined;
  dtype: 'float16' | 'float32' | 'float64';
  /** The .npy reader, for callers that read rows straight into their own buffers. */
  npy?: NpyReader;
  /** The Parquet reader. */
  parquet?: ParquetEmbeddings;
  blocks(blockRows?: number): AsyncGenerator<Block>;
  close(): Promise<void>;
}

export interface OpenOptions {
  /** Standard input, for `-` (default process.stdin). */
  stdin?: Readable;
  /** The dimension the caller needs (checked against the file, and used by JSON Lines). */
  dim?: number;
  /** Words before the expected dimension in a mismatch message (default "this run needs dimension"). */
  dimOf?: string;
  /** JSON Lines: refuse values whose magnitude exceeds this (e.g. the float32 maximum). */
  maxAbs?: number;
  /** Words for messages: what the caller needs this input for. */
  what?: string;
  /** Parquet: the embedding column (default `embedding`). */
  column?: string;
  /** Parquet: a column of row languages (blocks then carry `langs`). */
  langColumn?: string;
}

/** Open embeddings for streaming. */
export async function openEmbeddings(path: string, options: OpenOptions = {}): Promise<EmbeddingSource> {
  const format = embeddingFormat(path);
  if (format === 'npy') {
    const npy = await NpyReader.open(path).catch((e: unknown) => {
      if (options.what && (e as { code?: string }).code === 'NOT_FOUND')
        throw createError('NOT_FOUND', `${path}: no such file (${options.what})`, { cause: e });
      throw e;
    });
    if (options.dim !== undefined && npy.dim !== options.dim) {
      await npy.close();
      throw createError('DIM_MISMATCH', `${path}: dimension ${npy.dim}, but ${options.dimOf ?? 'this run needs dimension'} ${options.dim}`);
    }
    return {
      label: path,
      format,
      dim: npy.dim,
      rows: npy.rows,
      dtype: npy.header.itemSize === 8 ? 'float64' : npy.header.itemSize === 4 ? 'float32' : 'float16',
      npy,
      blocks: (blockRows?: number) => npy.blocks(blockRows),
      close: () => npy.close(),
    };
  }
  if (format === 'parquet') {
    const pq = await ParquetEmbeddings.open(path, {
      ...(options.column !== undefined ? { column: options.column } : {}),
      ...(options.langColumn !== undefined ? { langColumn: options.langColumn } : {}),
    }).catch((e: unknown) => {
      if (options.what && (e as { code?: string }).code === 'NOT_FOUND')
        throw createError('NOT_FOUND', `${path}: no such file (${options.what})`, { cause: e });
      throw e;
    });
    const checkDim = () => {
      if (options.dim !== undefined && pq.dim !== undefined && pq.dim !== options.dim) {
        throw createError(
          'DIM_MISMATCH',
          `${path}: dimension ${pq.dim}, but ${options.dimOf ?? 'this run needs dimension'} ${options.dim}`,
        );
      }
    };
    try {
      checkDim();
    } catch (e) {
      pq.close();
      throw e;
    }
    const source: EmbeddingSource = {
      label: path,
      format,
      dim: pq.dim,
      rows: pq.rows,
      dtype: pq.dtype,
      parquet: pq,
      async *blocks() {
        for await (const b of pq.batches()) {
          source.dim = pq.dim;
          checkDim();
          yield { start: b.start, rows: b.rows, data: b.data, ...(b.langs ? { langs: b.langs } : {}) };
        }
      },
      async close() {
        pq.close();
      },
    };
    return source;
  }
  const label = path === '-' ? '<stdin>' : path;
  if (path !== '-') await mustExist(path);
  let stream: Readable | undefined;
  const source: EmbeddingSource = {
    label,
    format,
    dim: options.dim,
    rows: undefined,
    dtype: 'float64',
    async *blocks(blockRows = 1024) {
      stream = path === '-' ? (options.stdin ?? process.stdin) : createReadStream(path);
      for await (const b of readJsonlBlocks(stream, label, blockRows, options.dim, options.maxAbs)) {
        source.dim = b.dim;
        yield { start: b.start, rows: b.rows, data: b.data };
      }
    },
    async close() {
      if (stream && path !== '-') stream.destroy();
    },
  };
  return source;
}

export interface ReadOptions extends OpenOptions {
  /** A float32 buffer to read .npy float32 rows into when it is large enough (reused by the caller: no new memory). */
  into?: Float32Array;
  /** The row count the caller expects (e.g. the lines of the text the embeddings follow). */
  rows?: number;
  /** What `rows` counts, for the message (e.g. "tatoeba.deu-eng.deu"). */
  rowsOf?: string;
}

/** Read all rows of an embeddings file (or `-`) into memory. */
export async function readEmbeddings(path: string, options: ReadOptions = {}): Promise<Embeddings> {
  const src = await openEmbeddings(path, options);
  try {
    if (src.npy) {
      const data = await src.npy.readAll(options.into);
      checkRows(src.label, src.npy.rows, options);
      return { data, rows: src.npy.rows, dim: src.npy.dim, dtype: data instanceof Float64Array ? 'float64' : 'float32' };
    }
    const parts: FloatArray[] = [];
    let total = 0;
    let wide = false;
    for await (const b of src.blocks()) {
      const dim = src.dim as number;
      parts.push(b.data.slice(0, b.rows * dim));
      total += b.rows;
      if (b.data instanceof Float64Array) wide = true;
    }
    if (total === 0) throw createError('EMPTY', `${src.label}: no rows`);
    const dim = src.dim as number;
    const data = wide ? new Float64Array(total * dim) : new Float32Array(total * dim);
    let o = 0;
    for (const p of parts) {
      data.set(p, o);
      o += p.length;
    }
    checkRows(src.label, total, options);
    return { data, rows: total, dim, dtype: wide ? 'float64' : 'float32' };
  } finally {
    await src.close();
  }
}

function checkRows(label: string, rows: number, options: ReadOptions): void {
  if (options.rows !== undefined && rows !== options.rows) {
    throw createError(
      'INPUT',
      `${label}: ${rows} rows, but ${options.rowsOf ?? 'the data'} has ${options.rows}: embeddings must follow the data line by line`,
    );
  }
}

async function mustExist(path: string): Promise<void> {
  let s;
  try {
    s = await stat(path);
  } catch (e) {
    throw readError(path, e);
  }
  if (s.isDirectory()) throw createError('INPUT', `${path}: is a directory, expected a file of embeddings`);
}

/** A Parquet column option given where no input is Parquet is a usage error, not silently ignored. */
export function checkColumnApplies(column: string | undefined, paths: string[]): void {
  if (column === undefined || paths.some(isParquet)) return;
  throw createError('USAGE', `${opt('column')} applies to Parquet inputs only, and none of ${paths.join(', ')} is .parquet`, {
    params: ['column'],
  });
}
