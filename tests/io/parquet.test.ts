/**
 * Parquet: files written by another implementation (hyparquet-writer, scripts/make-parquet-fixtures.ts)
 * are read exactly; broken files are refused naming file, row group and row; lsar's own output is
 * read back by an independent reader (hyparquet) with every other column unchanged.
 */
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { copyFile, mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { parquetMetadata, parquetReadObjects } from 'hyparquet';
import { describe, expect, it } from 'vitest';
import { apply } from '../../src/core/apply.js';
import { readEmbeddings } from '../../src/io/embeddings.js';
import { encodeNpy, readNpy } from '../../src/io/npy.js';
import { fitFromFiles } from '../../src/pipeline/fit.js';
import { fitFromArrays } from '../../src/pipeline/fit.js';
import { projectFiles, projectStream } from '../../src/pipeline/project/index.js';
import { computeStats } from '../../src/pipeline/stats.js';
import { listFiles, planted, ROOT, runCli, tempDir, writeLangParquet } from '../helpers.js';

const FIX = join(ROOT, 'tests', 'fixtures', 'parquet');
const expected = JSON.parse(readFileSync(join(FIX, 'expected.json'), 'utf8')) as {
  rows: number;
  dim: number;
  langs: string[];
  float32: number[][];
  float64: number[][];
  float16: number[][];
};
const fix = (name: string) => join(FIX, `${name}.parquet`);

async function readObjects(path: string): Promise<Record<string, unknown>[]> {
  const buf = await readFile(path);
  const file = buf.buffer.slice(buf.byteOffset, buf.byteOffset + buf.byteLength);
  return (await parquetReadObjects({ file })) as Record<string, unknown>[];
}

async function kvMetadata(path: string): Promise<Record<string, string>> {
  const buf = await readFile(path);
  const meta = parquetMetadata(buf.buffer.slice(buf.byteOffset, buf.byteOffset + buf.byteLength));
  return Object.fromEntries((meta.key_value_metadata ?? []).map((kv) => [kv.key, kv.value ?? '']));
}

const flat = (rows: number[][]) => rows.flat();

/** A 3-language planted set (8 dims) and its lsar projection, fitted in memory. */
function plantedFit() {
  const langs = ['en', 'de', 'fr'];
  const data = planted(langs, 40, expected.dim, 7);
  const projection = fitFromArrays(data, expected.dim, { method: 'lsar' });
  return { langs, data, projection };
}

describe('reading Parquet written by another implementation', () => {
  it.each([
    ['list-float32', 'float32', 'float32'],
    ['fixed-float32', 'float32', 'float32'],
    ['list-float64', 'float64', 'float64'],
    ['list-float16', 'float16', 'float32'],
  ] as const)('%s: every value as written (tolerance 0), shape 12 x 8, dtype %s -> %s', async (name, key, dtype) => {
    const e = await readEmbeddings(fix(name));
    expect([e.rows, e.dim, e.dtype]).toEqual([12, 8, dtype]);
    expect(Array.from(e.data)).toEqual(flat(expected[key]));
  });

  it('--column picks another field; the default name missing is refused listing the fields', async () => {
    const e = await readEmbeddings(fix('vec-column'), { column: 'vec' });
    expect(Array.from(e.data)).toEqual(flat(expected.float32));
    await expect(readEmbeddings(fix('vec-column'))).rejects.toThrow(
      /vec-column\.parquet: no field "embedding" for the embeddings; the file has id \(Int32\), text \(Utf8\), lang \(Utf8\), vec \(List<Float32>\)/,
    );
    await expect(readEmbeddings(fix('list-float32'), { column: 'text' })).rejects.toThrow(
      /field "text" \(column\) is Utf8; embeddings are a FixedSizeList or List/,
    );
  });

  it.each([
    ['ragged', /ragged\.parquet: row group 1, row 2 \(row 7 of the file\): the embedding has 7 values, expected 8/],
    ['null-row', /null-row\.parquet: row group 1, row 1 \(row 6 of the file\): the embedding is null/],
    ['null-value', /null-value\.parquet: row group 1, row 3 \(row 8 of the file\): the embedding holds a null value/],
  ])('%s is refused naming the file, row group and row', async (name, message) => {
    await expect(readEmbeddings(fix(name))).rejects.toThrow(message);
  });

  it('a truncated file is refused with one line naming the file', async () => {
    const dir = await tempDir();
    const whole = await readFile(fix('list-float32'));
    const truncated = join(dir, 'truncated.parquet');
    await writeFile(truncated, whole.subarray(0, Math.floor(whole.length / 2)));
    await expect(readEmbeddings(truncated)).rejects.toThrow(/truncated\.parquet: not a valid Parquet file/);
    const r = await runCli(['stats', '--input', `en=${truncated}`, '--out', join(dir, 's.json')]);
    expect(r.code).toBe(1);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
    expect(await listFiles(dir)).toEqual(['truncated.parquet']);
  });

  it('a corrupt file (pages scrambled, footer intact) is refused in one line, without hanging, by bin/lsar.js', async () => {
    // parquet-wasm panics on these pages: in a child process, so that the panic cannot touch the test runner
    const dir = await tempDir();
    const bytes = Buffer.from(await readFile(fix('list-float32')));
    for (let i = 8; i < bytes.length / 2; i++) bytes[i] = (bytes[i] as number) ^ 0x5a;
    const corrupt = join(dir, 'corrupt.parquet');
    await writeFile(corrupt, bytes);
    const r = spawnSync(
      process.execPath,
      [join(ROOT, 'bin', 'lsar.js'), 'stats', '--input', `en=${corrupt}`, '--out', join(dir, 's.json')],
      {
        encoding: 'utf8',
        timeout: 30_000,
      },
    );
    expect(r.signal).toBeNull();
    expect(r.status).toBe(1);
    // caught by lsar's page check (issue 19) before parquet-wasm decodes the page
    expect(r.stderr).toMatch(/^lsar: .*corrupt\.parquet: row group 0, column embedding[.\w]*, page 0: .*the file is corrupt\n$/);
    expect(await listFiles(dir)).toEqual(['corrupt.parquet']);
  });
});

describe('project to and from Parquet', () => {
  it('parquet -> parquet replaces the embedding column: other columns, row groups and metadata kept; values equal the .npy route (1e-7)', async () => {
    const dir = await tempDir();
    const { projection } = plantedFit();
    const out = join(dir, 'out.parquet');
    const s = await projectStream(projection, { input: fix('fixed-float32'), output: out });
    expect([s.rows, s.dim]).toEqual([12, 8]);
    const [before, after] = [await readObjects(fix('fixed-float32')), await readObjects(out)];
    expect(after.length).toBe(12);
    for (let i = 0; i < 12; i++) {
      const rest = { ...(before[i] as Record<string, unknown>) };
      delete rest.embedding;
      const { embedding, ...restOut } = after[i] as Record<string, unknown>;
      expect(restOut).toEqual(rest);
      const want = apply(projection, Float64Array.from(expected.float32[i] as number[]));
      const got = embedding as number[];
      for (let k = 0; k < 8; k++) expect(Math.abs((got[k] as number) - (want[k] as number))).toBeLessThan(1e-6);
    }
    expect((await kvMetadata(out))['lsar.fixture']).toBe('fixed-float32');
    // and through .npy: the same numbers to 1e-7
    const npyIn = join(dir, 'in.npy');
    await writeFile(npyIn, encodeNpy(Float32Array.from(flat(expected.float32)), [12, 8]));
    await projectStream(projection, { input: npyIn, output: join(dir, 'out.npy') });
    const viaNpy = await readNpy(join(dir, 'out.npy'));
    const viaParquet = await readEmbeddings(out);
    for (let i = 0; i < viaNpy.data.length; i++)
      expect(Math.abs((viaNpy.data[i] as number) - (viaParquet.data[i] as number))).toBeLessThan(1e-7);
  });

  it('--as adds a column beside the original; an existing name, or writing over the input, is refused', async () => {
    const dir = await tempDir();
    const { projection } = plantedFit();
    const out = join(dir, 'out.parquet');
    await projectStream(projection, { input: fix('list-float64'), output: out, as: 'embedding_lsar' });
    const rows = await readObjects(out);
    const orig = await readObjects(fix('list-float64'));
    expect(Object.keys(rows[0] as object)).toEqual(['id', 'text', 'lang', 'embedding', 'embedding_lsar']);
    for (let i = 0; i < 12; i++)
      expect((rows[i] as Record<string, unknown>).embedding).toEqual((orig[i] as Record<string, unknown>).embedding);
    const p = await readEmbeddings(out, { column: 'embedding_lsar' });
    expect(p.dtype).toBe('float64');
    const want = apply(projection, Float64Array.from(flat(expected.float64)));
    for (let i = 0; i < want.length; i++) expect(Math.abs((p.data[i] as number) - (want[i] as number))).toBeLessThan(1e-12);
    await expect(projectStream(projection, { input: fix('list-float64'), output: join(dir, 'x.parquet'), as: 'text' })).rejects.toThrow(
      /as "text": .* already has a column of that name/,
    );
    const copy = join(dir, 'same.parquet');
    await copyFile(fix('list-float32'), copy);
    await expect(projectStream(projection, { input: copy, output: copy })).rejects.toThrow(/overwrite the input|same file/);
    expect(await listFiles(dir)).toEqual(['out.parquet', 'same.parquet']);
  });

  it('Parquet-only options on other formats are refused (usage, exit 2), nothing written', async () => {
    const dir = await tempDir();
    const { projection, data } = plantedFit();
    const { saveProjection } = await import('../../src/io/artifact.js');
    await saveProjection(join(dir, 'p.json'), projection);
    await writeFile(join(dir, 'de.npy'), encodeNpy(data.de as Float32Array, [40, 8]));
    for (const [flag, value, message] of [
      ['--as', 'e2', /--as applies to a Parquet output only, but the output .*out\.npy is not \.parquet/],
      ['--lang-column', 'lang', /--lang-column applies to a Parquet input only, but the input .*de\.npy is not \.parquet/],
      ['--column', 'vec', /--column applies to a Parquet input only, but the input .*de\.npy is not \.parquet/],
    ] as const) {
      const r = await runCli([
        'project',
        '-p',
        join(dir, 'p.json'),
        '--in',
        join(dir, 'de.npy'),
        '--out',
        join(dir, 'out.npy'),
        flag,
        value,
      ]);
      expect(r.code).toBe(2);
      expect(r.stderr).toMatch(message);
    }
    expect(await listFiles(dir)).toEqual(['de.npy', 'p.json', 'p.means.npy', 'p.basis.npy'].sort());
    // search, mine, retrieve pairs: --column where no input is Parquet
    const de = join(dir, 'de.npy');
    for (const args of [
      ['search', '-x', de, '--queries', de],
      ['mine', '--src', de, '--trg', de, '--out', join(dir, 'pairs.tsv')],
      ['retrieve', 'pairs', '--queries', de, '--targets', de, '--methods', 'none'],
    ]) {
      const r = await runCli([...args, '--column', 'vec']);
      expect(r.code).toBe(2);
      expect(r.stderr).toMatch(/--column applies to Parquet inputs only, and none of .*de\.npy.* is \.parquet/);
    }
  });

  it('.npy -> .parquet writes one embedding column that another reader reads back (FixedSizeList float32, 1e-7)', async () => {
    const dir = await tempDir();
    const { projection, data } = plantedFit();
    const npyIn = join(dir, 'de.npy');
    await writeFile(npyIn, encodeNpy(data.de as Float32Array, [40, 8]));
    const out = join(dir, 'de.parquet');
    await projectStream(projection, { input: npyIn, output: out });
    const rows = await readObjects(out);
    expect(rows.length).toBe(40);
    const want = apply(projection, Float32Array.from(data.de as Float32Array));
    const got = rows.flatMap((r) => r.embedding as number[]);
    for (let i = 0; i < want.length; i++) expect(Math.abs((got[i] as number) - (want[i] as number))).toBeLessThan(1e-7);
  });

  it('lir with a language column: each row projected with its own language (1e-6 against per-language .npy projection)', async () => {
    const dir = await tempDir();
    const { langs, data } = plantedFit();
    const lir = fitFromArrays(data, 8, { method: 'lir', remove: 1 });
    const out = join(dir, 'lir.parquet');
    await projectStream(lir, { input: fix('list-float32'), output: out, langColumn: 'lang' });
    const got = await readEmbeddings(out);
    for (let i = 0; i < 12; i++) {
      const want = apply(lir, Float32Array.from(expected.float32[i] as number[]), { lang: langs[i % 3] as string });
      for (let k = 0; k < 8; k++) expect(Math.abs((got.data[i * 8 + k] as number) - (want[k] as number))).toBeLessThan(1e-6);
    }
    await expect(projectStream(lir, { input: fix('list-float32'), output: join(dir, 'y.parquet') })).rejects.toThrow(/lang/);
  });
});

describe('one Parquet file holding many languages', () => {
  async function writeMixed(dir: string) {
    const { langs, data } = plantedFit();
    // rows interleaved and unevenly split over two files, in two row groups each
    const rows: { lang: string; v: number[] }[] = [];
    for (let i = 0; i < 40; i++)
      for (const l of langs)
        if (!(l === 'fr' && i >= 31)) rows.push({ lang: l, v: Array.from((data[l] as Float32Array).subarray(i * 8, i * 8 + 8)) });
    const parts = [rows.slice(0, 50), rows.slice(50)];
    const paths: string[] = [];
    for (const [k, part] of parts.entries()) {
      const p = join(dir, `part-${k}.parquet`);
      await writeLangParquet(
        p,
        part.map((r) => r.lang),
        part.map((r) => r.v),
        30,
      );
      paths.push(p);
    }
    const npyDir = join(dir, 'npy');
    await mkdir(npyDir);
    for (const l of langs) {
      const mine = rows.filter((r) => r.lang === l).flatMap((r) => r.v);
      await writeFile(join(npyDir, `${l}.npy`), encodeNpy(Float32Array.from(mine), [mine.length / 8, 8]));
    }
    return { paths, npyDir, langs };
  }

  it('fit --lang-column equals the fit of per-language .npy files (1e-12 relative, lsar and lir), with the same row counts', async () => {
    const dir = await tempDir();
    const { paths, npyDir, langs } = await writeMixed(dir);
    const probe = Float64Array.from({ length: 5 * 8 }, (_, i) => Math.sin(i + 1));
    for (const method of ['lsar', 'lir'] as const) {
      const a = await fitFromFiles(
        paths.map((path) => ({ lang: '', path })),
        { method, langColumn: 'lang' },
      );
      // a language column gives the languages sorted
      const b = await fitFromFiles(
        [...langs].sort().map((l) => ({ lang: l, path: join(npyDir, `${l}.npy`) })),
        { method },
      );
      expect(a.projection.languages).toEqual(b.projection.languages);
      expect(a.projection.languages).toEqual([
        { lang: 'de', rows: 40 },
        { lang: 'en', rows: 40 },
        { lang: 'fr', rows: 31 },
      ]);
      for (const lang of method === 'lir' ? langs : [undefined]) {
        const pa = apply(a.projection, Float64Array.from(probe), lang ? { lang } : {});
        const pb = apply(b.projection, Float64Array.from(probe), lang ? { lang } : {});
        const scale = Math.max(...Array.from(pb, Math.abs));
        for (let i = 0; i < pa.length; i++) expect(Math.abs((pa[i] as number) - (pb[i] as number)) / scale).toBeLessThan(1e-12);
      }
    }
  });

  it('stats --lang-column counts each language across files', async () => {
    const dir = await tempDir();
    const { paths } = await writeMixed(dir);
    const stats = await computeStats(
      paths.map((path) => ({ lang: '', path })),
      { langColumn: 'lang' },
    );
    expect(Object.fromEntries(stats.languages.map((l) => [l.lang, l.rows]))).toEqual({ en: 40, de: 40, fr: 31 });
  });

  it('CLI: fit a directory of Parquet files with --lang-column, then project them all in one process', async () => {
    const dir = await tempDir();
    await writeMixed(dir);
    const proj = join(dir, 'fit');
    let r = await runCli(['fit', dir, '--lang-column', 'lang', '--method', 'lsar', '--out', proj, '--quiet']);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    r = await runCli(['project', '-p', proj, '--in', dir, '--out', join(dir, 'projected'), '--json', '--quiet']);
    expect(r.code).toBe(0);
    const summary = JSON.parse(r.stdout) as { files: number; rows: number };
    expect(summary).toMatchObject({ files: 2, rows: 111 });
    expect(await listFiles(join(dir, 'projected'))).toEqual(['part-0.parquet', 'part-1.parquet']);
  });
});

describe('lsar project with several inputs', () => {
  it('--in a --in b --out dir/ projects each file under its own name; lir takes each language from the file name', async () => {
    const dir = await tempDir();
    const { data } = plantedFit();
    const lir = fitFromArrays(data, 8, { method: 'lir', remove: 1 });
    for (const l of ['de', 'fr']) await writeFile(join(dir, `${l}.npy`), encodeNpy(data[l] as Float32Array, [40, 8]));
    const res = await projectFiles(lir, { inputs: [join(dir, 'de.npy'), join(dir, 'fr.npy')], outDir: join(dir, 'out') });
    expect(res.map((s) => s.rows)).toEqual([40, 40]);
    for (const l of ['de', 'fr']) {
      const got = await readNpy(join(dir, 'out', `${l}.npy`));
      const want = apply(lir, Float32Array.from(data[l] as Float32Array), { lang: l });
      for (let i = 0; i < want.length; i++) expect(Math.abs((got.data[i] as number) - (want[i] as number))).toBeLessThan(1e-6);
    }
    await expect(projectFiles(lir, { inputs: [join(dir, 'de.npy'), join(dir, 'de.npy')], outDir: join(dir, 'o2') })).rejects.toThrow(
      /would both be written to/,
    );
    await expect(projectFiles(lir, { inputs: [join(dir, 'de.npy')], outDir: dir })).rejects.toThrow(/overwrite the input/);
  });

  it('CLI: several inputs need an output directory (exit 2, one line)', async () => {
    const dir = await tempDir();
    const { data, projection } = plantedFit();
    for (const l of ['de', 'fr']) await writeFile(join(dir, `${l}.npy`), encodeNpy(data[l] as Float32Array, [40, 8]));
    const { saveProjection } = await import('../../src/io/artifact.js');
    await saveProjection(join(dir, 'p.json'), projection);
    const both = ['project', '-p', join(dir, 'p.json'), '--in', join(dir, 'de.npy'), '--in', join(dir, 'fr.npy')];
    let r = await runCli([...both, '--out', join(dir, 'x.npy')]);
    expect(r.code).toBe(2);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
    expect(r.stderr).toMatch(/--out .*x\.npy: several inputs need an output directory/);
    r = await runCli([...both, '--out', join(dir, 'o'), '-q']);
    expect(r.code).toBe(0);
    expect(await listFiles(join(dir, 'o'))).toEqual(['de.npy', 'fr.npy']);
  });
});
