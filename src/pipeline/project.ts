/** `lsar project`: apply a fitted projection to a stream of embeddings, in constant memory. */
import { createReadStream } from 'node:fs';
import type { Readable, Writable } from 'node:stream';
import { createError } from '../core/errors.js';
import type { FloatArray } from '../core/moments.js';
import type { Dense } from '../core/linalg.js';
import { createOperator, type ApplyOptions, type Projection, type RowOperator } from '../core/projection.js';
import { kernelModule } from '../core/wasm/simd.js';
import { ProjectionPool } from './parallel.js';
import { AtomicTextWriter } from '../io/atomic.js';
import { stat } from 'node:fs/promises';
import { formatJsonl, readJsonlBlocks, writeText } from '../io/jsonl.js';
import { HOST_LITTLE, NpyReader, NpyWriter } from '../io/npy.js';

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

type Format = 'npy' | 'jsonl';

function formatOf(path: string, role: string): Format {
  if (path === '-' || /\.(jsonl|ndjson)$/i.test(path)) return 'jsonl';
  if (/\.npy$/i.test(path)) return 'npy';
  throw createError(
    'USAGE',
    `${role} "${path}": expected a .npy or .jsonl file, or - for JSON Lines on standard ${role === '--in' ? 'input' : 'output'}`,
  );
}

/** A block of rows from either source (.npy or JSON Lines). */
interface Block {
  start: number;
  rows: number;
  data: FloatArray;
}

/** Apply `projection` to every row of the input, writing the output atomically. */
export async function projectStream(projection: Projection, options: ProjectOptions): Promise<ProjectSummary> {
  const inFormat = formatOf(options.input, '--in');
  const outFormat = formatOf(options.output, '--out');
  const op = createOperator(projection, options);
  const d = projection.dim;
  let reader: NpyReader | undefined;
  let source: AsyncGenerator<Block>;
  let total: number | undefined;
  let inLabel = options.input;
  if (inFormat === 'npy') {
    reader = await NpyReader.open(options.input);
    if (reader.dim !== d) {
      await reader.close();
      throw createError('DIM_MISMATCH', `${options.input}: dimension ${reader.dim}, but the projection was fitted on dimension ${d}`);
    }
    total = reader.rows;
    // Little-endian float32 rows go straight into the SIMD kernel's buffer: no copies.
    const direct = op.buffer && reader.header.dtype === '<f4' && HOST_LITTLE;
    source = direct
      ? reader.blocks(
          Math.min(options.blockRows ?? Infinity, op.capacity as number),
          new Uint8Array(
            (op.buffer as Float32Array).buffer,
            (op.buffer as Float32Array).byteOffset,
            (op.buffer as Float32Array).byteLength,
          ),
        )
      : reader.blocks(options.blockRows);
  } else {
    if (options.input === '-') inLabel = '<stdin>';
    else await mustExist(options.input);
    const stream = options.input === '-' ? (options.stdin ?? process.stdin) : createReadStream(options.input);
    source = readJsonlBlocks(stream, inLabel, options.blockRows ?? 1024, d);
  }
  const outDtype = options.dtype === 'float64' || (options.dtype === undefined && reader?.header.itemSize === 8) ? '<f8' : '<f4';
  let writer: NpyWriter | undefined;
  let textWriter: AtomicTextWriter | undefined;
  let rows = 0;
  const sink = async (data: FloatArray, n: number) => {
    if (writer) await writer.write(data, n);
    else if (options.output === '-') await writeText(options.stdout ?? process.stdout, formatJsonl(data, n, d));
    else await textWriter?.write(formatJsonl(data, n, d));
    rows += n;
    options.onProgress?.(rows, total);
  };
  try {
    if (outFormat === 'npy') writer = await NpyWriter.create(options.output, d, outDtype);
    else if (options.output !== '-') textWriter = await AtomicTextWriter.create(options.output);
    const parallel =
      reader &&
      op.plan.basis &&
      reader.header.dtype === '<f4' &&
      HOST_LITTLE &&
      reader.rows >= PARALLEL_MIN_ROWS &&
      kernelModule() &&
      (options.workers ?? 2) > 0;
    if (parallel && reader) {
      await projectParallel(reader, op.plan, sink, options.workers);
    } else {
      for await (const b of source) {
        const bad = op.firstNonFiniteRow(b.data, b.rows);
        if (bad >= 0) throw createError('NON_FINITE', `${inLabel}: row ${b.start + bad} holds NaN or Inf`);
        op.applyInPlace(b.data, b.rows);
        await sink(b.data, b.rows);
      }
    }
    if (rows === 0) throw createError('EMPTY', `${inLabel}: no rows`);
    await writer?.close();
    await textWriter?.close();
  } catch (e) {
    await writer?.abort();
    await textWriter?.abort();
    throw e;
  } finally {
    await reader?.close();
  }
  return { rows, dim: d, output: options.output };
}

async function mustExist(path: string): Promise<void> {
  try {
    await stat(path);
  } catch {
    throw createError('NOT_FOUND', `${path}: no such file`);
  }
}

/** Below this many rows, starting worker threads costs more than it saves. */
const PARALLEL_MIN_ROWS = 16_384;
const PARALLEL_BLOCK_ROWS = 2048;

/** Read blocks, project them on worker threads, write them in order. */
async function projectParallel(
  reader: NpyReader,
  plan: RowOperator['plan'],
  sink: (data: Float32Array, rows: number) => Promise<void>,
  workers?: number,
): Promise<void> {
  const d = reader.dim;
  const basis = plan.basis as Dense;
  const pool = new ProjectionPool({
    basis: basis.data,
    k: basis.rows,
    dim: d,
    offset: plan.offset,
    normalize: plan.normalize,
    ...(workers ? { workers } : {}),
  });
  const rowBytes = d * 4;
  const inflight = 2 * pool.size;
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
      const done = pool.run(buf, rows);
      done.catch(() => undefined);
      queue.push({ start, rows, done });
      if (queue.length >= inflight) await drain();
    }
    while (queue.length > 0) await drain();
  } finally {
    await pool.close();
  }
}
