/** The package entry (`import ... from 'lsar'`), as installed: dist/index.js. */
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { describe, expect, it } from 'vitest';
import { GOLDEN, ROOT } from './helpers.js';

describe("import from 'lsar'", () => {
  it('exposes what the CLI does: embed, fit, project, retrieve, search', async () => {
    const lsar = (await import(pathToFileURL(join(ROOT, 'dist', 'index.js')).href)) as Record<string, unknown>;
    for (const name of [
      'embedCorpora',
      'fitFromFiles',
      'fitFromArrays',
      'fitToArtifact',
      'saveProjection',
      'loadProjection',
      'apply',
      'projectStream',
      'retrieve',
      'searchNeighbors',
      'NpyReader',
      'NpyWriter',
      'LsarError',
      'VERSION',
    ]) {
      expect(lsar[name], name).toBeDefined();
    }
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
