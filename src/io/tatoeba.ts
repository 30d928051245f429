/** LASER's Tatoeba v1 test sets: tatoeba.<xxx>-eng.<xxx> and tatoeba.<xxx>-eng.eng, line-aligned. */
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { createError } from '../core/errors.js';
import { lsarToTatoeba, tatoebaToLsar } from './languages.js';

export interface TatoebaSet {
  /** lsar code (de). */
  lang: string;
  /** The file's ISO 639-3 code (deu). */
  code3: string;
  foreign: string[];
  english: string[];
  files: { foreign: string; english: string };
}

/** The languages present in a Tatoeba directory (lsar codes, sorted). */
export async function listTatoebaLanguages(dir: string): Promise<string[]> {
  let names: string[];
  try {
    names = await readdir(dir);
  } catch {
    throw createError('NOT_FOUND', `${dir}: no such Tatoeba directory (expected LASER's tatoeba.<xxx>-eng.<xxx> files)`);
  }
  const codes = new Set<string>();
  for (const n of names) {
    const m = /^tatoeba\.([a-z]{3})-eng\.([a-z]{3})$/.exec(n);
    if (m && m[1] === m[2]) codes.add(m[1] as string);
  }
  if (codes.size === 0) throw createError('NOT_FOUND', `${dir}: no Tatoeba files found (expected LASER's tatoeba.<xxx>-eng.<xxx> files)`);
  return [...codes].map(tatoebaToLsar).sort();
}

function lines(text: string): string[] {
  const out = text.split('\n');
  if (out[out.length - 1] === '') out.pop();
  return out.map((l) => l.replace(/\r$/, ''));
}

/** Load one language pair; `lang` is an lsar code (de) or the file's 639-3 code (deu). */
export async function loadTatoeba(dir: string, lang: string): Promise<TatoebaSet> {
  const code3 = lsarToTatoeba(lang) ?? lang;
  const files = { foreign: join(dir, `tatoeba.${code3}-eng.${code3}`), english: join(dir, `tatoeba.${code3}-eng.eng`) };
  const read = async (p: string) => {
    try {
      return lines(await readFile(p, 'utf8'));
    } catch {
      throw createError(
        'NOT_FOUND',
        `${p}: missing: Tatoeba language "${lang}" needs both tatoeba.${code3}-eng.${code3} and tatoeba.${code3}-eng.eng`,
      );
    }
  };
  const foreign = await read(files.foreign);
  const english = await read(files.english);
  if (foreign.length !== english.length) {
    throw createError(
      'INPUT',
      `${files.foreign}: ${foreign.length} lines, but ${files.english} has ${english.length}: the pair is not line-aligned`,
    );
  }
  if (foreign.length === 0) throw createError('EMPTY', `${files.foreign}: no lines`);
  return { lang: tatoebaToLsar(code3), code3, foreign, english, files };
}
