/**
 * The packed package as a library user gets it: `npm pack`, then installed into a new project
 * offline from npm's cache without the optional heavy parts (transformers.js, hnswlib-node),
 * and used from ESM and CommonJS.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ROOT, TINY_BERT, tempDir } from './helpers.js';

const npm = (args: string[], cwd: string) =>
  execFileSync('npm', args, { cwd, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], timeout: 120_000 });

/**
 * `npm pack`, then a consumer project whose lock file pins lsar's runtime dependencies as lsar's
 * own lock does, so `npm ci --offline` installs them from npm's cache (filled by lsar's npm ci).
 */
async function packedConsumer(): Promise<string> {
  const dir = await tempDir();
  const listing = JSON.parse(npm(['pack', '--ignore-scripts', '--json', '--pack-destination', dir], ROOT)) as {
    filename: string;
    files: { path: string }[];
  }[];
  const files = listing[0]!.files.map((f) => f.path);
  expect(files).toContain('LICENSE');
  expect(files).toContain('dist/index.js');
  expect(files.filter((f) => f.endsWith('.map'))).toEqual([]);
  expect(files.filter((f) => f.startsWith('src/') || f.startsWith('tests/'))).toEqual([]);
  // A consumer project whose lock file pins lsar's runtime dependencies as lsar's own lock
  // does, so `npm ci --offline` installs them from npm's cache (filled by lsar's npm ci).
  const proj = join(dir, 'consumer');
  await mkdir(proj);
  const tgz = `file:../${listing[0]!.filename}`;
  const lock = JSON.parse(readFileSync(join(ROOT, 'package-lock.json'), 'utf8')) as { packages: Record<string, Record<string, unknown>> };
  const root = lock.packages['']!;
  const pkgs: Record<string, unknown> = { '': { name: 'consumer', version: '1.0.0', dependencies: { lsar: tgz } } };
  for (const [k, v] of Object.entries(lock.packages)) {
    if (k === '' || v.dev) continue;
    const entry = { ...v };
    // npm 11 leaves `resolved` out of lock files; with it, npm fetches the tarball (by integrity, from the cache) without asking for metadata
    const name = k.slice(k.lastIndexOf('node_modules/') + 'node_modules/'.length);
    entry.resolved ??= `https://registry.npmjs.org/${name}/-/${name.split('/').pop()}-${String(v.version)}.tgz`;
    if (entry.devOptional) {
      delete entry.devOptional;
      entry.optional = true;
    }
    pkgs[k] = entry;
  }
  pkgs['node_modules/lsar'] = {
    version: root.version,
    resolved: tgz,
    dependencies: root.dependencies,
    optionalDependencies: root.optionalDependencies,
    engines: root.engines,
    bin: { lsar: 'bin/lsar.js' },
  };
  writeFileSync(
    join(proj, 'package.json'),
    JSON.stringify({ name: 'consumer', version: '1.0.0', type: 'module', dependencies: { lsar: tgz } }),
  );
  writeFileSync(
    join(proj, 'package-lock.json'),
    JSON.stringify({ name: 'consumer', version: '1.0.0', lockfileVersion: 3, requires: true, packages: pkgs }),
  );
  return proj;
}

describe('the packed package', () => {
  it('installs offline without optional dependencies, ships no source maps, and works from ESM and require()', async () => {
    const proj = await packedConsumer();
    npm(['ci', '--offline', '--omit=optional', '--no-audit', '--no-fund'], proj);
    const installed = npm(['ls', '--all', '--parseable'], proj);
    expect(installed).not.toMatch(/@huggingface|hnswlib-node|onnxruntime/);
    writeFileSync(
      join(proj, 'use.mjs'),
      `import { fitFromArrays, apply, buildIndex, embeddings, embedCorpora, closeWorkerPool } from 'lsar';
const d = 8;
const mk = (o) => Float32Array.from({ length: 5 * d }, (_, i) => Math.sin(i * 1.3 + o) + o);
const p = fitFromArrays({ en: mk(0), de: mk(1), fr: mk(2) }, d, { method: 'lsar' });
const out = { rows: apply(p, mk(3)).length / d, rank: p.rank };
const ex = await buildIndex(embeddings(mk(0), d), { kind: 'exact' });
out.top = (await ex.search(embeddings(mk(0).subarray(0, d), d), 1)).indices[0];
for (const [name, f] of [['hnsw', () => buildIndex(embeddings(mk(0), d), { kind: 'hnsw' })], ['embed', () => embedCorpora({ model: 'x/y', input: ['en=a.txt'], out: 'o' })]]) {
  try { await f(); } catch (e) { out[name] = e.code + ': ' + e.message; }
}
await closeWorkerPool();
console.log(JSON.stringify(out));`,
    );
    const out = JSON.parse(execFileSync(process.execPath, ['use.mjs'], { cwd: proj, encoding: 'utf8', timeout: 60_000 })) as Record<
      string,
      unknown
    >;
    expect(out).toMatchObject({ rows: 5, rank: 2, top: 0 });
    expect(out.hnsw).toBe(
      'DEPENDENCY: HNSW search needs the package hnswlib-node, which is not installed: npm install hnswlib-node (exact search needs no extra package)',
    );
    expect(out.embed).toMatch(/^DEPENDENCY: Embedding with a model needs the package @huggingface\/transformers, which is not installed/);
    expect(out.embed).toContain('npm install --onnxruntime-node-install=skip');
    const cjs = execFileSync(process.execPath, ['-e', "const l = require('lsar'); console.log(typeof l.apply, typeof l.fitFromFiles)"], {
      cwd: proj,
      encoding: 'utf8',
    });
    expect(cjs.trim()).toBe('function function');
  }, 180_000);

  it("installs with the optional dependencies offline as the README says (onnxruntime-node's GPU download skipped), and npx lsar embed works", async () => {
    const proj = await packedConsumer();
    // the README's install flag; without it, onnxruntime-node's install script downloads CUDA
    // libraries from outside the npm registry, fails offline, and npm drops it and transformers.js
    npm(['ci', '--offline', '--onnxruntime-node-install=skip', '--no-audit', '--no-fund'], proj);
    const installed = npm(['ls', '--all', '--parseable'], proj);
    expect(installed).toMatch(/@huggingface\/transformers/);
    expect(installed).toMatch(/onnxruntime-node/);
    writeFileSync(join(proj, 'en.txt'), 'Hello world.\nThe cat sleeps.\n');
    writeFileSync(join(proj, 'de.txt'), 'Hallo Welt.\nDie Katze schläft.\n');
    const out = execFileSync(
      'npx',
      ['--offline', 'lsar', 'embed', '--model', TINY_BERT, '-i', 'en=en.txt', '-i', 'de=de.txt', '--out', 'emb', '--json'],
      {
        cwd: proj,
        encoding: 'utf8',
        stdio: ['ignore', 'pipe', 'pipe'],
        timeout: 120_000,
      },
    );
    expect(existsSync(join(proj, 'emb', 'en.npy')) && existsSync(join(proj, 'emb', 'de.npy'))).toBe(true);
    expect(out).toMatch(/"languages"/);
  }, 300_000);
});
