/** What projecting a block of rows needs in every route: an operator per language, and the output dtype's check. */
import { createOperator, projectRows, type Projector } from '../../core/apply.js';
import type { Projection } from '../../core/projection.js';
import { narrowToFloat32, type FloatArray } from '../../core/rows.js';
import type { Block } from '../../io/embeddings.js';
import { overflowError } from '../../io/npy.js';
import type { Readable, Writable } from 'node:stream';
import type { ApplyOptions } from '../../core/apply.js';
import type { Events } from '../../core/events.js';

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

/** One operator per language, made on first use (lir and demean with a language column). */
export function operators(projection: Projection, options: ProjectOptions): (lang: string | undefined) => Projector {
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
export function applyBlock(opFor: (lang: string | undefined) => Projector, b: Block, d: number, label: string, byRow: boolean): void {
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

/** `rows` rows of `dim` values as the output dtype (a view when they already are); a value float32 cannot hold is refused. */
export function castRows(data: FloatArray, rows: number, dim: number, dtype: '<f4' | '<f8', out: string, firstRow: number): FloatArray {
  const n = rows * dim;
  if (dtype === '<f8') return data instanceof Float64Array ? data.subarray(0, n) : Float64Array.from(data.subarray(0, n));
  const narrow = narrowToFloat32(data, n, dim);
  if (narrow.overflowRow >= 0) throw overflowError(out, firstRow + narrow.overflowRow);
  return narrow.out;
}
