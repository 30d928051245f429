/** The package entry (`import ... from 'lsar'`), as installed: dist/index.js. */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { describe, expect, it } from 'vitest';
import { GOLDEN, ROOT } from './helpers.js';

describe("import from 'lsar'", () => {
  it('exports exactly the API the README documents, nothing internal', async () => {
    const lsar = (await import(pathToFileURL(join(ROOT, 'dist', 'index.js')).href)) as Record<string, unknown>;
    const readme = readFileSync(join(ROOT, 'README.md'), 'utf8');
    const table = readme.slice(readme.indexOf('<!-- api:start -->'), readme.indexOf('<!-- api:end -->'));
    const documented = [...table.matchAll(/^\| (.+?) \|/gm)].flatMap((m) =>
      [...(m[1] as string).matchAll(/`(\w+)`/g)].map((x) => x[1] as string),
    );
    expect(documented.length).toBeGreaterThan(20);
    expect(Object.keys(lsar).sort()).toEqual(documented.sort());
  });

  it('fits from files and applies to a single vector (a pipeline in a few lines)', async () => {
    const lsar = (await import(pathToFileURL(join(ROOT, 'dist', 'index.js')).href)) as typeof import('../src/index.js');
    const { projection } = await lsar.fitFromFiles(await lsar.listLanguageFiles(join(GOLDEN, 'fit'), '.npy'), {
      method: 'lsar',
      hash: false,
    });
    const v = new Float32Array(64).fill(1);
    const y = lsar.apply(projection, v);
    expect(y).toHaveLength(64);
    expect(lsar.apply(projection, y)[0]).toBeCloseTo(y[0] as number, 5);
  });
});
