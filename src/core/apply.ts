/**
 * Applying a projection: one implementation, used on the main thread and on worker threads.
 * A projection and its options resolve to a plan (subtract an offset, remove a k x d basis,
 * optionally L2-normalise); `createProjector(plan)` turns the plan into the per-row operator,
 * which runs float32 blocks through the WebAssembly SIMD kernel and float64 blocks in float64.
 */
import { createError, opt } from './errors.js';
import { needsLanguage, pooledMean, type Projection } from './projection.js';
import { normalizeRowsInPlace, type FloatArray } from './rows.js';
import { SimdProjector, SimdScorer, simdAvailable } from './wasm/simd.js';

export interface ApplyOptions {
  /** The input's language; required for lir and demean. */
  lang?: string;
  /** L2-normalise each output row. */
  normalize?: boolean;
}

/**
 * What applying does to each row, resolved: x - offset, then x - B^T B x (or, with a transform,
 * y = T x, of dimension outDim), then optional L2 norm. Structured-cloneable.
 */
export interface ProjectionPlan {
  dim: number;
  offset?: Float64Array;
  /** k x d rows to remove (k = basis.length / dim). */
  basis?: Float64Array;
  /** outDim x d matrix applied after the offset (whiten); rows then have outDim values. */
  transform?: Float64Array;
  /** The output dimension (with a transform; else dim). */
  outDim?: number;
  normalize: boolean;
}

/** The per-row operator of a plan. */
export interface Projector {
  readonly dim: number;
  /**
   * Values per output row. When it is less than `dim` (whiten with dims), `apply` packs the
   * output rows at the front of the block: row r at r * outDim.
   */
  readonly outDim: number;
  readonly plan: ProjectionPlan;
  /**
   * A float32 buffer of `capacity` rows owned by the SIMD kernel, when there is one: rows
   * placed there are projected without copies.
   */
  readonly buffer?: Float32Array;
  readonly capacity?: number;
  /**
   * Project `rows` rows of a row-major block in place. Returns null, or the first row that
   * cannot be projected (the block is then left partly projected).
   */
  apply(block: FloatArray, rows?: number): RowProblem | null;
}

/** Resolve a projection and options into the plan applied to each row. */
export function planFor(projection: Projection, options: ApplyOptions = {}): ProjectionPlan {
  const d = projection.dim;
  const normalize = options.normalize === true;
  if (needsLanguage(projection.method)) {
    const lang = options.lang;
    const known = projection.languages.map((l) => l.lang).join(', ');
    if (lang === undefined || lang === '') {
      throw createError(
        'LANG_REQUIRED',
        `method "${projection.method}" needs the input's language (${opt('lang')}); the projection knows ${known}`,
        {
          param: 'lang',
        },
      );
    }
    if (!projection.means[lang]) {
      throw createError('UNKNOWN_LANGUAGE', `the projection has no language "${lang}"; it knows ${known}`, { param: 'lang' });
    }
    if (projection.method === 'demean') return { dim: d, offset: projection.means[lang], normalize };
    const b = projection.languageBases?.[lang];
    return { dim: d, ...(b ? { basis: b.data } : {}), normalize };
  }
  if (projection.method === 'lsar' && projection.basis) {
    return { dim: d, basis: projection.basis.data.subarray(0, projection.remove * d), normalize };
  }
  if (projection.method === 'whiten' && projection.basis) {
    const k = projection.basis.rows;
    const T = new Float64Array(k * d);
    for (let j = 0; j < k; j++) {
      const inv = 1 / Math.sqrt(projection.singularValues?.[j] as number);
      for (let i = 0; i < d; i++) T[j * d + i] = (projection.basis.data[j * d + i] as number) * inv;
    }
    return { dim: d, offset: pooledMean(projection), transform: T, outDim: k, normalize };
  }
  if (projection.method === 'abtt' && projection.basis) {
    return { dim: d, offset: pooledMean(projection), basis: projection.basis.data.subarray(0, projection.remove * d), normalize };
  }
  return { dim: d, normalize };
}

/** The largest finite float32. */
export const FLOAT32_MAX = 3.4028234663852886e38;

/**
 * A row that cannot be projected: its input holds NaN or Inf, or its projected values do not
 * fit the block's type (finite inputs so large that the result overflows).
 */
export interface RowProblem {
  row: number;
  kind: 'input' | 'output';
}

/** The message for a row problem, naming `label` and the row (rows counted from `firstRow`). */
export function describeProblem(p: RowProblem, label: string, firstRow = 0, dtype: 'float32' | 'float64' = 'float32'): string {
  const row = firstRow + p.row;
  return p.kind === 'input'
    ? `${label}: row ${row} holds NaN or Inf`
    : `${label}: row ${row}: its values are so large that the projected row is beyond the ${dtype} range (|y| > ${dtype === 'float32' ? '3.4e38' : '1.8e308'})`;
}

function maxAbs(v: ArrayLike<number>): number {
  let m = 0;
  for (let i = 0; i < v.length; i++) m = Math.max(m, Math.abs(v[i] as number));
  return m;
}

/** Store `d` float64 values of `x` into `block` at `off`; false (nothing stored past the first) when one does not fit the block's type. */
function store(x: Float64Array, block: FloatArray, off: number, d: number): boolean {
  const f32 = block instanceof Float32Array;
  for (let i = 0; i < d; i++) {
    const v = x[i] as number;
    if (!Number.isFinite(f32 ? Math.fround(v) : v)) return false;
    block[off + i] = v;
  }
  return true;
}

function finiteRow(block: ArrayLike<number>, off: number, d: number): boolean {
  for (let i = 0; i < d; i++) if (!Number.isFinite(block[off + i] as number)) return false;
  return true;
}

/**
 * The operator for a plan. Float32 rows go through the SIMD kernel when d % 4 == 0, except rows
 * so large that float32 arithmetic could overflow: those are computed in float64, as float64
 * rows are. A result that does not fit the block's type is reported, never written as Inf.
 */
export function createProjector(plan: ProjectionPlan): Projector {
  if (plan.transform) return transformProjector(plan, plan.transform);
  const d = plan.dim;
  const B = plan.basis ?? new Float64Array(0);
  const k = B.length / d;
  const offset = plan.offset;
  const normalize = plan.normalize;
  const simd = k > 0 && d % 4 === 0 && simdAvailable() ? new SimdProjector(B, k, d) : undefined;
  const coef = new Float64Array(k);
  const x = new Float64Array(d);
  // In float32, |x - offset| <= |x| + |offset|, each coefficient <= d |x - offset| (rows of B are
  // unit vectors) and each result <= (1 + k d) |x - offset|: below this nothing can overflow.
  const f32Limit = Math.max(0, FLOAT32_MAX / (4 * (1 + k * d)) - (offset ? maxAbs(offset) : 0));

  /** One row of `src` at `so`, projected in float64 into x. */
  function rowF64(src: ArrayLike<number>, so: number): void {
    for (let i = 0; i < d; i++) x[i] = (src[so + i] as number) - (offset ? (offset[i] as number) : 0);
    for (let j = 0; j < k; j++) {
      const bo = j * d;
      let acc = 0;
      for (let i = 0; i < d; i++) acc += (x[i] as number) * (B[bo + i] as number);
      coef[j] = acc;
    }
    for (let j = 0; j < k; j++) {
      const bo = j * d;
      const c = coef[j] as number;
      for (let i = 0; i < d; i++) x[i] = (x[i] as number) - c * (B[bo + i] as number);
    }
    if (normalize) normalizeRowsInPlace(x, d, 1);
  }

  /** Float64 path: exact to double precision, for Float64Array input or without SIMD. */
  function applyF64(block: FloatArray, rows: number): RowProblem | null {
    for (let r = 0; r < rows; r++) {
      const off = r * d;
      if (!finiteRow(block, off, d)) return { row: r, kind: 'input' };
      rowF64(block, off);
      if (!store(x, block, off, d)) return { row: r, kind: 'output' };
    }
    return null;
  }

  /** Float32 path: rows through the kernel's buffer, offset and norm in JS, large rows in float64. */
  function applyF32(block: Float32Array, rows: number, kernel: SimdProjector): RowProblem | null {
    const own = kernel.owns(block) && rows <= kernel.capacity;
    for (let start = 0; start < rows; start += kernel.capacity) {
      const n = Math.min(kernel.capacity, rows - start);
      const src = block.subarray(start * d, (start + n) * d);
      if (!own) kernel.buffer.set(src);
      const buf = kernel.buffer;
      // rows the float32 kernel cannot take: NaN or Inf (refused), or large (computed in float64 first)
      let wide: { r: number; y: Float64Array }[] | undefined;
      for (let r = kernel.firstRowBeyond(0, n, f32Limit); r >= 0; r = r + 1 < n ? kernel.firstRowBeyond(r + 1, n, f32Limit) : -1) {
        if (!finiteRow(buf, r * d, d)) return { row: start + r, kind: 'input' };
        rowF64(buf, r * d);
        (wide ??= []).push({ r, y: Float64Array.from(x) });
      }
      if (offset) {
        for (let r = 0; r < n; r++) {
          const o = r * d;
          for (let i = 0; i < d; i++) buf[o + i] = (buf[o + i] as number) - (offset[i] as number);
        }
      }
      kernel.run(n);
      if (normalize) normalizeRowsInPlace(buf, d, n);
      for (const w of wide ?? []) if (!store(w.y, buf, w.r * d, d)) return { row: start + w.r, kind: 'output' };
      if (!own) src.set(buf.subarray(0, n * d));
    }
    return null;
  }

  return {
    dim: d,
    outDim: d,
    plan,
    ...(simd ? { buffer: simd.buffer, capacity: simd.capacity } : {}),
    apply(block: FloatArray, rows = block.length / d): RowProblem | null {
      if (simd && block instanceof Float32Array) return applyF32(block, rows, simd);
      return applyF64(block, rows);
    },
  };
}

/**
 * y = T (x - offset), packed at the front of the block (row r at r * outDim): float64 rows in
 * float64; float32 rows four at a time through the WebAssembly SIMD dot-product kernel (T's
 * rows as its targets; products summed in float32, as the other float32 paths), but rows so
 * large that float32 could overflow, which are computed in float64.
 */
function transformProjector(plan: ProjectionPlan, T: Float64Array): Projector {
  const d = plan.dim;
  const k = T.length / d;
  const offset = plan.offset;
  const x = new Float64Array(d);
  const y = new Float64Array(k);
  let scorer: SimdScorer | undefined;
  const rows4 = new Float32Array(4 * d);
  const out4 = new Float32Array(4 * k);
  // |x - offset| <= |x| + |offset|, each output <= d |T| |x - offset|
  const f32Limit = Math.max(0, FLOAT32_MAX / (4 * d * Math.max(maxAbs(T), 1e-300)) - (offset ? maxAbs(offset) : 0));

  /** Row `r` of `block` in float64 into y. */
  const rowF64 = (block: ArrayLike<number>, off: number) => {
    for (let i = 0; i < d; i++) x[i] = (block[off + i] as number) - (offset ? (offset[i] as number) : 0);
    for (let j = 0; j < k; j++) {
      const to = j * d;
      let acc = 0;
      for (let i = 0; i < d; i++) acc += (T[to + i] as number) * (x[i] as number);
      y[j] = acc;
    }
    if (plan.normalize) normalizeRowsInPlace(y, k, 1);
  };

  const applyF32 = (block: Float32Array, rows: number): RowProblem | null => {
    if (!scorer) {
      scorer = new SimdScorer(d, k);
      scorer.loadTargets(Float32Array.from(T), 0, k);
    }
    const wide = new Float64Array(4 * k);
    const isWide = [false, false, false, false];
    for (let r = 0; r < rows; r += 4) {
      const m = Math.min(4, rows - r);
      for (let q = 0; q < m; q++) {
        const off = (r + q) * d;
        let big = 0;
        for (let i = 0; i < d; i++) {
          const v = block[off + i] as number;
          big = Math.max(big, Math.abs(v));
          rows4[q * d + i] = v - (offset ? (offset[i] as number) : 0);
        }
        // NaN fails every comparison: !(big <= limit) holds for NaN, Inf and large rows
        isWide[q] = !(big <= f32Limit);
        if (isWide[q]) {
          if (!finiteRow(block, off, d)) return { row: r + q, kind: 'input' };
          rowF64(block, off);
          wide.set(y, q * k);
          rows4.fill(0, q * d, (q + 1) * d);
        }
      }
      scorer.score(rows4, 0, m, out4);
      if (plan.normalize) normalizeRowsInPlace(out4, k, m);
      for (let q = 0; q < m; q++) {
        if (isWide[q] && !store(wide.subarray(q * k, (q + 1) * k), out4, q * k, k)) return { row: r + q, kind: 'output' };
      }
      // rows r..r+m-1 are read: their outputs (at (r+q)*k <= (r+q)*d) overwrite nothing unread
      block.set(out4.subarray(0, m * k), r * k);
    }
    return null;
  };
  return {
    dim: d,
    outDim: k,
    plan,
    apply(block: FloatArray, rows = block.length / d): RowProblem | null {
      if (block instanceof Float32Array && simdAvailable()) return applyF32(block, rows);
      // Row r's output (at r*k) never overwrites an unread input row (at r'*d > r*k for r' > r).
      for (let r = 0; r < rows; r++) {
        const off = r * d;
        if (!finiteRow(block, off, d)) return { row: r, kind: 'input' };
        rowF64(block, off);
        if (!store(y, block, r * k, k)) return { row: r, kind: 'output' };
      }
      return null;
    },
  };
}

/**
 * Project `rows` rows in place and return them with the output dimension: with whiten's dims
 * the first rows * outDim values of the same buffer. `problem` is null, or the first row that
 * could not be projected.
 */
export function applyInPlace<T extends FloatArray>(
  op: Projector,
  data: T,
  rows = data.length / op.dim,
): { data: T; dim: number; problem: RowProblem | null } {
  const problem = op.apply(data, rows);
  if (op.outDim === op.dim) return { data, dim: op.dim, problem };
  return { data: data.subarray(0, rows * op.outDim) as T, dim: op.outDim, problem };
}

/**
 * Project `rows` rows of `data` in place (whiten with dims packs them at the front); a row that
 * cannot be projected is refused with `label` and its row number (counted from `firstRow`).
 */
export function projectRows<T extends FloatArray>(
  op: Projector,
  data: T,
  rows: number,
  label: string,
  firstRow = 0,
): { data: T; dim: number } {
  const r = applyInPlace(op, data, rows);
  if (r.problem) {
    throw createError('NON_FINITE', describeProblem(r.problem, label, firstRow, data instanceof Float64Array ? 'float64' : 'float32'));
  }
  return { data: r.data, dim: r.dim };
}

/** The operator of a projection with options. */
export function createOperator(projection: Projection, options: ApplyOptions = {}): Projector {
  return createProjector(planFor(projection, options));
}

/**
 * Apply a projection to a row-major block or a single vector; returns a new array of the same
 * type. Rows holding NaN or Inf are refused.
 */
export function apply<T extends FloatArray>(projection: Projection, data: T, options: ApplyOptions = {}): T {
  if (!(data instanceof Float32Array || data instanceof Float64Array)) {
    throw createError(
      'INPUT',
      `apply: expected a Float32Array or Float64Array (rows x ${projection.dim}, row-major), got ${typeName(data)}`,
    );
  }
  const op = createOperator(projection, options);
  if (data.length % op.dim !== 0) {
    throw createError('DIM_MISMATCH', `input length ${data.length} is not a multiple of the projection's dimension ${op.dim}`);
  }
  const r = projectRows(op, data.slice() as T, data.length / op.dim, 'apply');
  // with fewer output dimensions, a copy of the packed rows (not a view holding the whole input)
  return op.outDim === op.dim ? r.data : (r.data.slice() as T);
}

function typeName(v: unknown): string {
  if (Array.isArray(v)) return 'a plain array (convert it with Float32Array.from(...))';
  if (v === null) return 'null';
  return typeof v === 'object' ? ((v as object).constructor?.name ?? 'an object') : typeof v;
}
