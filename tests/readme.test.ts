/**
 * The README's shell examples, run as written, in order, in a sandbox that holds the files they
 * name (corpora, texts, embeddings, shards, Parquet parts, models). `lsar` is bin/lsar.js on
 * the PATH. Hub ids are served from a model cache (HF_HOME) holding the repository's fixture
 * model under each id the README names, as a first download would leave them: so the examples
 * run offline with the real loading code, and their embeddings mean nothing. `./models/mbert`
 * is the fixture's graph with 12 layers (for `--layer 8`). Examples that need ../shared skip
 * without it; `npm` lines (the set-up commands) are run by CI itself.
 */
import { spawn, spawnSync } from 'node:child_process';
import { chmodSync, cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FIXTURE, writeFixture } from '../scripts/make-fixture-model.js';
import { encodeNpy, readNpy } from '../src/io/npy.js';
import { BIN, HAS_SHARED, ROOT, SHARED, TINY_BERT, writeLangParquet } from './helpers.js';

/** The shell examples of the README, in order: continuation lines joined, comment-only lines dropped. */
function examples(): string[] {
  const md = readFileSync(join(ROOT, 'README.md'), 'utf8');
  const out: string[] = [];
  for (const block of md.matchAll(/^```sh\n([\s\S]*?)^```/gm)) {
    const text = (block[1] as string).replace(/\\\n\s*/g, '');
    for (const line of text.split('\n')) {
      const cmd = line.trim();
      if (cmd === '' || cmd.startsWith('#')) continue;
      out.push(cmd);
    }
  }
  return out;
}

const ALL = examples();
const HUB_IDS = [
  ...new Set([...readFileSync(join(ROOT, 'README.md'), 'utf8').matchAll(/--model (Xenova\/[\w.-]+)/g)].map((m) => m[1] as string)),
];

let root: string;
let work: string;
const env = (): NodeJS.ProcessEnv => ({
  ...process.env,
  PATH: `${join(root, 'bin')}:${process.env.PATH ?? ''}`,
  HF_HOME: join(root, 'hf'),
  // the sentence-transformers walkthrough's model: the fixture with LaBSE's modules (CLS, Dense, Normalize)
  LSAR_ST_MODEL: join(root, 'st-labse'),
  LSAR_CACHE_DIR: join(work, '.lsar-cache'),
});

/**
 * Run a README command. GNU timeout runs it in a process group of its own and, at the limit,
 * signals the whole group: no lsar started by the command outlives it (a plain spawnSync timeout
 * signalled bash alone).
 */
function sh(cmd: string, timeout = 300_000): { code: number; stdout: string; stderr: string } {
  const r = spawnSync('timeout', ['-k', '5', String(timeout / 1000), 'bash', '-o', 'pipefail', '-c', cmd], {
    cwd: work,
    env: env(),
    encoding: 'utf8',
    maxBuffer: 64 << 20,
  });
  if (r.status === 124) return { code: 124, stdout: r.stdout, stderr: `${r.stderr}\n[timed out after ${timeout / 1000} s]` };
  return { code: r.status ?? -1, stdout: r.stdout, stderr: r.stderr };
}

/** Files the examples take as given, made from the bundled corpora with the default model's stand-in. */
async function prelude(): Promise<void> {
  root = mkdtempSync(join(tmpdir(), 'lsar-readme-'));
  work = join(root, 'work');
  mkdirSync(work);
  mkdirSync(join(root, 'bin'));
  writeFileSync(join(root, 'bin', 'lsar'), `#!/bin/sh\nexec "${process.execPath}" "${BIN}" "$@"\n`);
  chmodSync(join(root, 'bin', 'lsar'), 0o755);
  for (const d of ['corpora', 'tests', 'bin']) symlinkSync(join(ROOT, d), join(work, d));
  if (HAS_SHARED) symlinkSync(SHARED, join(root, 'shared'));
  // the model cache: each Hub id of the README holds the fixture, as transformers.js caches a download
  for (const id of HUB_IDS) cpSync(TINY_BERT, join(root, 'hf', 'transformers.js', id), { recursive: true });
  cpSync(TINY_BERT, join(root, 'st-labse'), { recursive: true });
  cpSync(join(ROOT, 'tests', 'fixtures', 'st', 'labse'), join(root, 'st-labse'), { recursive: true });
  mkdirSync(join(work, 'models'));
  cpSync(TINY_BERT, join(work, 'models', 'minilm'), { recursive: true });
  writeFixture(join(work, 'models', 'mbert'), join(ROOT, 'corpora'), { ...FIXTURE, name: 'tiny-bert-12', layers: 12 });
  // texts
  const lines = (lang: string, n: number) =>
    readFileSync(join(ROOT, 'corpora', `${lang}.txt`), 'utf8')
      .split('\n')
      .slice(0, n);
  for (const l of ['de', 'fr', 'en']) writeFileSync(join(work, `${l}.txt`), lines(l, 200).join('\n') + '\n');
  writeFileSync(join(work, 'docs.txt'), lines('en', 200).join('\n') + '\n');
  writeFileSync(join(work, 'questions.txt'), lines('en', 5).join('\n') + '\n');
  // vectors: the default model's embeddings of those texts (made apart from the examples' emb/)
  const pre = join(root, 'pre');
  const r = sh(`lsar embed -i de=de.txt -i fr=fr.txt -i en=en.txt --model ${HUB_IDS[0]} --out ${pre} -q`);
  if (r.code !== 0) throw new Error(`prelude embed failed: ${r.stderr}`);
  for (const l of ['de', 'fr', 'en']) cpSync(join(pre, `${l}.npy`), join(work, `${l}.npy`));
  cpSync(join(pre, 'en.npy'), join(work, 'docs.npy'));
  const de = await readNpy(join(pre, 'de.npy'));
  const d = de.dim;
  writeFileSync(join(work, 'q.npy'), encodeNpy(Float32Array.from(de.data.subarray(0, 5 * d)), [5, d]));
  const jsonl = Array.from({ length: 5 }, (_, i) => JSON.stringify(Array.from(de.data.subarray(i * d, (i + 1) * d)))).join('\n') + '\n';
  writeFileSync(join(work, 'q.jsonl'), jsonl);
  writeFileSync(join(work, 'queries.jsonl'), jsonl);
  // shards/part-0, part-1 (<lang>.npy each) and parts/part-0, part-1.parquet (a lang column)
  mkdirSync(join(work, 'parts'));
  for (const [i, langs] of [
    [0, ['de', 'en']],
    [1, ['fr', 'en']],
  ] as const) {
    mkdirSync(join(work, 'shards', `part-${i}`), { recursive: true });
    const rows: Float32Array[] = [];
    const labels: string[] = [];
    for (const l of langs) {
      const x = await readNpy(join(pre, `${l}.npy`));
      const half = x.data.subarray(i * 100 * d, (i + 1) * 100 * d);
      writeFileSync(join(work, 'shards', `part-${i}`, `${l}.npy`), encodeNpy(Float32Array.from(half), [100, d]));
      for (let k = 0; k < 100; k++) {
        rows.push(Float32Array.from(half.subarray(k * d, (k + 1) * d)));
        labels.push(l);
      }
    }
    await writeLangParquet(join(work, 'parts', `part-${i}.parquet`), labels, rows);
  }
  // emb/tatoeba (<lang>.npy, <lang>.en.npy of two Tatoeba languages) and emb/mono (monolingual fit data)
  if (HAS_SHARED) {
    const t = join(work, 'emb', 'tatoeba');
    const tat = join(SHARED, 'data', 'tatoeba');
    for (const [l, code] of [
      ['de', 'deu'],
      ['fr', 'fra'],
    ]) {
      const e = sh(
        `lsar embed -i ${l}=${tat}/tatoeba.${code}-eng.${code} --model ${HUB_IDS[0]} --out ${root}/t-${l} -q && lsar embed -i ${l}=${tat}/tatoeba.${code}-eng.eng --model ${HUB_IDS[0]} --out ${root}/t-${l}-en -q`,
      );
      if (e.code !== 0) throw new Error(`prelude tatoeba failed: ${e.stderr}`);
      mkdirSync(t, { recursive: true });
      cpSync(join(root, `t-${l}`, `${l}.npy`), join(t, `${l}.npy`));
      cpSync(join(root, `t-${l}-en`, `${l}.npy`), join(t, `${l}.en.npy`));
    }
    const m = sh(`lsar embed --corpora corpora --model ${HUB_IDS[0]} --out emb/mono -q`);
    if (m.code !== 0) throw new Error(`prelude mono failed: ${m.stderr}`);
  }
}

beforeAll(prelude, 300_000);
afterAll(() => {
  if (root) rmSync(root, { recursive: true, force: true });
});

/** `lsar serve ...` and the `curl` after it: the server is started, asked, and stopped. */
async function serveAndAsk(serveCmd: string, curl: string): Promise<{ code: number; stdout: string; stderr: string }> {
  const child = spawn('bash', ['-c', `exec ${serveCmd}`], { cwd: work, env: env(), stdio: ['ignore', 'pipe', 'pipe'] });
  let err = '';
  child.stderr.on('data', (c: Buffer) => (err += c.toString()));
  try {
    const deadline = Date.now() + 60_000;
    while (Date.now() < deadline) {
      if (sh('curl -sf localhost:8080/health', 5_000).code === 0) break;
      if (child.exitCode !== null) return { code: child.exitCode, stdout: '', stderr: err };
      await new Promise((r) => setTimeout(r, 200));
    }
    return sh(curl, 30_000);
  } finally {
    child.kill('SIGTERM');
    await new Promise((r) => child.once('close', r));
  }
}

describe('README shell examples, run as written', () => {
  it('finds the examples (each command of each ```sh block)', () => {
    expect(ALL.length).toBeGreaterThan(30);
    expect(HUB_IDS).toContain('Xenova/paraphrase-multilingual-MiniLM-L12-v2');
  });
  for (let i = 0; i < ALL.length; i++) {
    const cmd = ALL[i] as string;
    if (cmd.startsWith('curl')) continue; // asked by the serve example before it
    const reason = cmd.startsWith('npm ')
      ? 'a set-up command: CI runs the install and npm test itself'
      : cmd.includes('../shared') && !HAS_SHARED
        ? `needs ${SHARED}`
        : undefined;
    it.skipIf(reason !== undefined)(
      `${cmd}${reason ? ` (skipped: ${reason})` : ''}`,
      async () => {
        const r = cmd.startsWith('lsar serve') ? await serveAndAsk(cmd, ALL[i + 1] as string) : sh(cmd);
        expect({ code: r.code, stack: /internal error|\n\s+at /.test(r.stderr) }, `${cmd}\n${r.stderr}`).toEqual({ code: 0, stack: false });
        if (cmd.startsWith('lsar serve')) expect((JSON.parse(r.stdout) as { data: unknown[] }).data).toHaveLength(2);
      },
      300_000,
    );
  }
  it('a command past its time limit leaves no process behind (the helper that runs them)', () => {
    const marker = (31 + Math.random()).toFixed(6);
    const r = sh(`sleep ${marker} & sleep ${marker}; wait`, 1000);
    expect(r.code).toBe(124);
    expect(spawnSync('pgrep', ['-f', `sleep ${marker}`], { encoding: 'utf8' }).stdout).toBe('');
  });
  it('the sandbox kept the outputs the examples promise', () => {
    for (const f of [
      'emb/manifest.json',
      'proj.json',
      'p/projection.json',
      'de.lsar.npy',
      'queries.lsar.jsonl',
      'projected',
      'pairs.tsv',
      'proj.onnx',
      'proj.safetensors',
      'models/minilm-lsar/onnx/model.onnx',
    ])
      expect(existsSync(join(work, f)), f).toBe(true);
  });
});
