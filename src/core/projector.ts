/**
 * Applying a projection: one implementation, used on the main thread and on worker threads.
 * A projection and its options resolve to a plan (subtract an offset, remove a k x d basis,
 * optionally L2-normalise); `createProjector(plan)` turns the plan into the per-row operator,
 * which runs float32 blocks through the WebAssembly SIMD kernel and float64 blocks in float64.
 */
import { createError } from './errors.js';
import { needsLanguage, pooledMean, type Projection } from './projection.js';
import { firstNonFiniteRow, normalizeRowsInPlace, type FloatArray } from './rows.js';
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
   * Project `rows` rows of a row-major block in place. Returns -1, or the index of the
   * first row holding NaN or Inf (the block is then left partly projected).
   */
  apply(block: FloatArray, rows?: number): number;
}

/** Resolve a projection and options into the plan applied to each row. */
export function planFor(projection: Projection, options: ApplyOptions = {}): ProjectionPlan {
  const d = projection.dim;
  const normalize = options.normalize === true;
  if (needsLanguage(projection.method)) {
    const lang = options.lang;
    const known = projection.languages.map((l) => l.lang).join(', ');
    if (lang === undefined || lang === '') {
      throw createError('LANG_REQUIRED', `method "${projection.method}" needs the input's language (lang); the projection knows ${known}`, {
        param: 'lang',
      });
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

/** The operator for a plan (float32 rows through the SIMD kernel when d % 4 == 0). */
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

  /** Float64 path: exact to double precision, for Float64Array input or without SIMD. */
  function applyF64(block: FloatArray, rows: number): number {
    const bad = firstNonFiniteRow(block, rows, d);
    const n = bad < 0 ? rows : bad;
    for (let r = 0; r < n; r++) {
      const off = r * d;
      for (let i = 0; i < d; i++) x[i] = block[off + i] as number;
      if (offset) for (let i = 0; i < d; i++) x[i] = (x[i] as number) - (offset[i] as number);
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
      for (let i = 0; i < d; i++) block[off + i] = x[i] as number;
    }
    return bad;
  }

  /** Float32 path: rows through the kernel's buffer (finiteness checked there), offset and norm in JS. */
  function applyF32(block: Float32Array, rows: number, kernel: SimdProjector): number {
    const own = kernel.owns(block) && rows <= kernel.capacity;
    for (let start = 0; start < rows; start += kernel.capacity) {
      const n = Math.min(kernel.capacity, rows - start);
      const src = block.subarray(start * d, (start + n) * d);
      if (!own) kernel.buffer.set(src);
      const bad = kernel.firstNonFiniteRow(n);
      if (bad >= 0) return start + bad;
      const buf = kernel.buffer;
      if (offset) {
        for (let r = 0; r < n; r++) {
          const o = r * d;
          for (let i = 0; i < d; i++) buf[o + i] = (buf[o + i] as number) - (offset[i] as number);
        }
      }
      kernel.run(n);
      if (normalize) normalizeRowsInPlace(buf, d, n);
      if (!own) src.set(buf.subarray(0, n * d));
    }
    return -1;
  }

  return {
    dim: d,
    outDim: d,
    plan,
    ...(simd ? { buffer: simd.buffer, capacity: simd.capacity } : {}),
    apply(block: FloatArray, rows = block.length / d): number {
      if (simd && block instanceof Float32Array) return applyF32(block, rows, simd);
      return applyF64(block, rows);
    },
  };
}

/**
 * y = T (x - offset), packed at the front of the block (row r at r * outDim): float64 rows in
 * float64; float32 rows four at a time through the WebAssembly SIMD dot-product kernel (T's
 * rows as its targets; products summed in float32, as the other float32 paths).
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
  const applyF32 = (block: Float32Array, rows: number): number => {
    const bad = firstNonFiniteRow(block, rows, d);
    const n = bad < 0 ? rows : bad;
    if (!scorer) {
      scorer = new SimdScorer(d, k);
      scorer.loadTargets(Float32Array.from(T), 0, k);
    }
    for (let r = 0; r < n; r += 4) {
      const m = Math.min(4, n - r);
      for (let q = 0; q < m; q++) {
        const off = (r + q) * d;
        for (let i = 0; i < d; i++) rows4[q * d + i] = (block[off + i] as number) - (offset ? (offset[i] as number) : 0);
      }
      scorer.score(rows4, 0, m, out4);
      if (plan.normalize) normalizeRowsInPlace(out4, k, m);
      // rows r..r+m-1 are read: their outputs (at (r+q)*k <= (r+q)*d) overwrite nothing unread
      block.set(out4.subarray(0, m * k), r * k);
    }
    return bad;
  };
  return {
    dim: d,
    outDim: k,
    plan,
    apply(block: FloatArray, rows = block.length / d): number {
      if (block instanceof Float32Array && simdAvailable()) return applyF32(block, rows);
      const bad = firstNonFiniteRow(block, rows, d);
      const n = bad < 0 ? rows : bad;
      // Row r's output (at r*k) never overwrites an unread input row (at r'*d > r*k for r' > r).
      for (let r = 0; r < n; r++) {
        const off = r * d;
        for (let i = 0; i < d; i++) x[i] = (block[off + i] as number) - (offset ? (offset[i] as number) : 0);
        for (let j = 0; j < k; j++) {
          const to = j * d;
          let acc = 0;
          for (let i = 0; i < d; i++) acc += (T[to + i] as number) * (x[i] as number);
          y[j] = acc;
        }
        if (plan.normalize) normalizeRowsInPlace(y, k, 1);
        block.set(y, r * k);
      }
      return bad;
    },
  };
}

/**
 * Project `rows` rows in place and return them with the output dimension: with whiten's dims
 * the first rows * outDim values of the same buffer. `bad` is -1 or the first row with NaN/Inf.
 */
export function applyInPlace<T extends FloatArray>(
  op: Projector,
  data: T,
  rows = data.length / op.dim,
): { data: T; dim: number; bad: number } {
  const bad = op.apply(data, rows);
  if (op.outDim === op.dim) return { data, dim: op.dim, bad };
  return { data: data.subarray(0, rows * op.outDim) as T, dim: op.outDim, bad };
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
  const r = applyInPlace(op, data.slice() as T);
  if (r.bad >= 0) throw createError('NON_FINITE', `apply: row ${r.bad} holds NaN or Inf`);
  // with fewer output dimensions, a copy of the packed rows (not a view holding the whole input)
  return op.outDim === op.dim ? r.data : (r.data.slice() as T);
}

function typeName(v: unknown): string {
  if (Array.isArray(v)) return 'a plain array (convert it with Float32Array.from(...))';
  if (v === null) return 'null';
  return typeof v === 'object' ? ((v as object).constructor?.name ?? 'an object') : typeof v;
}
