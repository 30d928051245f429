/**
 * The one input resolver of the commands that read per-language embeddings (fit, stats,
 * inspect): a directory of `<lang>.<ext>` files, or files given as `<lang>=<path>` or named
 * `<lang>.<ext>`; with a language column, the files whose rows carry their language (a file, or
 * every .parquet file of a directory).
 */
import type { Schema } from '../../core/schema.js';
import { stat } from 'node:fs/promises';
import { basename } from 'node:path';
import { createError, opt } from '../../core/errors.js';
import {
  checkUniqueLanguages,
  EMBEDDING_EXTS,
  filesWithLanguageColumn,
  languageInput,
  listLanguageFiles,
  parseLanguageAssignment,
  type LanguageInput,
} from '../../io/inputs.js';

export interface InputSpec {
  /** A directory of `<lang>.<ext>` files (with langColumn: a Parquet file or a directory of them). */
  dir?: string;
  /** Files as `<lang>=<path>` or `<lang>.<ext>` paths (with langColumn: paths), or one directory. */
  inputs?: string[];
  /** A column holding each row's language: the files' own languages are not used. */
  langColumn?: string;
}

const EXT = new RegExp(`(${EMBEDDING_EXTS.map((e) => e.replace('.', '\\.')).join('|')})$`, 'i');

async function isDirectory(path: string): Promise<boolean> {
  return (await stat(path).catch(() => undefined))?.isDirectory() === true;
}

/** The language files of a command's inputs, languages canonicalised and given once. */
export async function resolveInputs(spec: InputSpec): Promise<LanguageInput[]> {
  const given = spec.inputs ?? [];
  if ((spec.dir === undefined) === (given.length === 0))
    throw createError('USAGE', `give a directory of <lang>.npy files or ${opt('inputs')} (one of them)`, { param: 'inputs' });
  if (spec.langColumn !== undefined) {
    if (spec.dir !== undefined) return filesWithLanguageColumn(spec.dir);
    if (given.length === 1 && (await isDirectory(given[0] as string))) return filesWithLanguageColumn(given[0] as string);
    return given.map((path) => ({ lang: '', path }));
  }
  if (spec.dir !== undefined) return listLanguageFiles(spec.dir, EMBEDDING_EXTS);
  if (given.length === 1 && !given[0]!.includes('=') && (await isDirectory(given[0] as string)))
    return listLanguageFiles(given[0] as string, EMBEDDING_EXTS);
  const inputs: LanguageInput[] = [];
  for (const g of given) {
    if (g.includes('=')) inputs.push(parseLanguageAssignment(g));
    else if (EXT.test(g)) inputs.push(languageInput(basename(g).replace(EXT, ''), g));
    else if (!(await exists(g))) throw createError('NOT_FOUND', `${g}: no such file or directory`);
    else
      throw createError('USAGE', `input "${g}": expected <lang>=<file>, a <lang>.npy (.parquet, .jsonl) file or a directory of them`, {
        param: 'inputs',
      });
  }
  checkUniqueLanguages(inputs);
  return inputs;
}

async function exists(path: string): Promise<boolean> {
  return (await stat(path).catch(() => undefined)) !== undefined;
}

/** The `-i <lang>=<file>` option of the verbs that read per-language files (fit, stats). */
export const languageFilesSchema = {
  input: {
    type: 'strings',
    alias: 'i',
    noSplit: true,
    description:
      'A language file as <lang>=<file.npy|.parquet|.jsonl>; repeat for each language (instead of dir); with --lang-column, just files',
  },
} as const satisfies Schema;
