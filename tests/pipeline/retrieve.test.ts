import { readFileSync } from 'node:fs';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { encodeNpy } from '../../src/io/npy.js';
import { fitToArtifact } from '../../src/pipeline/fit.js';
import { retrieve } from '../../src/pipeline/retrieve/index.js';
import { describeShared, gaussian, GOLDEN, listFiles, runCli, SHARED, tempDir, writeLangParquet } from '../helpers.js';

const metrics = JSON.parse(readFileSync(join(GOLDEN, 'expected', 'metrics.json'), 'utf8')) as Record<string, Record<string, number>>;
const golden = {
  embeddings: join(GOLDEN, 'bitext'),
  fitEmbeddings: join(GOLDEN, 'fit'),
  methods: ['none', 'demean', 'lir', 'lsar'] as ('none' | 'demean' | 'lir' | 'lsar')[],
  rank: [8, 2],
};

describeShared('retrieve pairs on planted-small', () => {
  it('exact search reproduces expected/metrics.json exactly for every method', async () => {
    const r = await retrieve({ task: 'pairs', ...golden, exact: true });
    expect(r.search).toBe('exact');
    expect(Object.keys(r.results).sort()).toEqual(Object.keys(metrics).sort());
    for (const [name, want] of Object.entries(metrics)) {
      const got = r.results[name]!;
      expect(got.mean, name).toBe(want.mean);
      for (const [lang, v] of Object.entries(want)) if (lang !== 'mean') expect(got.perLanguage[lang], `${name}/${lang}`).toBe(v);
    }
  });

  it('HNSW at default settings is within 0.5 points of the reference, and reports its recall', async () => {
    const r = await retrieve({ task: 'pairs', ...golden, search: 'hnsw' });
    expect(r.search).toBe('hnsw');
    for (const [name, want] of Object.entries(metrics)) {
      expect(Math.abs(r.results[name]!.mean - (want.mean as number)), name).toBeLessThanOrEqual(0.005 + 1e-12);
      for (const [lang, v] of Object.entries(want))
        if (lang !== 'mean') expect(Math.abs(r.results[name]!.perLanguage[lang]! - v)).toBeLessThanOrEqual(0.005 + 1e-12); // one query in 200
    }
    expect(r.recall!.queries).toBeGreaterThan(0);
    expect(r.recall!.at10).toBeGreaterThanOrEqual(0.98);
    expect(r.rankSweep).toEqual({ lsar: { 8: r.results['lsar-8']!.mean, 2: r.results['lsar-2']!.mean } });
  });

  it('evaluates a saved projection and explicit --queries/--targets files', async () => {
    const dir = await tempDir();
    await fitToArtifact({ dir: golden.fitEmbeddings, method: 'lsar', rank: 2, out: join(dir, 'p.json') });
    const r = await retrieve({
      task: 'pairs',
      methods: [],
      projection: [join(dir, 'p.json')],
      queries: join(GOLDEN, 'bitext', 'de.npy'),
      targets: join(GOLDEN, 'bitext', 'de.en.npy'),
      queryLang: 'de',
      exact: true,
    });
    expect(r.results['lsar-2']!.mean).toBe(metrics['lsar-2']!.de);
  });

  it('pairs with a language column: one Parquet file of interleaved languages gives each language its golden accuracy exactly', async () => {
    const { readNpy } = await import('../../src/io/npy.js');
    const dir = await tempDir();
    const langs = ['ar', 'de', 'fr'];
    const sides = await Promise.all(
      langs.map(
        async (l) => [await readNpy(join(GOLDEN, 'bitext', `${l}.npy`)), await readNpy(join(GOLDEN, 'bitext', `${l}.en.npy`))] as const,
      ),
    );
    // rows interleaved across languages, each language's rows in their own order
    const lang: string[] = [];
    const q: number[][] = [];
    const t: number[] = [];
    const n = sides[0]![0].rows;
    const d = sides[0]![0].dim;
    for (let i = 0; i < n; i++) {
      sides.forEach(([f, e], k) => {
        lang.push(langs[k] as string);
        q.push(Array.from(f.data.subarray(i * d, (i + 1) * d)));
        t.push(...e.data.subarray(i * d, (i + 1) * d));
      });
    }
    await writeLangParquet(join(dir, 'q.parquet'), lang, q);
    await writeFile(join(dir, 't.npy'), encodeNpy(Float32Array.from(t), [lang.length, d]));
    const r = await retrieve({
      task: 'pairs',
      fitEmbeddings: golden.fitEmbeddings,
      methods: golden.methods,
      rank: golden.rank,
      queries: join(dir, 'q.parquet'),
      targets: join(dir, 't.npy'),
      targetLang: 'en',
      langColumn: 'lang',
      exact: true,
    });
    for (const m of ['none', 'demean', 'lir-1', 'lsar-8', 'lsar-2']) {
      const got = r.results[m] as unknown as { perLanguage: Record<string, number> };
      for (const l of langs) expect(got.perLanguage[l]).toBe(metrics[m]![l]);
      expect(Object.keys(got.perLanguage).sort()).toEqual(langs);
    }
  });

  it('refuses pairs of unequal length and dims that do not match the projection', async () => {
    const dir = await tempDir();
    await writeFile(join(dir, 'q.npy'), encodeNpy(new Float32Array(5 * 64), [5, 64]));
    await writeFile(join(dir, 't.npy'), encodeNpy(new Float32Array(4 * 64), [4, 64]));
    await expect(retrieve({ task: 'pairs', methods: ['none'], queries: join(dir, 'q.npy'), targets: join(dir, 't.npy') })).rejects.toThrow(
      /t\.npy: 4 rows, but .*q\.npy has 5: aligned pairs need equal lengths/,
    );
    await writeFile(join(dir, 'q8.npy'), encodeNpy(new Float32Array(4 * 8), [4, 8]));
    await writeFile(join(dir, 't8.npy'), encodeNpy(new Float32Array(4 * 8), [4, 8]));
    await expect(
      retrieve({
        task: 'pairs',
        methods: ['lsar'],
        fitEmbeddings: golden.fitEmbeddings,
        queries: join(dir, 'q8.npy'),
        targets: join(dir, 't8.npy'),
      }),
    ).rejects.toThrow(/q8\.npy: dimension 8, but lsar-8 was fitted on dimension 64/);
  });

  it('refuses lir without fit data for an evaluated language', async () => {
    const dir = await tempDir();
    for (const l of ['en', 'de']) await writeFile(join(dir, `${l}.npy`), readFileSync(join(GOLDEN, 'fit', `${l}.npy`)));
    await expect(
      retrieve({ task: 'pairs', methods: ['lir'], fitEmbeddings: dir, embeddings: golden.embeddings, langs: ['fr'], exact: true }),
    ).rejects.toThrow(/lir-1 has no fit data for language "fr"/);
  });
});

describeShared('retrieve tatoeba', () => {
  it('checks the embeddings against the Tatoeba files and names a language with missing files', async () => {
    const dir = await tempDir();
    await writeFile(join(dir, 'de.npy'), encodeNpy(new Float32Array(999 * 4), [999, 4]));
    await writeFile(join(dir, 'de.en.npy'), encodeNpy(new Float32Array(999 * 4), [999, 4]));
    const data = join(SHARED, 'data', 'tatoeba');
    await expect(retrieve({ task: 'tatoeba', data, embeddings: dir, langs: ['de'], methods: ['none'] })).rejects.toThrow(
      /de\.npy: 999 rows, but .*tatoeba\.deu-eng\.deu has 1000/,
    );
    await expect(retrieve({ task: 'tatoeba', data: dir, embeddings: dir, langs: ['de'], methods: ['none'] })).rejects.toThrow(
      /tatoeba\.deu-eng\.deu: missing: Tatoeba language "de" needs both/,
    );
  });

  it('English queries the foreign side by default; both directions and xSIM on request', async () => {
    // Real Tatoeba lines for de, with synthetic embeddings: row i of both sides shares a random "meaning".
    const dir = await tempDir();
    const g = gaussian(3);
    const d = 16;
    const meaning = Float32Array.from({ length: 1000 * d }, g);
    const noisy = (s: number) => Float32Array.from(meaning, (x) => x + s * g());
    await writeFile(join(dir, 'de.npy'), encodeNpy(noisy(0.7), [1000, d]));
    await writeFile(join(dir, 'de.en.npy'), encodeNpy(noisy(0.7), [1000, d]));
    const r = await retrieve({
      task: 'tatoeba',
      data: join(SHARED, 'data', 'tatoeba'),
      embeddings: dir,
      methods: ['none'],
      exact: true,
      direction: 'both',
      xsim: true,
    });
    expect(r.metric).toBe('accuracy@1 (en->xx, cosine)');
    expect(Object.keys(r.results.none!.perLanguage)).toEqual(['de']);
    const a = r.results.none!.mean;
    expect(a).toBeGreaterThan(0.3);
    expect(a).toBeLessThan(1);
    expect(r.also!['accuracy@1 xx->en']!.results.none!.mean).toBeGreaterThan(0.3);
    // margin scoring corrects hubness: its error is below the cosine error here
    expect(r.also!.xsim!.results.none!.mean).toBeLessThan(1 - r.also!['accuracy@1 xx->en']!.results.none!.mean + 1e-9);
  });
});

describe('retrieve lareqa', () => {
  it('perfectly aligned embeddings give mAP 1; a shuffled pool does not', async () => {
    // Two languages, one paragraph each with 3 sentences, 2 parallel questions.
    const dir = await tempDir();
    const data = join(dir, 'xq');
    await mkdir(data);
    const para = (sents: string[], qs: [string, string, number][]) => {
      let ctx = '';
      const breaks: [number, number][] = [];
      for (const s of sents) {
        breaks.push([ctx.length, ctx.length + s.length]);
        ctx += s + ' ';
      }
      return {
        context: ctx,
        sentences: sents,
        sentence_breaks: breaks,
        qas: qs.map(([id, q, sent]) => ({
          id,
          question: q,
          answers: [{ answer_start: (breaks[sent] as [number, number])[0] + 1, text: 'x' }],
        })),
      };
    };
    await writeFile(
      join(data, 'en.json'),
      JSON.stringify({
        data: [
          {
            paragraphs: [
              para(
                ['A one.', 'B two.', 'C three.'],
                [
                  ['q1', 'which one?', 0],
                  ['q2', 'which three?', 2],
                ],
              ),
            ],
          },
        ],
      }),
    );
    await writeFile(
      join(data, 'de.json'),
      JSON.stringify({
        data: [
          {
            paragraphs: [
              para(
                ['A eins.', 'B zwei.', 'C drei.'],
                [
                  ['q1', 'welche eins?', 0],
                  ['q2', 'welche drei?', 2],
                ],
              ),
            ],
          },
        ],
      }),
    );
    const emb = join(dir, 'emb');
    await mkdir(emb);
    const e = (i: number) => [i === 0 ? 1 : 0, i === 1 ? 1 : 0, i === 2 ? 1 : 0, 0.1];
    for (const l of ['en', 'de']) {
      await writeFile(join(emb, `${l}.candidates.npy`), encodeNpy([0, 1, 2].flatMap(e), [3, 4]));
      await writeFile(join(emb, `${l}.questions.npy`), encodeNpy([0, 2].flatMap(e), [2, 4]));
    }
    const r = await retrieve({ task: 'lareqa', data, embeddings: emb, methods: ['none'], exact: true });
    expect(r.metric).toBe('mAP (full pool, dot)');
    expect(r.results.none).toEqual({ mean: 1, perLanguage: { de: 1, en: 1 } });
    expect(r.also!['mAP@20']!.results.none!.mean).toBe(1);
    // German candidates scrambled: each question's German answer drops below two English ones... partially
    await writeFile(join(emb, 'de.candidates.npy'), encodeNpy([2, 0, 1].flatMap(e), [3, 4]));
    const s = await retrieve({ task: 'lareqa', data, embeddings: emb, methods: ['none'], exact: true });
    expect(s.results.none!.mean).toBeLessThan(1);
    await writeFile(join(emb, 'de.questions.npy'), encodeNpy([0, 1, 2].flatMap(e), [3, 4]));
    await expect(retrieve({ task: 'lareqa', data, embeddings: emb, methods: ['none'] })).rejects.toThrow(
      /de\.questions\.npy: 3 rows, but .*de\.json \(questions\) has 2/,
    );
  });
});

describe('lsar retrieve (CLI)', () => {
  it('--json has the documented shape and --report writes Markdown with SVG plots', async () => {
    const rep = join(await tempDir(), 'report');
    const r = await runCli([
      'retrieve',
      'pairs',
      '--embeddings',
      golden.embeddings,
      '--fit-embeddings',
      golden.fitEmbeddings,
      '--methods',
      'none,lsar',
      '--rank',
      '8,2',
      '--exact',
      '--json',
      '--report',
      rep,
      '-q',
    ]);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    const j = JSON.parse(r.stdout) as {
      task: string;
      metric: string;
      search: string;
      results: Record<string, { mean: number; perLanguage: Record<string, number> }>;
      manifest: Record<string, unknown>;
    };
    expect(j.task).toBe('pairs');
    expect(j.search).toBe('exact');
    expect(j.metric).toMatch(/^accuracy@1/);
    expect(Object.keys(j.results)).toEqual(['none', 'lsar-8', 'lsar-2']);
    expect(j.results['lsar-8']!.mean).toBe(metrics['lsar-8']!.mean);
    expect(j.manifest.lsarVersion).toBeTypeOf('string');
    expect(await listFiles(rep)).toEqual(['per-language-0.svg', 'rank-sweep.svg', 'report.html', 'report.md']);
    const svg = await readFile(join(rep, 'rank-sweep.svg'), 'utf8');
    expect(svg).toMatch(/^<svg xmlns="http:\/\/www\.w3\.org\/2000\/svg"/);
    expect(svg).toContain('<polyline');
    expect(await readFile(join(rep, 'report.md'), 'utf8')).toContain('mean against the LSAR rank](rank-sweep.svg)');
  });

  it('prints a table by default', async () => {
    const r = await runCli(['retrieve', 'pairs', '--embeddings', golden.embeddings, '--methods', 'none', '--exact', '-q']);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/lang\s+none\n/);
    expect(r.stdout).toMatch(/mean\s+45\.6\n/);
  });
});

describeShared('retrieve with a model (fixture, offline)', () => {
  it('tatoeba: embeds both sides of the real files and fits on embedded corpora; pairs of .txt files', async () => {
    const { ROOT } = await import('../helpers.js');
    const fixture = join(ROOT, 'tests', 'fixtures', 'tiny-bert');
    const dir = await tempDir();
    const corpora = join(dir, 'corpora');
    await mkdir(corpora);
    for (const l of ['en', 'de', 'fr'])
      await writeFile(
        join(corpora, `${l}.txt`),
        readFileSync(join(ROOT, 'corpora', `${l}.txt`), 'utf8')
          .split('\n')
          .slice(0, 60)
          .join('\n'),
      );
    const embed = { model: fixture, offline: true } as const;
    const r = await retrieve({
      task: 'tatoeba',
      data: join(SHARED, 'data', 'tatoeba'),
      langs: ['jv'],
      ...embed,
      corpora,
      embedDir: join(dir, 'cache'),
      methods: ['none', 'lsar'],
      exact: true,
    });
    expect(Object.keys(r.results)).toEqual(['none', 'lsar-2']);
    expect(Object.keys(r.results.none!.perLanguage)).toEqual(['jv']);
    expect(r.manifest.model).toBe(fixture);
    expect(await listFiles(join(dir, 'cache', 'tatoeba', 'foreign'))).toEqual(['jv.npy', 'manifest.json']);
    // the same sentences on both sides retrieve each other perfectly
    const txt = join(dir, 'same.txt');
    await writeFile(txt, readFileSync(join(SHARED, 'data', 'tatoeba', 'tatoeba.jav-eng.eng'), 'utf8'));
    const p = await retrieve({
      task: 'pairs',
      queries: txt,
      targets: txt,
      ...embed,
      embedDir: join(dir, 'cache'),
      methods: ['none'],
      exact: true,
    });
    expect(p.results.none!.mean).toBeGreaterThan(0.95);
  });

  it('retrieve tatoeba --model --corpora loads the model once (corpora, foreign side, English side)', async () => {
    const { ROOT } = await import('../helpers.js');
    const { Encoder } = await import('../../src/adapters/transformers.js');
    const fixture = join(ROOT, 'tests', 'fixtures', 'tiny-bert');
    const dir = await tempDir();
    const corpora = join(dir, 'corpora');
    await mkdir(corpora);
    for (const l of ['en', 'de', 'fr'])
      await writeFile(
        join(corpora, `${l}.txt`),
        readFileSync(join(ROOT, 'corpora', `${l}.txt`), 'utf8')
          .split('\n')
          .slice(0, 40)
          .join('\n'),
      );
    const before = Encoder.loads;
    const r = await runCli([
      'retrieve',
      'tatoeba',
      '--data',
      join(SHARED, 'data', 'tatoeba'),
      '--langs',
      'jv',
      '--model',
      fixture,
      '--offline',
      '--corpora',
      corpora,
      '--embed-dir',
      join(dir, 'cache'),
      '--methods',
      'none,lsar',
      '--exact',
      '--json',
      '-q',
    ]);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(Encoder.loads - before).toBe(1);
    expect(await listFiles(join(dir, 'cache'))).toEqual(['corpora', 'tatoeba']);
  });
});
