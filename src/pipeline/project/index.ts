/**
 * `lsar project`: apply a fitted projection to embeddings, in constant memory: one stream
 * (./stream.ts; Parquet to Parquet in ./parquet.ts), or many files in one process.
 */
import type { Writable } from 'node:stream';
import type { Readable } from 'node:stream';
import { createError, opt } from '../../core/errors.js';
import type { Events } from '../../core/events.js';
import { validate, type OptionsOf, type Schema } from '../../core/schema.js';
import { columnSchema } from '../services/moments.js';
import { readdir, stat } from 'node:fs/promises';
import { basename, join } from 'node:path';
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
      'Output: .npy, .parquet, .jsonl, or - for JSON Lines on stdout; a directory for several inputs (files are written atomically)',
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
      'Parquet output: the name of the projected column (default: replace the embedding column; a new name keeps the original beside it)',
  },
  normalize: { type: 'boolean', default: false, description: 'L2-normalise each output row' },
  dtype: {
    type: 'string',
    choices: ['float32', 'float64'],
    description: 'Output dtype',
    defaultText: 'float64 for float64 input, else float32',
  },
  ...columnSchema,
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
  const o = validate(projectSchema, { ...given, projection: projectionOption(given.projection) ?? '<object>' });
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
  const many = inputs.length > 1 || (inputs[0] !== '-' && (await stat(inputs[0] as string).catch(() => undefined))?.isDirectory() === true);
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
  const outputs = await projectFiles(projection, { ...common, inputs, outDir: o.out });
  return { method: projection.method, many, outputs };
}

export interface ProjectFilesOptions extends Omit<ProjectOptions, 'input' | 'output' | 'stdin' | 'stdout'> {
  /** Files or directories (every .npy, .parquet and .jsonl file in them). */
  inputs: string[];
  /** Directory for the outputs, each named as its input. */
  outDir: string;
}

/**
 * Project several files in one process (one worker pool, one operator per language): each
 * input goes to `outDir` under its own name. lir and demean take each file's language from
 * `lang`, a language column, or the file's name (`de.npy`).
 */
export async function projectFiles(projection: Projection, options: ProjectFilesOptions): Promise<ProjectSummary[]> {
  const files: string[] = [];
  for (const i of options.inputs) {
    let st;
    try {
      st = await stat(i);
    } catch {
      throw createError('NOT_FOUND', `${i}: no such file or directory`);
    }
    if (st.isDirectory()) {
      const names = (await readdir(i)).filter((n) => !n.startsWith('.') && isEmbeddingFile(n)).sort();
      if (names.length === 0) throw createError('EMPTY', `${i}: no .npy, .parquet or .jsonl files found`);
      files.push(...names.map((n) => join(i, n)));
    } else files.push(i);
  }
  const outs = new Map<string, string>();
  for (const f of files) {
    const out = join(options.outDir, basename(f));
    const prev = outs.get(out);
    if (prev)
      throw createError('USAGE', `${prev} and ${f} would both be written to ${out}: give inputs with different names`, {
        params: ['outDir'],
      });
    outs.set(out, f);
  }
  await refuseOverwrite(
    [...outs.keys()].map((path) => ({ path, param: 'outDir' })),
    [...files, ...projectionFiles(projection)],
  );
  const byName = needsLanguage(projection.method) && options.lang === undefined && options.langColumn === undefined;
  const langOf = (f: string): string | undefined => {
    if (!byName) return options.lang;
    const stem = basename(f).replace(/\.[^.]+$/, '');
    return canonicalLanguage(stem, f).lang;
  };
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
export { projectStream, type ProjectOptions, type ProjectSummary } from './stream.js';
