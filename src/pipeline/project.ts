/** `lsar project`: apply a fitted projection to a stream of embeddings, in constant memory. */
import type { Writable } from 'node:stream';
import type { Readable } from 'node:stream';
import { createError } from '../core/errors.js';
import { createOperator, type ApplyOptions, type Projector } from '../core/projector.js';
import type { Projection } from '../core/projection.js';
import type { FloatArray } from '../core/rows.js';
import { poolSize, projectInPool } from '../adapters/pool.js';
import { AtomicTextWriter } from '../io/atomic.js';
import { embeddingFormat, openEmbeddings, type Block, type EmbeddingSource } from '../io/embeddings.js';
import { formatJsonl, writeText } from '../io/jsonl.js';
import { HOST_LITTLE, NpyWriter } from '../io/npy.js';

export interface ProjectOptions extends ApplyOptions {
  /** Input: a `.npy` path, a `.jsonl` path, or `-` for JSON Lines on `stdin`. */
  input: string;
  /** Output: a `.npy` path, a `.jsonl` path, or `-` for JSON Lines on `stdout`. */
  output: string;
  stdin?: Readable;
  stdout?: Writable;
  /** Output dtype for `.npy` (default: float64 if the input is float64, else float32). */
  dtype?: 'float32' | 'float64';
  blockRows?: number;
  /** Worker threads for large float32 .npy inputs (default: one per core; 0 = none). */
  workers?: number;
  onProgress?: (rowsDone: number, rowsTotal: number | undefined) => void;
}

export interface ProjectSummary {
  rows: number;
  dim: number;
  output: string;
}

const FLOAT32_MAX = 3.4028234663852886e38;

/** Apply `projection` to every row of the input, writing the output atomically. */
export async function projectStream(projection: Projection, options: ProjectOptions): Promise<ProjectSummary> {
  embeddingFormat(options.input, 'input');
  const outFormat = embeddingFormat(options.output, 'output');
  const op = createOperator(projection, options);
  const d = projection.dim;
  const wantF64 = options.dtype === 'float64';
  const src = await openEmbeddings(options.input, {
    ...(options.stdin ? { stdin: options.stdin } : {}),
    dim: d,
    dimOf: 'the projection was fitted on dimension',
    // float32 .npy output cannot hold larger JSON values: refused with their line.
    ...(outFormat === 'npy' && !wantF64 ? { maxAbs: FLOAT32_MAX } : {}),
  });
  const outDtype = wantF64 || (options.dtype === undefined && src.dtype === 'float64' && src.format === 'npy') ? '<f8' : '<f4';
  let writer: NpyWriter | undefined;
  let textWriter: AtomicTextWriter | undefined;
  let rows = 0;
  const sink = async (data: FloatArray, n: number) => {
    if (writer) await writer.write(data, n);
    else if (options.output === '-') await writeText(options.stdout ?? process.stdout, formatJsonl(data, n, d));
    else await textWriter?.write(formatJsonl(data, n, d));
    rows += n;
    options.onProgress?.(rows, src.rows);
  };
  try {
    if (outFormat === 'npy') writer = await NpyWriter.create(options.output, d, outDtype);
    else if (options.output !== '-') textWriter = await AtomicTextWriter.create(options.output);
    const npy = src.npy;
    const parallel =
      npy &&
      op.plan.basis &&
      npy.header.dtype === '<f4' &&
      HOST_LITTLE &&
      npy.rows >= PARALLEL_MIN_ROWS &&
      (options.workers ?? poolSize()) > 0;
    if (parallel) await projectParallel(src, op, sink);
    else {
      for await (const b of directBlocks(src, op, options.blockRows)) {
        const bad = op.apply(b.data, b.rows);
        if (bad >= 0) throw createError('NON_FINITE', `${src.label}: row ${b.start + bad} holds NaN or Inf`);
        await sink(b.data, b.rows);
      }
    }
    if (rows === 0) throw createError('EMPTY', `${src.label}: no rows`);
    await writer?.close();
    await textWriter?.close();
  } catch (e) {
    await writer?.abort();
    await textWriter?.abort();
    throw e;
  } finally {
    await src.close();
  }
  return { rows, dim: d, output: options.output };
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
  const queue: { start: number; rows: number; done: Promise<{ buf: ArrayBuffer; bad: number }> }[] = [];
  const drain = async () => {
    const job = queue.shift() as (typeof queue)[number];
    const { buf, bad } = await job.done;
    if (bad >= 0) throw createError('NON_FINITE', `${reader.path}: row ${job.start + bad} holds NaN or Inf`);
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
