/** Finding per-language input files: a directory of `<lang>.<ext>` or `lang=file` pairs. */
import { readdir, readFile, stat } from 'node:fs/promises';
import { basename, extname, join } from 'node:path';
import { createError, opt } from '../core/errors.js';
import { canonicalLanguage } from './languages.js';

export interface LanguageInput {
  /** Canonical language (fra.npy -> fr). */
  lang: string;
  path: string;
  /** False for labels that are no ISO 639 code (kept as given, with a warning). */
  known?: boolean;
}

/** A language input with its label canonicalised (see canonicalLanguage). */
export function languageInput(label: string, path: string, where = path): LanguageInput {
  const { lang, known } = canonicalLanguage(label, where);
  return { lang, path, known };
}

/** The file types that hold embeddings, in a directory of <lang>.<ext> files (every format the loader reads). */
export const EMBEDDING_EXTS = ['.npy', '.parquet', '.jsonl', '.ndjson'] as const;

/** `de=path/to/de.npy` -> { lang: 'de', path }. */
export function parseLanguageAssignment(spec: string): LanguageInput {
  const eq = spec.indexOf('=');
  if (eq <= 0 || eq === spec.length - 1) {
    throw createError('USAGE', `${opt('input')} "${spec}": expected <lang>=<file>, e.g. de=emb/de.npy`, { param: 'input' });
  }
  return languageInput(spec.slice(0, eq), spec.slice(eq + 1), `input ${spec}`);
}

/** The `.npy` sidecars of projection artifacts saved in `dir` (they are not languages). */
async function artifactFiles(dir: string, names: string[]): Promise<Set<string>> {
  const out = new Set<string>();
  for (const n of names) {
    if (extname(n).toLowerCase() !== '.json') continue;
    try {
      const j = JSON.parse(await readFile(join(dir, n), 'utf8')) as { format?: string; arrays?: Record<string, { file?: string }> };
      if (j.format !== 'lsar-projection') continue;
      const stem = n.slice(0, -5);
      out.add(`${stem}.means.npy`).add(`${stem}.basis.npy`);
      for (const a of Object.values(j.arrays ?? {})) if (a?.file) out.add(a.file);
    } catch {
      // not JSON, or not an artifact
    }
  }
  return out;
}

/**
 * Every `<lang><ext>` file in `dir`, sorted by language. Other extensions, hidden files and
 * the sidecars of projection artifacts saved there are left out; languages are canonicalised
 * (fra.npy is fr) and a language given twice (fr.npy and fra.npy) is refused.
 */
export async function listLanguageFiles(dir: string, ext: string | readonly string[]): Promise<LanguageInput[]> {
  const exts = typeof ext === 'string' ? [ext] : ext;
  let names: string[];
  try {
    const s = await stat(dir);
    if (!s.isDirectory()) throw createError('NOT_FOUND', `${dir}: is not a directory`);
    names = await readdir(dir);
  } catch (e) {
    if ((e as { code?: string }).code === 'ENOENT') throw createError('NOT_FOUND', `${dir}: no such directory`);
    throw e;
  }
  const skip = await artifactFiles(dir, names);
  const out: LanguageInput[] = [];
  for (const name of names.sort()) {
    const e = extname(name);
    if (!exts.includes(e) || name.startsWith('.') || skip.has(name)) continue;
    out.push(languageInput(basename(name, e), join(dir, name)));
  }
  if (out.length === 0) throw createError('EMPTY', `${dir}: no ${exts.map((x) => `<lang>${x}`).join(' or ')} files found`);
  checkUniqueLanguages(out);
  return out.sort((a, b) => (a.lang < b.lang ? -1 : a.lang > b.lang ? 1 : 0));
}

export function checkUniqueLanguages(inputs: LanguageInput[]): void {
  const seen = new Map<string, string>();
  for (const i of inputs) {
    const prev = seen.get(i.lang);
    if (prev !== undefined) {
      throw createError(
        'DUPLICATE_LANGUAGE',
        `language "${i.lang}" was given twice: ${prev} and ${i.path} (language codes are canonicalised: fra and fre are fr)`,
      );
    }
    seen.set(i.lang, i.path);
  }
}

/** Warnings for labels that are no ISO 639 code: they are used as given. */
export function labelWarnings(inputs: LanguageInput[]): string[] {
  return inputs
    .filter((i) => i.known === false)
    .map((i) => `"${i.lang}" (${i.path}) is not an ISO 639 language code: it is used as a label as it is`);
}

/**
 * Files whose rows carry their own language (a language column): `path` itself when it is a
 * file, else every `.parquet` file in the directory, sorted.
 */
export async function filesWithLanguageColumn(path: string): Promise<LanguageInput[]> {
  let s;
  try {
    s = await stat(path);
  } catch {
    throw createError('NOT_FOUND', `${path}: no such file or directory`);
  }
  if (!s.isDirectory()) return [{ lang: '', path }];
  const names = (await readdir(path)).filter((n) => extname(n).toLowerCase() === '.parquet' && !n.startsWith('.')).sort();
  if (names.length === 0) throw createError('EMPTY', `${path}: no .parquet files found`);
  return names.map((n) => ({ lang: '', path: join(path, n) }));
}
