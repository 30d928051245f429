import { existsSync } from 'node:fs';
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { PassThrough, Readable } from 'node:stream';
import { afterEach, describe, it } from 'vitest';
import { main } from '../src/cli/main.js';
import { mulberry32 } from '../src/core/random.js';

export const ROOT = resolve(import.meta.dirname, '..');
/** ../shared (LSAR_SHARED overrides it, e.g. to check that tests skip cleanly without it). */
export const SHARED = process.env.LSAR_SHARED ?? resolve(ROOT, '..', 'shared');
/**
 * planted-small, vendored from ../shared/golden (tests/fixtures/planted-small; tests/fixtures.test.ts
 * checks that it equals the shared copy where that is present), so a clean clone runs the CLI tests.
 */
export const GOLDEN = join(ROOT, 'tests', 'fixtures', 'planted-small');
export const SHARED_GOLDEN = join(SHARED, 'golden', 'planted-small');

/** True when ../shared's evaluation data (Tatoeba, XQuAD-R) is present; CI has it. */
export const HAS_SHARED = existsSync(join(SHARED, 'data', 'tatoeba')) && existsSync(join(SHARED, 'data', 'xquad-r'));
const SKIP = ` [skipped: ${join(SHARED, 'data')} is missing]`;
/** describe() / it() for tests that read ../shared's data: skipped, with the reason in their name, where it is missing. */
export const describeShared = (name: string, fn: () => void) => (HAS_SHARED ? describe(name, fn) : describe.skip(name + SKIP, fn));
export const itShared = (name: string, fn: () => Promise<void> | void, timeout?: number) =>
  HAS_SHARED ? it(name, fn, timeout) : it.skip(name + SKIP, fn);

const dirs: string[] = [];
/** A fresh temporary directory, removed after the test. */
export async function tempDir(): Promise<string> {
  const d = await mkdtemp(join(tmpdir(), 'lsar-test-'));
  dirs.push(d);
  return d;
}
afterEach(async () => {
  while (dirs.length) await rm(dirs.pop() as string, { recursive: true, force: true });
});

export interface CliRun {
  code: number;
  stdout: string;
  stderr: string;
}

/** Run the CLI in-process with captured streams. */
export async function runCli(args: string[], stdin = ''): Promise<CliRun> {
  const out = new PassThrough();
  const err = new PassThrough();
  const chunks = { out: [] as Buffer[], err: [] as Buffer[] };
  out.on('data', (c: Buffer) => chunks.out.push(c));
  err.on('data', (c: Buffer) => chunks.err.push(c));
  const code = await main(args, { stdin: Readable.from([stdin]), stdout: out, stderr: err });
  return { code, stdout: Buffer.concat(chunks.out).toString('utf8'), stderr: Buffer.concat(chunks.err).toString('utf8') };
}

/** Files in a directory (including hidden temporaries). */
export async function listFiles(dir: string): Promise<string[]> {
  try {
    return (await readdir(dir)).sort();
  } catch {
    return [];
  }
}

/** Deterministic pseudo-random numbers (mulberry32). */
export const rng = mulberry32;

/** Standard normal samples (Box-Muller). */
export function gaussian(seed: number): () => number {
  const u = rng(seed);
  return () => Math.sqrt(-2 * Math.log(u() || 1e-12)) * Math.cos(2 * Math.PI * u());
}

/**
 * Planted multilingual data: each language = shared content + its own offset in a
 * low-rank language subspace + noise. Returns row-major float32 per language.
 */
export function planted(langs: string[], rows: number, dim: number, seed = 1): Record<string, Float32Array> {
  const g = gaussian(seed);
  const out: Record<string, Float32Array> = {};
  for (const l of langs) {
    const offset = Float64Array.from({ length: dim }, () => 3 * g());
    const x = new Float32Array(rows * dim);
    for (let i = 0; i < x.length; i++) x[i] = (offset[i % dim] as number) + g();
    out[l] = x;
  }
  return out;
}

/**
 * A Parquet file of (language, embedding) rows written by another implementation than lsar's
 * (hyparquet-writer): a UTF8 `lang` column and a List<float32> `embedding` column.
 */
export async function writeLangParquet(path: string, langs: string[], rows: ArrayLike<number>[], rowGroupSize = 100): Promise<void> {
  const { parquetWriteBuffer } = await import('hyparquet-writer');
  const { writeFile } = await import('node:fs/promises');
  const buf = parquetWriteBuffer({
    columnData: [
      { name: 'lang', data: langs },
      { name: 'embedding', data: rows.map((r) => Array.from(r)) },
    ],
    schema: [
      { name: 'root', num_children: 2 },
      { name: 'lang', type: 'BYTE_ARRAY', converted_type: 'UTF8', repetition_type: 'REQUIRED' },
      { name: 'embedding', repetition_type: 'OPTIONAL', num_children: 1, converted_type: 'LIST' },
      { name: 'list', repetition_type: 'REPEATED', num_children: 1 },
      { name: 'element', repetition_type: 'OPTIONAL', type: 'FLOAT' },
    ],
    rowGroupSize,
  });
  await writeFile(path, new Uint8Array(buf));
}

/** The command a user runs. */
export const BIN = join(ROOT, 'bin', 'lsar.js');
/** The repository's tiny offline test model (Hub export layout). */
export const TINY_BERT = join(ROOT, 'tests', 'fixtures', 'tiny-bert');

/** Run bin/lsar.js in a child process, as a user does (signal handlers, exit code, real streams). */
export async function runBin(args: string[], options: { stdin?: string; cwd?: string; env?: NodeJS.ProcessEnv } = {}): Promise<CliRun> {
  const { spawn } = await import('node:child_process');
  return new Promise((resolveRun, reject) => {
    const child = spawn(process.execPath, [BIN, ...args], {
      cwd: options.cwd ?? ROOT,
      env: { ...process.env, ...options.env },
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    child.stdout.on('data', (c: Buffer) => out.push(c));
    child.stderr.on('data', (c: Buffer) => err.push(c));
    child.on('error', reject);
    child.on('close', (code) =>
      resolveRun({ code: code ?? -1, stdout: Buffer.concat(out).toString('utf8'), stderr: Buffer.concat(err).toString('utf8') }),
    );
    child.stdin.end(options.stdin ?? '');
  });
}

/** One line on stderr, no stack, the expected exit code. */
export function oneLine(r: CliRun, code: number, message: RegExp): void {
  const lines = r.stderr.trimEnd().split('\n');
  if (lines.length !== 1 || !message.test(r.stderr) || r.code !== code || /\n\s+at |internal error/.test(r.stderr)) {
    throw new Error(`expected exit ${code} and one line matching ${message}, got exit ${r.code}:\n${r.stderr}`);
  }
}
