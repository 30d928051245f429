/**
 * Issue 19 "Trust": inputs that were lost, crashed lsar or came back silently wrong with exit 0.
 * Each case runs bin/lsar.js as a user does and failed before its fix.
 */
import { spawnSync } from 'node:child_process';
import { linkSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { encodeNpy, readNpy } from '../../src/io/npy.js';
import { saveProjection } from '../../src/io/artifact.js';
import { fitFromArrays } from '../../src/pipeline/fit.js';
import { listFiles, oneLine, planted, ROOT, runBin, tempDir, TINY_BERT } from '../helpers.js';

const D = 16;

/** <dir>/<lang>.npy of planted data and a fitted lsar projection p.json beside them. */
async function setup(langs = ['en', 'de', 'fr']): Promise<{ dir: string; emb: string; p: string }> {
  const dir = await tempDir();
  const emb = join(dir, 'emb');
  await mkdir(emb);
  const data = planted(langs, 30, D, 5);
  for (const l of langs) await writeFile(join(emb, `${l}.npy`), encodeNpy(data[l] as Float32Array, [30, D]));
  await saveProjection(join(dir, 'p.json'), fitFromArrays(data, D, { method: 'lsar' }));
  return { dir, emb, p: join(dir, 'p.json') };
}

describe('1. an output never overwrites an input (same path, hard link, symbolic link)', () => {
  it('project, fit, stats, search --index-out, mine, export: refused, the input unchanged', async () => {
    const { dir, emb, p } = await setup();
    const en = join(emb, 'en.npy');
    const before = readFileSync(en);
    linkSync(en, join(dir, 'hard.npy'));
    symlinkSync(en, join(dir, 'soft.npy'));
    const overwrite = /the output would overwrite the input .*en\.npy/;
    for (const out of [en, join(dir, 'hard.npy'), join(dir, 'soft.npy')]) {
      oneLine(await runBin(['project', '-p', p, '--in', en, '--out', out]), 1, overwrite);
      oneLine(await runBin(['project', '-p', p, '--in', en, '--in', join(emb, 'de.npy'), '--out', emb]), 1, /would overwrite the input/);
      oneLine(await runBin(['mine', '--src', en, '--trg', join(emb, 'de.npy'), '--out', out]), 1, overwrite);
      oneLine(await runBin(['search', '-x', en, '--queries', join(emb, 'de.npy'), '--index-out', out, '--exact']), 1, overwrite);
    }
    // fit writing its artifact over an input; stats over an input; export over the projection
    oneLine(await runBin(['fit', '-i', `en=${join(dir, 'p.means.npy')}`, '-i', `de=${join(emb, 'de.npy')}`, '--out', p]), 1, /overwrite/);
    oneLine(await runBin(['stats', emb, '--out', join(dir, 'soft.npy')]), 1, overwrite);
    oneLine(await runBin(['export', '-p', p, '--out', join(dir, 'p.means.npy'), '--format', 'safetensors']), 1, /overwrite the input/);
    expect(readFileSync(en).equals(before)).toBe(true);
  }, 60_000);
});

describe('2. finite inputs never give non-finite outputs', () => {
  it('a projection beyond float32 is refused naming the row; large rows whose projection fits are computed in float64', async () => {
    const { dir, p } = await setup();
    // demean with a language mean of -2e38: finite inputs of +2e38 become 4e38
    const neg = new Float32Array(4 * D).fill(-2e38);
    await saveProjection(join(dir, 'dm.json'), fitFromArrays({ en: neg, de: new Float32Array(4 * D).fill(1) }, D, { method: 'demean' }));
    const x = new Float32Array(3 * D).fill(1);
    x.fill(2e38, 2 * D, 3 * D);
    await writeFile(join(dir, 'big.npy'), encodeNpy(x, [3, D]));
    const out = join(dir, 'big.out.npy');
    oneLine(
      await runBin(['project', '-p', join(dir, 'dm.json'), '--lang', 'en', '--in', join(dir, 'big.npy'), '--out', out]),
      1,
      /big\.npy: row 2: .*beyond the float32 range/,
    );
    expect(await listFiles(dir)).not.toContain('big.out.npy');
    // a float64 input whose projection is beyond float32 range, written as float32: refused, not Inf
    const y = new Float64Array(2 * D).fill(1);
    y.fill(1e300, D, 2 * D);
    await writeFile(join(dir, 'wide.npy'), encodeNpy(y, [2, D], '<f8'));
    oneLine(
      await runBin(['project', '-p', p, '--in', join(dir, 'wide.npy'), '--out', out, '--dtype', 'float32']),
      1,
      /row 1 .*beyond the float32 range/,
    );
    // rows large enough to overflow float32 sums but whose projection fits: computed in float64, finite
    const big = planted(['en'], 4, D, 9).en as Float32Array;
    for (let i = D; i < 2 * D; i++) big[i] = (big[i] as number) * 1e36;
    await writeFile(join(dir, 'large.npy'), encodeNpy(big, [4, D]));
    const r = await runBin(['project', '-p', p, '--in', join(dir, 'large.npy'), '--out', out, '-q']);
    expect(r.code).toBe(0);
    const got = (await readNpy(out)).data;
    expect(got.every((v) => Number.isFinite(v))).toBe(true);
    expect(Math.max(...Array.from(got.subarray(D, 2 * D), Math.abs))).toBeGreaterThan(1e35);
  }, 60_000);
});

describe('3. rows are never counted twice', () => {
  it('fit --stats a.json a.json, and one input file inside two shards, are refused naming the files', async () => {
    const { dir, emb } = await setup();
    expect((await runBin(['stats', emb, '--out', join(dir, 'a.json'), '-q'])).code).toBe(0);
    const a = join(dir, 'a.json');
    oneLine(
      await runBin(['fit', '--stats', a, a, '--out', join(dir, 'q.json')]),
      1,
      /a\.json is given twice: its rows would be counted twice/,
    );
    // the same en.npy in a second shard (beside other data)
    const other = join(dir, 'other');
    await mkdir(other);
    await writeFile(join(other, 'en.npy'), readFileSync(join(emb, 'en.npy')));
    await runBin(['stats', other, '--out', join(dir, 'b.json'), '-q']);
    oneLine(
      await runBin(['fit', '--stats', a, join(dir, 'b.json'), '--out', join(dir, 'q.json')]),
      1,
      /other\/en\.npy \(in .*b\.json\) has the same content as .*emb\/en\.npy \(in .*a\.json\): its rows would be counted twice/,
    );
    expect(await listFiles(dir)).not.toContain('q.json');
  }, 60_000);
});

describe('4, 5. the embedding manifest', () => {
  async function corpora(langs: string[]): Promise<string> {
    const dir = await tempDir();
    for (const l of langs) {
      const lines = readFileSync(join(ROOT, 'corpora', `${l}.txt`), 'utf8')
        .split('\n')
        .slice(0, 24);
      await writeFile(join(dir, `${l}.txt`), lines.join('\n'));
    }
    return dir;
  }

  it('two concurrent embed runs into one --out (other languages) both end in the manifest, each entry true to its file', async () => {
    const c = await corpora(['en', 'de', 'fr', 'es']);
    const out = join(await tempDir(), 'emb');
    const [a, b] = await Promise.all([
      runBin(['embed', '-i', `en=${join(c, 'en.txt')}`, '-i', `de=${join(c, 'de.txt')}`, '--model', TINY_BERT, '--out', out, '-q']),
      runBin(['embed', '-i', `fr=${join(c, 'fr.txt')}`, '-i', `es=${join(c, 'es.txt')}`, '--model', TINY_BERT, '--out', out, '-q']),
    ]);
    expect([a.code, b.code, a.stderr, b.stderr]).toEqual([0, 0, '', '']);
    const m = JSON.parse(await readFile(join(out, 'manifest.json'), 'utf8')) as { languages: Record<string, { rows: number }> };
    expect(Object.keys(m.languages).sort()).toEqual(['de', 'en', 'es', 'fr']);
    expect(await listFiles(out)).toEqual(['de.npy', 'en.npy', 'es.npy', 'fr.npy', 'manifest.json']);
    // and a later run finds every language current
    const again = await runBin(['embed', '--corpora', c, '--model', TINY_BERT, '--out', out]);
    expect(again.stderr.match(/up to date, skipped/g)).toHaveLength(4);
  }, 120_000);

  it('an edited .npy (same size) is not taken as up to date: it is embedded again', async () => {
    const c = await corpora(['en', 'de']);
    const out = join(await tempDir(), 'emb');
    expect((await runBin(['embed', '--corpora', c, '--model', TINY_BERT, '--out', out, '-q'])).code).toBe(0);
    const original = readFileSync(join(out, 'en.npy'));
    const edited = Buffer.from(original);
    edited.writeUInt8(edited.readUInt8(edited.length - 1) ^ 0xff, edited.length - 1);
    writeFileSync(join(out, 'en.npy'), edited);
    const r = await runBin(['embed', '--corpora', c, '--model', TINY_BERT, '--out', out]);
    expect(r.code).toBe(0);
    expect(r.stderr).toMatch(/^embed de: 24 rows, up to date, skipped/m);
    expect(r.stderr).toMatch(/^embed en: 24 rows, padding/m);
    expect(readFileSync(join(out, 'en.npy')).equals(original)).toBe(true);
  }, 120_000);
});

describe('7, 8. inspect on the bundled corpora (the README data), with its defaults', () => {
  let emb = '';
  beforeAll(async () => {
    emb = join(await mkdtemp(join(tmpdir(), 'lsar-trust-')), 'emb');
    const r = await runBin(['embed', '--corpora', join(ROOT, 'corpora'), '--model', TINY_BERT, '--out', emb, '-q']);
    expect(r.code).toBe(0);
  }, 120_000);
  afterAll(async () => {
    if (emb) await rm(join(emb, '..'), { recursive: true, force: true });
  });

  it('inspect emb/ runs: whiten is fitted at the largest dims that can be whitened, and says so; --dims chooses', async () => {
    const r = await runBin(['inspect', emb, '--json']);
    expect(r.code).toBe(0);
    expect(r.stderr).toMatch(/warning: whiten: the pooled covariance has only 31 of 32 eigenvalues .*fitted with --dims 31/);
    const j = JSON.parse(r.stdout) as { results: Record<string, { dim: number }> };
    expect(j.results['whiten-31']?.dim).toBe(31);
    const k = await runBin(['inspect', emb, '--methods', 'whiten', '--dims', '8', '--json', '-q']);
    expect(k.code).toBe(0);
    expect((JSON.parse(k.stdout) as { results: Record<string, unknown> }).results).toHaveProperty('whiten-8');
    // fit says so too; an explicit dims that cannot be whitened is still refused
    const f = await runBin(['fit', emb, '--method', 'whiten', '--out', join(emb, '..', 'w.json'), '-q']);
    expect(f.code).toBe(0);
    oneLine(
      await runBin(['fit', emb, '--method', 'whiten', '--dims', '32', '--out', join(emb, '..', 'w.json')]),
      2,
      /choose dims of at most 31/,
    );
  }, 120_000);

  it('the recommended rank ignores the numerically zero 32nd singular value (1e-9 of the largest)', async () => {
    const r = await runBin(['inspect', emb, '--methods', 'none', '--json', '-q']);
    const rec = (JSON.parse(r.stdout) as { recommendedRank: { rank: number; gapRank: number; numericalRank: number; rule: string } })
      .recommendedRank;
    expect(rec.numericalRank).toBe(31);
    expect(rec.gapRank).toBeLessThan(31);
    expect(rec.rank).toBeLessThan(31);
    expect(rec.rule).toMatch(/1 singular value below 1e-6 of the largest \(float32 rounding noise\) ignored by both rules/);
  }, 60_000);
});

describe('9. JSON Lines wherever .npy is read', () => {
  it('fit, stats and inspect read a directory of <lang>.jsonl, and named .jsonl files, as the .npy they hold', async () => {
    const { dir, emb } = await setup();
    const jl = join(dir, 'jl');
    await mkdir(jl);
    for (const l of ['en', 'de', 'fr']) {
      const { data, rows, dim } = await readNpy(join(emb, `${l}.npy`));
      let text = '';
      for (let r = 0; r < rows; r++) text += JSON.stringify(Array.from(data.subarray(r * dim, (r + 1) * dim))) + '\n';
      await writeFile(join(jl, `${l}.jsonl`), text);
    }
    const a = await runBin(['fit', emb, '--out', join(dir, 'a.json'), '--json', '-q']);
    const b = await runBin(['fit', jl, '--out', join(dir, 'b.json'), '--json', '-q']);
    expect(b.code).toBe(0);
    const sv = (s: string) => (JSON.parse(s) as { singularValues: number[] }).singularValues;
    // float32 values written as JSON decimals read back exactly: the same fit (1e-12 relative)
    sv(b.stdout).forEach((v, i) => expect(Math.abs(v - (sv(a.stdout)[i] as number)) / v).toBeLessThan(1e-12));
    expect((await runBin(['stats', jl, '--out', join(dir, 's.json'), '-q'])).code).toBe(0);
    const i = await runBin(['inspect', ...['en', 'de', 'fr'].map((l) => join(jl, `${l}.jsonl`)), '--methods', 'none', '--json', '-q']);
    expect(i.code).toBe(0);
    expect((JSON.parse(i.stdout) as { languages: { rows: number }[] }).languages.map((x) => x.rows)).toEqual([30, 30, 30]);
  }, 60_000);
});

describe('10. serve refuses a queue that a request could never fit', () => {
  it('--max-queue below --max-inputs: exit 2 at start, naming both', async () => {
    oneLine(
      await runBin(['serve', '--model', TINY_BERT, '--max-queue', '50']),
      2,
      /--max-queue 50 is smaller than --max-inputs 2048: a request of 2048 inputs could never be queued/,
    );
  });
});

describe('11, 12. repeated options and unreadable or misplaced inputs (every command: tests/cli/battery.test.ts)', () => {
  it('--port 0 --port 1 is refused (yargs keeps only the last when the first is 0); a .npy or a file/ as -p is named as such', async () => {
    oneLine(await runBin(['serve', '--model', TINY_BERT, '--port', '0', '--port', '1']), 2, /--port takes one value, but was given 2/);
    const { dir, emb } = await setup();
    const de = join(emb, 'de.npy');
    oneLine(await runBin(['project', '-p', de, '--in', de, '--out', join(dir, 'o.npy')]), 1, /de\.npy: a \.npy file, not a projection/);
    oneLine(
      await runBin(['project', '-p', `${de}/`, '--in', de, '--out', join(dir, 'o.npy')]),
      1,
      /de\.npy\/: not a directory: expected the projection\.json/,
    );
    oneLine(
      await runBin(['fit', '-i', `en=${emb}`, '-i', `de=${de}`, '--out', join(dir, 'x.json')]),
      2,
      /emb": expected a \.npy, \.parquet or \.jsonl file/,
    );
  }, 60_000);
});

/** A tmpfs of `size` mounted on a new directory (root only), with what stops it. */
function smallDisk(size: string): { dir: string; unmount: () => void } | string {
  if (process.getuid?.() !== 0) return 'needs root to mount a tmpfs';
  const dir = mkdtempSync(join(tmpdir(), 'lsar-disk-'));
  if (spawnSync('mount', ['-t', 'tmpfs', '-o', `size=${size}`, 'tmpfs', dir]).status !== 0) {
    rmSync(dir, { recursive: true, force: true });
    return 'mounting a tmpfs is not allowed here';
  }
  return {
    dir,
    unmount: () => {
      spawnSync('umount', [dir]);
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

describe('13. a disk that fills up during the write', () => {
  const probe = smallDisk('4k');
  if (typeof probe !== 'string') probe.unmount();
  it.skipIf(typeof probe === 'string')(
    `project (.npy, .jsonl, .parquet, a directory), embed and mine: one line naming the output, nothing left behind${typeof probe === 'string' ? ` (skipped: ${probe})` : ''}`,
    async () => {
      const disk = smallDisk('64k');
      if (typeof disk === 'string') return expect.fail(disk);
      try {
        // 300 rows x 64 values: about 77 kB as .npy, 190 kB as JSON Lines: the first writes fit, the rest do not
        const dir = await tempDir();
        const data = planted(['en', 'de'], 300, 64, 2);
        for (const l of ['en', 'de']) await writeFile(join(dir, `${l}.npy`), encodeNpy(data[l] as Float32Array, [300, 64]));
        await saveProjection(join(dir, 'p.json'), fitFromArrays(data, 64, { method: 'lsar' }));
        await writeFile(join(dir, 'long.txt'), Array.from({ length: 300 }, (_, i) => `${i} ${'x'.repeat(3000)}`).join('\n') + '\n');
        const runs: [string[], RegExp][] = [
          [
            ['project', '-p', join(dir, 'p.json'), '--in', join(dir, 'en.npy'), '--out', join(disk.dir, 'o.npy')],
            /o\.npy: cannot write \(ENOSPC/,
          ],
          [
            ['project', '-p', join(dir, 'p.json'), '--in', join(dir, 'en.npy'), '--out', join(disk.dir, 'o.jsonl')],
            /o\.jsonl: cannot write \(ENOSPC/,
          ],
          [
            ['project', '-p', join(dir, 'p.json'), '--in', join(dir, 'en.npy'), '--out', join(disk.dir, 'o.parquet')],
            /o\.parquet: cannot write Parquet \(ENOSPC/,
          ],
          [['project', '-p', join(dir, 'p.json'), '--in', dir, '--out', join(disk.dir, 'many')], /many\/de\.npy: cannot write \(ENOSPC/],
          [
            [
              'mine',
              '--src',
              join(dir, 'en.npy'),
              '--trg',
              join(dir, 'de.npy'),
              // texts beside each pair: 300 lines of 3000 characters, more than the disk holds
              '--src-text',
              join(dir, 'long.txt'),
              '--trg-text',
              join(dir, 'long.txt'),
              '--threshold',
              '0',
              '--out',
              join(disk.dir, 'm.tsv'),
            ],
            /m\.tsv: cannot write \(ENOSPC/,
          ],
        ];
        for (const [args, message] of runs) {
          oneLine(await runBin([...args, '-q']), 1, message);
          expect(await readdir(disk.dir), args.join(' ')).toEqual([]);
        }
        const lines = Array.from({ length: 3000 }, (_, i) => `sentence ${i}`).join('\n');
        await writeFile(join(dir, 'en.txt'), lines);
        oneLine(
          await runBin(['embed', '--model', TINY_BERT, '-i', `en=${join(dir, 'en.txt')}`, '--out', join(disk.dir, 'e'), '-q']),
          1,
          /e\/en\.npy: cannot write \(ENOSPC/,
        );
        expect(await readdir(disk.dir)).toEqual([]);
      } finally {
        disk.unmount();
      }
    },
    120_000,
  );
});

describe('15. temporaries of killed runs', () => {
  it('any stale temporary of a dead process in the output directory is removed when lsar writes there (not only the same target)', async () => {
    const { dir, emb, p } = await setup();
    const out = join(dir, 'out');
    await mkdir(out);
    // pid 2^22 + 1 is above Linux's pid_max (4194304): no such process
    const dead = 4_194_305;
    const stale = [`.de.npy.tmp-${dead}-0123abcd`, `.other.jsonl.tmp-${dead}-89abcdef`, `.idx.tmp-${dead}-00ff00ff.json`];
    for (const s of stale) await writeFile(join(out, s), 'partial');
    const alive = `.x.npy.tmp-${process.pid}-0123abcd`; // this test's own process is alive: kept
    await writeFile(join(out, alive), 'in progress');
    await writeFile(join(out, 'keep.tmp-1-notours'), 'a user file');
    const r = await runBin(['project', '-p', p, '--in', join(emb, 'en.npy'), '--out', join(out, 'en.npy'), '-q']);
    expect(r.code).toBe(0);
    expect((await readdir(out)).sort()).toEqual([alive, 'en.npy', 'keep.tmp-1-notours'].sort());
  });
});

describe('rough edges', () => {
  it('project --lang deu finds de (canonicalised as fit does); fit warns about en-US beside en and a 1-row language', async () => {
    const { dir, emb } = await setup();
    const lir = join(dir, 'lir.json');
    expect((await runBin(['fit', emb, '--method', 'lir', '--out', lir, '-q'])).code).toBe(0);
    const r = await runBin(['project', '-p', lir, '--lang', 'deu', '--in', join(emb, 'de.npy'), '--out', join(dir, 'o.npy'), '-q']);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    const cased = join(dir, 'cased');
    await mkdir(cased);
    const data = planted(['en', 'xx', 'fr'], 30, D, 9);
    await writeFile(join(cased, 'en.npy'), encodeNpy(data.en as Float32Array, [30, D]));
    await writeFile(join(cased, 'EN_us.npy'), encodeNpy(data.xx as Float32Array, [30, D]));
    await writeFile(join(cased, 'fr.npy'), encodeNpy((data.fr as Float32Array).subarray(0, D), [1, D]));
    const f = await runBin(['fit', cased, '--out', join(dir, 'c.json')]);
    expect(f.code).toBe(0);
    expect(f.stderr).toMatch(/warning: fr has 1 row: a language mean from so few sentences is mostly noise/);
    expect(f.stderr).toMatch(
      /warning: en and en-us are fitted as 2 languages \(variants of en\); if they are one language, name their files alike \(en\.npy\)/,
    );
  }, 60_000);

  it("retrieve: --data without Tatoeba files says so (not the embeddings); pairs with lir needs the sides' languages", async () => {
    const { dir, emb } = await setup();
    const notTatoeba = join(dir, 'xq');
    await mkdir(notTatoeba);
    await writeFile(join(notTatoeba, 'de.json'), '{}');
    oneLine(
      await runBin(['retrieve', 'tatoeba', '--data', notTatoeba, '-e', emb, '--fit-embeddings', emb, '-q']),
      1,
      /xq: no Tatoeba files found \(expected LASER's tatoeba\.<xxx>-eng\.<xxx> files\)/,
    );
    oneLine(
      await runBin([
        'retrieve',
        'pairs',
        '--queries',
        join(emb, 'de.npy'),
        '--targets',
        join(emb, 'en.npy'),
        '--methods',
        'lir',
        '--fit-embeddings',
        emb,
        '-q',
      ]),
      2,
      /lir-1 need each side's language: give --query-lang \(or --lang-column\) and --target-lang/,
    );
  }, 60_000);

  it('project --in shards/ with the files in part-*/: says so, and --recursive writes each at its path under --out', async () => {
    const { dir, emb, p } = await setup();
    const shards = join(dir, 'shards');
    for (const [part, langs] of [
      ['part-0', ['en', 'de']],
      ['part-1', ['en', 'fr']],
    ] as const) {
      await mkdir(join(shards, part), { recursive: true });
      for (const l of langs) await writeFile(join(shards, part, `${l}.npy`), await readFile(join(emb, `${l}.npy`)));
    }
    oneLine(
      await runBin(['project', '-p', p, '--in', shards, '--out', join(dir, 'out'), '-q']),
      1,
      /shards: no \.npy, \.parquet or \.jsonl files at its top, but 4 in its sub-directories \(part-0\/, part-1\/\): add --recursive/,
    );
    expect((await runBin(['project', '-p', p, '--in', shards, '--out', join(dir, 'out'), '--recursive', '-q'])).code).toBe(0);
    const written = await readdir(join(dir, 'out'), { recursive: true, withFileTypes: true });
    expect(
      written
        .filter((e) => e.isFile())
        .map((e) => `${basename(e.parentPath)}/${e.name}`)
        .sort(),
    ).toEqual(['part-0/de.npy', 'part-0/en.npy', 'part-1/en.npy', 'part-1/fr.npy']);
  }, 60_000);
});
