/**
 * Issue "Robustness and first use": every crash, stale result and rough edge a newcomer hit,
 * each kept fixed by a test (crashes as CLI runs asserting the exit code and the one line).
 */
import { spawn, spawnSync } from 'node:child_process';
import { copyFileSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { apply } from '../../src/core/apply.js';
import { encodeNpy } from '../../src/io/npy.js';
import { loadProjection } from '../../src/io/artifact.js';
import { fitFromArrays } from '../../src/pipeline/fit.js';
import { gaussian, GOLDEN, listFiles, planted, ROOT, runCli, tempDir } from '../helpers.js';

const BIN = join(ROOT, 'bin', 'lsar.js');
const D = 16;

/** A directory of planted <lang>.npy files. */
async function langDir(langs: string[], dir?: string): Promise<string> {
  const d = dir ?? (await tempDir());
  const data = planted(langs, 30, D, 5);
  for (const l of langs) await writeFile(join(d, `${l}.npy`), encodeNpy(data[l] as Float32Array, [30, D]));
  return d;
}

/** One line on stderr, the expected exit code, nothing on stdout. */
function expectOneLine(r: { code: number; stdout: string; stderr: string }, code: number, message: RegExp): void {
  expect(r.stderr).toMatch(message);
  expect(r.stderr.trimEnd().split('\n')).toHaveLength(1);
  expect(r.stderr).not.toMatch(/\n\s+at /);
  expect(r.code).toBe(code);
}

describe('crashes: numeric options are validated before any native call (exit 2, option and range named)', () => {
  const docs = join(GOLDEN, 'bitext', 'de.en.npy');
  const cases: [string, string[], RegExp][] = [
    [
      'search -k -3',
      ['search', '-x', docs, '--queries', docs, '-k', '-3'],
      /^lsar: -k must be a whole number from 1 to 1000000, got -3\n$/,
    ],
    ['search -k 0', ['search', '-x', docs, '--queries', docs, '-k', '0'], /^lsar: -k must be a whole number from 1 to 1000000, got 0\n$/],
    [
      'search -k 2.5',
      ['search', '-x', docs, '--queries', docs, '-k', '2.5'],
      /^lsar: -k must be a whole number from 1 to 1000000, got 2\.5\n$/,
    ],
    [
      'search --hnsw-m 0',
      ['search', '-x', docs, '--queries', docs, '--hnsw-m', '0'],
      /^lsar: --hnsw-m must be a whole number from 2 to 100, got 0\n$/,
    ],
    [
      'search --hnsw-m 1',
      ['search', '-x', docs, '--queries', docs, '--hnsw-m', '1'],
      /--hnsw-m must be a whole number from 2 to 100, got 1/,
    ],
    [
      'search --hnsw-m -5',
      ['search', '-x', docs, '--queries', docs, '--hnsw-m', '-5'],
      /--hnsw-m must be a whole number from 2 to 100, got -5/,
    ],
    ['search --ef 0', ['search', '-x', docs, '--queries', docs, '--ef', '0'], /--ef must be a whole number from 1 to 100000, got 0/],
    [
      'search --ef-construction -1',
      ['search', '-x', docs, '--queries', docs, '--ef-construction', '-1'],
      /--ef-construction must be a whole number from 1 to 100000, got -1/,
    ],
    ['search --ef abc', ['search', '-x', docs, '--queries', docs, '--ef', 'abc'], /--ef expects a whole number, got "abc"/],
    [
      'retrieve --recall-sample -5',
      ['retrieve', 'pairs', '--embeddings', join(GOLDEN, 'bitext'), '--methods', 'none', '--recall-sample', '-5'],
      /--recall-sample must be a whole number of at least 1, got -5/,
    ],
    [
      'retrieve --rank x',
      ['retrieve', 'pairs', '--embeddings', join(GOLDEN, 'bitext'), '--methods', 'lsar', '--rank', '4,x'],
      /--rank expects whole numbers separated by commas, got "x"/,
    ],
    [
      'fit --method pca',
      ['fit', join(GOLDEN, 'fit'), '--out', '/nonexistent/p.json', '--method', 'pca'],
      /--method must be one of lsar, lir, demean, abtt, whiten, none; got "pca"/,
    ],
    [
      'embed --batch-size 0',
      ['embed', '-i', 'en=x.txt', '--out', '/nonexistent', '--batch-size', '0'],
      /--batch-size must be a whole number from 1 to 65536, got 0/,
    ],
  ];
  it('fit --rank 99', async () => {
    const dir = await langDir(['en', 'de', 'fr']);
    expectOneLine(
      await runCli(['fit', dir, '--out', join(dir, 'p.json'), '--rank', '99']),
      2,
      /^lsar: --rank must be an integer from 1 to 2, got 99: with 3 languages/,
    );
  });
  for (const [name, args, message] of cases) {
    it(name, async () => {
      expectOneLine(await runCli(args), 2, message);
    });
  }
});

describe('search indexes: corrupt and stale files are refused', () => {
  const docs = join(GOLDEN, 'bitext', 'de.en.npy');
  it('--index-in of a corrupt file names it and says it is not a valid index (exit 1)', async () => {
    const dir = await tempDir();
    const idx = join(dir, 'idx.bin');
    expect((await runCli(['search', '-x', docs, '--queries', docs, '-k', '1', '--search', 'hnsw', '--index-out', idx, '-q'])).code).toBe(0);
    const bytes = readFileSync(idx);
    writeFileSync(idx, bytes.subarray(0, 200));
    const r = await runCli(['search', '-x', docs, '--queries', docs, '-k', '1', '--index-in', idx]);
    expectOneLine(r, 1, new RegExp(`^lsar: ${idx.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}: not a valid lsar hnsw index \\(`));
    writeFileSync(`${idx}.json`, '{not json');
    expectOneLine(await runCli(['search', '-x', docs, '--queries', docs, '--index-in', idx]), 1, /idx\.bin\.json: missing or unreadable/);
  });

  it('an index built from other data of the same shape is refused, not reused with stale neighbours', async () => {
    const dir = await tempDir();
    const idx = join(dir, 'idx.bin');
    const other = join(GOLDEN, 'bitext', 'fr.en.npy');
    for (const exact of [['--search', 'hnsw', '-q'], ['--exact']]) {
      expect((await runCli(['search', '-x', docs, '--queries', docs, '-k', '1', '--index-out', idx, ...exact])).code).toBe(0);
      const r = await runCli(['search', '-x', other, '--queries', other, '-k', '1', '--index-in', idx]);
      expectOneLine(
        r,
        1,
        /idx\.bin: built from other vectors \(data hash [0-9a-f]{12}\), but this run indexes vectors with data hash [0-9a-f]{12}: rebuild it with --index-out/,
      );
    }
    // the same data reuses it, exact or HNSW alike
    expect((await runCli(['search', '-x', docs, '--queries', docs, '-k', '1', '--index-in', idx, '--json'])).code).toBe(0);
  });
});

describe('wrong results', () => {
  it('JSON Lines values beyond float32 are refused for float32 .npy output, naming the line', async () => {
    const dir = await tempDir();
    const p = fitFromArrays(planted(['en', 'de', 'fr'], 20, 4, 2), 4, { method: 'lsar' });
    const { saveProjection } = await import('../../src/io/artifact.js');
    await saveProjection(join(dir, 'p.json'), p);
    await writeFile(join(dir, 'x.jsonl'), '[1,2,3,4]\n\n[1,1e39,0,0]\n');
    const out = join(dir, 'o.npy');
    const r = await runCli(['project', '-p', join(dir, 'p.json'), '--in', join(dir, 'x.jsonl'), '--out', out]);
    expectOneLine(r, 1, /x\.jsonl:3: value 1 \(1e\+39\) is beyond the float32 range/);
    expect(await listFiles(dir)).toEqual(['p.basis.npy', 'p.json', 'p.means.npy', 'x.jsonl']);
    // float64 output keeps it
    expect(
      (await runCli(['project', '-p', join(dir, 'p.json'), '--in', join(dir, 'x.jsonl'), '--out', out, '--dtype', 'float64'])).code,
    ).toBe(0);
  });

  it('language codes are canonicalised: fr.npy and fra.npy (or en and eng) are one language, refused', async () => {
    for (const [a, b] of [
      ['fr', 'fra'],
      ['en', 'eng'],
      ['de', 'ger'],
    ]) {
      const dir = await langDir(['es', a as string, b as string]);
      const r = await runCli(['fit', dir, '--out', join(await tempDir(), 'p.json')]);
      expectOneLine(r, 1, new RegExp(`language "${a}" was given twice: .*${a}\\.npy and .*${b}\\.npy`));
    }
  });

  it('a label that is no ISO 639 code is used with a warning; 639-3 codes become 639-1 in the artifact', async () => {
    const dir = await langDir(['deu', 'x-legal', 'fra']);
    const out = join(await tempDir(), 'p.json');
    const r = await runCli(['fit', dir, '--out', out, '--json']);
    expect(r.code).toBe(0);
    expect(r.stderr).toMatch(
      /^lsar: warning: "x-legal" \(.*x-legal\.npy\) is not an ISO 639 language code: it is used as a label as it is\n$/,
    );
    const summary = JSON.parse(r.stdout) as { languages: { lang: string }[]; warnings: string[] };
    expect(summary.languages.map((l) => l.lang)).toEqual(['de', 'fr', 'x-legal']);
    expect(summary.warnings).toHaveLength(1);
  });

  it('refuses an output that would overwrite an input', async () => {
    const dir = await langDir(['en', 'de']);
    await runCli(['fit', dir, '--out', join(dir, 'p.json'), '-q']);
    const before = readFileSync(join(dir, 'p.means.npy'));
    const r = await runCli([
      'fit',
      '-i',
      `en=${join(dir, 'p.means.npy')}`,
      '-i',
      `de=${join(dir, 'de.npy')}`,
      '--out',
      join(dir, 'p.json'),
    ]);
    expectOneLine(r, 1, /p\.means\.npy: the output would overwrite the input .*p\.means\.npy \(language en\)/);
    expect(readFileSync(join(dir, 'p.means.npy')).equals(before)).toBe(true);
  });

  it('fit emb --out emb/ twice: the artifact saved there is not taken as languages', async () => {
    const dir = await langDir(['en', 'de', 'fr']);
    expect((await runCli(['fit', dir, '--out', `${dir}/`, '-q'])).code).toBe(0);
    expect(await listFiles(dir)).toContain('projection.basis.npy');
    const r = await runCli(['fit', dir, '--out', `${dir}/`, '--json', '-q']);
    expect(r.stderr).toBe('');
    expect((JSON.parse(r.stdout) as { languages: unknown[] }).languages).toHaveLength(3);
  });

  it('--out proj.JSON writes a file, not a directory', async () => {
    const dir = await langDir(['en', 'de']);
    const out = join(await tempDir(), 'proj.JSON');
    expect((await runCli(['fit', dir, '--out', out, '-q'])).code).toBe(0);
    expect(await listFiles(join(out, '..'))).toEqual(['proj.JSON', 'proj.basis.npy', 'proj.means.npy']);
    expect((await loadProjection(out)).method).toBe('lsar');
  });

  it('a renamed artifact (p.* -> q.*) loads, its sidecars found by its own name and hash-checked', async () => {
    const dir = await langDir(['en', 'de', 'fr']);
    const out = await tempDir();
    await runCli(['fit', dir, '--out', join(out, 'p.json'), '-q']);
    for (const s of ['json', 'means.npy', 'basis.npy']) renameSync(join(out, `p.${s}`), join(out, `q.${s}`));
    const q = await loadProjection(join(out, 'q.json'));
    expect(q.rank).toBe(2);
    copyFileSync(join(out, 'q.means.npy'), join(out, 'q.basis.npy'));
    await expect(loadProjection(join(out, 'q.json'))).rejects.toThrow(/q\.basis\.npy does not match the SHA-256 recorded/);
  });
});

describe('interruptions', () => {
  async function bigInput(dir: string): Promise<string> {
    const g = gaussian(8);
    const rows = 200_000;
    const x = Float32Array.from({ length: rows * D }, g);
    const p = join(dir, 'big.npy');
    await writeFile(p, encodeNpy(x, [rows, D]));
    const proj = fitFromArrays(planted(['en', 'de', 'fr'], 20, D, 2), D, { method: 'lsar' });
    const { saveProjection } = await import('../../src/io/artifact.js');
    await saveProjection(join(dir, 'p.json'), proj);
    return p;
  }

  for (const signal of ['SIGKILL', 'SIGHUP'] as const) {
    it(`project killed with ${signal} mid-write: a re-run leaves no temporary file`, async () => {
      const dir = await tempDir();
      const input = await bigInput(dir);
      const outDir = join(dir, 'out');
      await mkdir(outDir);
      const out = join(outDir, 'big.lsar.jsonl');
      const child = spawn(process.execPath, [BIN, 'project', '-p', join(dir, 'p.json'), '--in', input, '--out', out, '-q'], {
        stdio: 'ignore',
      });
      // wait until the temporary output exists and has grown, then kill
      for (let i = 0; i < 200; i++) {
        const temps = (await listFiles(outDir)).filter((f) => f.includes('.tmp-'));
        if (temps.length && readFileSync(join(outDir, temps[0] as string)).length > 100_000) break;
        await new Promise((r) => setTimeout(r, 25));
      }
      child.kill(signal);
      const code = await new Promise<number | null>((r) => child.on('exit', (c) => r(c)));
      const left = (await listFiles(outDir)).filter((f) => f.includes('.tmp-'));
      if (signal === 'SIGHUP') {
        expect(code).toBe(129);
        expect(left).toEqual([]); // removed on the way out
      } else {
        expect(left).toHaveLength(1); // -9 cannot clean up after itself...
      }
      // ...so the next run to the same output removes stale temporaries (dead pid) before it writes
      const r = spawnSync(process.execPath, [BIN, 'project', '-p', join(dir, 'p.json'), '--in', input, '--out', out, '-q'], {
        encoding: 'utf8',
      });
      expect(r.status).toBe(0);
      expect(await listFiles(outDir)).toEqual(['big.lsar.jsonl']);
    }, 60_000);
  }
});

describe('a closed stdout (| head) ends the command quietly', () => {
  async function pipeToHead(args: string[]): Promise<{ code: number | null; stderr: string; first: string }> {
    const child = spawn(process.execPath, [BIN, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
    const first = await new Promise<string>((resolve) => {
      child.on('exit', () => resolve(''));
      let buf = '';
      child.stdout.on('data', (c: Buffer) => {
        buf += c.toString();
        const nl = buf.indexOf('\n');
        if (nl >= 0) {
          child.stdout.destroy(); // what head does after its lines
          resolve(buf.slice(0, nl));
        }
      });
    });
    const code = await new Promise<number | null>((r) => child.on('exit', (c) => r(c)));
    return { code, stderr, first };
  }

  it('project ... | head -1 and search ... | head -2: exit 0, no stack', async () => {
    const dir = await tempDir();
    const g = gaussian(3);
    await writeFile(join(dir, 'x.npy'), encodeNpy(Float32Array.from({ length: 50_000 * D }, g), [50_000, D]));
    const p = fitFromArrays(planted(['en', 'de', 'fr'], 20, D, 2), D, { method: 'lsar' });
    const { saveProjection } = await import('../../src/io/artifact.js');
    await saveProjection(join(dir, 'p.json'), p);
    const a = await pipeToHead(['project', '-p', join(dir, 'p.json'), '--in', join(dir, 'x.npy'), '--out', '-']);
    expect(a.first).toMatch(/^\[/);
    expect(a.stderr).toBe('');
    expect(a.code).toBe(0);
    await writeFile(join(dir, 'q.npy'), encodeNpy(Float32Array.from({ length: 3000 * D }, g), [3000, D]));
    const b = await pipeToHead(['search', '-x', join(dir, 'x.npy'), '--queries', join(dir, 'q.npy'), '--exact', '-k', '3']);
    expect(b.first).toBe('query 0');
    expect(b.stderr).toBe('');
    expect(b.code).toBe(0);
  }, 60_000);
});

describe('first use', () => {
  it('"-" means standard input and output for --in, --out and --queries', async () => {
    const dir = await tempDir();
    const p = fitFromArrays(planted(['en', 'de', 'fr'], 20, 4, 2), 4, { method: 'lsar' });
    const { saveProjection } = await import('../../src/io/artifact.js');
    await saveProjection(join(dir, 'p.json'), p);
    const r = await runCli(['project', '-p', join(dir, 'p.json'), '--in', '-', '--out', '-'], '[1,2,3,4]\n[0,1,0,1]\n');
    expect(r.code).toBe(0);
    expect(r.stdout.trim().split('\n')).toHaveLength(2);
    await writeFile(join(dir, 'x.npy'), encodeNpy(Float32Array.from([1, 0, 0, 0, 0, 1, 0, 0]), [2, 4]));
    const s = await runCli(['search', '-x', join(dir, 'x.npy'), '--queries', '-', '--exact', '-k', '1', '--json'], '[0,2,0,0]\n');
    expect(JSON.parse(s.stdout)).toMatchObject({ query: 0, neighbors: [{ index: 1 }] });
  });

  it('apply (library): refuses NaN rows and plain arrays, with messages that name no CLI flag', async () => {
    const p = fitFromArrays(planted(['en', 'de', 'fr'], 20, 4, 2), 4, { method: 'lsar' });
    expect(() => apply(p, Float32Array.from([1, 2, 3, 4, 1, NaN, 0, 0]))).toThrow(/^apply: row 1 holds NaN or Inf$/);
    expect(() => apply(p, [1, 2, 3, 4] as unknown as Float32Array)).toThrow(
      /expected a Float32Array or Float64Array .* got a plain array \(convert it with Float32Array\.from/,
    );
    const lir = fitFromArrays(planted(['en', 'de'], 20, 4, 2), 4, { method: 'lir' });
    expect(() => apply(lir, new Float32Array(4))).toThrow(/needs the input's language \(lang\)/);
    expect(() => fitFromArrays(planted(['en', 'de'], 20, 4, 2), 4, { method: 'lsar', rank: 5 })).toThrow(
      /^rank must be an integer from 1 to 1/,
    );
  });

  it('fit --corpora off a terminal prints plain progress lines, says where the embeddings are and warns about the test model', async () => {
    const dir = await tempDir();
    const corpora = join(dir, 'corpora');
    await mkdir(corpora);
    for (const l of ['en', 'de', 'fr'])
      await writeFile(
        join(corpora, `${l}.txt`),
        readFileSync(join(ROOT, 'corpora', `${l}.txt`), 'utf8')
          .split('\n')
          .slice(0, 30)
          .join('\n'),
      );
    const r = spawnSync(
      process.execPath,
      [
        BIN,
        'fit',
        '--corpora',
        corpora,
        '--model',
        join(ROOT, 'tests', 'fixtures', 'tiny-bert'),
        '--embed-dir',
        join(dir, 'cache'),
        '--out',
        join(dir, 'p.json'),
      ],
      { encoding: 'utf8', timeout: 60_000 },
    );
    expect(r.status).toBe(0);
    expect(r.stderr).toMatch(
      /^embed de: 30 rows, [^\n]*padding \d+%\nembed en: 30 rows, [^\n]*padding \d+%\nembed fr: 30 rows, [^\n]*padding \d+%\n/m,
    );
    expect(r.stderr.match(/random test model/g)).toHaveLength(1);
    expect(r.stderr.includes('\r') || r.stderr.includes(String.fromCharCode(27))).toBe(false);
    expect(r.stderr).toMatch(/lsar: warning: the embeddings come from .*tiny-bert: a random test model/);
    expect(r.stdout).toContain(`embeddings kept in ${join(dir, 'cache', 'corpora')}`);
  });

  it('a projection removing more than half the dimensions says so', async () => {
    const dir = await langDir(['en', 'de', 'fr', 'es', 'it', 'ru', 'zh', 'ja', 'ar', 'ko']);
    const r = await runCli(['fit', dir, '--out', join(await tempDir(), 'p.json')]);
    expect(r.code).toBe(0);
    expect(r.stderr).toMatch(/lsar: warning: the projection removes 9 of 16 dimensions \(rank 9\)/);
  });

  it('-m is --method in fit only; HNSW M is --hnsw-m; numeric options show as [number] in --help', async () => {
    const help = spawnSync(process.execPath, [BIN, 'search', '--help'], { encoding: 'utf8' }).stdout;
    expect(help).toMatch(/--hnsw-m\s+HNSW M.*\[number\]/);
    expect(help).toMatch(/-k\s+Neighbours per query\s+\[number\] \[default: 10\]/);
    expect(help).not.toMatch(/^\s+-m[, ]/m);
    const fitHelp = spawnSync(process.execPath, [BIN, 'fit', '--help'], { encoding: 'utf8' }).stdout;
    expect(fitHelp).toMatch(/-m, --method/);
    expect(fitHelp).toMatch(/--rank\s+.*\[number\]/);
  });

  it("npm scripts run without npm config warnings (no .npmrc; onnxruntime-node's install script is not allowed to run)", async () => {
    const pkg = JSON.parse(await readFile(join(ROOT, 'package.json'), 'utf8')) as { allowScripts: Record<string, boolean> };
    expect(pkg.allowScripts['onnxruntime-node']).toBe(false);
    expect(await listFiles(ROOT)).not.toContain('.npmrc');
    const r = spawnSync('npm', ['run', 'typecheck', '--', '--version'], { cwd: ROOT, encoding: 'utf8' });
    expect(r.stderr).not.toMatch(/Unknown (project|env) config/);
  });
});
