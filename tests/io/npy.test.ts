import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { floatToHalf, halfToFloat } from '../../src/io/half.js';
import { encodeNpy, NpyReader, NpyWriter, readNpy, type NpyDtype } from '../../src/io/npy.js';
import { listFiles, tempDir } from '../helpers.js';

const ROWS = 7;
const DIM = 5;
const values = Float64Array.from({ length: ROWS * DIM }, (_, i) => (i - 17) / 8); // exact in float16

async function npyFile(dir: string, name: string, bytes: Uint8Array): Promise<string> {
  const p = join(dir, name);
  await writeFile(p, bytes);
  return p;
}

describe('npy reading', () => {
  const dtypes: NpyDtype[] = ['<f2', '>f2', '<f4', '>f4', '<f8', '>f8'];
  for (const dtype of dtypes) {
    for (const version of [1, 2, 3] as const) {
      it(`reads ${dtype} format ${version}.0 exactly`, async () => {
        const dir = await tempDir();
        const p = await npyFile(dir, 'x.npy', encodeNpy(values, [ROWS, DIM], dtype, version));
        const got = await readNpy(p);
        expect([got.rows, got.dim, got.dtype]).toEqual([ROWS, DIM, dtype]);
        expect(Array.from(got.data)).toEqual(Array.from(values));
        expect(got.data).toBeInstanceOf(dtype.endsWith('8') ? Float64Array : Float32Array);
      });
    }
  }

  it('streams row blocks that cover the file in order', async () => {
    const dir = await tempDir();
    const p = await npyFile(dir, 'x.npy', encodeNpy(values, [ROWS, DIM], '>f4'));
    const r = await NpyReader.open(p, { hash: true });
    const seen: number[] = [];
    const starts: number[] = [];
    for await (const b of r.blocks(3)) {
      starts.push(b.start);
      seen.push(...Array.from(b.data.subarray(0, b.rows * DIM)));
    }
    await r.close();
    expect(starts).toEqual([0, 3, 6]);
    expect(seen).toEqual(Array.from(values));
    expect(r.digest()).toMatch(/^[0-9a-f]{32}$/); // XXH3-128
  });

  it('reads a header written by numpy (fixture bytes)', async () => {
    const dir = await tempDir();
    const header = "{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), }";
    const pre = new Uint8Array([0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59, 1, 0, 118, 0]);
    const text = new TextEncoder().encode(header.padEnd(117, ' ') + '\n');
    const body = new Uint8Array(new Float32Array([1, 2, 3, 4, 5, 6]).buffer);
    const p = await npyFile(dir, 'np.npy', Buffer.concat([pre, text, body]));
    expect(Array.from((await readNpy(p)).data)).toEqual([1, 2, 3, 4, 5, 6]);
  });

  const bad: [string, (b: Uint8Array) => Uint8Array, RegExp][] = [
    ['a truncated header', (b) => b.subarray(0, 40), /truncated header/],
    ['a missing magic string', (b) => Uint8Array.from(b, (x, i) => (i === 1 ? 0x41 : x)), /magic/],
    ['an unknown format version', (b) => Uint8Array.from(b, (x, i) => (i === 6 ? 9 : x)), /format version 9/],
    ['truncated data', (b) => b.subarray(0, b.length - 4), /truncated: the header says 7 x 5/],
    ['a garbled dictionary', (b) => Uint8Array.from(b, (x, i) => (i >= 10 && i < 30 ? 0x3f : x)), /corrupt or incomplete/],
    ['an empty file', () => new Uint8Array(0), /only 0 bytes/],
  ];
  for (const [what, mangle, message] of bad) {
    it(`rejects ${what} naming the file`, async () => {
      const dir = await tempDir();
      const p = await npyFile(dir, 'bad.npy', mangle(encodeNpy(values, [ROWS, DIM], '<f4')));
      await expect(readNpy(p)).rejects.toThrow(message);
      await expect(readNpy(p)).rejects.toThrow(p);
    });
  }

  it('rejects Fortran order, integer dtypes, 1-D and 0-row arrays', async () => {
    const dir = await tempDir();
    const fortran = Buffer.from(encodeNpy(values, [ROWS, DIM]))
      .toString('latin1')
      .replace("'fortran_order': False", "'fortran_order': True ");
    await expect(readNpy(await npyFile(dir, 'f.npy', Buffer.from(fortran, 'latin1')))).rejects.toThrow(
      /Fortran-ordered arrays are not supported/,
    );
    const int = Buffer.from(encodeNpy(values, [ROWS, DIM]))
      .toString('latin1')
      .replace("'<f4'", "'<i4'");
    await expect(readNpy(await npyFile(dir, 'i.npy', Buffer.from(int, 'latin1')))).rejects.toThrow(/unsupported dtype '<i4'/);
    await expect(readNpy(await npyFile(dir, 'v.npy', encodeNpy(values, [ROWS * DIM])))).rejects.toThrow(/expected a 2-D array/);
    await expect(readNpy(await npyFile(dir, 'z.npy', encodeNpy([], [0, DIM])))).rejects.toThrow(/no rows/);
    await expect(readNpy(join(dir, 'missing.npy'))).rejects.toThrow(/no such file/);
  });
});

describe('npy writing', () => {
  it('streams blocks into a file numpy-compatible header, atomically', async () => {
    const dir = await tempDir();
    const p = join(dir, 'out.npy');
    const w = await NpyWriter.create(p, DIM);
    await w.write(Float32Array.from(values.subarray(0, 3 * DIM)));
    expect(await listFiles(dir)).not.toContain('out.npy');
    await w.write(Float32Array.from(values.subarray(3 * DIM)));
    await w.close();
    expect(await listFiles(dir)).toEqual(['out.npy']);
    const got = await readNpy(p);
    expect([got.rows, got.dim, got.dtype]).toEqual([ROWS, DIM, '<f4']);
    expect(Array.from(got.data)).toEqual(Array.from(values));
  });

  it('abort leaves nothing behind', async () => {
    const dir = await tempDir();
    const w = await NpyWriter.create(join(dir, 'out.npy'), DIM, '<f8');
    await w.write(values);
    await w.abort();
    expect(await listFiles(dir)).toEqual([]);
  });
});

describe('float16', () => {
  it('round-trips every finite half value exactly', () => {
    for (let h = 0; h < 0x10000; h++) {
      const f = halfToFloat(h);
      if (Number.isNaN(f)) continue;
      expect(floatToHalf(f)).toBe(h);
    }
  });
  it('rounds to nearest even and overflows to infinity', () => {
    expect(halfToFloat(floatToHalf(1 + 2 ** -11))).toBe(1);
    expect(halfToFloat(floatToHalf(1 + 3 * 2 ** -11))).toBe(1 + 2 ** -9);
    expect(halfToFloat(floatToHalf(70000))).toBe(Infinity);
  });
});
