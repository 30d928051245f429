/** Loaders on the real evaluation files in ../shared/data. */
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { expect, it } from 'vitest';
import { XTREME_TATOEBA } from '../../src/io/languages.js';
import { listTatoebaLanguages, loadTatoeba } from '../../src/io/tatoeba.js';
import { loadXquadR } from '../../src/io/xquadr.js';
import { describeShared, SHARED, tempDir } from '../helpers.js';

const TATOEBA = join(SHARED, 'data', 'tatoeba');
const XQUAD = join(SHARED, 'data', 'xquad-r');

describeShared('Tatoeba loader', () => {
  it('lists 112 languages, among them all 36 XTREME ones, in lsar codes', async () => {
    const langs = await listTatoebaLanguages(TATOEBA);
    expect(langs).toHaveLength(112);
    for (const l of XTREME_TATOEBA) expect(langs).toContain(l);
  });

  it('loads line-aligned pairs by lsar or 639-3 code', async () => {
    const de = await loadTatoeba(TATOEBA, 'de');
    expect([de.code3, de.foreign.length, de.english.length]).toEqual(['deu', 1000, 1000]);
    const jv = await loadTatoeba(TATOEBA, 'jav');
    expect([jv.lang, jv.foreign.length]).toEqual(['jv', 205]);
    const zh = await loadTatoeba(TATOEBA, 'zh');
    expect(zh.code3).toBe('cmn');
    expect(zh.english.every((l) => l.length > 0)).toBe(true);
  });

  it('refuses a language with a missing file, and unequal files', async () => {
    const dir = await tempDir();
    await writeFile(join(dir, 'tatoeba.deu-eng.deu'), 'a\nb\n');
    await expect(loadTatoeba(dir, 'de')).rejects.toThrow(/tatoeba\.deu-eng\.eng: missing: Tatoeba language "de" needs both/);
    await writeFile(join(dir, 'tatoeba.deu-eng.eng'), 'a\n');
    await expect(loadTatoeba(dir, 'de')).rejects.toThrow(/2 lines, but .*tatoeba\.deu-eng\.eng has 1: the pair is not line-aligned/);
  });
});

describeShared('XQuAD-R loader', () => {
  it('11 languages x 1,190 questions; each question has exactly one relevant answer per language', async () => {
    const x = await loadXquadR(XQUAD);
    expect(x.languages).toEqual(['ar', 'de', 'el', 'en', 'es', 'hi', 'ru', 'th', 'tr', 'vi', 'zh']);
    expect(x.questions).toHaveLength(11 * 1190);
    for (const l of x.languages) expect(x.questions.filter((q) => q.lang === l)).toHaveLength(1190);
    expect(x.candidates.filter((c) => c.lang === 'en')).toHaveLength(1180);
    x.relevant.forEach((rel, qi) => {
      expect(rel).toHaveLength(11);
      expect(new Set(rel.map((c) => x.candidates[c]?.lang)).size).toBe(11);
      // the relevant English candidate contains the English answer text
      expect(x.questions[qi]?.id).toBeTypeOf('string');
    });
    // Spot check: the German answer "308" lies in its relevant German sentence.
    const q = x.questions.findIndex((qq) => qq.lang === 'de' && qq.id === '56beb4343aeaaa14008c925b');
    const deAnswer = x.relevant[q]?.map((c) => x.candidates[c]).find((c) => c?.lang === 'de');
    expect(deAnswer?.text).toContain('308');
  });

  it('refuses a JSON that is not XQuAD-R', async () => {
    const dir = await tempDir();
    await mkdir(dir, { recursive: true });
    await writeFile(join(dir, 'xx.json'), JSON.stringify({ data: [{ paragraphs: [{ context: 'a', qas: [] }] }] }));
    await expect(loadXquadR(dir, ['xx'])).rejects.toThrow(
      /xx\.json: not an XQuAD-R file: a paragraph lacks matching "sentences" and "sentence_breaks"/,
    );
    await writeFile(join(dir, 'yy.json'), '[1, 2]');
    await expect(loadXquadR(dir, ['yy'])).rejects.toThrow(/yy\.json: not an XQuAD-R file: no "data" array/);
  });
});
