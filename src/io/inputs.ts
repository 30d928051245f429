/** Finding per-language input files: a directory of `<lang>.<ext>` or `lang=file` pairs. */
import { readdir, stat } from 'node:fs/promises';
import { basename, extname, join } from 'node:path';
import { createError } from '../core/errors.js';

export interface LanguageInput {
  lang: string;
  path: string;
}

/** ISO 639-1 (two letters) or 639-3 (three letters), optionally with a script/region subtag (zh-Hans, pt_BR). */
const LANG_RE = /^[a-z]{2,3}(?:[-_][A-Za-z0-9]{2,8})?$/;

export function checkLanguageCode(lang: string, where: string): string {
  if (!LANG_RE.test(lang)) {
    throw createError(
      'BAD_LANGUAGE',
      `${where}: "${lang}" is not a language code: expected an ISO 639-1 or 639-3 code such as "de" or "deu"`,
    );
  }
  return lang;
}

/** `de=path/to/de.npy` -> { lang: 'de', path }. */
export function parseLanguageAssignment(spec: string): LanguageInput {
  const eq = spec.indexOf('=');
  if (eq <= 0 || eq === spec.length - 1) {
    throw createError('USAGE', `--input "${spec}": expected <lang>=<file>, e.g. de=emb/de.npy`);
  }
  const lang = spec.slice(0, eq);
  return { lang: checkLanguageCode(lang, `--input ${spec}`), path: spec.slice(eq + 1) };
}

/** Every `<lang><ext>` file in `dir`, sorted by language. Other extensions are ignored. */
export async function listLanguageFiles(dir: string, ext: string): Promise<LanguageInput[]> {
  let names: string[];
  try {
    const s = await stat(dir);
    if (!s.isDirectory()) throw createError('NOT_FOUND', `${dir}: is not a directory`);
    names = await readdir(dir);
  } catch (e) {
    if ((e as { code?: string }).code === 'ENOENT') throw createError('NOT_FOUND', `${dir}: no such directory`);
    throw e;
  }
  const out: LanguageInput[] = [];
  for (const name of names.sort()) {
    if (extname(name) !== ext || name.startsWith('.')) continue;
    const lang = basename(name, ext);
    out.push({ lang: checkLanguageCode(lang, join(dir, name)), path: join(dir, name) });
  }
  if (out.length === 0) throw createError('EMPTY', `${dir}: no <lang>${ext} files found`);
  return out;
}

export function checkUniqueLanguages(inputs: LanguageInput[]): void {
  const seen = new Map<string, string>();
  for (const i of inputs) {
    const prev = seen.get(i.lang);
    if (prev !== undefined) throw createError('DUPLICATE_LANGUAGE', `language "${i.lang}" was given twice: ${prev} and ${i.path}`);
    seen.set(i.lang, i.path);
  }
}
