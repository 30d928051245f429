/**
 * Streaming NumPy .npy files: 2-D C-order arrays (rows x dim) read and written by row
 * blocks, so files larger than memory work. The format itself is in ./npy-format.ts.
 */
import { readError } from './fs-errors.js';
import { readSync, writeSync } from 'node:fs';
import { open, rename, stat, type FileHandle } from 'node:fs/promises';
import { createError, opt } from '../core/errors.js';
import { narrowToFloat32, type FloatArray } from '../core/rows.js';
import { discard, prepareOutputFile, releaseTemp, tempPathFor, writeError } from './atomic.js';
import { createContentHasher, type Hasher } from './hash.js';
import {
  decodeItems,
  encodeItems,
  encodeNpyHeader,
  headerError,
  HOST_LITTLE,
  parseNpyHeader,
  type NpyDtype,
  type NpyHeader,
} from './npy-format.js';

export * from './npy-format.js';

export interface NpyBlock {
  /** Index of the block's first row in the file. */
  start: number;
  rows: number;
  /** rows x dim, row-major. Valid until the next block is read. */
  data: FloatArray;
}

export interface NpyReadOptions {
  /** Also hash the whole file while reading (XXH3-128, see io/hash.ts). */
  hash?: boolean;
}

/** Default block size: about 8 MiB of input. */
function defaultBlockRows(dim: number, itemSize: number): number {
  return Math.max(1, Math.floor((8 << 20) / Math.max(1, dim * itemSize)));
}

/** A streaming reader of a 2-D C-order .npy file. */
export class NpyReader {
  readonly path: string;
  readonly header: NpyHeader;
  readonly rows: number;
  readonly dim: number;
  readonly fileSize: number;
  private fh: FileHandle;
  private hasher: Hasher | undefined;
  private headerBytes: Uint8Array;

  private constructor(
    path: string,
    fh: FileHandle,
    header: NpyHeader,
    fileSize: number,
    headerBytes: Uint8Array,
    hasher: Hasher | undefined,
  ) {
    this.path = path;
    this.fh = fh;
    this.header = header;
    this.fileSize = fileSize;
    this.rows = header.shape[0] as number;
    this.dim = header.shape[1] as number;
    this.headerBytes = headerBytes;
    this.hasher = hasher;
  }

  static async open(path: string, options: NpyReadOptions = {}): Promise<NpyReader> {
    let fh: FileHandle;
    try {
      fh = await open(path, 'r');
    } catch (e) {
      throw readError(path, e, 'a .npy file');
    }
    try {
      const st = await fh.stat();
      if (st.isDirectory()) throw createError('NPY_HEADER', `${path}: is a directory, expected a .npy file`);
      const { size } = st;
      let buf = new Uint8Array(Math.min(size, 4096));
      let got = (await fh.read(buf, 0, buf.length, 0)).bytesRead;
      let header = parseNpyHeader(buf.subarray(0, got), path, size);
      if (!header) {
        // Header longer than 4 KiB (allowed by versions 2 and 3).
        const len = new DataView(buf.buffer).getUint32(8, true) + 12;
        buf = new Uint8Array(Math.min(size, len));
        got = (await fh.read(buf, 0, buf.length, 0)).bytesRead;
        header = parseNpyHeader(buf.subarray(0, got), path, size);
        if (!header) headerError(path, 'truncated header');
      }
      if (header.shape.length !== 2) {
        throw createError('NPY_SHAPE', `${path}: expected a 2-D array (rows, dim), got shape (${header.shape.join(', ')})`);
      }
      const [n, d] = header.shape as [number, number];
      if (n === 0) throw createError('EMPTY', `${path}: the array has no rows (shape (0, ${d}))`);
      if (d === 0) throw createError('NPY_SHAPE', `${path}: the array has dimension 0`);
      const expected = header.dataOffset + n * d * header.itemSize;
      if (size < expected) {
        throw createError(
          'NPY_TRUNCATED',
          `${path}: truncated: the header says ${n} x ${d} ${header.dtype} (${expected} bytes), the file has ${size} bytes`,
        );
      }
      if (size > expected) {
        throw createError('NPY_HEADER', `${path}: corrupt: ${size - expected} bytes after the ${n} x ${d} array the header describes`);
      }
      return new NpyReader(
        path,
        fh,
        header,
        size,
        buf.slice(0, header.dataOffset),
        options.hash === true ? await createContentHasher() : undefined,
      );
    } catch (e) {
      await fh.close();
      throw e;
    }
  }

  /**
   * Stream the rows in blocks of `blockRows`. With `targets` (buffers of at least
   * blockRows rows of raw bytes), rows are read straight into them (little-endian
   * float32 rows are then decoded in place, with no copy); with two targets the next
   * block is read into one while the caller works on the other.
   */
  async *blocks(
    blockRows = defaultBlockRows(this.dim, this.header.itemSize),
    targets?: Uint8Array | Uint8Array[],
  ): AsyncGenerator<NpyBlock> {
    const rowBytes = this.dim * this.header.itemSize;
    const bufs =
      targets === undefined ? [new Uint8Array(new ArrayBuffer(blockRows * rowBytes))] : Array.isArray(targets) ? targets : [targets];
    if (bufs.some((b) => b.byteLength < blockRows * rowBytes)) throw new Error('NpyReader.blocks: target buffer too small');
    let reuse: FloatArray | undefined;
    if (this.hasher) this.hasher.update(this.headerBytes);
    const read = (start: number, k: number) => {
      const rows = Math.min(blockRows, this.rows - start);
      const raw = (bufs[k % bufs.length] as Uint8Array).subarray(0, rows * rowBytes);
      return this.readRawInto(start, rows, raw).then(() => ({ rows, raw }));
    };
    let pending = read(0, 0);
    for (let start = 0, k = 0; start < this.rows; start += blockRows, k++) {
      const { rows, raw } = await pending;
      const nextStart = start + blockRows;
      if (nextStart < this.rows && bufs.length > 1) pending = read(nextStart, k + 1);
      if (this.hasher) this.hasher.update(raw);
      const data = decodeItems(raw, this.header, rows * this.dim, reuse);
      if (this.header.itemSize === 2) reuse = data;
      yield { start, rows, data };
      if (nextStart < this.rows && bufs.length === 1) pending = read(nextStart, k + 1);
    }
  }

  /** Read `rows` raw rows starting at row `start` into `target` (random access). */
  async readRawInto(start: number, rows: number, target: Uint8Array): Promise<void> {
    const rowBytes = this.dim * this.header.itemSize;
    const want = rows * rowBytes;
    const pos = this.header.dataOffset + start * rowBytes;
    let got = 0;
    while (got < want) {
      // Synchronous: blocks are a few MiB (a millisecond or two), and libuv's asynchronous
      // reads of such buffers measured several times slower here.
      const bytesRead = readSync(this.fh.fd, target, got, want - got, pos + got);
      if (bytesRead === 0)
        throw createError('NPY_TRUNCATED', `${this.path}: truncated at row ${start + Math.floor(got / rowBytes)} of ${this.rows}`);
      got += bytesRead;
    }
  }

  /** Read the rows at `indices` (any order; each 0 <= i < rows) into one array, decoded: a sample without reading the file. */
  async readRows(indices: ArrayLike<number>): Promise<FloatArray> {
    const rowBytes = this.dim * this.header.itemSize;
    const raw = new Uint8Array(indices.length * rowBytes);
    for (let k = 0; k < indices.length; k++) {
      const i = indices[k] as number;
      if (!(Number.isInteger(i) && i >= 0 && i < this.rows)) throw new RangeError(`NpyReader.readRows: row ${i} of ${this.rows}`);
      await this.readRawInto(i, 1, raw.subarray(k * rowBytes, (k + 1) * rowBytes));
    }
    return decodeItems(raw, this.header, indices.length * this.dim);
  }

  /** Read every row into one array (or into `into`, a float32 buffer large enough for float32/float16 files). */
  async readAll(into?: Float32Array): Promise<FloatArray> {
    const n = this.rows * this.dim;
    const out = this.header.itemSize === 8 ? new Float64Array(n) : into && into.length >= n ? into.subarray(0, n) : new Float32Array(n);
    if (this.header.littleEndian === HOST_LITTLE && this.header.itemSize !== 2 && !this.hasher) {
      // Native float32/float64 rows: read straight into the result, 64 MiB per (synchronous)
      // read: here that is ~10x faster than libuv's asynchronous reads of large buffers.
      const bytes = new Uint8Array(out.buffer, out.byteOffset, out.byteLength);
      const step = 64 << 20;
      for (let o = 0; o < bytes.length;) {
        const n = readSync(this.fh.fd, bytes, o, Math.min(step, bytes.length - o), this.header.dataOffset + o);
        if (n === 0) throw createError('NPY_TRUNCATED', `${this.path}: truncated at byte ${this.header.dataOffset + o}`);
        o += n;
      }
      return out;
    }
    for await (const b of this.blocks()) out.set(b.data, b.start * this.dim);
    return out;
  }

  /** Hex digest of the whole file (io/hash.ts); only after `blocks()` ran to the end with `hash: true`. */
  digest(): string {
    if (!this.hasher) throw new Error('NpyReader was opened without hash: true');
    return this.hasher.digest();
  }

  async close(): Promise<void> {
    await this.fh.close();
  }
}

/** Read a whole .npy file: its data and shape. */
export async function readNpy(path: string): Promise<{ data: FloatArray; rows: number; dim: number; dtype: NpyDtype }> {
  const r = await NpyReader.open(path);
  try {
    return { data: await r.readAll(), rows: r.rows, dim: r.dim, dtype: r.header.dtype };
  } finally {
    await r.close();
  }
}

/** A float64 value that float32 output cannot hold (it would become Inf): refused, naming the output row. */
export function overflowError(path: string, row: number) {
  return createError(
    'NON_FINITE',
    `${path}: row ${row} of the output holds a value beyond the float32 range (|x| > 3.4e38); write float64 output (${opt('dtype')} float64)`,
    { params: ['dtype'] },
  );
}

/** Room for a shape of two 20-digit numbers, so the header can be rewritten in place. */
const RESERVED_HEADER = 128;

/**
 * A streaming writer of a 2-D .npy file (float32 or float64, little-endian).
 * Rows go to a temporary file; `close()` writes the final header and renames it
 * into place; `abort()` removes it. Nothing is ever left half-written at `path`.
 */
export class NpyWriter {
  readonly path: string;
  readonly dim: number;
  readonly dtype: '<f4' | '<f8';
  rows = 0;
  private tmp: string;
  private fh: FileHandle;
  private pos: number;
  private closed = false;

  private constructor(path: string, tmp: string, fh: FileHandle, dim: number, dtype: '<f4' | '<f8') {
    this.path = path;
    this.tmp = tmp;
    this.fh = fh;
    this.dim = dim;
    this.dtype = dtype;
    this.pos = RESERVED_HEADER;
  }

  static async create(path: string, dim: number, dtype: '<f4' | '<f8' = '<f4'): Promise<NpyWriter> {
    await prepareOutputFile(path);
    const tmp = await tempPathFor(path);
    let fh: FileHandle;
    try {
      fh = await open(tmp, 'w');
    } catch (e) {
      releaseTemp(tmp);
      throw writeError(path, e);
    }
    return new NpyWriter(path, tmp, fh, dim, dtype);
  }

  /** Append `rows` rows (row-major). */
  async write(block: FloatArray, rows = block.length / this.dim): Promise<void> {
    const n = rows * this.dim;
    let bytes: Uint8Array;
    const want64 = this.dtype === '<f8';
    if (HOST_LITTLE && want64 && block instanceof Float64Array) {
      bytes = new Uint8Array(block.buffer, block.byteOffset, n * 8);
    } else if (HOST_LITTLE && !want64 && block instanceof Float32Array) {
      bytes = new Uint8Array(block.buffer, block.byteOffset, n * 4);
    } else {
      let conv: FloatArray;
      if (want64) conv = Float64Array.from(block.subarray(0, n));
      else {
        const narrow = narrowToFloat32(block, n, this.dim);
        if (narrow.overflowRow >= 0) throw overflowError(this.path, this.rows + narrow.overflowRow);
        conv = narrow.out;
      }
      bytes = HOST_LITTLE ? new Uint8Array(conv.buffer, conv.byteOffset, conv.byteLength) : encodeItems(conv, this.dtype);
    }
    let off = 0;
    try {
      while (off < bytes.length) {
        // Synchronous, as reads: libuv's asynchronous writes of MiB buffers measured far slower here.
        off += writeSync(this.fh.fd, bytes, off, bytes.length - off, this.pos + off);
      }
    } catch (e) {
      throw writeError(this.path, e);
    }
    this.pos += bytes.length;
    this.rows += rows;
  }

  /** Finish: write the header and move the file into place. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    try {
      const header = encodeNpyHeader(this.dtype, [this.rows, this.dim], RESERVED_HEADER);
      if (header.length !== RESERVED_HEADER) throw new Error('npy header does not fit its reserved space');
      await this.fh.write(header, 0, header.length, 0);
      await this.fh.close();
      await rename(this.tmp, this.path);
      releaseTemp(this.tmp);
    } catch (e) {
      await discard(this.tmp);
      releaseTemp(this.tmp);
      throw writeError(this.path, e);
    }
  }

  /** Give up: remove the temporary file. */
  async abort(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.fh.close().catch(() => undefined);
    await discard(this.tmp);
    releaseTemp(this.tmp);
  }
}

/** Write a whole array atomically. */
export async function writeNpy(
  path: string,
  data: FloatArray,
  rows: number,
  dim: number,
  dtype: '<f4' | '<f8' = data instanceof Float64Array ? '<f8' : '<f4',
): Promise<void> {
  const w = await NpyWriter.create(path, dim, dtype);
  try {
    await w.write(data, rows);
    await w.close();
  } catch (e) {
    await w.abort();
    throw e;
  }
}

/** Size in bytes of a file, or undefined when it does not exist. */
export async function fileSize(path: string): Promise<number | undefined> {
  try {
    return (await stat(path)).size;
  } catch {
    return undefined;
  }
}
