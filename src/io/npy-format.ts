/**
 * The NumPy .npy format in memory: headers (versions 1.0, 2.0, 3.0) and items
 * (float16/float32/float64, either byte order). Streaming files are in ./npy.ts.
 * Spec: https://numpy.org/doc/stable/reference/generated/numpy.lib.format.html
 */
import { createError } from '../core/errors.js';
import type { FloatArray } from '../core/rows.js';
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

export function headerError(file: string, what: string): never {
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
