/**
 * Parquet fixtures written by an implementation other than lsar's (hyparquet-writer, pure
 * JavaScript; Debian has no pyarrow): small embedding tables with an id, a text, a language
 * and an embedding column of each kind lsar reads, plus broken files. FixedSizeList is what
 * pyarrow writes for fixed-size arrays: a Parquet LIST with the Arrow schema in the file's
 * key-value metadata (ARROW:schema, made here with apache-arrow), as pyarrow does.
 *
 *   npx tsx scripts/make-parquet-fixtures.ts [outDir]
 *
 * Writes tests/fixtures/parquet/*.parquet and expected.json (the values, as written).
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import * as arrow from 'apache-arrow';
import { parquetWriteBuffer } from 'hyparquet-writer';
import { mulberry32 } from '../src/core/random.js';
import { floatToHalf, halfToFloat } from '../src/io/half.js';

const ROWS = 12;
const DIM = 8;
const LANGS = ['en', 'de', 'fr'];

function values(seed: number, round: (x: number) => number): number[][] {
  const r = mulberry32(seed);
  return Array.from({ length: ROWS }, () => Array.from({ length: DIM }, () => round(Math.round((r() * 2 - 1) * 1e4) / 1e4)));
}

const f32 = (x: number) => Math.fround(x);
const f16 = (x: number) => halfToFloat(floatToHalf(x));

type ParquetType = 'FLOAT' | 'DOUBLE' | 'FLOAT16';
const leaf = (t: ParquetType) =>
  t === 'FLOAT16' ? { type: 'FIXED_LEN_BYTE_ARRAY' as const, type_length: 2, logical_type: { type: 'FLOAT16' as const } } : { type: t };

/** The Arrow schema as pyarrow stores it (base64 of an IPC schema message, with its continuation prefix). */
function arrowSchema(item: arrow.Float, fixed: boolean): string {
  const child = new arrow.Field('element', item, true);
  const fields = [
    new arrow.Field('id', new arrow.Int32(), false),
    new arrow.Field('text', new arrow.Utf8(), false),
    new arrow.Field('lang', new arrow.Utf8(), false),
    new arrow.Field('embedding', fixed ? new arrow.FixedSizeList(DIM, child) : new arrow.List(child), true),
  ];
  const table = new arrow.Table(new arrow.Schema(fields));
  const ipc = arrow.tableToIPC(table, 'stream');
  // the schema message is the stream's first message (up to the end-of-stream marker)
  return Buffer.from(ipc.subarray(0, ipc.length - 8)).toString('base64');
}

function write(
  out: string,
  name: string,
  opts: { type: ParquetType; rows: (number[] | null)[]; fixed?: boolean; arrowItem?: arrow.Float; embeddingName?: string },
): void {
  const n = opts.rows.length;
  const ids = Array.from({ length: n }, (_, i) => i);
  const buf = parquetWriteBuffer({
    columnData: [
      { name: 'id', data: ids },
      { name: 'text', data: ids.map((i) => `sentence ${i} «${LANGS[i % 3]}»`) },
      { name: 'lang', data: ids.map((i) => LANGS[i % 3] as string) },
      { name: opts.embeddingName ?? 'embedding', data: opts.rows },
    ],
    schema: [
      { name: 'root', num_children: 4 },
      { name: 'id', type: 'INT32', repetition_type: 'REQUIRED' },
      { name: 'text', type: 'BYTE_ARRAY', converted_type: 'UTF8', repetition_type: 'REQUIRED' },
      { name: 'lang', type: 'BYTE_ARRAY', converted_type: 'UTF8', repetition_type: 'REQUIRED' },
      { name: opts.embeddingName ?? 'embedding', repetition_type: 'OPTIONAL', num_children: 1, converted_type: 'LIST' },
      { name: 'list', repetition_type: 'REPEATED', num_children: 1 },
      { name: 'element', repetition_type: 'OPTIONAL', ...leaf(opts.type) },
    ],
    rowGroupSize: 5,
    kvMetadata: [
      { key: 'lsar.fixture', value: name },
      ...(opts.arrowItem ? [{ key: 'ARROW:schema', value: arrowSchema(opts.arrowItem, opts.fixed === true) }] : []),
    ],
  });
  writeFileSync(join(out, `${name}.parquet`), new Uint8Array(buf));
}

export function writeFixtures(out: string): void {
  mkdirSync(out, { recursive: true });
  const v32 = values(1, f32);
  const v64 = values(2, (x) => x);
  const v16 = values(3, f16);
  write(out, 'list-float32', { type: 'FLOAT', rows: v32 });
  write(out, 'list-float64', { type: 'DOUBLE', rows: v64 });
  write(out, 'list-float16', { type: 'FLOAT16', rows: v16 });
  write(out, 'fixed-float32', { type: 'FLOAT', rows: v32, fixed: true, arrowItem: new arrow.Float32() });
  write(out, 'vec-column', { type: 'FLOAT', rows: v32, embeddingName: 'vec' });
  // broken: a ragged row (row 7: one value short), a null embedding (row 6), a null value (row 8, value 2)
  write(out, 'ragged', { type: 'FLOAT', rows: v32.map((r, i) => (i === 7 ? r.slice(1) : r)) });
  write(out, 'null-row', { type: 'FLOAT', rows: v32.map((r, i) => (i === 6 ? null : r)) });
  write(out, 'null-value', {
    type: 'FLOAT',
    rows: v32.map((r, i) => (i === 8 ? r.map((x, k) => (k === 2 ? (null as unknown as number) : x)) : r)),
  });
  writeFileSync(
    join(out, 'expected.json'),
    JSON.stringify({ rows: ROWS, dim: DIM, langs: LANGS, float32: v32, float64: v64, float16: v16 }) + '\n',
  );
}

if (process.argv[1] && resolve(process.argv[1]) === resolve(import.meta.filename)) {
  const out = resolve(process.argv[2] ?? join(import.meta.dirname, '..', 'tests', 'fixtures', 'parquet'));
  writeFixtures(out);
  console.log(`wrote ${out}`);
}
