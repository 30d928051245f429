/** retrieve mining: BUCC-style sets from Tatoeba (or BUCC files), F1 at the dev-chosen threshold. */
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { embeddings } from '../../src/core/embeddings.js';
import { encodeNpy } from '../../src/io/npy.js';
import { tatoebaMiningSet } from '../../src/pipeline/retrieve/mining-task.js';
import { retrieve } from '../../src/pipeline/retrieve/index.js';
import { describeShared, gaussian, SHARED, tempDir } from '../helpers.js';

/** Two sides whose row i share a random meaning (plus noise). */
function aligned(n: number, d: number, seed: number, noise = 0.5) {
  const g = gaussian(seed);
  const meaning = Float32Array.from({ length: n * d }, g);
  const side = () => Float32Array.from(meaning, (x) => x + noise * g());
  return { f: side(), e: side() };
}

describe('tatoebaMiningSet', () => {
  it('splits rows into dev and test halves; each side keeps half of a split; gold is what both kept; the same seed gives the same sets', () => {
    const { f, e } = aligned(1000, 4, 1);
    const s = tatoebaMiningSet('de', embeddings(f, 4), embeddings(e, 4));
    for (const split of [s.dev, s.test]) {
      expect(split.src.rows).toBe(250);
      expect(split.trg.rows).toBe(250);
      expect(split.gold.size).toBeGreaterThan(90); // about a quarter of 500
      expect(split.gold.size).toBeLessThan(160);
      for (const key of split.gold) {
        const [i, j] = key.split('-').map(Number);
        // a gold pair is the same Tatoeba row on both sides: identical meaning, only noise apart
        const a = split.src.data.subarray(i! * 4, i! * 4 + 4);
        const b = split.trg.data.subarray(j! * 4, j! * 4 + 4);
        expect(Math.hypot(...Array.from(a, (x, k) => x - (b[k] as number)))).toBeLessThan(4);
      }
    }
    const again = tatoebaMiningSet('de', embeddings(f, 4), embeddings(e, 4));
    expect([...again.test.gold]).toEqual([...s.test.gold]);
    expect([...tatoebaMiningSet('fr', embeddings(f, 4), embeddings(e, 4)).test.gold]).not.toEqual([...s.test.gold]);
  });
});

describeShared('retrieve mining', () => {
  it('from Tatoeba: well-aligned embeddings mine their translations (F1 high), shuffled ones do not', async () => {
    const dir = await tempDir();
    const d = 16;
    const { f, e } = aligned(1000, d, 5, 0.4);
    await writeFile(join(dir, 'de.npy'), encodeNpy(f, [1000, d]));
    await writeFile(join(dir, 'de.en.npy'), encodeNpy(e, [1000, d]));
    const mineDe = () =>
      retrieve({
        task: 'mining',
        data: join(SHARED, 'data', 'tatoeba'),
        embeddings: dir,
        langs: ['de'],
        methods: ['none'],
        exact: true,
      });
    const r = await mineDe();
    expect(r.metric).toMatch(/^F1 \(test, threshold chosen on dev/);
    expect(r.results.none!.perLanguage.de).toBeGreaterThan(0.8);
    expect(r.also!.precision!.results.none!.mean).toBeGreaterThan(0.8);
    expect(r.also!.threshold!.results.none!.mean).toBeGreaterThan(0.5);
    const g = gaussian(9);
    await writeFile(join(dir, 'de.en.npy'), encodeNpy(Float32Array.from({ length: 1000 * d }, g), [1000, d]));
    const s = await mineDe();
    expect(s.results.none!.mean).toBeLessThan(0.3);
  });
});

describe('retrieve mining on BUCC files', () => {
  it('reads <xx>-en.<split>.<xx>, .en and .gold with embeddings beside them', async () => {
    const dir = await tempDir();
    const data = join(dir, 'bucc');
    const emb = join(dir, 'emb');
    await mkdir(data);
    await mkdir(emb);
    const d = 8;
    for (const split of ['dev', 'test']) {
      const { f, e } = aligned(40, d, split === 'dev' ? 2 : 3, 0.2);
      // source rows 0..39 and target rows 0..39; gold: the first 20 rows (the rest is unrelated on the target side)
      const g = gaussian(split === 'dev' ? 12 : 13);
      for (let i = 20 * d; i < 40 * d; i++) e[i] = g();
      await writeFile(
        join(data, `de-en.${split}.de`),
        Array.from({ length: 40 }, (_, i) => `de-${split}-${i}\tSatz ${i}`).join('\n') + '\n',
      );
      await writeFile(
        join(data, `de-en.${split}.en`),
        Array.from({ length: 40 }, (_, i) => `en-${split}-${i}\tsentence ${i}`).join('\n') + '\n',
      );
      await writeFile(
        join(data, `de-en.${split}.gold`),
        Array.from({ length: 20 }, (_, i) => `de-${split}-${i}\ten-${split}-${i}`).join('\n') + '\n',
      );
      await writeFile(join(emb, `de-en.${split}.de.npy`), encodeNpy(f, [40, d]));
      await writeFile(join(emb, `de-en.${split}.en.npy`), encodeNpy(e, [40, d]));
    }
    const r = await retrieve({ task: 'mining', data, embeddings: emb, methods: ['none'], exact: true });
    expect(Object.keys(r.results.none!.perLanguage)).toEqual(['de']);
    expect(r.results.none!.mean).toBeGreaterThan(0.9);
    await writeFile(join(data, 'de-en.test.gold'), 'de-test-0\ten-test-99\n');
    await expect(retrieve({ task: 'mining', data, embeddings: emb, methods: ['none'], exact: true })).rejects.toThrow(
      /de-en\.test\.gold:1: ids de-test-0 \/ en-test-99 are not in/,
    );
  });
});
