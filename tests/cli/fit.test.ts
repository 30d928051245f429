import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadProjection } from '../../src/io/artifact.js';
import { encodeNpy, type NpyDtype } from '../../src/io/npy.js';
import { GOLDEN, listFiles, planted, runCli, tempDir } from '../helpers.js';

const D = 16;
const LANGS = ['de', 'en', 'fr', 'zh'];

/** A directory of <lang>.npy planted embeddings; `tweak` may replace a file's bytes. */
async function corpus(tweak: Record<string, Uint8Array> = {}, dtype: NpyDtype = '<f4'): Promise<string> {
  const dir = await tempDir();
  const data = planted(LANGS, 30, D, 5);
  for (const l of LANGS) await writeFile(join(dir, `${l}.npy`), tweak[l] ?? encodeNpy(data[l] as Float32Array, [30, D], dtype));
  return dir;
}

describe('lsar fit', () => {
  it('fits lsar by default, writes the artifact and prints a summary', async () => {
    const dir = await corpus();
    const out = join(await tempDir(), 'proj.json');
    const r = await runCli(['fit', dir, '--out', out, '--json', '--quiet']);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    const summary = JSON.parse(r.stdout) as { method: string; rank: number; remove: number; languages: { lang: string; rows: number }[] };
    expect([summary.method, summary.rank, summary.remove]).toEqual(['lsar', 3, 3]);
    expect(summary.languages).toEqual(LANGS.map((lang) => ({ lang, rows: 30 })));
    const p = await loadProjection(out);
    expect(p.basis?.rows).toBe(3);
    const json = JSON.parse(await readFile(out, 'utf8')) as {
      source: { inputs: { hash: string; hashAlgorithm: string }[] };
      lsarVersion: string;
    };
    expect(json.source.inputs).toHaveLength(4);
    // provenance: each input's XXH3-128, as hash-wasm computes it in one call on the whole file
    const { xxhash128 } = await import('hash-wasm');
    for (const [i, lang] of LANGS.entries()) {
      expect(json.source.inputs[i]?.hashAlgorithm).toBe('xxh3-128');
      expect(json.source.inputs[i]?.hash).toBe(await xxhash128(await readFile(join(dir, `${lang}.npy`))));
    }
    expect(json.lsarVersion).toMatch(/^\d+\.\d+\.\d+/);
  });

  it('takes repeated --input lang=file and records the embedding manifest when present', async () => {
    const dir = await corpus();
    await writeFile(join(dir, 'manifest.json'), JSON.stringify({ model: 'fixture/tiny-bert' }));
    const outDir = join(await tempDir(), 'art');
    const r = await runCli([
      'fit',
      '-i',
      `en=${join(dir, 'en.npy')}`,
      '-i',
      `de=${join(dir, 'de.npy')}`,
      '-i',
      `fr=${join(dir, 'fr.npy')}`,
      '--rank',
      '1',
      '--out',
      outDir,
      '-q',
    ]);
    expect(r.code).toBe(0);
    expect(await listFiles(outDir)).toEqual(['projection.basis.npy', 'projection.json', 'projection.means.npy']);
    const json = JSON.parse(await readFile(join(outDir, 'projection.json'), 'utf8')) as {
      languages: { lang: string }[];
      source: { manifest: unknown };
    };
    expect(json.languages.map((l) => l.lang)).toEqual(['en', 'de', 'fr']);
    expect(json.source.manifest).toEqual({ model: 'fixture/tiny-bert' });
  });

  it('fits lir from float64 big-endian files', async () => {
    const dir = await corpus({}, '>f8');
    const out = join(await tempDir(), 'lir.json');
    const r = await runCli(['fit', dir, '--method', 'lir', '--remove', '2', '--out', out, '-q']);
    expect(r.code).toBe(0);
    expect((await loadProjection(out)).languageBases?.zh?.rows).toBe(2);
  });

  // Bad input: one line on stderr naming the file and the problem, non-zero exit, no output left behind.
  const data = planted(LANGS, 30, D, 5);
  const withNaN = (data.fr as Float32Array).slice();
  withNaN[12 * D + 3] = NaN;
  const withInf = (data.fr as Float32Array).slice();
  withInf[29 * D] = -Infinity;
  const cases: { name: string; tweak?: Record<string, Uint8Array>; args?: string[]; message: RegExp; file?: string }[] = [
    {
      name: 'dimension mismatch',
      tweak: { fr: encodeNpy(new Float32Array(30 * 8), [30, 8]) },
      message: /fr\.npy: dimension 8, but .*de\.npy has 16/,
      file: 'fr.npy',
    },
    { name: 'NaN in a row', tweak: { fr: encodeNpy(withNaN, [30, D]) }, message: /fr\.npy: row 12 holds NaN or Inf/, file: 'fr.npy' },
    { name: 'Inf in a row', tweak: { fr: encodeNpy(withInf, [30, D]) }, message: /fr\.npy: row 29 holds NaN or Inf/, file: 'fr.npy' },
    { name: 'empty file', tweak: { zh: new Uint8Array(0) }, message: /zh\.npy: not a valid \.npy file: only 0 bytes/, file: 'zh.npy' },
    { name: 'zero rows', tweak: { zh: encodeNpy([], [0, D]) }, message: /zh\.npy: the array has no rows/, file: 'zh.npy' },
    {
      name: 'truncated header',
      tweak: { de: encodeNpy(data.de as Float32Array, [30, D]).subarray(0, 50) },
      message: /de\.npy: not a valid \.npy file: truncated header/,
      file: 'de.npy',
    },
    {
      name: 'corrupt header',
      tweak: { de: Uint8Array.from(encodeNpy(data.de as Float32Array, [30, D]), (x, i) => (i === 0 ? 0 : x)) },
      message: /de\.npy: not a valid \.npy file: missing the \\x93NUMPY magic/,
      file: 'de.npy',
    },
    {
      name: 'truncated data',
      tweak: { de: encodeNpy(data.de as Float32Array, [30, D]).subarray(0, 1000) },
      message: /de\.npy: truncated: the header says 30 x 16/,
      file: 'de.npy',
    },
    {
      name: 'unsupported dtype',
      tweak: {
        en: Buffer.from(
          Buffer.from(encodeNpy(data.en as Float32Array, [30, D]))
            .toString('latin1')
            .replace("'<f4'", "'<i4'"),
          'latin1',
        ),
      },
      message: /en\.npy: unsupported dtype '<i4'/,
      file: 'en.npy',
    },
    {
      name: 'rank above L-1',
      args: ['--rank', '4'],
      message: /--rank must be an integer from 1 to 3, got 4: with 4 languages the centred means have rank at most L-1 = 3/,
    },
    { name: 'rank zero', args: ['--rank', '0'], message: /--rank must be an integer from 1 to 3, got 0/ },
    { name: 'rank not a number', args: ['--rank', 'two'], message: /--rank expects a whole number, got "two"/ },
    {
      name: 'remove above rank',
      args: ['--rank', '2', '--remove', '3'],
      message: /--remove must be an integer from 1 to the rank 2, got 3/,
    },
    {
      name: 'lir remove above dim',
      args: ['--method', 'lir', '--remove', '17'],
      message: /--remove must be an integer from 1 to the dimension 16, got 17/,
    },
    {
      name: 'unknown method',
      args: ['--method', 'pca'],
      message: /--method must be one of lsar, lir, demean, abtt, whiten, none; got "pca"/,
    },
  ];
  for (const c of cases) {
    it(`rejects ${c.name} in one line, exit non-zero, no output`, async () => {
      const dir = await corpus(c.tweak);
      const outDir = await tempDir();
      const r = await runCli(['fit', dir, '--out', join(outDir, 'proj.json'), '-q', ...(c.args ?? [])]);
      expect(r.code).not.toBe(0);
      expect(r.stderr).toMatch(c.message);
      expect(r.stderr.trimEnd().split('\n')).toHaveLength(1);
      if (c.file) expect(r.stderr).toContain(join(dir, c.file));
      expect(r.stdout).toBe('');
      expect(await listFiles(outDir)).toEqual([]);
    });
  }

  it('rejects one language only', async () => {
    const outDir = await tempDir();
    const r = await runCli(['fit', '-i', `en=${join(GOLDEN, 'fit', 'en.npy')}`, '--out', join(outDir, 'p.json')]);
    expect(r.code).not.toBe(0);
    expect(r.stderr).toBe(`lsar: fitting needs at least 2 languages, got 1 (en from ${join(GOLDEN, 'fit', 'en.npy')})\n`);
    expect(await listFiles(outDir)).toEqual([]);
  });

  it('rejects a file name that is not a language code, and a missing directory', async () => {
    const dir = await corpus();
    await writeFile(join(dir, 'de.en.npy'), encodeNpy(new Float32Array(D), [1, D]));
    const r = await runCli(['fit', dir, '--out', join(await tempDir(), 'p.json')]);
    expect(r.stderr).toMatch(/de\.en\.npy: "de\.en" is not a language code/);
    const r2 = await runCli(['fit', join(dir, 'nope'), '--out', 'x.json']);
    expect(r2.stderr).toMatch(/nope: no such directory/);
    expect(r2.code).toBe(1);
  });

  it('usage errors exit 2', async () => {
    const r = await runCli(['fit', '--out', 'x.json']);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/needs a directory of <lang>\.npy files, --input/);
    const r2 = await runCli(['fit', 'dir']);
    expect(r2.code).toBe(2);
    expect(r2.stderr).toMatch(/--out is required/);
    const r3 = await runCli(['frobnicate']);
    expect(r3.code).toBe(2);
  });
});
