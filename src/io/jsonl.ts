/** JSON Lines embeddings: one JSON array of numbers per line. */
import { createInterface } from 'node:readline';
import type { Readable, Writable } from 'node:stream';
import { createError } from '../core/errors.js';

export interface JsonlBlock {
  /** Index of the block's first row. */
  start: number;
  rows: number;
  dim: number;
  data: Float64Array;
}

/**
 * Read rows from a JSON Lines stream in blocks of `blockRows`. Blank lines are skipped.
 * Errors name `label` and the 1-based line number. Values with |x| > maxAbs are refused
 * (callers writing float32 pass the float32 maximum).
 */
export async function* readJsonlBlocks(
  input: Readable,
  label: string,
  blockRows = 1024,
  expectDim?: number,
  maxAbs = Infinity,
): AsyncGenerator<JsonlBlock> {
  const rl = createInterface({ input, crlfDelay: Infinity });
  let dim = expectDim ?? 0;
  let buf: Float64Array | undefined;
  let inBlock = 0;
  let start = 0;
  let lineNo = 0;
  try {
    for await (const line of rl) {
      lineNo++;
      if (line.trim() === '') continue;
      let v: unknown;
      try {
        v = JSON.parse(line);
      } catch {
        throw createError(
          'JSONL',
          `${label}:${lineNo}: not valid JSON: expected an array of numbers, got ${JSON.stringify(line.slice(0, 40))}`,
        );
      }
      if (!Array.isArray(v) || v.length === 0) {
        throw createError('JSONL', `${label}:${lineNo}: expected a non-empty array of numbers, got ${JSON.stringify(line.slice(0, 40))}`);
      }
      if (dim === 0) dim = v.length;
      if (v.length !== dim) {
        throw createError('DIM_MISMATCH', `${label}:${lineNo}: ${v.length} values, expected ${dim}`);
      }
      if (!buf) buf = new Float64Array(blockRows * dim);
      const off = inBlock * dim;
      for (let i = 0; i < dim; i++) {
        const x = v[i];
        if (typeof x !== 'number') throw createError('JSONL', `${label}:${lineNo}: value ${i} is ${JSON.stringify(x)}, expected a number`);
        if (!Number.isFinite(x)) throw createError('NON_FINITE', `${label}:${lineNo}: value ${i} is not finite`);
        if (Math.abs(x) > maxAbs) {
          throw createError(
            'NON_FINITE',
            `${label}:${lineNo}: value ${i} (${x}) is beyond the float32 range (|x| <= ${maxAbs.toExponential(4)}); write float64 output (dtype float64) to keep it`,
          );
        }
        buf[off + i] = x;
      }
      inBlock++;
      if (inBlock === blockRows) {
        yield { start, rows: inBlock, dim, data: buf };
        start += inBlock;
        inBlock = 0;
      }
    }
    if (inBlock > 0 && buf) yield { start, rows: inBlock, dim, data: buf };
  } finally {
    rl.close();
  }
}

/** Format rows as JSON Lines text. */
export function formatJsonl(data: ArrayLike<number>, rows: number, dim: number): string {
  let out = '';
  for (let r = 0; r < rows; r++) {
    out += '[';
    for (let i = 0; i < dim; i++) {
      if (i > 0) out += ',';
      out += String(data[r * dim + i]);
    }
    out += ']\n';
  }
  return out;
}

/** Write text to a stream, waiting for drain. */
export async function writeText(out: Writable, text: string): Promise<void> {
  if (!out.write(text)) await new Promise<void>((resolve) => out.once('drain', () => resolve()));
}
