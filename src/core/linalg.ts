/**
 * Small dense linear algebra on row-major Float64Array, backed by ml-matrix.
 * Only ever called on small matrices (d x L language means, d x d second moments):
 * never on n x d data.
 */
import { EigenvalueDecomposition, Matrix } from 'ml-matrix';
import { mulberry32 } from './random.js';

/** A row-major dense matrix. */
export interface Dense {
  rows: number;
  cols: number;
  data: Float64Array;
}

function toMatrix(a: Dense): Matrix {
  const m = new Matrix(a.rows, a.cols);
  for (let i = 0; i < a.rows; i++) {
    for (let j = 0; j < a.cols; j++) m.set(i, j, a.data[i * a.cols + j] as number);
  }
  return m;
}

export interface ThinSvd {
  /** m x k left singular vectors (columns). */
  u: Dense;
  /** k singular values, descending. */
  s: Float64Array;
  /** n x k right singular vectors (columns). */
  v: Dense;
}

/**
 * Thin SVD of an m x n matrix, k = min(m, n), singular values descending.
 * One-sided Jacobi (Hestenes) on the columns: accurate to working precision even for
 * small singular values, and fast for the tall d x L matrices LSAR needs (no n x d data
 * ever comes here). Wide matrices are handled through the transpose.
 */
export function thinSvd(a: Dense): ThinSvd {
  if (a.cols > a.rows) {
    const t = thinSvd(transpose(a));
    return { u: t.v, s: t.s, v: t.u };
  }
  if (a.rows > 2 * a.cols) return tallSvd(a);
  return jacobiSvd(a);
}

/**
 * Tall matrices: Householder QR first (A = QR), then Jacobi on the small n x n R:
 * R = U' S V^T, so A = (Q U') S V^T. Costs O(m n^2) once instead of per sweep.
 */
function tallSvd(a: Dense): ThinSvd {
  const m = a.rows;
  const n = a.cols;
  // Column-major copy; Householder vectors overwrite the lower part.
  const w = new Float64Array(m * n);
  for (let i = 0; i < m; i++) for (let j = 0; j < n; j++) w[j * m + i] = a.data[i * n + j] as number;
  const vs: Float64Array[] = [];
  const r = new Float64Array(n * n);
  for (let k = 0; k < n; k++) {
    const ko = k * m;
    let norm2 = 0;
    for (let i = k; i < m; i++) norm2 += (w[ko + i] as number) ** 2;
    const norm = Math.sqrt(norm2);
    const x0 = w[ko + k] as number;
    const alpha = x0 >= 0 ? -norm : norm;
    const v = new Float64Array(m - k);
    for (let i = k; i < m; i++) v[i - k] = w[ko + i] as number;
    v[0] = x0 - alpha;
    let vnorm2 = 0;
    for (let i = 0; i < v.length; i++) vnorm2 += (v[i] as number) ** 2;
    if (vnorm2 > 0) {
      // Apply H = I - 2 v v^T / (v^T v) to the remaining columns.
      for (let j = k + 1; j < n; j++) {
        const jo = j * m;
        let dot = 0;
        for (let i = k; i < m; i++) dot += (v[i - k] as number) * (w[jo + i] as number);
        const f = (2 * dot) / vnorm2;
        for (let i = k; i < m; i++) w[jo + i] = (w[jo + i] as number) - f * (v[i - k] as number);
      }
    }
    vs.push(vnorm2 > 0 ? v : new Float64Array(0));
    r[k * n + k] = vnorm2 > 0 ? alpha : x0;
    for (let j = k + 1; j < n; j++) r[k * n + j] = w[j * m + k] as number;
  }
  const small = jacobiSvd({ rows: n, cols: n, data: r });
  // U = Q [U'; 0]: apply the reflectors in reverse order to each column.
  const u = new Float64Array(m * n);
  for (let j = 0; j < n; j++) {
    const col = new Float64Array(m);
    for (let i = 0; i < n; i++) col[i] = small.u.data[i * n + j] as number;
    for (let k = n - 1; k >= 0; k--) {
      const v = vs[k] as Float64Array;
      if (v.length === 0) continue;
      let dot = 0;
      let vnorm2 = 0;
      for (let i = k; i < m; i++) {
        dot += (v[i - k] as number) * (col[i] as number);
        vnorm2 += (v[i - k] as number) ** 2;
      }
      const f = (2 * dot) / vnorm2;
      for (let i = k; i < m; i++) col[i] = (col[i] as number) - f * (v[i - k] as number);
    }
    for (let i = 0; i < m; i++) u[i * n + j] = col[i] as number;
  }
  return { u: { rows: m, cols: n, data: u }, s: small.s, v: small.v };
}

/** One-sided Jacobi SVD of an m x n matrix with m >= n. */
function jacobiSvd(a: Dense): ThinSvd {
  const m = a.rows;
  const n = a.cols;
  // Column-major working copy W (n columns of length m) and V (n x n, column-major).
  const w = new Float64Array(m * n);
  for (let i = 0; i < m; i++) for (let j = 0; j < n; j++) w[j * m + i] = a.data[i * n + j] as number;
  const v = new Float64Array(n * n);
  for (let j = 0; j < n; j++) v[j * n + j] = 1;
  const eps = Number.EPSILON;
  for (let sweep = 0; sweep < 60; sweep++) {
    let rotated = false;
    for (let p = 0; p < n - 1; p++) {
      const po = p * m;
      for (let q = p + 1; q < n; q++) {
        const qo = q * m;
        let alpha = 0;
        let beta = 0;
        let gamma = 0;
        for (let i = 0; i < m; i++) {
          const x = w[po + i] as number;
          const y = w[qo + i] as number;
          alpha += x * x;
          beta += y * y;
          gamma += x * y;
        }
        if (gamma === 0 || Math.abs(gamma) <= eps * Math.sqrt(alpha * beta)) continue;
        rotated = true;
        const zeta = (beta - alpha) / (2 * gamma);
        const t = Math.sign(zeta || 1) / (Math.abs(zeta) + Math.sqrt(1 + zeta * zeta));
        const c = 1 / Math.sqrt(1 + t * t);
        const s = c * t;
        for (let i = 0; i < m; i++) {
          const x = w[po + i] as number;
          const y = w[qo + i] as number;
          w[po + i] = c * x - s * y;
          w[qo + i] = s * x + c * y;
        }
        for (let i = 0; i < n; i++) {
          const x = v[p * n + i] as number;
          const y = v[q * n + i] as number;
          v[p * n + i] = c * x - s * y;
          v[q * n + i] = s * x + c * y;
        }
      }
    }
    if (!rotated) break;
  }
  const norms = Array.from({ length: n }, (_, j) => {
    let s2 = 0;
    for (let i = 0; i < m; i++) s2 += (w[j * m + i] as number) ** 2;
    return Math.sqrt(s2);
  });
  const order = norms.map((_, j) => j).sort((x, y) => (norms[y] as number) - (norms[x] as number));
  const u = new Float64Array(m * n);
  const vv = new Float64Array(n * n);
  const sv = new Float64Array(n);
  order.forEach((src, j) => {
    const sj = norms[src] as number;
    sv[j] = sj;
    for (let i = 0; i < m; i++) u[i * n + j] = sj > 0 ? (w[src * m + i] as number) / sj : 0;
    for (let i = 0; i < n; i++) vv[i * n + j] = v[src * n + i] as number;
  });
  return { u: { rows: m, cols: n, data: u }, s: sv, v: { rows: n, cols: n, data: vv } };
}

export function transpose(a: Dense): Dense {
  const out = new Float64Array(a.rows * a.cols);
  for (let i = 0; i < a.rows; i++) for (let j = 0; j < a.cols; j++) out[j * a.rows + i] = a.data[i * a.cols + j] as number;
  return { rows: a.cols, cols: a.rows, data: out };
}

/**
 * Top-r eigenpairs of a symmetric positive semi-definite n x n matrix (eigenvalues
 * descending), eigenvectors as rows of an r x n matrix. Large matrices with few wanted
 * pairs try subspace iteration with Rayleigh-Ritz first (r + 8 vectors, at most 25
 * iterations, residual |A v - lambda v| <= 1e-11 lambda_1), and fall back to the full
 * decomposition when it does not converge.
 */
export function topSymmetricEigen(a: Dense, r: number): { values: Float64Array; vectors: Dense } {
  if (a.rows >= 128 && r + 8 <= a.rows / 4) {
    const it = subspaceEigen(a, r);
    if (it) return it;
  }
  return fullSymmetricEigen(a, r);
}

function orthonormalize(vs: Float64Array[]): void {
  for (let j = 0; j < vs.length; j++) {
    const v = vs[j] as Float64Array;
    for (let pass = 0; pass < 2; pass++) {
      for (let k = 0; k < j; k++) {
        const u = vs[k] as Float64Array;
        let d = 0;
        for (let i = 0; i < v.length; i++) d += (v[i] as number) * (u[i] as number);
        for (let i = 0; i < v.length; i++) v[i] = (v[i] as number) - d * (u[i] as number);
      }
    }
    let n2 = 0;
    for (let i = 0; i < v.length; i++) n2 += (v[i] as number) ** 2;
    const inv = n2 > 0 ? 1 / Math.sqrt(n2) : 0;
    for (let i = 0; i < v.length; i++) v[i] = (v[i] as number) * inv;
  }
}

function subspaceEigen(a: Dense, r: number): { values: Float64Array; vectors: Dense } | undefined {
  const n = a.rows;
  const q = r + 8;
  const uniform = mulberry32(12345);
  const rand = () => uniform() - 0.5;
  let v = Array.from({ length: q }, () => Float64Array.from({ length: n }, rand));
  orthonormalize(v);
  const A = a.data;
  const mul = (x: Float64Array) => {
    const y = new Float64Array(n);
    for (let i = 0; i < n; i++) {
      let s = 0;
      const o = i * n;
      for (let k = 0; k < n; k++) s += (A[o + k] as number) * (x[k] as number);
      y[i] = s;
    }
    return y;
  };
  // Few iterations: with a clear gap after the r-th eigenvalue (LIR's top direction of raw
  // embeddings) this converges in a handful; otherwise the full decomposition is cheaper.
  for (let iter = 0; iter < 25; iter++) {
    const w = v.map(mul);
    // Rayleigh-Ritz: H = V^T A V, H = U diag(l) U^T (H is symmetric PSD, so its SVD is its eigendecomposition).
    const h = new Float64Array(q * q);
    for (let i = 0; i < q; i++) {
      for (let j = 0; j < q; j++) {
        let s = 0;
        for (let k = 0; k < n; k++) s += ((v[i] as Float64Array)[k] as number) * ((w[j] as Float64Array)[k] as number);
        h[i * q + j] = s;
      }
    }
    for (let i = 0; i < q; i++)
      for (let j = 0; j < i; j++) h[i * q + j] = h[j * q + i] = ((h[i * q + j] as number) + (h[j * q + i] as number)) / 2;
    const { u, s } = thinSvd({ rows: q, cols: q, data: h });
    const rot = (xs: Float64Array[]) =>
      Array.from({ length: q }, (_, j) => {
        const out = new Float64Array(n);
        for (let k = 0; k < q; k++) {
          const c = u.data[k * q + j] as number;
          const x = xs[k] as Float64Array;
          for (let i = 0; i < n; i++) out[i] = (out[i] as number) + c * (x[i] as number);
        }
        return out;
      });
    const rv = rot(v);
    const rw = rot(w);
    const l1 = s[0] as number;
    let converged = true;
    for (let j = 0; j < r && converged; j++) {
      let res = 0;
      for (let i = 0; i < n; i++)
        res += (((rw[j] as Float64Array)[i] as number) - (s[j] as number) * ((rv[j] as Float64Array)[i] as number)) ** 2;
      if (Math.sqrt(res) > 1e-11 * l1) converged = false;
    }
    if (converged) {
      const vectors = new Float64Array(r * n);
      for (let j = 0; j < r; j++) vectors.set(rv[j] as Float64Array, j * n);
      return { values: Float64Array.from(s.subarray(0, r)), vectors: { rows: r, cols: n, data: vectors } };
    }
    v = rw;
    orthonormalize(v);
  }
  return undefined;
}

function fullSymmetricEigen(a: Dense, r: number): { values: Float64Array; vectors: Dense } {
  const evd = new EigenvalueDecomposition(toMatrix(a), { assumeSymmetric: true });
  const vals = evd.realEigenvalues;
  const V = evd.eigenvectorMatrix;
  const order = Array.from({ length: vals.length }, (_, i) => i).sort((x, y) => (vals[y] as number) - (vals[x] as number));
  const n = a.rows;
  const values = new Float64Array(r);
  const vectors = new Float64Array(r * n);
  for (let j = 0; j < r; j++) {
    const src = order[j] as number;
    values[j] = vals[src] as number;
    for (let i = 0; i < n; i++) vectors[j * n + i] = V.get(i, src);
  }
  return { values, vectors: { rows: r, cols: n, data: vectors } };
}

/**
 * Flip the sign of each row so that its largest-magnitude entry is positive.
 * Makes bases deterministic; projections B^T B do not depend on it.
 */
export function canonicalSigns(rowsMatrix: Dense): void {
  const { rows, cols, data } = rowsMatrix;
  for (let i = 0; i < rows; i++) {
    let best = 0;
    for (let j = 0; j < cols; j++) {
      const x = data[i * cols + j] as number;
      if (Math.abs(x) > Math.abs(best)) best = x;
    }
    if (best < 0) for (let j = 0; j < cols; j++) data[i * cols + j] = -(data[i * cols + j] as number);
  }
}

/** Default numerical-rank tolerance of a matrix with these singular values (as numpy/LAPACK). */
export function rankTolerance(s: Float64Array, rows: number, cols: number): number {
  const smax = s.length > 0 ? (s[0] as number) : 0;
  return Math.max(rows, cols) * Number.EPSILON * smax;
}
