/**
 * Parity with an independent numpy implementation of the paper's code
 * (../shared/golden/planted-small): projections within 1e-4 max-abs, and
 * cosine top-1 accuracy equal to expected/metrics.json exactly.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { expect, it, describe } from 'vitest';
import { embeddings } from '../../src/core/embeddings.js';
import { alignedTop1Hits, meanAccuracy } from '../../src/core/metrics.js';
import { listLanguageFiles } from '../../src/io/inputs.js';
import { readNpy } from '../../src/io/npy.js';
import { fitFromFiles } from '../../src/pipeline/fit.js';
import { projectStream } from '../../src/pipeline/project/index.js';
import type { Method } from '../../src/core/projection.js';
import { GOLDEN, HAS_SHARED, tempDir } from '../helpers.js';

interface Case {
  languages: string[];
  methods: string[];
}
const spec = (HAS_SHARED ? JSON.parse(readFileSync(join(GOLDEN, 'case.json'), 'utf8')) : { languages: [], methods: [] }) as Case;
const metrics = (HAS_SHARED ? JSON.parse(readFileSync(join(GOLDEN, 'expected', 'metrics.json'), 'utf8')) : {}) as Record<
  string,
  Record<string, number>
>;
const foreign = spec.languages.filter((l) => l !== 'en');

/** "lsar-8" -> lsar with rank 8 removing 8; "lir-1" -> lir removing 1. */
function parseCase(name: string): { method: Method; rank?: number; remove?: number } {
  const [m, k] = name.split('-');
  if (m === 'lsar') return { method: 'lsar', rank: Number(k), remove: Number(k) };
  if (m === 'lir') return { method: 'lir', remove: Number(k) };
  return { method: m as Method };
}

const TOL = 1e-4;

describe('golden planted-small', () => {
  it('lists every method the case names', () => {
    expect(spec.methods.sort()).toEqual(Object.keys(metrics).sort());
  });

  for (const name of spec.methods) {
    it(`${name}: projections within ${TOL} and accuracy@1 exactly as the reference`, async () => {
      const inputs = await listLanguageFiles(join(GOLDEN, 'fit'), '.npy');
      const { projection } = await fitFromFiles(inputs, parseCase(name));
      const dir = await tempDir();
      const hits: Record<string, number> = {};
      const totals: Record<string, number> = {};
      for (const lang of foreign) {
        const out = join(dir, `${lang}.npy`);
        await projectStream(projection, { input: join(GOLDEN, 'bitext', `${lang}.npy`), output: out, lang, blockRows: 64 });
        const got = await readNpy(out);
        const want = await readNpy(join(GOLDEN, 'expected', name, `${lang}.npy`));
        expect(got.rows).toBe(want.rows);
        expect(got.dim).toBe(want.dim);
        let maxAbs = 0;
        for (let i = 0; i < want.data.length; i++) maxAbs = Math.max(maxAbs, Math.abs((got.data[i] as number) - (want.data[i] as number)));
        expect(maxAbs, `${name}/${lang} max-abs`).toBeLessThanOrEqual(TOL);
        // The English side of each pair is projected as English.
        const enOut = join(dir, `${lang}.en.npy`);
        await projectStream(projection, { input: join(GOLDEN, 'bitext', `${lang}.en.npy`), output: enOut, lang: 'en' });
        const en = await readNpy(enOut);
        hits[lang] = alignedTop1Hits(embeddings(got.data, got.dim), embeddings(en.data, en.dim));
        totals[lang] = got.rows;
      }
      const expected = metrics[name] as Record<string, number>;
      for (const lang of foreign) expect((hits[lang] as number) / (totals[lang] as number), `${name}/${lang}`).toBe(expected[lang]);
      const mean = meanAccuracy(
        foreign.map((l) => hits[l] as number),
        foreign.map((l) => totals[l] as number),
      );
      expect(mean).toBe(expected.mean);
    });
  }
});
