/** The bundled corpora: real text, enough of it, and disjoint from the evaluation data. */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { XTREME_TATOEBA } from '../src/io/languages.js';
import { jsonMessages } from '../scripts/build-corpora.js';
import { itShared, ROOT, SHARED } from './helpers.js';

const DIR = join(ROOT, 'corpora');
const files = readdirSync(DIR)
  .filter((f) => f.endsWith('.txt'))
  .sort();
const read = (f: string) =>
  readFileSync(join(DIR, f), 'utf8')
    .split('\n')
    .filter((l) => l !== '');

describe('corpora/', () => {
  it('has English and every one of the 36 XTREME Tatoeba languages', () => {
    const langs = files.map((f) => f.replace(/\.txt$/, ''));
    expect(langs).toContain('en');
    expect(XTREME_TATOEBA.length).toBe(36);
    expect(XTREME_TATOEBA.filter((l) => !langs.includes(l))).toEqual([]);
  });

  it("MediaWiki's JSON catalogs give messages without wiki markup or parameters (scripts/build-corpora.ts)", () => {
    const catalog = JSON.stringify({
      '@metadata': { authors: ['someone'] },
      plain: 'Kaca sumber lan tujuan ora kena padha',
      param: 'Kaca $1 wis dibusak',
      plural: '{{PLURAL:$1|siji|akèh}} owahan',
      link: 'Delengen [[Special:Log]] kanggo rinciané',
      bold: "Iki '''penting''' banget",
      magic: '__NOTOC__ ana ing kaca',
      notText: 3,
    });
    expect(jsonMessages(catalog)).toEqual(['Kaca sumber lan tujuan ora kena padha']);
  });

  // sw and tl hold every usable line Debian's catalogs have for them (630 and 763, corpora/README.md)
  const FEWER: Record<string, number> = { 'sw.txt': 630, 'tl.txt': 763 };

  it('every file: at least 1,000 distinct non-empty lines (sw, tl: all Debian has), valid UTF-8, no blank lines', () => {
    for (const f of files) {
      const raw = readFileSync(join(DIR, f));
      expect(() => new TextDecoder('utf-8', { fatal: true }).decode(raw), f).not.toThrow();
      const lines = raw.toString('utf8').replace(/\n$/, '').split('\n');
      expect(
        lines.every((l) => l.trim() !== ''),
        f,
      ).toBe(true);
      expect(new Set(lines).size, f).toBe(lines.length);
      expect(lines.length, f).toBeGreaterThanOrEqual(FEWER[f] ?? 1000);
    }
  });

  it('README states the count of every file', () => {
    const readme = readFileSync(join(DIR, 'README.md'), 'utf8');
    for (const f of files) expect(readme, f).toContain(`| ${f.replace(/\.txt$/, '')} | ${read(f).length} |`);
  });

  itShared('shares no line with ../shared/data (Tatoeba, XQuAD-R)', () => {
    const evalLines = new Set<string>();
    const tat = join(SHARED, 'data', 'tatoeba');
    for (const f of readdirSync(tat).filter((n) => n.startsWith('tatoeba.')))
      for (const l of readFileSync(join(tat, f), 'utf8').split('\n')) evalLines.add(l.trim());
    const xq = join(SHARED, 'data', 'xquad-r');
    for (const f of readdirSync(xq).filter((n) => n.endsWith('.json'))) {
      const j = JSON.parse(readFileSync(join(xq, f), 'utf8')) as {
        data: { paragraphs: { sentences: string[]; qas: { question: string }[] }[] }[];
      };
      for (const a of j.data)
        for (const p of a.paragraphs) {
          p.sentences.forEach((s) => evalLines.add(s.trim()));
          p.qas.forEach((q) => evalLines.add(q.question.trim()));
        }
    }
    for (const f of files) for (const l of read(f)) expect(evalLines.has(l.trim()), `${f}: ${l}`).toBe(false);
  });

  it('the fixture model is what scripts/make-fixture-model.ts generates from these corpora', async () => {
    const { buildGraph, buildVocab } = await import('../scripts/make-fixture-model.js');
    const vocab = buildVocab(DIR);
    const fixture = join(ROOT, 'tests', 'fixtures', 'tiny-bert');
    expect(existsSync(join(fixture, 'onnx', 'model.onnx'))).toBe(true);
    const tok = JSON.parse(readFileSync(join(fixture, 'tokenizer.json'), 'utf8')) as { model: { vocab: Record<string, number> } };
    expect(
      Object.entries(tok.model.vocab)
        .sort((a, b) => a[1] - b[1])
        .map(([t]) => t),
    ).toEqual(vocab);
    expect(Buffer.from(buildGraph(vocab.length)).equals(readFileSync(join(fixture, 'onnx', 'model.onnx')))).toBe(true);
  });
});
