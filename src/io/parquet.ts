/**
 * Embeddings in Parquet files, through parquet-wasm (Parquet <-> Arrow, in WebAssembly) and
 * apache-arrow (the Arrow arrays in JavaScript), loaded on first use.
 *
 * An embedding column is FixedSizeList<float16|float32|float64> or List/LargeList<...> with
 * one length in every row; `column` names it (default `embedding`). A language column
 * (`langColumn`, strings) lets one file hold many languages. Files are read by record batches
 * of each row group in turn (memory: one batch); parquet-writer.ts writes them.
 */
import { readError } from './fs-errors.js';
import { closeSync, fstatSync, openSync, readSync } from 'node:fs';
import type * as ArrowNs from 'apache-arrow';
import type * as ParquetWasm from 'parquet-wasm';
import { createError, firstLine, isLsarError, opt } from '../core/errors.js';
import { firstNonFiniteRow, type FloatArray } from '../core/rows.js';
import { halfTable } from './half.js';
import { importOptional } from './optional.js';
import { PageVerifier } from './parquet-pages.js';

export type Arrow = typeof ArrowNs;
export type Pw = typeof ParquetWasm;

let libs: Promise<{ arrow: Arrow; pw: Pw }> | undefined;
/** parquet-wasm (node build) and apache-arrow, loaded once. */
export function parquetLibs(): Promise<{ arrow: Arrow; pw: Pw }> {
  libs ??= (async () => {
    const [arrow, pw] = await Promise.all([
      importOptional<Arrow>('apache-arrow', 'Reading and writing Parquet'),
      importOptional<Pw>('parquet-wasm/node', 'Reading and writing Parquet'),
    ]);
    return { arrow, pw };
  })();
  return libs;
}

/** The panic that stopped parquet-wasm in this process, if one did. */
let panicked: Error | undefined;

/**
 * Await a parquet-wasm promise. A panic in its WebAssembly (e.g. on some corrupt pages) is not
 * a rejection: it surfaces as an uncaught exception from a microtask and leaves the promise
 * pending forever. Here it rejects the awaited promise instead, and later calls are refused
 * (the WebAssembly instance's state is undefined after a panic).
 */
export async function guarded<T>(promise: Promise<T> | T, what: () => string): Promise<T> {
  if (panicked) {
    throw createError(
      'INPUT',
      `${what()}: the Parquet reader stopped after a corrupt file earlier in this process (${firstLine(panicked)}); run again in a new process`,
    );
  }
  let fail: (e: Error) => void = () => {};
  const trap = new Promise<never>((_, reject) => (fail = reject));
  const listener = (e: unknown) => {
    if (e instanceof WebAssembly.RuntimeError) {
      panicked = e;
      fail(e);
    } else if (process.listenerCount('uncaughtException') === 1) {
      // ours is the only listener: do as Node would have done without it
      process.off('uncaughtException', listener);
      throw e;
    }
  };
  process.on('uncaughtException', listener);
  try {
    return await Promise.race([Promise.resolve(promise), trap]);
  } finally {
    process.off('uncaughtException', listener);
  }
}

const PARQUET = /\.parquet$/i;

/** Whether a path names a Parquet file. */
export function isParquet(path: string): boolean {
  return PARQUET.test(path);
}

export const DEFAULT_COLUMN = 'embedding';

export interface ParquetReadOptions {
  /** The embedding column (default `embedding`). */
  column?: string;
  /** A string column holding each row's language. */
  langColumn?: string;
  /** Read every column (for rewriting the file), not only the embedding and language columns. */
  allColumns?: boolean;
  /** Rows per record batch (default 16,384). */
  batchRows?: number;
}

export interface ParquetBatch {
  /** Index of the batch's first row in the file. */
  start: number;
  rows: number;
  /** rows x dim, row-major (float16 is widened to float32). */
  data: FloatArray;
  /** Each row's language (with langColumn). */
  langs?: string[];
  /** The batch as Arrow (with allColumns). */
  table?: ArrowNs.Table;
}

/**
 * A file-backed Blob for parquet-wasm that reads with synchronous reads (Node's own file Blob
 * reads asynchronously in small pieces, measured slower here).
 */
class FileSlice {
  readonly size: number;
  constructor(
    private readonly fd: number,
    private readonly begin: number,
    end: number,
  ) {
    this.size = end - begin;
  }
  slice(a = 0, b = this.size): FileSlice {
    return new FileSlice(this.fd, this.begin + a, this.begin + Math.min(b, this.size));
  }
  async arrayBuffer(): Promise<ArrayBuffer> {
    const buf = new Uint8Array(this.size);
    let o = 0;
    while (o < buf.length) {
      const n = readSync(this.fd, buf, o, buf.length - o, this.begin + o);
      if (n <= 0) throw new Error(`the file ends at byte ${this.begin + o}`);
      o += n;
    }
    return buf.buffer;
  }
}

interface ColumnInfo {
  name: string;
  kind: 'fixed' | 'list';
  dtype: 'float16' | 'float32' | 'float64';
  /** FixedSizeList: its size; List: known after the first row. */
  dim: number | undefined;
}

/** An open Parquet file of embeddings. */
export class ParquetEmbeddings {
  private constructor(
    readonly path: string,
    private readonly fd: number,
    private readonly pages: PageVerifier,
    private readonly file: ParquetWasm.ParquetFile,
    private readonly arrow: Arrow,
    readonly schema: ArrowNs.Schema,
    readonly rows: number,
    readonly groups: number[],
    private readonly column: ColumnInfo,
    private readonly options: ParquetReadOptions,
  ) {}

  get dim(): number | undefined {
    return this.column.dim;
  }
  get dtype(): 'float16' | 'float32' | 'float64' {
    return this.column.dtype;
  }
  get columnName(): string {
    return this.column.name;
  }

  /** The file's key-value metadata (without ARROW:schema). */
  readonly keyValues = new Map<string, string>();

  static async open(path: string, options: ParquetReadOptions = {}): Promise<ParquetEmbeddings> {
    const { arrow, pw } = await parquetLibs();
    let fd: number;
    try {
      fd = openSync(path, 'r');
    } catch (e) {
      throw readError(path, e, 'a .parquet file');
    }
    try {
      const st = fstatSync(fd);
      if (st.isDirectory()) throw createError('INPUT', `${path}: is a directory, expected a .parquet file`);
      const size = st.size;
      let file: ParquetWasm.ParquetFile;
      try {
        file = await guarded(pw.ParquetFile.fromFile(new FileSlice(fd, 0, size) as unknown as Blob), () => path);
      } catch (e) {
        if (isLsarError(e)) throw e;
        throw createError('INPUT', `${path}: not a valid Parquet file (${firstLine(e)})`);
      }
      const meta = file.metadata();
      const groups = Array.from({ length: meta.numRowGroups() }, (_, g) => meta.rowGroup(g).numRows());
      const schema = arrow.tableFromIPC(file.schema().intoIPCStream()).schema;
      const name = options.column ?? DEFAULT_COLUMN;
      const field = schema.fields.find((f) => f.name === name);
      const names = schema.fields.map((f) => `${f.name} (${f.type})`).join(', ');
      if (!field) {
        throw createError(
          'INPUT',
          `${path}: no field "${name}" for the embeddings; the file has ${names}; name the embeddings' field with ${opt('column')}`,
          {
            params: ['column'],
          },
        );
      }
      const column = columnInfo(arrow, path, field);
      if (options.langColumn !== undefined) {
        const lf = schema.fields.find((f) => f.name === options.langColumn);
        if (!lf)
          throw createError(
            'INPUT',
            `${path}: no field "${options.langColumn}" for the languages (${opt('langColumn')}); the file has ${names}`,
            {
              params: ['langColumn'],
            },
          );
        const t = arrow.DataType.isDictionary(lf.type) ? lf.type.dictionary : lf.type;
        if (!arrow.DataType.isUtf8(t) && !arrow.DataType.isLargeUtf8(t))
          throw createError('INPUT', `${path}: the languages' field "${lf.name}" (${opt('langColumn')}) is ${lf.type}, expected strings`, {
            params: ['langColumn'],
          });
      }
      const pages = PageVerifier.open(path);
      const pq = new ParquetEmbeddings(
        path,
        fd,
        pages,
        file,
        arrow,
        schema,
        Number(meta.fileMetadata().numRows()),
        groups,
        column,
        options,
      );
      // the file's key-value metadata, but ARROW:schema: a writer stores its own for the table it writes
      for (const [k, v] of (meta.fileMetadata().keyValueMetadata() as Map<string, string | undefined>).entries()) {
        if (k !== 'ARROW:schema') pq.keyValues.set(k, v ?? '');
      }
      return pq;
    } catch (e) {
      closeSync(fd);
      throw e;
    }
  }

  /** Record batches of the whole file, in order, checked (null or ragged embeddings are refused by row). */
  async *batches(): AsyncGenerator<ParquetBatch> {
    const o = this.options;
    const columns = o.allColumns ? undefined : [this.column.name, ...(o.langColumn !== undefined ? [o.langColumn] : [])];
    let start = 0;
    for (let g = 0; g < this.groups.length; g++) {
      const where = `row group ${g}`;
      // CRC32 (when stored), sizes and value counts of its pages, before parquet-wasm decodes them
      this.pages.check(g, columns);
      let stream: ReadableStream<ParquetWasm.RecordBatch>;
      try {
        stream = (await guarded(
          this.file.stream({ rowGroups: [g], batchSize: o.batchRows ?? 16_384, ...(columns ? { columns } : {}) }),
          () => this.path,
        )) as ReadableStream<ParquetWasm.RecordBatch>;
      } catch (e) {
        if (isLsarError(e)) throw e;
        throw createError('INPUT', `${this.path}: ${where} cannot be read (${firstLine(e)})`);
      }
      const reader = stream.getReader();
      let groupRow = 0;
      for (;;) {
        let next: ReadableStreamReadResult<ParquetWasm.RecordBatch>;
        try {
          next = await guarded(reader.read(), () => this.path);
        } catch (e) {
          if (isLsarError(e)) throw e;
          throw createError('INPUT', `${this.path}: ${where} cannot be read (${firstLine(e)}): the file is corrupt or truncated`);
        }
        if (next.done) break;
        const table = this.arrow.tableFromIPC(next.value.intoIPCStream());
        const rows = table.numRows;
        const data = this.embeddingRows(table, g, groupRow, start);
        const batch: ParquetBatch = { start, rows, data };
        if (o.langColumn !== undefined) batch.langs = this.langRows(table, g, groupRow, start);
        if (o.allColumns) batch.table = table;
        yield batch;
        start += rows;
        groupRow += rows;
      }
    }
  }

  /** The embedding column of a batch as rows x dim, checked. */
  private embeddingRows(table: ArrowNs.Table, g: number, groupRow: number, fileRow: number): FloatArray {
    const col = table.getChild(this.column.name);
    const rows = table.numRows;
    const c = this.column;
    const at = (r: number) => where(this.path, g, groupRow + r, fileRow + r);
    let out: FloatArray | undefined;
    let o = 0;
    for (const chunk of col?.data ?? []) {
      if (chunk.nullCount > 0) {
        for (let r = 0; r < chunk.length; r++) if (!chunk.getValid(r)) throw createError('INPUT', `${at(o + r)}: the embedding is null`);
      }
      const child = chunk.children[0] as ArrowNs.Data;
      let first: number;
      if (c.kind === 'fixed') {
        first = chunk.offset * (c.dim as number);
      } else {
        const offs = chunk.valueOffsets as Int32Array | BigInt64Array;
        const off = (i: number) => Number(offs[chunk.offset + i]);
        first = off(0);
        for (let r = 0; r < chunk.length; r++) {
          const len = off(r + 1) - off(r);
          c.dim ??= len;
          if (len !== c.dim)
            throw createError('INPUT', `${at(o + r)}: the embedding has ${len} values, expected ${c.dim} (the first row's length)`);
        }
      }
      const d = c.dim as number;
      if (d === 0) throw createError('INPUT', `${at(o)}: the embedding is empty`);
      const n = chunk.length * d;
      if (child.nullCount > 0) {
        for (let i = 0; i < n; i++) {
          if (!child.getValid(first + i)) throw createError('INPUT', `${at(o + Math.floor(i / d))}: the embedding holds a null value`);
        }
      }
      const values = child.values as Float32Array | Float64Array | Uint16Array;
      const src = values.subarray(child.offset + first, child.offset + first + n);
      out ??= c.dtype === 'float64' ? new Float64Array(rows * d) : new Float32Array(rows * d);
      if (c.dtype === 'float16') {
        const table16 = halfTable();
        for (let i = 0; i < n; i++) out[o * d + i] = table16[src[i] as number] as number;
      } else out.set(src as Float32Array | Float64Array, o * d);
      const bad = firstNonFiniteRow(out.subarray(o * d, (o + chunk.length) * d), chunk.length, d);
      if (bad >= 0) throw createError('NON_FINITE', `${at(o + bad)}: the embedding holds NaN or Inf`);
      o += chunk.length;
    }
    return out ?? new Float32Array(0);
  }

  private langRows(table: ArrowNs.Table, g: number, groupRow: number, fileRow: number): string[] {
    const col = table.getChild(this.options.langColumn as string);
    const out: string[] = new Array(table.numRows);
    for (let r = 0; r < table.numRows; r++) {
      const v = col?.get(r) as string | null;
      if (v === null || v === undefined || v === '')
        throw createError('INPUT', `${where(this.path, g, groupRow + r, fileRow + r)}: the language (${this.options.langColumn}) is empty`);
      out[r] = v;
    }
    return out;
  }

  close(): void {
    try {
      this.file.free();
    } finally {
      this.pages.close();
      closeSync(this.fd);
    }
  }
}

function columnInfo(arrow: Arrow, path: string, field: ArrowNs.Field): ColumnInfo {
  const t = field.type;
  const bad = () =>
    createError(
      'INPUT',
      `${path}: field "${field.name}" (${opt('column')}) is ${t}; embeddings are a FixedSizeList or List of float16, float32 or float64`,
      { params: ['column'] },
    );
  let kind: ColumnInfo['kind'];
  let dim: number | undefined;
  if (arrow.DataType.isFixedSizeList(t)) {
    kind = 'fixed';
    dim = t.listSize;
  } else if (arrow.DataType.isList(t) || arrow.DataType.isLargeList(t)) kind = 'list';
  else throw bad();
  const child = (t as ArrowNs.List).children[0]?.type;
  if (!arrow.DataType.isFloat(child)) throw bad();
  const precision = (child as ArrowNs.Float).precision;
  const dtype = precision === arrow.Precision.HALF ? 'float16' : precision === arrow.Precision.SINGLE ? 'float32' : 'float64';
  return { name: field.name, kind, dtype, dim };
}

/** "file: row group 1, row 2 (row 7 of the file)": rows counted from 0, as Parquet tools do. */
function where(path: string, group: number, groupRow: number, fileRow: number): string {
  return `${path}: row group ${group}, row ${groupRow} (row ${fileRow} of the file)`;
}
