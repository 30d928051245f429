/**
 * Issue 19's battery: every command x {missing file, directory, unreadable, repeated option,
 * full disk} through bin/lsar.js -> exit 1 or 2, one line on stderr, no stack, no "internal
 * error"; a full disk leaves nothing behind (no temporary, no half-written output, no empty
 * output directory).
 *
 * Unreadable inputs are read by another user (setpriv --reuid 65534) when the tests run as
 * root (root reads any file); as another user, by chmod 000. The full disk is a tmpfs mounted
 * by root and filled to the last byte.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { chmodSync, mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { encodeNpy } from '../../src/io/npy.js';
import { fitFromArrays } from '../../src/pipeline/fit.js';
import { saveProjection } from '../../src/io/artifact.js';
import { BIN, planted, runBin, TINY_BERT, type CliRun } from '../helpers.js';

const isRoot = process.getuid?.() === 0;
const hasSetpriv = spawnSync('setpriv', ['--version']).status === 0;
/** How an unreadable file is made and read, or why it cannot be here. */
const unreadable = isRoot ? (hasSetpriv ? 'setpriv' : undefined) : 'chmod';
/** Whether a tmpfs can be mounted here (root, and allowed by the container): tried once. */
const canMount = ((): boolean => {
  if (!isRoot) return false;
  const probe = mkdtempSync(join(tmpdir(), 'lsar-mount-'));
  const ok = spawnSync('mount', ['-t', 'tmpfs', '-o', 'size=4k', 'tmpfs', probe]).status === 0;
  if (ok) spawnSync('umount', [probe]);
  rmSync(probe, { recursive: true, force: true });
  return ok;
})();

type Case = 'missing' | 'directory' | 'unreadable' | 'repeated' | 'full disk';
/** Per command: the arguments for each case (paths relative to the work directory), or null where it does not apply. */
const TABLE: Record<string, Partial<Record<Case, string[] | null>>> = {
  embed: {
    missing: ['embed', '--model', TINY_BERT, '-i', 'en=missing.txt', '--out', 'out-e'],
    directory: ['embed', '--model', TINY_BERT, '-i', 'en=adir', '--out', 'out-e'],
    unreadable: ['embed', '--model', TINY_BERT, '-i', 'en=locked/en.txt', '--out', '/tmp/lsar-battery-u/e'],
    repeated: ['embed', '--model', TINY_BERT, '--model', TINY_BERT, '-i', 'en=en.txt', '--out', 'out-e'],
    'full disk': ['embed', '--model', TINY_BERT, '-i', 'en=en.txt', '-i', 'de=de.txt', '--out', 'full/e'],
  },
  fit: {
    missing: ['fit', 'missing', '--out', 'o.json'],
    directory: ['fit', '-i', 'en=adir', '-i', 'de=emb/de.npy', '--out', 'o.json'],
    unreadable: ['fit', 'locked', '--out', '/tmp/lsar-battery-u/p.json'],
    repeated: ['fit', 'emb', '--out', 'a.json', '--out', 'b.json'],
    'full disk': ['fit', 'emb', '--out', 'full/p.json'],
  },
  stats: {
    missing: ['stats', 'missing', '--out', 's.json'],
    directory: ['stats', '-i', 'en=adir', '--out', 's.json'],
    unreadable: ['stats', 'locked', '--out', '/tmp/lsar-battery-u/s.json'],
    repeated: ['stats', 'emb', '--out', 'a.json', '--out', 'b.json'],
    'full disk': ['stats', 'emb', '--out', 'full/s.json'],
  },
  project: {
    missing: ['project', '-p', 'p.json', '--in', 'missing.npy', '--out', 'o.npy'],
    directory: ['project', '-p', 'adir', '--in', 'emb/de.npy', '--out', 'o.npy'],
    unreadable: ['project', '-p', 'p.json', '--in', 'locked/de.npy', '--out', '/tmp/lsar-battery-u/o.npy'],
    repeated: ['project', '-p', 'p.json', '-p', 'p.json', '--in', 'emb/de.npy', '--out', 'o.npy'],
    'full disk': ['project', '-p', 'p.json', '--in', 'emb/de.npy', '--out', 'full/o.jsonl'],
  },
  retrieve: {
    missing: ['retrieve', 'pairs', '--queries', 'missing.npy', '--targets', 'emb/en.npy', '--fit-embeddings', 'emb'],
    directory: ['retrieve', 'pairs', '--queries', 'adir', '--targets', 'emb/en.npy', '--fit-embeddings', 'emb'],
    unreadable: ['retrieve', 'pairs', '--queries', 'locked/de.npy', '--targets', 'emb/en.npy', '--fit-embeddings', 'emb'],
    repeated: [
      'retrieve',
      'pairs',
      '--queries',
      'emb/de.npy',
      '--targets',
      'emb/en.npy',
      '--fit-embeddings',
      'emb',
      '--fit-embeddings',
      'emb',
    ],
    'full disk': [
      'retrieve',
      'pairs',
      '--queries',
      'emb/de.npy',
      '--targets',
      'emb/en.npy',
      '--fit-embeddings',
      'emb',
      '--report',
      'full/rep',
    ],
  },
  inspect: {
    missing: ['inspect', 'missing'],
    directory: ['inspect', 'emb/de.npy', 'adir.npy'],
    unreadable: ['inspect', 'locked'],
    repeated: ['inspect', 'emb', '--report', 'a', '--report', 'b'],
    'full disk': ['inspect', 'emb', '--report', 'full/rep'],
  },
  search: {
    missing: ['search', '--index', 'missing.npy', '--queries', 'emb/en.npy'],
    directory: ['search', '--index', 'adir.npy', '--queries', 'emb/en.npy'],
    unreadable: ['search', '--index', 'locked/de.npy', '--queries', 'emb/en.npy'],
    repeated: ['search', '--index', 'emb/de.npy', '--queries', 'emb/en.npy', '-p', 'p.json', '-p', 'p.json'],
    'full disk': ['search', '--index', 'emb/de.npy', '--queries', 'emb/en.npy', '--index-out', 'full/idx'],
  },
  'project --out pglite:': {
    missing: ['project', '-p', 'p.json', '--in', 'missing.npy', '--out', 'pglite:db'],
    directory: ['project', '-p', 'p.json', '--in', 'emb/de.npy', '--out', 'pglite:emb/de.npy'],
    unreadable: ['project', '-p', 'p.json', '--in', 'emb/de.npy', '--out', 'pglite:locked/db'],
    repeated: ['project', '-p', 'p.json', '--in', 'emb/de.npy', '--out', 'pglite:db', '--table', 'a', '--table', 'b'],
    'full disk': ['project', '-p', 'p.json', '--in', 'emb/de.npy', '--out', 'pglite:full/db'],
  },
  'search --index pglite:': {
    missing: ['search', '--index', 'pglite:nodb', '--queries', 'emb/en.npy'],
    directory: ['search', '--index', 'pglite:emb/de.npy', '--queries', 'emb/en.npy'],
    unreadable: ['search', '--index', 'pglite:locked/db', '--queries', 'emb/en.npy'],
    repeated: ['search', '--index', 'pglite:db', '--table', 'a', '--table', 'b', '--queries', 'emb/en.npy'],
    'full disk': null,
  },
  mine: {
    missing: ['mine', '--src', 'missing.npy', '--trg', 'emb/en.npy', '--out', 'm.tsv'],
    directory: ['mine', '--src', 'adir.npy', '--trg', 'emb/en.npy', '--out', 'm.tsv'],
    unreadable: ['mine', '--src', 'locked/de.npy', '--trg', 'emb/en.npy', '--out', '/tmp/lsar-battery-u/m.tsv'],
    repeated: ['mine', '--src', 'emb/de.npy', '--src', 'emb/fr.npy', '--trg', 'emb/en.npy', '--out', 'm.tsv'],
    'full disk': ['mine', '--src', 'emb/de.npy', '--trg', 'emb/en.npy', '--out', 'full/m.tsv'],
  },
  export: {
    missing: ['export', '-p', 'missing.json', '--format', 'safetensors', '--out', 'e.safetensors'],
    directory: ['export', '-p', 'adir', '--format', 'safetensors', '--out', 'e.safetensors'],
    unreadable: ['export', '-p', 'locked/p.json', '--format', 'safetensors', '--out', '/tmp/lsar-battery-u/e.safetensors'],
    repeated: ['export', '-p', 'p.json', '--format', 'safetensors', '--out', 'a.safetensors', '--out', 'b.safetensors'],
    'full disk': ['export', '-p', 'p.json', '--format', 'safetensors', '--out', 'full/e.safetensors'],
  },
  serve: {
    missing: ['serve', '--model', TINY_BERT, '-p', 'missing.json', '--port', '0'],
    directory: ['serve', '--model', TINY_BERT, '-p', 'adir', '--port', '0'],
    unreadable: ['serve', '--model', TINY_BERT, '-p', 'locked/p.json', '--port', '0'],
    // yargs alone keeps the last of --port 0 --port 1
    repeated: ['serve', '--model', TINY_BERT, '--port', '0', '--port', '1'],
    'full disk': null, // serve writes no file
  },
};

/** What each case must say (besides: one line, exit 1 or 2, no stack). */
const SAYS: Record<Case, RegExp> = {
  missing: /no such (file|directory|projection file)/,
  directory: /is a directory|no such projection file|expected a \.npy|is a file; expected a directory/,
  unreadable: /permission denied/,
  repeated: /takes one value, but was given 2/,
  'full disk': /no space left on device/,
};

let work: string;
let full: string | undefined;
let fullReason = isRoot ? 'mounting a tmpfs is not allowed here' : 'the full-disk cases need root to mount a tmpfs';

beforeAll(async () => {
  // not tempDir(): that is removed after each test, and a tmpfs is mounted inside
  work = mkdtempSync(join(tmpdir(), 'lsar-battery-'));
  chmodSync(work, 0o755);
  const data = planted(['en', 'de', 'fr'], 40, 16, 3);
  mkdirSync(join(work, 'emb'));
  mkdirSync(join(work, 'locked'));
  mkdirSync(join(work, 'adir'));
  mkdirSync(join(work, 'adir.npy'));
  for (const [l, x] of Object.entries(data)) {
    writeFileSync(join(work, 'emb', `${l}.npy`), encodeNpy(x, [40, 16]));
    writeFileSync(join(work, 'locked', `${l}.npy`), encodeNpy(x, [40, 16]));
  }
  const p = fitFromArrays(data, 16, { method: 'lsar' });
  await saveProjection(join(work, 'p.json'), p);
  await saveProjection(join(work, 'locked', 'p.json'), p);
  const lines = Array.from({ length: 60 }, (_, i) => `sentence ${i} of the battery`).join('\n') + '\n';
  for (const f of ['en.txt', 'de.txt', 'locked/en.txt']) writeFileSync(join(work, f), lines);
  mkdirSync('/tmp/lsar-battery-u', { recursive: true, mode: 0o777 });
  chmodSync('/tmp/lsar-battery-u', 0o777);
  if (unreadable === 'setpriv') chmodSync(join(work, 'locked'), 0o700);
  else if (unreadable === 'chmod') for (const f of readdirSync(join(work, 'locked'))) chmodSync(join(work, 'locked', f), 0);
  if (canMount) {
    full = join(work, 'full');
    mkdirSync(full);
    try {
      execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=64k', 'tmpfs', full], { stdio: 'ignore' });
      // fill it to the last byte: every write now fails with ENOSPC
      spawnSync('dd', ['if=/dev/zero', `of=${join(full, 'filler')}`, 'bs=4k'], { stdio: 'ignore' });
    } catch (e) {
      fullReason = `mounting a tmpfs failed (${(e as Error).message.split('\n')[0]})`;
      full = undefined;
    }
  }
}, 30_000);

afterAll(() => {
  if (full) spawnSync('umount', [full]);
  rmSync(work, { recursive: true, force: true });
  rmSync('/tmp/lsar-battery-u', { recursive: true, force: true });
});

function run(args: string[], as: 'self' | 'other'): Promise<CliRun> {
  if (as === 'other') {
    return new Promise((resolve) => {
      const r = spawnSync('setpriv', ['--reuid', '65534', '--regid', '65534', '--clear-groups', process.execPath, BIN, ...args, '-q'], {
        cwd: work,
        encoding: 'utf8',
        env: { ...process.env, HOME: '/tmp/lsar-battery-u' },
        timeout: 60_000,
      });
      resolve({ code: r.status ?? -1, stdout: r.stdout, stderr: r.stderr });
    });
  }
  return runBin([...args, '-q'], { cwd: work });
}

describe('every command x {missing, directory, unreadable, repeated option, full disk}: one line, exit 1 or 2', () => {
  for (const [command, cases] of Object.entries(TABLE)) {
    for (const [kase, args] of Object.entries(cases) as [Case, string[] | null][]) {
      if (args === null) continue;
      const skip =
        kase === 'unreadable' && !unreadable
          ? 'running as root without setpriv: root reads any file'
          : kase === 'full disk' && !canMount
            ? fullReason
            : undefined;
      it.skipIf(skip !== undefined)(
        `${command}: ${kase}${skip ? ` (skipped: ${skip})` : ''}`,
        async () => {
          if (kase === 'full disk' && !full) return expect.fail(fullReason);
          const r = await run(args, kase === 'unreadable' && unreadable === 'setpriv' ? 'other' : 'self');
          const lines = r.stderr.trimEnd().split('\n');
          expect({ code: [1, 2].includes(r.code), lines: lines.length, stack: /\n\s+at |internal error/.test(r.stderr) }, r.stderr).toEqual(
            {
              code: true,
              lines: 1,
              stack: false,
            },
          );
          expect(r.stderr).toMatch(SAYS[kase]);
          if (kase === 'repeated') expect(r.code).toBe(2);
          if (kase === 'full disk') expect(readdirSync(full as string)).toEqual(['filler']);
        },
        60_000,
      );
    }
  }
});
