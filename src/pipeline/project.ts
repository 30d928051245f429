/** `lsar project`: apply a fitted projection to a stream of embeddings, in constant memory. */
import type { Writable } from 'node:stream';
import type { Readable } from 'node:stream';
import { createError, opt } from '../core/errors.js';
import type { Events } from '../core/events.js';
import { validate, type OptionsOf, type Schema } from '../core/schema.js';
import { columnSchema } from './services/moments.js';
import { mkdir, readdir, stat } from 'node:fs/promises';
import { basename, join } from 'node:path';
import { createOperator, describeProblem, projectRows, type ApplyOptions, type Projector } from '../core/apply.js';
import { needsLanguage, outputDim, type Projection } from '../core/projection.js';
import { narrowToFloat32, type FloatArray } from '../core/rows.js';
import { poolSize, projectInPool } from '../adapters/pool.js';
import { loadProjection, projectionFiles } from '../io/artifact.js';
import { AtomicTextWriter } from '../io/atomic.js';
import { refuseOverwrite } from '../io/same-file.js';
import { embeddingFormat, isEmbeddingFile, openEmbeddings, type Block, type EmbeddingSource } from '../io/embeddings.js';
import { formatJsonl, writeText } from '../io/jsonl.js';
import { HOST_LITTLE, NpyWriter, overflowError } from '../io/npy.js';
import { canonicalLanguage } from '../io/languages.js';
import { DEFAULT_COLUMN, isParquet, ParquetEmbeddings, parquetLibs } from '../io/parquet.js';
import { embeddingVector, ParquetWriter, rowGroupRowsFor } from '../io/parquet-writer.js';

export interface ProjectOptions extends ApplyOptions {
  /** Input: a `.npy`, `.parquet` or `.jsonl` path, or `-` for JSON Lines on `stdin`. */
  input: string;
  /** Output: a `.npy`, `.parquet` or `.jsonl` path, or `-` for JSON Lines on `stdout`. */
  output: string;
  stdin?: Readable;
  stdout?: Writable;
  /** Output dtype for `.npy` and `.parquet` (default: float64 if the input is float64, else float32). */
  dtype?: 'float32' | 'float64';
  blockRows?: number;
  /** Worker threads for large float32 .npy inputs (default: one per core; 0 = none). */
  workers?: number;
  /** Parquet input: the embedding column (default `embedding`). */
  column?: string;
  /** Parquet input: each row's language (lir and demean apply each row's own). */
  langColumn?: string;
  /** Parquet output from Parquet input: add the projection as this column (default: replace the embedding column). */
  as?: string;
  /** Progress (stage `project <input>`, rows). */
  events?: Events;
}

export interface ProjectSummary {
  rows: number;
  dim: number;
  output: string;
}

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
  const o = validate(projectSchema, { ...given, projection: typeof given.projection === 'string' ? given.projection : '<object>' });
  const projection = typeof given.projection === 'string' ? await loadProjection(given.projection) : given.projection;
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

const FLOAT32_MAX = 3.4028234663852886e38;

/** One operator per language, made on first use (lir and demean with a language column). */
function operators(projection: Projection, options: ProjectOptions): (lang: string | undefined) => Projector {
  const cache = new Map<string, Projector>();
  return (lang) => {
    const key = lang ?? '';
    let op = cache.get(key);
    if (!op) {
      op = createOperator(projection, { ...options, ...(lang !== undefined ? { lang } : {}) });
      cache.set(key, op);
    }
    return op;
  };
}

/** Project a block in place: with row languages, each run of one language with its operator. */
function applyBlock(opFor: (lang: string | undefined) => Projector, b: Block, d: number, label: string, byRow: boolean): void {
  if (!byRow || !b.langs) {
    projectRows(opFor(undefined), b.data, b.rows, label, b.start);
    return;
  }
  for (let a = 0; a < b.rows;) {
    let z = a + 1;
    while (z < b.rows && b.langs[z] === b.langs[a]) z++;
    projectRows(opFor(b.langs[a]), b.data.subarray(a * d, z * d), z - a, label, b.start + a);
    a = z;
  }
}

/** Apply `projection` to every row of the input, writing the output atomically. */
export async function projectStream(projection: Projection, options: ProjectOptions): Promise<ProjectSummary> {
  const inFormat = embeddingFormat(options.input, 'input');
  const outFormat = embeddingFormat(options.output, 'output');
  if (options.as !== undefined && outFormat !== 'parquet') {
    throw createError('USAGE', `${opt('as')} applies to a Parquet output only, but the output ${options.output} is not .parquet`, {
      params: ['as'],
    });
  }
  for (const [param, value] of [
    ['column', options.column],
    ['langColumn', options.langColumn],
  ] as const) {
    if (value !== undefined && inFormat !== 'parquet') {
      throw createError(
        'USAGE',
        `${opt(param)} applies to a Parquet input only, but the input ${options.input === '-' ? '<stdin>' : options.input} is not .parquet`,
        {
          params: [param],
        },
      );
    }
  }
  const byRow = options.langColumn !== undefined && needsLanguage(projection.method);
  if (byRow && options.lang !== undefined) {
    throw createError('USAGE', `give ${opt('lang')} (one language for every row) or ${opt('langColumn')} (each row its own), not both`, {
      params: ['lang', 'langColumn'],
    });
  }
  await refuseOverwrite([{ path: options.output, param: 'output' }], [options.input, ...projectionFiles(projection)]);
  const opFor = operators(projection, byRow ? { ...options, lang: undefined } : options);
  // lir/demean without a language fail here, before any file is opened
  const op = byRow ? undefined : opFor(undefined);
  const d = projection.dim;
  // whiten with dims: outputs have fewer values than inputs
  const od = outputDim(projection);
  const wantF64 = options.dtype === 'float64';
  if (outFormat === 'parquet' && isParquet(options.input)) return projectParquet(projection, options, opFor, byRow);
  const src = await openEmbeddings(options.input, {
    ...(options.stdin ? { stdin: options.stdin } : {}),
    dim: d,
    dimOf: 'the projection was fitted on dimension',
    ...(options.column !== undefined ? { column: options.column } : {}),
    ...(byRow ? { langColumn: options.langColumn as string } : {}),
    // float32 output cannot hold larger JSON values: refused with their line.
    ...(outFormat !== 'jsonl' && !wantF64 ? { maxAbs: FLOAT32_MAX } : {}),
  });
  const outDtype = wantF64 || (options.dtype === undefined && src.dtype === 'float64' && src.format !== 'jsonl') ? '<f8' : '<f4';
  let writer: NpyWriter | undefined;
  let textWriter: AtomicTextWriter | undefined;
  let pqWriter: ParquetWriter | undefined;
  let rows = 0;
  const { arrow } = outFormat === 'parquet' ? await parquetLibs() : { arrow: undefined };
  const sink = async (data: FloatArray, n: number) => {
    if (writer) await writer.write(data, n);
    else if (pqWriter && arrow) {
      const v = embeddingVector(arrow, castRows(data, n, od, outDtype, options.output, rows), n, od);
      await pqWriter.write(new arrow.Table({ [options.as ?? DEFAULT_COLUMN]: v }));
    } else if (options.output === '-') await writeText(options.stdout ?? process.stdout, formatJsonl(data, n, od));
    else await textWriter?.write(formatJsonl(data, n, od));
    rows += n;
    options.events?.progress?.(`project ${src.label}`, rows, src.rows, { unit: 'rows' });
  };
  try {
    if (outFormat === 'npy') writer = await NpyWriter.create(options.output, od, outDtype);
    else if (outFormat === 'parquet')
      pqWriter = await ParquetWriter.create(options.output, undefined, rowGroupRowsFor(od, outDtype === '<f8' ? 8 : 4));
    else if (options.output !== '-') textWriter = await AtomicTextWriter.create(options.output);
    const npy = src.npy;
    const parallel =
      op &&
      npy &&
      op.plan.basis &&
      npy.header.dtype === '<f4' &&
      HOST_LITTLE &&
      npy.rows >= PARALLEL_MIN_ROWS &&
      (options.workers ?? poolSize()) > 0;
    if (parallel) await projectParallel(src, op, sink);
    else {
      for await (const b of op ? directBlocks(src, op, options.blockRows) : src.blocks(options.blockRows)) {
        applyBlock(opFor, b, d, src.label, byRow);
        await sink(b.data, b.rows);
      }
    }
    if (rows === 0) throw createError('EMPTY', `${src.label}: no rows`);
    await writer?.close();
    await textWriter?.close();
    await pqWriter?.commit();
  } catch (e) {
    await writer?.abort();
    await textWriter?.abort();
    await pqWriter?.abort();
    throw e;
  } finally {
    await src.close();
  }
  return { rows, dim: od, output: options.output };
}

/** `rows` rows of `dim` values as the output dtype (a view when they already are); a value float32 cannot hold is refused. */
function castRows(data: FloatArray, rows: number, dim: number, dtype: '<f4' | '<f8', out: string, firstRow: number): FloatArray {
  const n = rows * dim;
  if (dtype === '<f8') return data instanceof Float64Array ? data.subarray(0, n) : Float64Array.from(data.subarray(0, n));
  const narrow = narrowToFloat32(data, n, dim);
  if (narrow.overflowRow >= 0) throw overflowError(out, firstRow + narrow.overflowRow);
  return narrow.out;
}

/**
 * Parquet in, Parquet out: every record batch keeps its other columns as they are, the
 * embedding column is replaced by the projected rows (or, with `as`, they are added as a new
 * column), and the file's key-value metadata is kept.
 */
async function projectParquet(
  projection: Projection,
  options: ProjectOptions,
  opFor: (lang: string | undefined) => Projector,
  byRow: boolean,
): Promise<ProjectSummary> {
  const { arrow } = await parquetLibs();
  const d = projection.dim;
  const od = outputDim(projection);
  const pq = await ParquetEmbeddings.open(options.input, {
    ...(options.column !== undefined ? { column: options.column } : {}),
    ...(byRow ? { langColumn: options.langColumn as string } : {}),
    allColumns: true,
  });
  if (pq.dim !== undefined && pq.dim !== d) {
    pq.close();
    throw createError('DIM_MISMATCH', `${options.input}: dimension ${pq.dim}, but the projection was fitted on dimension ${d}`);
  }
  if (options.as !== undefined && pq.schema.fields.some((f) => f.name === options.as)) {
    pq.close();
    throw createError('USAGE', `${opt('as')} "${options.as}": ${options.input} already has a column of that name`, { params: ['as'] });
  }
  const outDtype = options.dtype === 'float64' || (options.dtype === undefined && pq.dtype === 'float64') ? '<f8' : '<f4';
  const name = options.as ?? pq.columnName;
  let writer: ParquetWriter | undefined;
  let rows = 0;
  try {
    writer = await ParquetWriter.create(options.output, pq.keyValues, rowGroupRowsFor(od, outDtype === '<f8' ? 8 : 4));
    for await (const b of pq.batches()) {
      if (pq.dim !== d)
        throw createError('DIM_MISMATCH', `${options.input}: dimension ${pq.dim}, but the projection was fitted on dimension ${d}`);
      applyBlock(opFor, b, d, options.input, byRow);
      const v = embeddingVector(arrow, castRows(b.data, b.rows, od, outDtype, options.output, rows), b.rows, od);
      await writer.write(withColumn(arrow, b.table as ArrowTable, name, v));
      rows += b.rows;
      options.events?.progress?.(`project ${options.input}`, rows, pq.rows, { unit: 'rows' });
    }
    if (rows === 0) throw createError('EMPTY', `${options.input}: no rows`);
    await writer.commit();
  } catch (e) {
    await writer?.abort();
    throw e;
  } finally {
    pq.close();
  }
  return { rows, dim: od, output: options.output };
}

type ArrowLib = Awaited<ReturnType<typeof parquetLibs>>['arrow'];
type ArrowTable = InstanceType<ArrowLib['Table']>;

/** The table with column `name` replaced by (or, when it has none, extended with) `v`; other columns and metadata as they are. */
function withColumn(arrow: ArrowLib, table: ArrowTable, name: string, v: ReturnType<typeof embeddingVector>): ArrowTable {
  const fields = table.schema.fields.slice();
  const children: unknown[] = fields.map((f) => table.getChild(f.name)?.data[0]);
  const field = new arrow.Field(name, v.type, false);
  const at = fields.findIndex((f) => f.name === name);
  if (at >= 0) {
    fields[at] = field;
    children[at] = v.data[0];
  } else {
    fields.push(field);
    children.push(v.data[0]);
  }
  if (table.batches.length > 1) {
    // one batch per read, as parquet-wasm gives them; several would need their own slices
    throw createError('INPUT', `${name}: a Parquet batch arrived as ${table.batches.length} Arrow batches`);
  }
  const schema = new arrow.Schema(fields, table.schema.metadata);
  const data = arrow.makeData({ type: new arrow.Struct(fields), length: table.numRows, nullCount: 0, children: children as never });
  return new arrow.Table([new arrow.RecordBatch(schema, data)]);
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
  await mkdir(options.outDir, { recursive: true });
  const out: ProjectSummary[] = [];
  for (const [output, input] of outs) {
    const lang = langOf(input);
    const rest: ProjectOptions = { ...options, input, output };
    for (const key of ['inputs', 'outDir'] as const) delete (rest as unknown as Record<string, unknown>)[key];
    if (lang !== undefined) rest.lang = lang;
    out.push(await projectStream(projection, rest));
  }
  return out;
}

/** Little-endian float32 .npy rows go straight into the SIMD kernel's buffer: no copies. */
function directBlocks(src: EmbeddingSource, op: Projector, blockRows?: number): AsyncGenerator<Block> {
  const npy = src.npy;
  if (npy && op.buffer && npy.header.dtype === '<f4' && HOST_LITTLE) {
    const b = op.buffer;
    return npy.blocks(Math.min(blockRows ?? Infinity, op.capacity as number), new Uint8Array(b.buffer, b.byteOffset, b.byteLength));
  }
  return src.blocks(blockRows);
}

/** Below this many rows, handing blocks to worker threads costs more than it saves. */
const PARALLEL_MIN_ROWS = 16_384;
const PARALLEL_BLOCK_ROWS = 2048;

let planIds = 0;

/** Read blocks, project them on the worker pool (the same projector), write them in order. */
async function projectParallel(
  src: EmbeddingSource,
  op: Projector,
  sink: (data: Float32Array, rows: number) => Promise<void>,
): Promise<void> {
  const reader = src.npy!;
  const d = reader.dim;
  const plan = { ...op.plan, id: `${process.pid}-${planIds++}` };
  const rowBytes = d * 4;
  const inflight = 2 * poolSize();
  const free: ArrayBuffer[] = [];
  const queue: { start: number; rows: number; done: ReturnType<typeof projectInPool> }[] = [];
  const drain = async () => {
    const job = queue.shift() as (typeof queue)[number];
    const { buf, problem } = await job.done;
    if (problem) throw createError('NON_FINITE', describeProblem(problem, reader.path, job.start));
    await sink(new Float32Array(buf, 0, job.rows * d), job.rows);
    free.push(buf);
  };
  try {
    for (let start = 0; start < reader.rows; start += PARALLEL_BLOCK_ROWS) {
      const rows = Math.min(PARALLEL_BLOCK_ROWS, reader.rows - start);
      const buf = free.pop() ?? new ArrayBuffer(PARALLEL_BLOCK_ROWS * rowBytes);
      await reader.readRawInto(start, rows, new Uint8Array(buf, 0, rows * rowBytes));
      const done = projectInPool(plan, buf, rows);
      done.catch(() => undefined);
      queue.push({ start, rows, done });
      if (queue.length >= inflight) await drain();
    }
    while (queue.length > 0) await drain();
  } finally {
    await Promise.allSettled(queue.map((j) => j.done));
  }
}
