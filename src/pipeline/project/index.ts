/**
 * `lsar project`: apply a fitted projection to embeddings, in constant memory: one stream
 * (./stream.ts; Parquet to Parquet in ./parquet.ts), or many files in one process.
 */
import { shardSchema, taskShard } from '../services/shard.js';
import { shardItems, type Shard } from '../../core/shard.js';
import type { Writable } from 'node:stream';
import type { Readable } from 'node:stream';
import { createError, opt } from '../../core/errors.js';
import type { Events } from '../../core/events.js';
import { validate, type OptionsOf, type Schema } from '../../core/schema.js';
import { columnSchema } from '../services/moments.js';
import { readdir, stat } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { needsLanguage, type Projection } from '../../core/projection.js';
import { projectionFiles, projectionOf, projectionOption } from '../../io/artifact.js';
import { refuseOverwrite } from '../../io/same-file.js';
import { makeOutputDir } from '../../io/atomic.js';
import { isEmbeddingFile } from '../../io/embeddings.js';
import { canonicalLanguage } from '../../io/languages.js';

/** `lsar project`: the projection, inputs and outputs, and how rows are written. */
export const projectSchema = {
  projection: {
    type: 'string',
    alias: 'p',
    required: true,
    description: 'projection.json from lsar fit (or its directory, or a .safetensors export)',
  },
  in: {
    type: 'strings',
    noSplit: true,
    default: ['-'],
    description:
      'Input: .npy, .parquet, .jsonl, or - for JSON Lines on stdin. Repeat it, or give a directory, to project many files in one process (then --out is a directory)',
  },
  out: {
    type: 'string',
    default: '-',
    description:
      'Output: .npy, .parquet, .jsonl, or - for JSON Lines on stdout; a directory for several inputs (files are written atomically); or a vector store: postgresql://user@host/db (pgvector) or pglite:<dir> (embedded, no server), one transaction per input file',
  },
  table: {
    type: 'string',
    default: 'lsar_embeddings',
    description:
      'Vector store output: the table (created with source, row, lang, id, text and a vector(d) column, or appended to after a dimension check; a file written again replaces its rows)',
    group: 'Vector store:',
  },
  lang: {
    type: 'string',
    alias: 'l',
    description:
      "The input's language: required for lir and demean (with several inputs, taken from each file's name: de.npy), ignored by lsar and none",
  },
  as: {
    type: 'string',
    description:
      'Parquet output: the name of the projected column (default: replace the embedding column; a new name keeps the original beside it); vector store: the vector column (default embedding)',
  },
  recursive: {
    type: 'boolean',
    default: false,
    description:
      'A directory --in: also the files in its sub-directories (shards/part-*/), each written under --out at the same relative path',
  },
  normalize: { type: 'boolean', default: false, description: 'L2-normalise each output row' },
  dtype: {
    type: 'string',
    choices: ['float32', 'float64'],
    description: 'Output dtype',
    defaultText: 'float64 for float64 input, else float32',
  },
  ...columnSchema,
  ...shardSchema,
} as const satisfies Schema;

export type ProjectVerbOptions = Omit<OptionsOf<typeof projectSchema>, 'projection'> & {
  /** The projection, or its path. */
  projection: string | Projection;
  stdin?: Readable;
  stdout?: Writable;
  events?: Events;
};

/**
 * The library call behind `lsar project`: one input to one output (a stream: stdin/stdout work),
 * or several inputs (or a directory) into an output directory, in one process.
 */
export async function project(given: ProjectVerbOptions): Promise<{ method: string; many: boolean; outputs: ProjectSummary[] }> {
  const o = canonicalLanguageOptions(validate(projectSchema, { ...given, projection: projectionOption(given.projection) ?? '<object>' }), [
    'lang',
  ]);
  const projection = await projectionOf(given.projection);
  const common = {
    ...(o.lang !== undefined ? { lang: o.lang } : {}),
    ...(o.column !== undefined ? { column: o.column } : {}),
    ...(o.langColumn !== undefined ? { langColumn: o.langColumn } : {}),
    ...(o.as !== undefined ? { as: o.as } : {}),
    normalize: o.normalize,
    ...(o.dtype !== undefined ? { dtype: o.dtype } : {}),
    ...(given.events ? { events: given.events } : {}),
  };
  const inputs = o.in;
  if (isStoreTarget(o.out)) {
    if (inputs.includes('-'))
      throw createError('USAGE', `${opt('in')} -: a vector store output needs named input files (each row records its source file)`, {
        param: 'in',
      });
    const shard = taskShard(o, given.events);
    const files = await inputFiles(inputs, o.recursive);
    const langOf = languageOf(projection, common.lang, common.langColumn);
    const outputs = await projectToStore(
      projection,
      (shard ? shardItems(files, shard) : files).map((f) => ({ path: f.path, lang: langOf(f.path) })),
      { target: o.out, table: o.table, vectorColumn: o.as ?? DEFAULT_COLUMN },
      { ...common, input: '' },
    );
    return { method: projection.method, many: files.length > 1, outputs };
  }
  const many = inputs.length > 1 || (inputs[0] !== '-' && (await stat(inputs[0] as string).catch(() => undefined))?.isDirectory() === true);
  const shard = taskShard(o, given.events);
  if (shard && !many)
    throw createError(
      'USAGE',
      `${opt('shard')} ${shard.index}/${shard.count}: project splits the input files among the tasks; give a directory or several files (or ${opt('shard')} none to project this one file whole)`,
      { param: 'shard' },
    );
  if (!many) {
    const summary = await projectStream(projection, {
      ...common,
      input: inputs[0] as string,
      output: o.out,
      ...(given.stdin ? { stdin: given.stdin } : {}),
      ...(given.stdout ? { stdout: given.stdout } : {}),
    });
    return { method: projection.method, many, outputs: [summary] };
  }
  if (inputs.includes('-')) throw createError('USAGE', `${opt('in')} -: stdin cannot be combined with other inputs`, { param: 'in' });
  if (o.out === '-' || isEmbeddingFile(o.out))
    throw createError('USAGE', `${opt('out')} ${o.out}: several inputs need an output directory (${opt('out')} dir/)`, { param: 'out' });
  const outputs = await projectFiles(projection, { ...common, inputs, outDir: o.out, recursive: o.recursive, ...(shard ? { shard } : {}) });
  return { method: projection.method, many, outputs };
}

export interface ProjectFilesOptions extends Omit<ProjectOptions, 'input' | 'output' | 'stdin' | 'stdout'> {
  /** Files or directories (every .npy, .parquet and .jsonl file in them). */
  inputs: string[];
  /** Directory for the outputs, each named as its input (its path below a directory input with `recursive`). */
  outDir: string;
  /** Directory inputs: also the files of their sub-directories. */
  recursive?: boolean;
  /** Project only this task's files (a contiguous part of all the inputs' files, in order). */
  shard?: Shard;
}

/**
 * Project several files in one process (one worker pool, one operator per language): each
 * input goes to `outDir` under its own name. lir and demean take each file's language from
 * `lang`, a language column, or the file's name (`de.npy`).
 */
export async function projectFiles(projection: Projection, options: ProjectFilesOptions): Promise<ProjectSummary[]> {
  // each file with its output's path relative to outDir
  const files = await inputFiles(options.inputs, options.recursive === true);
  const outs = new Map<string, string>();
  for (const f of options.shard ? shardItems(files, options.shard) : files) {
    const out = join(options.outDir, f.rel);
    const prev = outs.get(out);
    if (prev)
      throw createError('USAGE', `${prev} and ${f.path} would both be written to ${out}: give inputs with different names`, {
        params: ['outDir'],
      });
    outs.set(out, f.path);
  }
  await refuseOverwrite(
    [...outs.keys()].map((path) => ({ path, param: 'outDir' })),
    [...files.map((f) => f.path), ...projectionFiles(projection)],
  );
  const langOf = languageOf(projection, options.lang, options.langColumn);
  // each output is whole or absent; a run that wrote none leaves no directory it made
  const undo = await makeOutputDir(options.outDir);
  const out: ProjectSummary[] = [];
  try {
    for (const [output, input] of outs) {
      const lang = langOf(input);
      const rest: ProjectOptions = { ...options, input, output };
      for (const key of ['inputs', 'outDir'] as const) delete (rest as unknown as Record<string, unknown>)[key];
      if (lang !== undefined) rest.lang = lang;
      out.push(await projectStream(projection, rest));
    }
  } catch (e) {
    await undo();
    throw e;
  }
  return out;
}

import { projectStream, type ProjectOptions, type ProjectSummary } from './stream.js';
import { canonicalLanguageOptions } from '../../io/languages.js';
import { isStoreTarget } from '../../adapters/pgvector.js';
import { DEFAULT_COLUMN } from '../../io/parquet.js';
import { projectToStore } from './store.js';
export { projectStream, type ProjectOptions, type ProjectSummary } from './stream.js';

/** The embedding files in `dir` (and, with `recursive`, below it), as paths relative to `dir`, sorted; hidden entries skipped. */
async function embeddingFilesUnder(dir: string, recursive: boolean, prefix = ''): Promise<string[]> {
  const out: string[] = [];
  const entries = (await readdir(join(dir, prefix), { withFileTypes: true })).sort((a, b) => (a.name < b.name ? -1 : 1));
  for (const e of entries) {
    if (e.name.startsWith('.')) continue;
    const rel = prefix ? join(prefix, e.name) : e.name;
    if (e.isDirectory()) {
      if (recursive) out.push(...(await embeddingFilesUnder(dir, true, rel)));
    } else if (isEmbeddingFile(e.name)) out.push(rel);
  }
  return out;
}

function listSome(items: string[], n = 3): string {
  return items.slice(0, n).join(', ') + (items.length > n ? `, ... (${items.length})` : '');
}

/** The embedding files of the inputs (directories: their files, below them with `recursive`), each with its path relative to its directory. */
async function inputFiles(inputs: string[], recursive: boolean): Promise<{ path: string; rel: string }[]> {
  const files: { path: string; rel: string }[] = [];
  for (const i of inputs) {
    let st;
    try {
      st = await stat(i);
    } catch {
      throw createError('NOT_FOUND', `${i}: no such file or directory`);
    }
    if (st.isDirectory()) {
      const found = await embeddingFilesUnder(i, recursive);
      if (found.length === 0) {
        const below = recursive ? [] : await embeddingFilesUnder(i, true);
        if (below.length)
          throw createError(
            'EMPTY',
            `${i}: no .npy, .parquet or .jsonl files at its top, but ${below.length} in its sub-directories (${listSome([...new Set(below.map((f) => dirname(f) + '/'))])}): add ${opt('recursive')} to project them (each written at the same path under ${opt('out')})`,
            { param: 'recursive' },
          );
        throw createError('EMPTY', `${i}: no .npy, .parquet or .jsonl files found`);
      }
      files.push(...found.map((rel) => ({ path: join(i, rel), rel })));
    } else files.push({ path: i, rel: basename(i) });
  }
  return files;
}

/** Each file's language: `lang`, or (lir and demean without a language column) the file's name, de.npy. */
function languageOf(
  projection: Projection,
  lang: string | undefined,
  langColumn: string | undefined,
): (file: string) => string | undefined {
  const byName = needsLanguage(projection.method) && lang === undefined && langColumn === undefined;
  return (f) => (byName ? canonicalLanguage(basename(f).replace(/\.[^.]+$/, ''), f).lang : lang);
}
