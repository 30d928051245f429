/**
 * Export: lsar embed with the exported model (projection inside the graph, output
 * sentence_embedding) against lsar embed with the original model followed by lsar project of
 * each language, on the bundled corpora. Target: within 3%.
 */
import { readdirSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import { embedCorpora } from '../src/pipeline/embed.js';
import { exportModel } from '../src/pipeline/export/model.js';
import { fitToArtifact } from '../src/pipeline/fit.js';
import { projectFiles } from '../src/pipeline/project/index.js';
import { loadProjection } from '../src/io/artifact.js';
import { DIR, fmt, ROOT, SCALE, time } from './lib.js';
import type { Row } from './search.js';

export async function benchExport(rows: Row[]): Promise<void> {
  const model = join(ROOT, 'tests', 'fixtures', 'tiny-bert');
  const corpora = join(ROOT, 'corpora');
  const langs = readdirSync(corpora)
    .filter((f) => f.endsWith('.txt'))
    .slice(0, Math.max(3, Math.round(34 * SCALE)));
  const inputs = langs.map((f) => `${f.replace(/\.txt$/, '')}=${join(corpora, f)}`);
  const base = join(DIR, 'export');
  await rm(base, { recursive: true, force: true });
  const emb = join(base, 'emb');
  await embedCorpora({ model, offline: true, input: inputs, out: emb });
  const { path } = await fitToArtifact({ dir: emb, method: 'lsar', out: join(base, 'proj.json') });
  const projection = await loadProjection(path);
  const exported = join(base, 'model');
  await exportModel({ model, projection: path, out: exported, offline: true });
  let sentences = 0;
  // alternate the two, best of 3 each (thread scheduling makes single runs noisy here)
  let tTwo = Infinity;
  let tOne = Infinity;
  for (let rep = 0; rep < 3; rep++) {
    const a = join(base, 'a');
    const [t2] = await time(async () => {
      const m = await embedCorpora({ model, offline: true, force: true, input: inputs, out: a });
      sentences = Object.values(m.languages).reduce((s, l) => s + l.rows, 0);
      await projectFiles(projection, { inputs: langs.map((f) => join(a, f.replace(/\.txt$/, '.npy'))), outDir: join(base, 'a-proj') });
    });
    tTwo = Math.min(tTwo, t2);
    const [t1] = await time(() => embedCorpora({ model: exported, offline: true, force: true, input: inputs, out: join(base, 'b') }));
    tOne = Math.min(tOne, t1);
  }
  await rm(base, { recursive: true, force: true });
  console.log(`  ${langs.length} bundled corpora, ${fmt(sentences)} sentences, fixture model (hidden 32), lsar rank ${projection.rank}`);
  console.log(`  lsar embed + lsar project (best of 3): ${tTwo.toFixed(2)} s  ${fmt(sentences / tTwo)} sentences/s`);
  console.log(
    `  exported model, lsar embed (best of 3): ${tOne.toFixed(2)} s  ${fmt(sentences / tOne)} sentences/s   ratio ${(tOne / tTwo).toFixed(3)}x (target <= 1.03x)`,
  );
  rows.push({ stage: `embed with exported model (vs embed + project)`, lsar: tOne, reference: tTwo, unit: 's' });
}
