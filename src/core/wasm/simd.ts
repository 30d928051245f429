/**
 * WebAssembly SIMD kernels (kernels.wat): x - B^T B x on float32 rows, and float64
 * column sums of float32 rows. Loaded synchronously on first use; `simdAvailable()`
 * is false where WebAssembly SIMD is not supported, and callers fall back to plain JS.
 */
import { KERNELS_WASM_BASE64 } from './kernels.js';

interface KernelExports {
  memory: WebAssembly.Memory;
  proj1(b: number, k: number, d: number, x: number, coef: number): void;
  proj4(b: number, k: number, d: number, x: number, coef: number): void;
  colsum(x: number, rows: number, d: number, sum: number): void;
  nonfinite(x: number, bytes: number): number;
  beyond(x: number, bytes: number, limit: number): number;
  dots4(b: number, k: number, d: number, x: number, out: number): void;
  dots4f64(b: number, k: number, d: number, x: number, out: number): void;
}

let compiled: WebAssembly.Module | null | undefined;

function module(): WebAssembly.Module | null {
  if (compiled === undefined) {
    try {
      const bin = atob(KERNELS_WASM_BASE64);
      const bytes = new Uint8Array(bin.length);
      for (let i = 0; i < bin.length; i++) bytes[i] = bin.charCodeAt(i);
      compiled = new WebAssembly.Module(bytes);
    } catch {
      compiled = null;
    }
  }
  return compiled;
}

export function simdAvailable(): boolean {
  return module() !== null;
}

function instantiate(bytes: number): KernelExports {
  const m = module();
  if (!m) throw new Error('WebAssembly SIMD is not available');
  const inst = new WebAssembly.Instance(m, {});
  const ex = inst.exports as unknown as KernelExports;
  const pages = Math.ceil(bytes / 65536);
  const have = ex.memory.buffer.byteLength / 65536;
  if (pages > have) ex.memory.grow(pages - have);
  return ex;
}

const align = (n: number) => Math.ceil(n / 16) * 16;

/** Removes a k x d float32 basis from float32 rows: x <- x - B^T (B x). Requires d % 4 == 0. */
export class SimdProjector {
  readonly dim: number;
  readonly k: number;
  /** Rows that fit in the kernel's buffer at once. */
  readonly capacity: number;
  /** The kernel's row buffer (capacity x dim): fill it and call `run(rows)` to avoid copies. */
  readonly buffer: Float32Array;
  private ex: KernelExports;
  private bPtr: number;
  private xPtr: number;
  private coefPtr: number;

  constructor(basis: ArrayLike<number>, k: number, dim: number, capacity = 1024) {
    if (dim % 4 !== 0) throw new Error('SimdProjector needs dim % 4 == 0');
    this.dim = dim;
    this.k = k;
    this.capacity = capacity;
    this.coefPtr = 0;
    this.bPtr = align(16 * Math.max(1, k));
    this.xPtr = align(this.bPtr + 4 * k * dim);
    this.ex = instantiate(this.xPtr + 4 * capacity * dim);
    const b = new Float32Array(this.ex.memory.buffer, this.bPtr, k * dim);
    if (basis instanceof Float32Array || basis instanceof Float64Array) b.set(basis.subarray(0, k * dim));
    else for (let i = 0; i < k * dim; i++) b[i] = basis[i] as number;
    this.buffer = new Float32Array(this.ex.memory.buffer, this.xPtr, capacity * dim);
  }

  /** Project the first `rows` rows (<= capacity) of `buffer` in place. */
  run(rows: number): void {
    const { k, dim } = this;
    const rowBytes = 4 * dim;
    let r = 0;
    for (; r + 4 <= rows; r += 4) this.ex.proj4(this.bPtr, k, dim, this.xPtr + r * rowBytes, this.coefPtr);
    for (; r < rows; r++) this.ex.proj1(this.bPtr, k, dim, this.xPtr + r * rowBytes, this.coefPtr);
  }

  /** True when `block` starts at this kernel's buffer (no copy needed). */
  owns(block: Float32Array): boolean {
    return block.buffer === this.buffer.buffer && block.byteOffset === this.buffer.byteOffset;
  }

  /** Index of the first of `rows` rows in `buffer` holding NaN or Inf, or -1. */
  firstNonFiniteRow(rows: number): number {
    const at = this.ex.nonfinite(this.xPtr, rows * this.dim * 4);
    return at < 0 ? -1 : Math.floor(at / (this.dim * 4));
  }

  /**
   * Index of the first row in `from`..`rows`-1 of `buffer` holding a value that is not
   * |v| <= limit (NaN, Inf, or larger than `limit`), or -1.
   */
  firstRowBeyond(from: number, rows: number, limit: number): number {
    const rowBytes = this.dim * 4;
    const at = this.ex.beyond(this.xPtr + from * rowBytes, (rows - from) * rowBytes, limit);
    return at < 0 ? -1 : from + Math.floor(at / rowBytes);
  }

  /** Project `rows` rows of any float32 block in place, through the buffer. */
  applyInPlace(block: Float32Array, rows = block.length / this.dim): void {
    const d = this.dim;
    if (this.owns(block) && rows <= this.capacity) {
      this.run(rows);
      return;
    }
    for (let start = 0; start < rows; start += this.capacity) {
      const n = Math.min(this.capacity, rows - start);
      const src = block.subarray(start * d, (start + n) * d);
      this.buffer.set(src);
      this.run(n);
      src.set(this.buffer.subarray(0, n * d));
    }
  }
}

/** float64 column sums of float32 rows, d % 4 == 0. */
export class SimdColumnSums {
  readonly dim: number;
  readonly capacity: number;
  private ex: KernelExports;
  private sumPtr = 0;
  private sums: Float64Array;
  /**
   * Two row buffers (capacity x dim each) in the kernel's memory: rows read straight into
   * either are summed without a copy, and one can fill while the other is summed.
   */
  readonly buffers: [Float32Array, Float32Array];

  constructor(dim: number, capacity = 2048) {
    if (dim % 4 !== 0) throw new Error('SimdColumnSums needs dim % 4 == 0');
    this.dim = dim;
    this.capacity = capacity;
    const x0 = align(8 * dim);
    const x1 = align(x0 + 4 * capacity * dim);
    this.ex = instantiate(x1 + 4 * capacity * dim);
    this.sums = new Float64Array(this.ex.memory.buffer, 0, dim);
    this.buffers = [
      new Float32Array(this.ex.memory.buffer, x0, capacity * dim),
      new Float32Array(this.ex.memory.buffer, x1, capacity * dim),
    ];
  }

  /** Column sums of `rows` rows of `block` (float64, length dim). */
  sum(block: Float32Array, rows: number): Float64Array {
    const d = this.dim;
    this.sums.fill(0);
    const own = this.buffers.find((b) => block.buffer === b.buffer && block.byteOffset === b.byteOffset);
    if (own && rows <= this.capacity) {
      this.ex.colsum(own.byteOffset, rows, d, this.sumPtr);
      return this.sums;
    }
    const buf = this.buffers[0];
    for (let start = 0; start < rows; start += this.capacity) {
      const n = Math.min(this.capacity, rows - start);
      buf.set(block.subarray(start * d, (start + n) * d));
      this.ex.colsum(buf.byteOffset, n, d, this.sumPtr);
    }
    return this.sums;
  }
}

const freeColumnSums = new Map<string, SimdColumnSums[]>();

/**
 * A column-sum kernel for exclusive use until `releaseColumnSums`: instantiating one
 * (module instance and its memory) costs more than summing a small file.
 */
export function acquireColumnSums(dim: number, capacity: number): SimdColumnSums {
  return freeColumnSums.get(`${dim}:${capacity}`)?.pop() ?? new SimdColumnSums(dim, capacity);
}

export function releaseColumnSums(k: SimdColumnSums): void {
  const key = `${k.dim}:${k.capacity}`;
  const list = freeColumnSums.get(key) ?? [];
  if (list.length < 4) list.push(k);
  freeColumnSums.set(key, list);
}

/**
 * Dot products of query rows against a chunk of target rows (float32, WebAssembly SIMD).
 * Rows of any dimension: they are zero-padded to a multiple of 4, which leaves every dot
 * product unchanged.
 */
export class SimdScorer {
  readonly dim: number;
  readonly capacity: number;
  private readonly padded: number;
  private ex: KernelExports;
  private qPtr: number;
  private tPtr: number;
  private outPtr: number;
  private q: Float32Array;
  private t: Float32Array;
  private out: Float32Array;
  private rows = 0;

  constructor(dim: number, capacity = 4096) {
    this.dim = dim;
    this.capacity = capacity;
    this.padded = Math.ceil(dim / 4) * 4;
    this.qPtr = 0;
    this.outPtr = align(16 * this.padded);
    this.tPtr = align(this.outPtr + 16 * capacity);
    this.ex = instantiate(this.tPtr + 4 * capacity * this.padded);
    this.q = new Float32Array(this.ex.memory.buffer, this.qPtr, 4 * this.padded);
    this.out = new Float32Array(this.ex.memory.buffer, this.outPtr, 4 * capacity);
    this.t = new Float32Array(this.ex.memory.buffer, this.tPtr, capacity * this.padded);
  }

  /** Load `rows` (<= capacity) target rows from a row-major block, starting at row `start`. */
  loadTargets(block: ArrayLike<number> & { subarray(a: number, b: number): ArrayLike<number> }, start: number, rows: number): void {
    const { dim, padded } = this;
    if (padded === dim && block instanceof Float32Array) {
      this.t.set(block.subarray(start * dim, (start + rows) * dim));
    } else {
      this.t.fill(0, 0, rows * padded);
      for (let r = 0; r < rows; r++) {
        const src = (start + r) * dim;
        for (let i = 0; i < dim; i++) this.t[r * padded + i] = block[src + i] as number;
      }
    }
    this.rows = rows;
  }

  /**
   * Scores of up to 4 query rows (`queries` rows qStart..qStart+n) against the loaded
   * targets: result[r * rows + j] for query r and target j, written into `result`.
   */
  score(queries: ArrayLike<number>, qStart: number, n: number, result: Float32Array): void {
    const { dim, padded, rows } = this;
    this.q.fill(0);
    for (let r = 0; r < n; r++) for (let i = 0; i < dim; i++) this.q[r * padded + i] = queries[(qStart + r) * dim + i] as number;
    this.ex.dots4(this.tPtr, rows, padded, this.qPtr, this.outPtr);
    const out = this.out;
    for (let r = 0; r < n; r++) {
      const o = r * rows;
      for (let j = 0; j < rows; j++) result[o + j] = out[4 * j + r] as number;
    }
  }
}

/**
 * Second moments X^T X of float32 row blocks with the dots4 kernel: the block is stored
 * transposed (one row per feature, rows padded to a multiple of 4 with zeros), and each
 * group of 4 features is dotted with every feature. Products are summed in float32 within
 * a block; callers accumulate blocks in float64.
 */
export class SimdGram {
  readonly dim: number;
  readonly capacity: number;
  private ex: KernelExports;
  private tPtr: number;
  private outPtr: number;
  private t: Float32Array;
  private out: Float64Array;

  constructor(dim: number, capacity: number) {
    this.dim = dim;
    this.capacity = Math.ceil(capacity / 4) * 4;
    this.outPtr = 0;
    this.tPtr = align(32 * dim);
    this.ex = instantiate(this.tPtr + 4 * dim * this.capacity);
    this.out = new Float64Array(this.ex.memory.buffer, this.outPtr, 4 * dim);
    this.t = new Float32Array(this.ex.memory.buffer, this.tPtr, dim * this.capacity);
  }

  /**
   * gram (row-major d x d, upper triangle used) += X^T X for `rows` rows of `block`. Products
   * and sums in float64, so the result depends on the rows, hardly on how they come in blocks.
   */
  accumulate(block: Float32Array, rows: number, gram: Float64Array): void {
    const d = this.dim;
    for (let start = 0; start < rows; start += this.capacity) {
      const n = Math.min(this.capacity, rows - start);
      const padded = Math.ceil(n / 4) * 4;
      const t = this.t;
      for (let r = 0; r < n; r++) {
        const o = (start + r) * d;
        for (let i = 0; i < d; i++) t[i * padded + r] = block[o + i] as number;
      }
      if (padded > n) for (let i = 0; i < d; i++) t.fill(0, i * padded + n, (i + 1) * padded);
      const rowBytes = 4 * padded;
      const out = this.out;
      for (let i = 0; i < d; i += 4) {
        // the 4 feature rows at i against feature rows i..d-1 (the upper triangle)
        this.ex.dots4f64(this.tPtr + i * rowBytes, d - i, padded, this.tPtr + i * rowBytes, this.outPtr);
        for (let r = 0; r < 4 && i + r < d; r++) {
          const gi = (i + r) * d;
          for (let j = i + r; j < d; j++) gram[gi + j] = (gram[gi + j] as number) + (out[4 * (j - i) + r] as number);
        }
      }
    }
  }
}
