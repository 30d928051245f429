/** Parquet page checks and lsar's page CRCs (issue 19 item 6), and the Thrift compact codec under them. */
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parquetReadObjects } from 'hyparquet';
import { describe, expect, it } from 'vitest';
import { addPageChecksums, verifyPages } from '../../src/io/parquet-pages.js';
import { decodeStruct, encodeStruct, list, num, setNum, sub, T, type TStruct } from '../../src/io/thrift-compact.js';
import { encodeNpy } from '../../src/io/npy.js';
import { saveProjection } from '../../src/io/artifact.js';
import { fitFromArrays } from '../../src/pipeline/fit.js';
import { oneLine, planted, ROOT, runBin, tempDir, writeLangParquet } from '../helpers.js';

const FIXTURES = join(ROOT, 'tests', 'fixtures', 'parquet');

function footerOf(bytes: Buffer): { meta: TStruct; start: number; length: number } {
  const length = bytes.readUInt32LE(bytes.length - 8);
  const start = bytes.length - 8 - length;
  return { meta: decodeStruct(bytes.subarray(start, start + length)).struct, start, length };
}

async function readAll(path: string): Promise<Record<string, unknown>[]> {
  const b = readFileSync(path);
  return (await parquetReadObjects({ file: b.buffer.slice(b.byteOffset, b.byteOffset + b.length) })) as Record<string, unknown>[];
}

describe('Thrift compact codec', () => {
  it('decodes and re-encodes every fixture footer byte for byte (files of two writers)', () => {
    for (const f of ['fixed-float32', 'list-float16', 'list-float32', 'list-float64', 'vec-column']) {
      const bytes = readFileSync(join(FIXTURES, `${f}.parquet`));
      const { meta, start, length } = footerOf(bytes);
      expect(Buffer.from(encodeStruct(meta)).equals(bytes.subarray(start, start + length))).toBe(true);
    }
  });
});

describe('lsar writes a CRC32 in every page, and reads check them', () => {
  async function written(): Promise<{ dir: string; out: string; p: string }> {
    const dir = await tempDir();
    const data = planted(['en', 'de', 'fr'], 400, 16, 3);
    await writeFile16(join(dir, 'x.npy'), data.en as Float32Array, 400);
    const p = join(dir, 'p.json');
    await saveProjection(p, fitFromArrays(data, 16, { method: 'lsar' }));
    const out = join(dir, 'x.parquet');
    const r = await runBin(['project', '-p', p, '--in', join(dir, 'x.npy'), '--out', out, '-q']);
    expect(r.code).toBe(0);
    return { dir, out, p };
  }

  it('every page of project --out x.parquet has a CRC32; another reader reads it, and its offset index points at its pages', async () => {
    const { out } = await written();
    const check = verifyPages(out);
    expect(check.pages).toBeGreaterThan(0);
    expect(check.checksums).toBe(check.pages);
    expect((await readAll(out)).length).toBe(400);
    // every page location of the offset indexes starts a page header, and its size includes that header
    const bytes = readFileSync(out);
    const { meta } = footerOf(bytes);
    let locations = 0;
    for (const rg of list(meta, 4) as TStruct[]) {
      for (const c of list(rg, 1) as TStruct[]) {
        const at = num(c, 4) as number;
        const oi = decodeStruct(bytes.subarray(at, at + (num(c, 5) as number))).struct;
        for (const l of list(oi, 1) as TStruct[]) {
          const off = num(l, 1) as number;
          const h = decodeStruct(bytes.subarray(off));
          expect(num(h.struct, 4)).toBeDefined(); // the crc
          expect(num(l, 2)).toBe(h.length + (num(h.struct, 3) as number));
          locations++;
        }
      }
    }
    expect(locations).toBeGreaterThan(0);
  });

  it('a byte overwritten inside a page of lsar output is refused naming the file, row group, column and page (exit 1)', async () => {
    const { dir, out, p } = await written();
    const bytes = readFileSync(out);
    const at = Math.floor(bytes.length / 3);
    bytes.writeUInt8(bytes.readUInt8(at) ^ 0x10, at);
    writeFileSync(out, bytes);
    oneLine(
      await runBin(['project', '-p', p, '--in', out, '--out', join(dir, 'y.parquet')]),
      1,
      /x\.parquet: row group 0, column embedding[.\w]*, page \d+: its bytes do not match the CRC32 stored in its header: the file is corrupt/,
    );
  });

  it('another writer without CRCs: value counts that disagree with the metadata are refused; NaN values are refused by row', async () => {
    const dir = await tempDir();
    const f = join(dir, 'h.parquet');
    const rows = Array.from({ length: 6 }, (_, i) => Float32Array.from({ length: 4 }, (_, j) => i + j / 10));
    await writeLangParquet(f, ['en', 'en', 'de', 'de', 'fr', 'fr'], rows);
    expect(verifyPages(f).checksums).toBe(0);
    // the footer claims one value more for the embedding column
    const bytes = readFileSync(f);
    const { meta, start } = footerOf(bytes);
    for (const rg of list(meta, 4) as TStruct[])
      for (const c of list(rg, 1) as TStruct[]) {
        const m = sub(c, 3) as TStruct;
        if (new TextDecoder().decode(list(m, 3)[0] as Uint8Array) === 'embedding') setNum(m, 5, T.I64, (num(m, 5) as number) + 1);
      }
    const footer = encodeStruct(meta);
    const tail = Buffer.alloc(8);
    tail.writeUInt32LE(footer.length, 0);
    tail.write('PAR1', 4);
    const bad = join(dir, 'bad.parquet');
    writeFileSync(bad, Buffer.concat([bytes.subarray(0, start), footer, tail]));
    oneLine(
      await runBin(['stats', bad, '--lang-column', 'lang', '--out', join(dir, 's.json')]),
      1,
      /bad\.parquet: row group 0, column embedding[.\w]*: its pages hold 24 values, its metadata says 25: the file is corrupt/,
    );
    rows[3]![2] = Number.NaN;
    await writeLangParquet(join(dir, 'nan.parquet'), ['en', 'en', 'de', 'de', 'fr', 'fr'], rows);
    oneLine(
      await runBin(['stats', join(dir, 'nan.parquet'), '--lang-column', 'lang', '--out', join(dir, 's.json')]),
      1,
      /nan\.parquet: row group 0, row 3 \(row 3 of the file\): the embedding holds NaN or Inf/,
    );
  });

  it('the rewrite keeps every value and the file metadata (property: random shapes and row groups)', async () => {
    const dir = await tempDir();
    for (let t = 0; t < 4; t++) {
      const n = 50 + 137 * t;
      const d = 4 * (t + 1);
      const x = Float32Array.from({ length: n * d }, (_, i) => Math.sin(i * (t + 1)));
      await writeFile16(join(dir, 'x.npy'), x, n, d);
      const src = join(dir, `plain${t}.parquet`);
      // lsar's writer already adds them; strip by writing through hyparquet-writer instead
      await writeLangParquet(
        src,
        Array.from({ length: n }, (_, i) => `l${i % 3}`),
        Array.from({ length: n }, (_, i) => x.subarray(i * d, (i + 1) * d)),
        40 + t * 30,
      );
      const dst = join(dir, `crc${t}.parquet`);
      expect(addPageChecksums(src, dst)).toBe(true);
      const v = verifyPages(dst);
      expect(v.checksums).toBe(v.pages);
      expect(await readAll(dst)).toEqual(await readAll(src));
    }
  });
});

async function writeFile16(path: string, x: Float32Array, rows: number, dim = 16): Promise<void> {
  const { writeFile } = await import('node:fs/promises');
  await writeFile(path, encodeNpy(x, [rows, dim]));
}
