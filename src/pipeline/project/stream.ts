/**
 * One input to one output in constant memory: blocks of rows projected (large float32 .npy on
 * the worker pool, with the same projector) and written atomically as .npy, Parquet or JSON
 * Lines (stdout for `-`).
 */
import { createError, opt } from '../../core/errors.js';
import { describeProblem, type Projector } from '../../core/apply.js';
import { needsLanguage, outputDim, type Projection } from '../../core/projection.js';
import { type FloatArray } from '../../core/rows.js';
import { poolSize, projectInPool } from '../../adapters/pool.js';
import { projectionFiles } from '../../io/artifact.js';
import { AtomicTextWriter } from '../../io/atomic.js';
import { refuseOverwrite } from '../../io/same-file.js';
import { embeddingFormat, openEmbeddings, type Block, type EmbeddingSource } from '../../io/embeddings.js';
import { formatJsonl, writeText } from '../../io/jsonl.js';
import { HOST_LITTLE, NpyWriter } from '../../io/npy.js';
import { DEFAULT_COLUMN, isParquet, parquetLibs } from '../../io/parquet.js';
import { embeddingVector, ParquetWriter, rowGroupRowsFor } from '../../io/parquet-writer.js';

const FLOAT32_MAX = 3.4028234663852886e38;

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

import { projectParquet } from './parquet.js';
import { applyBlock, castRows, operators, type ProjectOptions, type ProjectSummary } from './rows.js';

export type { ProjectOptions, ProjectSummary } from './rows.js';
