/** The installed entry point: bin/lsar.js in a child process. */
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ROOT } from '../helpers.js';

function lsar(...args: string[]) {
  return spawnSync(process.execPath, [join(ROOT, 'bin', 'lsar.js'), ...args], { encoding: 'utf8', timeout: 60_000 });
}

describe('bin/lsar.js', () => {
  it('--version prints the package version', () => {
    const { version } = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { version: string };
    const r = lsar('--version');
    expect(r.status).toBe(0);
    expect(r.stdout.trim()).toBe(version);
  });

  it('--help lists the commands', () => {
    const r = lsar('--help');
    expect(r.status).toBe(0);
    for (const c of ['fit', 'project']) expect(r.stdout).toMatch(new RegExp(`lsar ${c}`));
  });

  for (const [cmd, flags] of [
    ['fit', ['--method', '--rank', '--remove', '--out', '--input', '--json']],
    ['project', ['--projection', '--in', '--out', '--lang', '--normalize']],
  ] as const) {
    it(`${cmd} --help explains its options`, () => {
      const r = lsar(cmd, '--help');
      expect(r.status).toBe(0);
      for (const f of flags) expect(r.stdout).toContain(f);
    });
  }

  it('an error is one line on stderr and a non-zero exit', () => {
    const r = lsar('project', '-p', '/nonexistent/p.json');
    expect(r.status).toBe(1);
    expect(r.stderr).toBe('lsar: /nonexistent/p.json: no such projection file (make one with lsar fit --out)\n');
  });
});
