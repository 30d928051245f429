/**
 * The safetensors format (https://github.com/huggingface/safetensors): an 8-byte little-endian
 * header length, a JSON header {name: {dtype, shape, data_offsets: [begin, end]}, "__metadata__":
 * {string: string}}, then the raw little-endian tensor bytes.
 */
import { readError } from './fs-errors.js';
import { readFile } from 'node:fs/promises';
import { createError } from '../core/errors.js';
import { writeFileAtomic } from './atomic.js';
import { HOST_LITTLE } from './npy.js';

export interface SafeTensor {
  dtype: 'F64' | 'F32';
  shape: number[];
  data: Float64Array | Float32Array;
}

export async function writeSafetensors(path: string, tensors: Record<string, SafeTensor>, metadata: Record<string, string>): Promise<void> {
  if (!HOST_LITTLE) throw createError('OUTPUT', `${path}: safetensors are little-endian; this host is not`);
  const header: Record<string, unknown> = { __metadata__: metadata };
  let offset = 0;
  const parts: Uint8Array[] = [];
  for (const [name, t] of Object.entries(tensors)) {
    const bytes = new Uint8Array(t.data.buffer, t.data.byteOffset, t.data.byteLength);
    header[name] = { dtype: t.dtype, shape: t.shape, data_offsets: [offset, offset + bytes.length] };
    parts.push(bytes);
    offset += bytes.length;
  }
  const text = new TextEncoder().encode(JSON.stringify(header));
  // pad with spaces (bytes, not characters) so the data starts 8-byte aligned
  const head = new Uint8Array(text.length + ((8 - (text.length % 8)) % 8)).fill(0x20);
  head.set(text);
  const out = new Uint8Array(8 + head.length + offset);
  new DataView(out.buffer).setBigUint64(0, BigInt(head.length), true);
  out.set(head, 8);
  let o = 8 + head.length;
  for (const p of parts) {
    out.set(p, o);
    o += p.length;
  }
  await writeFileAtomic(path, out);
}

export async function readSafetensors(path: string): Promise<{ tensors: Record<string, SafeTensor>; metadata: Record<string, string> }> {
  let bytes: Buffer;
  try {
    bytes = await readFile(path);
  } catch (e) {
    throw readError(path, e, 'a .safetensors file');
  }
  const bad = (what: string): never => {
    throw createError('ARTIFACT', `${path}: not a valid safetensors file: ${what}`);
  };
  if (bytes.length < 8) bad('shorter than its 8-byte header length');
  const n = Number(bytes.readBigUInt64LE(0));
  if (8 + n > bytes.length) bad(`the header claims ${n} bytes, the file has ${bytes.length - 8}`);
  let header: Record<string, { dtype: string; shape: number[]; data_offsets: [number, number] } | Record<string, string>>;
  try {
    header = JSON.parse(bytes.subarray(8, 8 + n).toString('utf8'));
  } catch {
    bad('its header is not JSON');
  }
  const base = 8 + n;
  const tensors: Record<string, SafeTensor> = {};
  for (const [name, v] of Object.entries(header!)) {
    if (name === '__metadata__') continue;
    const t = v as { dtype: string; shape: number[]; data_offsets: [number, number] };
    const size = t.dtype === 'F64' ? 8 : t.dtype === 'F32' ? 4 : bad(`tensor ${name}: dtype ${t.dtype} (lsar reads F32 and F64)`);
    const [a, b] = t.data_offsets ?? [];
    const count = (t.shape ?? []).reduce((x, y) => x * y, 1);
    if (
      !(Number.isInteger(a) && Number.isInteger(b)) ||
      (b as number) - (a as number) !== count * size ||
      base + (b as number) > bytes.length
    ) {
      bad(`tensor ${name}: offsets ${JSON.stringify(t.data_offsets)} do not fit shape ${JSON.stringify(t.shape)}`);
    }
    const raw = bytes.subarray(base + (a as number), base + (b as number));
    const copy = new Uint8Array(raw); // aligned copy
    tensors[name] = {
      dtype: t.dtype as 'F64' | 'F32',
      shape: t.shape,
      data: size === 8 ? new Float64Array(copy.buffer) : new Float32Array(copy.buffer),
    };
  }
  return { tensors, metadata: (header!.__metadata__ as Record<string, string>) ?? {} };
}
