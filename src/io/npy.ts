/**
 * NumPy .npy files: format versions 1.0, 2.0 and 3.0; little- and big-endian
 * float16/float32/float64; C order; 2-D arrays (rows x dim).
 * Reading and writing stream by row blocks, so files larger than memory work.
 * Spec: https://numpy.org/doc/stable/reference/generated/numpy.lib.format.html
 */
import { createHash, type Hash } from 'node:crypto';
import { open, rename, rm, stat, type FileHandle } from 'node:fs/promises';
import { createError } from '../core/errors.js';
import type { FloatArray } from '../core/moments.js';
import { ensureParentDir, releaseTemp, tempPathFor } from './atomic.js';
import { floatToHalf, halfTable } from './half.js';

const MAGIC = [0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59]; // \x93NUMPY
/** True on little-endian hosts (where '<f4' rows can be used in place). */
export const HOST_LITTLE = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

export type NpyDtype = '<f2' | '>f2' | '<f4' | '>f4' | '<f8' | '>f8';

export interface NpyHeader {
  version: [number, number];
  dtype: NpyDtype;
  itemSize: 2 | 4 | 8;
  littleEndian: boolean;
  shape: number[];
  /** Byte offset of the data. */
  dataOffset: number;
}

function headerError(file: string, what: string): never {
  throw createError('NPY_HEADER', `${file}: not a valid .npy file: ${what}`);
}

/**
 * Parse the header at the start of `buf` (which must hold at least the whole header).
 * Returns undefined when `buf` is too short to hold it, so callers can read more.
 */
export function parseNpyHeader(buf: Uint8Array, file: string, fileSize = Infinity): NpyHeader | undefined {
  if (buf.length < 10) {
    if (fileSize <= buf.length) headerError(file, `only ${fileSize} bytes, shorter than the 10-byte preamble`);
    return undefined;
  }
  for (let i = 0; i < MAGIC.length; i++) if (buf[i] !== MAGIC[i]) headerError(file, 'missing the \\x93NUMPY magic string');
  const major = buf[6] as number;
  const minor = buf[7] as number;
  if (major < 1 || major > 3) headerError(file, `unsupported format version ${major}.${minor} (lsar reads 1.0, 2.0 and 3.0)`);
  const view = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  let headerLen: number;
  let start: number;
  if (major === 1) {
    headerLen = view.getUint16(8, true);
    start = 10;
  } else {
    if (buf.length < 12) {
      if (fileSize <= buf.length) headerError(file, 'truncated in the header length');
      return undefined;
    }
    headerLen = view.getUint32(8, true);
    start = 12;
  }
  const dataOffset = start + headerLen;
  if (buf.length < dataOffset) {
    if (fileSize < dataOffset)
      headerError(file, `truncated header: it claims ${headerLen} bytes, the file has ${Math.max(0, fileSize - start)}`);
    return undefined;
  }
  const bytes = buf.subarray(start, dataOffset);
  const text = major === 3 ? new TextDecoder('utf-8', { fatal: false }).decode(bytes) : latin1(bytes);
  const descr = /['"]descr['"]\s*:\s*['"]([^'"]*)['"]/.exec(text);
  const fortran = /['"]fortran_order['"]\s*:\s*(True|False)/.exec(text);
  const shapeM = /['"]shape['"]\s*:\s*\(([^)]*)\)/.exec(text);
  if (!text.trim().startsWith('{') || !descr || !fortran || !shapeM) {
    headerError(file, `header dictionary is corrupt or incomplete: ${JSON.stringify(text.trim().slice(0, 80))}`);
  }
  if (fortran[1] === 'True') {
    throw createError('NPY_ORDER', `${file}: Fortran-ordered arrays are not supported; save with np.ascontiguousarray(x) (C order)`);
  }
  const shape = (shapeM[1] as string)
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s !== '')
    .map((s) => {
      const n = Number(s.replace(/L$/, ''));
      if (!Number.isSafeInteger(n) || n < 0) headerError(file, `bad shape entry ${JSON.stringify(s)}`);
      return n;
    });
  const d = descr[1] as string;
  const m = /^([<>=|])f([248])$/.exec(d);
  if (!m) {
    throw createError(
      'NPY_DTYPE',
      `${file}: unsupported dtype '${d}': expected float16, float32 or float64 ('<f2', '<f4', '<f8' or big-endian '>f…')`,
    );
  }
  const order = m[1] === '=' ? (HOST_LITTLE ? '<' : '>') : m[1];
  if (order === '|') throw createError('NPY_DTYPE', `${file}: unsupported dtype '${d}': floats need a byte order`);
  const itemSize = Number(m[2]) as 2 | 4 | 8;
  return {
    version: [major, minor],
    dtype: `${order}f${itemSize}` as NpyDtype,
    itemSize,
    littleEndian: order === '<',
    shape,
    dataOffset,
  };
}

function latin1(bytes: Uint8Array): string {
  let s = '';
  for (const b of bytes) s += String.fromCharCode(b);
  return s;
}

/** Decode raw .npy bytes of `count` items into floats (Float64Array for f8, else Float32Array). */
export function decodeItems(
  raw: Uint8Array,
  header: Pick<NpyHeader, 'itemSize' | 'littleEndian'>,
  count: number,
  reuse?: FloatArray,
): FloatArray {
  const { itemSize, littleEndian } = header;
  const native = littleEndian === HOST_LITTLE;
  if (itemSize === 2) {
    const out = reuse instanceof Float32Array && reuse.length >= count ? reuse.subarray(0, count) : new Float32Array(count);
    const t = halfTable();
    for (let i = 0; i < count; i++) {
      const lo = raw[2 * i] as number;
      const hi = raw[2 * i + 1] as number;
      out[i] = t[littleEndian ? lo | (hi << 8) : hi | (lo << 8)] as number;
    }
    return out;
  }
  if (!native) swapBytes(raw, itemSize, count);
  const aligned = raw.byteOffset % itemSize === 0;
  if (itemSize === 4) {
    if (aligned) return new Float32Array(raw.buffer, raw.byteOffset, count);
    return new Float32Array(raw.slice(0, count * 4).buffer);
  }
  if (aligned) return new Float64Array(raw.buffer, raw.byteOffset, count);
  return new Float64Array(raw.slice(0, count * 8).buffer);
}

function swapBytes(raw: Uint8Array, size: number, count: number): void {
  for (let i = 0; i < count; i++) {
    const o = i * size;
    for (let a = 0, b = size - 1; a < b; a++, b--) {
      const t = raw[o + a] as number;
      raw[o + a] = raw[o + b] as number;
      raw[o + b] = t;
    }
  }
}

export interface NpyBlock {
  /** Index of the block's first row in the file. */
  start: number;
  rows: number;
  /** rows x dim, row-major. Valid until the next block is read. */
  data: FloatArray;
}

export interface NpyReadOptions {
  /** Also compute the SHA-256 of the whole file while reading. */
  hash?: boolean;
}

/** Default block size: about 8 MiB of input. */
export function defaultBlockRows(dim: number, itemSize: number): number {
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
  private hasher: Hash | undefined;
  private headerBytes: Uint8Array;

  private constructor(path: string, fh: FileHandle, header: NpyHeader, fileSize: number, headerBytes: Uint8Array, hash: boolean) {
    this.path = path;
    this.fh = fh;
    this.header = header;
    this.fileSize = fileSize;
    this.rows = header.shape[0] as number;
    this.dim = header.shape[1] as number;
    this.headerBytes = headerBytes;
    this.hasher = hash ? createHash('sha256') : undefined;
  }

  static async open(path: string, options: NpyReadOptions = {}): Promise<NpyReader> {
    let fh: FileHandle;
    try {
      fh = await open(path, 'r');
    } catch (e) {
      const code = (e as { code?: string }).code;
      if (code === 'ENOENT') throw createError('NOT_FOUND', `${path}: no such file`);
      if (code === 'EISDIR') throw createError('NPY_HEADER', `${path}: is a directory, expected a .npy file`);
      throw createError('NOT_FOUND', `${path}: cannot open (${(e as Error).message})`);
    }
    try {
      const { size } = await fh.stat();
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
      return new NpyReader(path, fh, header, size, buf.slice(0, header.dataOffset), options.hash === true);
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
      const { bytesRead } = await this.fh.read(target, got, want - got, pos + got);
      if (bytesRead === 0)
        throw createError('NPY_TRUNCATED', `${this.path}: truncated at row ${start + Math.floor(got / rowBytes)} of ${this.rows}`);
      got += bytesRead;
    }
  }

  /** Read every row into one array (for small files). */
  async readAll(): Promise<FloatArray> {
    const out = this.header.itemSize === 8 ? new Float64Array(this.rows * this.dim) : new Float32Array(this.rows * this.dim);
    for await (const b of this.blocks()) out.set(b.data, b.start * this.dim);
    return out;
  }

  /** SHA-256 (hex) of the whole file; only after `blocks()` ran to the end with `hash: true`. */
  digest(): string {
    if (!this.hasher) throw new Error('NpyReader was opened without hash: true');
    return this.hasher.digest('hex');
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

function headerDict(dtype: NpyDtype, shape: number[]): string {
  const shapeText = shape.length === 1 ? `(${shape[0]},)` : `(${shape.join(', ')})`;
  return `{'descr': '${dtype}', 'fortran_order': False, 'shape': ${shapeText}, }`;
}

/** Build a complete header (version 1.0, padded to a multiple of 64 bytes, at least `minLength`). */
export function encodeNpyHeader(dtype: NpyDtype, shape: number[], minLength = 0): Uint8Array {
  const dict = headerDict(dtype, shape);
  let total = 10 + dict.length + 1;
  total = Math.max(minLength, Math.ceil(total / 64) * 64);
  if (total - 10 > 0xffff) throw new Error('npy header too long');
  const out = new Uint8Array(total);
  out.set(MAGIC, 0);
  out[6] = 1;
  out[7] = 0;
  new DataView(out.buffer).setUint16(8, total - 10, true);
  for (let i = 0; i < dict.length; i++) out[10 + i] = dict.charCodeAt(i);
  for (let i = 10 + dict.length; i < total - 1; i++) out[i] = 0x20;
  out[total - 1] = 0x0a;
  return out;
}

/** Encode floats as items of `dtype`. */
export function encodeItems(data: ArrayLike<number>, dtype: NpyDtype): Uint8Array {
  const size = Number(dtype[2]);
  const little = dtype[0] === '<';
  const out = new Uint8Array(data.length * size);
  const view = new DataView(out.buffer);
  for (let i = 0; i < data.length; i++) {
    const v = data[i] as number;
    if (size === 2) view.setUint16(i * 2, floatToHalf(v), little);
    else if (size === 4) view.setFloat32(i * 4, v, little);
    else view.setFloat64(i * 8, v, little);
  }
  return out;
}

/** Encode a whole array in memory (any supported dtype; format version 1, 2 or 3). */
export function encodeNpy(data: ArrayLike<number>, shape: number[], dtype: NpyDtype = '<f4', version: 1 | 2 | 3 = 1): Uint8Array {
  let header: Uint8Array;
  if (version === 1) {
    header = encodeNpyHeader(dtype, shape);
  } else {
    const dict = headerDict(dtype, shape);
    const total = Math.ceil((12 + dict.length + 1) / 64) * 64;
    header = new Uint8Array(total);
    header.set(MAGIC, 0);
    header[6] = version;
    header[7] = 0;
    new DataView(header.buffer).setUint32(8, total - 12, true);
    const bytes = new TextEncoder().encode(dict);
    header.set(bytes, 12);
    header.fill(0x20, 12 + bytes.length, total - 1);
    header[total - 1] = 0x0a;
  }
  const body = encodeItems(data, dtype);
  const out = new Uint8Array(header.length + body.length);
  out.set(header, 0);
  out.set(body, header.length);
  return out;
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
    await ensureParentDir(path);
    const tmp = tempPathFor(path);
    let fh: FileHandle;
    try {
      fh = await open(tmp, 'w');
    } catch (e) {
      throw createError('OUTPUT', `${path}: cannot write (${(e as Error).message})`);
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
      const conv = want64 ? Float64Array.from(block.subarray(0, n)) : Float32Array.from(block.subarray(0, n));
      bytes = HOST_LITTLE ? new Uint8Array(conv.buffer) : encodeItems(conv, this.dtype);
    }
    let off = 0;
    while (off < bytes.length) {
      const { bytesWritten } = await this.fh.write(bytes, off, bytes.length - off, this.pos + off);
      off += bytesWritten;
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
      await rm(this.tmp, { force: true });
      releaseTemp(this.tmp);
      throw e;
    }
  }

  /** Give up: remove the temporary file. */
  async abort(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.fh.close().catch(() => undefined);
    await rm(this.tmp, { force: true });
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

/** Decode a whole in-memory .npy of any shape (used for small arrays such as artifact sidecars). */
export function decodeNpy(bytes: Uint8Array, label: string): { header: NpyHeader; data: FloatArray } {
  const header = parseNpyHeader(bytes, label, bytes.length);
  if (!header) headerError(label, 'truncated header');
  const count = header.shape.reduce((a, b) => a * b, 1);
  const expected = header.dataOffset + count * header.itemSize;
  if (bytes.length !== expected) {
    throw createError('NPY_TRUNCATED', `${label}: the header says ${expected} bytes, the file has ${bytes.length}`);
  }
  const raw = bytes.slice(header.dataOffset);
  return { header, data: decodeItems(raw, header, count) };
}
