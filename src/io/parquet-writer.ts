/** Writing Parquet: embeddings as FixedSizeList columns, tables streamed through parquet-wasm to a temporary file renamed on commit. */
import { closeSync, openSync, writeSync } from 'node:fs';
import { rename } from 'node:fs/promises';
import type * as ArrowNs from 'apache-arrow';
import type * as ParquetWasm from 'parquet-wasm';
import { createError, firstLine } from '../core/errors.js';
import type { FloatArray } from '../core/rows.js';
import { discard, prepareOutputFile, releaseTemp, tempPathFor, writeError } from './atomic.js';
import { guarded, parquetLibs, type Arrow, type Pw } from './parquet.js';
import { addPageChecksums } from './parquet-pages.js';

/** Rows per row group for embeddings of `dim` values of `bytes` each: about 128 MiB, at least 1,024 rows. */
export function rowGroupRowsFor(dim: number, bytes: number): number {
  return Math.max(1024, Math.floor(2 ** 27 / (dim * bytes)));
}

/** A FixedSizeList<float32|float64> Arrow vector of rows x dim. */
export function embeddingVector(arrow: Arrow, data: FloatArray, rows: number, dim: number): ArrowNs.Vector {
  const f64 = data instanceof Float64Array;
  const itemType = f64 ? new arrow.Float64() : new arrow.Float32();
  const child = arrow.makeData({ type: itemType, length: rows * dim, data: data.subarray(0, rows * dim) as Float32Array & Float64Array });
  const type = new arrow.FixedSizeList(dim, new arrow.Field('item', itemType, false));
  return arrow.makeVector(arrow.makeData({ type, length: rows, nullCount: 0, child }));
}

/**
 * A Parquet file written as a stream of Arrow tables (same schema), atomically: a temporary
 * file beside the target is renamed into place by `commit()`, removed by `abort()`.
 */
export class ParquetWriter {
  /** Record batches go to parquet-wasm through a stream whose backpressure holds writers back. */
  private readonly batches: WritableStreamDefaultWriter<ParquetWasm.RecordBatch>;
  private readonly done: Promise<void>;
  private error: unknown;

  private constructor(
    readonly path: string,
    private readonly tmp: string,
    private readonly fd: number,
    private readonly libs: { arrow: Arrow; pw: Pw },
    keyValues: Map<string, string> | undefined,
    rowGroupRows: number,
  ) {
    const { pw } = libs;
    let props = new pw.WriterPropertiesBuilder()
      .setCompression(pw.Compression.SNAPPY)
      .setCreatedBy('lsar')
      .setMaxRowGroupSize(rowGroupRows);
    if (keyValues && keyValues.size) props = props.setKeyValueMetadata(keyValues as unknown as ParquetWasm.KeyValueMetadata);
    const { readable, writable } = new TransformStream<ParquetWasm.RecordBatch, ParquetWasm.RecordBatch>(undefined, { highWaterMark: 2 });
    this.batches = writable.getWriter();
    this.done = (async () => {
      const out = (await guarded(pw.transformParquetStream(readable, props.build()), () => this.path)) as ReadableStream<Uint8Array>;
      const reader = out.getReader();
      for (;;) {
        const next = await guarded(reader.read(), () => this.path);
        if (next.done) break;
        // a full disk can take part of a write without an error: write the rest until it refuses
        for (let off = 0; off < next.value.length;) off += writeSync(this.fd, next.value, off, next.value.length - off);
      }
    })().catch((e: unknown) => {
      this.error = e;
      // release a writer waiting for room
      this.batches.abort(e).catch(() => undefined);
    });
  }

  /**
   * `rowGroupRows`: rows per row group (default 65,536); readers hold about one row group's
   * column chunk at a time, so keep it near 128 MiB of embeddings ({@link rowGroupRowsFor}).
   */
  static async create(path: string, keyValues?: Map<string, string>, rowGroupRows = 65_536): Promise<ParquetWriter> {
    const l = await parquetLibs();
    await prepareOutputFile(path);
    const tmp = await tempPathFor(path);
    let fd: number;
    try {
      fd = openSync(tmp, 'w');
    } catch (e) {
      releaseTemp(tmp);
      throw writeError(path, e);
    }
    return new ParquetWriter(path, tmp, fd, l, keyValues, rowGroupRows);
  }

  /** Queue a table (written in order); waits while the writer is behind. */
  async write(table: ArrowNs.Table): Promise<void> {
    const { arrow, pw } = this.libs;
    try {
      for (const b of pw.Table.fromIPCStream(arrow.tableToIPC(table, 'stream')).recordBatches()) {
        await this.batches.ready;
        this.batches.write(b).catch(() => undefined);
      }
    } catch {
      // the stream was aborted because writing failed
    }
    if (this.error) throw this.failure();
  }

  private failure(): Error {
    return createError('OUTPUT', `${this.path}: cannot write Parquet (${firstLine(this.error)})`, { cause: this.error });
  }

  async commit(): Promise<void> {
    await this.batches.close().catch(() => undefined);
    await this.done;
    closeSync(this.fd);
    if (this.error) {
      await discard(this.tmp);
      releaseTemp(this.tmp);
      throw this.failure();
    }
    // a CRC32 in every page header, so that readers (lsar's, and others that check) find corrupt pages
    const withCrc = `${this.tmp}.crc`;
    try {
      if (addPageChecksums(this.tmp, withCrc)) await rename(withCrc, this.tmp);
    } catch (e) {
      await discard(withCrc);
      await discard(this.tmp);
      releaseTemp(this.tmp);
      throw createError('OUTPUT', `${this.path}: cannot write Parquet (${firstLine(e)})`, { cause: e });
    }
    await rename(this.tmp, this.path);
    releaseTemp(this.tmp);
  }

  async abort(): Promise<void> {
    await this.batches.abort(new Error('aborted')).catch(() => undefined);
    await this.done;
    try {
      closeSync(this.fd);
    } catch {
      // already closed
    }
    await discard(this.tmp);
    releaseTemp(this.tmp);
  }
}
