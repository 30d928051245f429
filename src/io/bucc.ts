/**
 * BUCC's bitext-mining files: per language and split, `<xx>-en.<split>.<xx>` and
 * `<xx>-en.<split>.en` (id<TAB>sentence lines) and `<xx>-en.<split>.gold` (source<TAB>target
 * ids of the true pairs).
 */
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { createError } from '../core/errors.js';

export interface BuccFiles {
  lang: string;
  split: 'dev' | 'test';
  src: string;
  trg: string;
  gold: string;
}

export async function buccFiles(dir: string, langs?: string[]): Promise<BuccFiles[]> {
  const names = await readdir(dir).catch(() => {
    throw createError('NOT_FOUND', `${dir}: no such directory`);
  });
  const out: BuccFiles[] = [];
  for (const n of names) {
    const m = /^([a-z]{2,3})-en\.(dev|test)\.gold$/.exec(n);
    if (!m || (langs && !langs.includes(m[1] as string))) continue;
    const [lang, split] = [m[1] as string, m[2] as 'dev' | 'test'];
    out.push({ lang, split, src: join(dir, `${lang}-en.${split}.${lang}`), trg: join(dir, `${lang}-en.${split}.en`), gold: join(dir, n) });
  }
  return out.sort((a, b) => (a.lang < b.lang ? -1 : a.lang > b.lang ? 1 : a.split < b.split ? -1 : 1));
}

/** id<TAB>sentence lines. */
async function readIdText(path: string): Promise<{ ids: string[]; texts: string[] }> {
  const text = await readFile(path, 'utf8').catch(() => {
    throw createError('NOT_FOUND', `${path}: missing (BUCC needs <xx>-en.<split>.<xx>, .en and .gold)`);
  });
  const ids: string[] = [];
  const texts: string[] = [];
  text.split('\n').forEach((l, i) => {
    if (l.trim() === '') return;
    const tab = l.indexOf('\t');
    if (tab <= 0) throw createError('INPUT', `${path}:${i + 1}: expected <id><TAB><sentence>`);
    ids.push(l.slice(0, tab));
    texts.push(l.slice(tab + 1).trim() || '-');
  });
  return { ids, texts };
}

/** One split: both sides' ids and texts, and the gold pairs as "<source row>-<target row>". */
export async function readBuccSplit(
  f: BuccFiles,
): Promise<{ src: { ids: string[]; texts: string[] }; trg: { ids: string[]; texts: string[] }; gold: Set<string> }> {
  const src = await readIdText(f.src);
  const trg = await readIdText(f.trg);
  const si = new Map(src.ids.map((id, i) => [id, i]));
  const ti = new Map(trg.ids.map((id, i) => [id, i]));
  const gold = new Set<string>();
  const text = await readFile(f.gold, 'utf8').catch(() => {
    throw createError('NOT_FOUND', `${f.gold}: missing (BUCC needs <xx>-en.<split>.<xx>, .en and .gold)`);
  });
  text.split('\n').forEach((l, n) => {
    if (l.trim() === '') return;
    const [a, b] = l.trim().split('\t');
    const i = si.get(a ?? '');
    const j = ti.get(b ?? '');
    if (i === undefined || j === undefined)
      throw createError('INPUT', `${f.gold}:${n + 1}: ids ${a} / ${b} are not in ${f.src} / ${f.trg}`);
    gold.add(`${i}-${j}`);
  });
  return { src, trg, gold };
}
