/** Shared helpers of the benchmarks: timing, medians, child processes with their peak memory, the Python reference. */
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, readlinkSync, realpathSync } from 'node:fs';
import { mkdir, open, rename, stat } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { mulberry32 } from '../src/core/random.js';
import { encodeNpyHeader } from '../src/io/npy.js';

export const ROOT = resolve(import.meta.dirname, '..');
export const DIR = join(ROOT, '.bench');
export const SCALE = Number(process.env.BENCH_SCALE ?? '1');
export const REPS = Math.max(1, Number(process.env.BENCH_REPS ?? '3'));
export const PYTHON = '/usr/bin/python3';
export const PERF_REF = resolve(ROOT, '..', 'shared', 'bench', 'perf_ref.py');

export async function exists(p: string): Promise<boolean> {
  try {
    await stat(p);
    return true;
  } catch {
    return false;
  }
}

export function fmt(x: number, digits = 0): string {
  return x.toLocaleString('en-US', { maximumFractionDigits: digits, minimumFractionDigits: digits });
}

export function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? (s[m] as number) : ((s[m - 1] as number) + (s[m] as number)) / 2;
}

export async function time<T>(f: () => Promise<T>): Promise<[number, T]> {
  const t = process.hrtime.bigint();
  const v = await f();
  return [Number(process.hrtime.bigint() - t) / 1e9, v];
}

/** Whether Debian's python3 with numpy and faiss (and hnswlib) can run the reference. */
export function pythonHas(...modules: string[]): boolean {
  if (!existsSync(PYTHON)) return false;
  return spawnSync(PYTHON, ['-c', `import ${modules.join(', ')}`], { stdio: 'ignore' }).status === 0;
}

/** The BLAS numpy and faiss use (Debian's alternatives link), for the record: reference BLAS is ~15x slower. */
export function blasName(): string {
  try {
    return realpathSync(readlinkSync('/etc/alternatives/libblas.so.3-x86_64-linux-gnu'));
  } catch {
    return 'unknown';
  }
}

/** Run a command, parse the last JSON line it prints; with GNU time, add its peak resident memory (MiB). */
export function runJson(cmd: string, args: string[], env: Record<string, string> = {}): Record<string, number> & { rss_mib: number } {
  const useTime = existsSync('/usr/bin/time');
  const r = useTime
    ? spawnSync('/usr/bin/time', ['-f', 'MAXRSS %M', cmd, ...args], {
        encoding: 'utf8',
        env: { ...process.env, ...env },
        maxBuffer: 1 << 26,
      })
    : spawnSync(cmd, args, { encoding: 'utf8', env: { ...process.env, ...env }, maxBuffer: 1 << 26 });
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')} failed: ${r.stderr}`);
  const line =
    r.stdout
      .trim()
      .split('\n')
      .filter((l) => l.startsWith('{'))
      .pop() ?? '{}';
  const rss = /MAXRSS (\d+)/.exec(r.stderr)?.[1];
  return { ...(JSON.parse(line) as Record<string, number>), rss_mib: rss ? Number(rss) / 1024 : NaN };
}

/** Run bench/child.mjs (lsar from dist/, as a user runs it) for one measured task. */
export function lsarChild(task: string, args: Record<string, unknown>): Record<string, number> & { rss_mib: number } {
  return runJson(process.execPath, [join(ROOT, 'bench', 'child.mjs'), task, JSON.stringify(args)]);
}

export function python(args: string[]): Record<string, number> & { rss_mib: number } {
  return runJson(PYTHON, args);
}

/** Python one-liner output (for generating data with numpy). */
export function pythonRun(code: string): string {
  return execFileSync(PYTHON, ['-c', code], { encoding: 'utf8', maxBuffer: 1 << 26 });
}

/** Write an n x d float32 .npy of clustered random data (clusters + noise), once. */
export async function makeNpy(path: string, n: number, d: number, seed: number, clusters = 0): Promise<void> {
  if (await exists(path)) return;
  await mkdir(join(path, '..'), { recursive: true });
  const uniform = mulberry32(seed);
  const rand = () => uniform() - 0.5;
  const centres = clusters > 0 ? Float32Array.from({ length: clusters * d }, rand) : undefined;
  const offset = Float32Array.from({ length: d }, () => rand() * 2);
  const fh = await open(path + '.tmp', 'w');
  const header = encodeNpyHeader('<f4', [n, d]);
  await fh.write(header, 0, header.length, 0);
  let pos = header.length;
  const rowsPer = Math.floor((8 << 20) / (d * 4));
  const buf = new Float32Array(rowsPer * d);
  for (let r = 0; r < n; r += rowsPer) {
    const rows = Math.min(rowsPer, n - r);
    for (let i = 0; i < rows; i++) {
      const c = centres ? Math.floor(uniform() * clusters) : -1;
      for (let j = 0; j < d; j++)
        buf[i * d + j] = c >= 0 ? (centres as Float32Array)[c * d + j]! + 0.35 * rand() : (offset[j] as number) + rand();
    }
    const bytes = new Uint8Array(buf.buffer, 0, rows * d * 4);
    await fh.write(bytes, 0, bytes.length, pos);
    pos += bytes.length;
  }
  await fh.close();
  await rename(path + '.tmp', path);
}

export function ratio(a: number, b: number): string {
  return `${(a / b).toFixed(2)}x`;
}

/** The benchmarks' projection: LSAR of rank 36 from 37 synthetic language means of dimension d (and the identity, method none). */
export async function syntheticProjections(d: number) {
  const { mulberry32 } = await import('../src/core/random.js');
  const { fitFromArrays } = await import('../src/pipeline/fit.js');
  const means: Record<string, Float32Array> = {};
  const uniform = mulberry32(7);
  for (let i = 0; i < 37; i++) {
    const code = `l${String.fromCharCode(97 + Math.floor(i / 26))}${String.fromCharCode(97 + (i % 26))}`.slice(0, 3);
    means[code] = Float32Array.from({ length: d }, () => uniform() - 0.5);
  }
  return { lsar: fitFromArrays(means, d, { method: 'lsar' }), none: fitFromArrays(means, d, { method: 'none' }) };
}
