/**
 * Small dense linear algebra on row-major Float64Array, backed by ml-matrix.
 * Only ever called on small matrices (d x L language means, d x d second moments):
 * never on n x d data.
 */
import { EigenvalueDecomposition, Matrix, SVD } from 'ml-matrix';

/** A row-major dense matrix. */
export interface Dense {
  rows: number;
  cols: number;
  data: Float64Array;
}

export function toMatrix(a: Dense): Matrix {
  const m = new Matrix(a.rows, a.cols);
  for (let i = 0; i < a.rows; i++) {
    for (let j = 0; j < a.cols; j++) m.set(i, j, a.data[i * a.cols + j] as number);
  }
  return m;
}

export function fromMatrix(m: Matrix): Dense {
  const data = new Float64Array(m.rows * m.columns);
  for (let i = 0; i < m.rows; i++) data.set(m.getRow(i), i * m.columns);
  return { rows: m.rows, cols: m.columns, data };
}

export interface ThinSvd {
  /** m x k left singular vectors (columns). */
  u: Dense;
  /** k singular values, descending. */
  s: Float64Array;
  /** n x k right singular vectors (columns). */
  v: Dense;
}

/** Thin SVD of an m x n matrix, k = min(m, n), singular values descending. */
export function thinSvd(a: Dense): ThinSvd {
  const svd = new SVD(toMatrix(a), { computeLeftSingularVectors: true, computeRightSingularVectors: true, autoTranspose: true });
  const s = Float64Array.from(svd.diagonal);
  const k = Math.min(a.rows, a.cols);
  const order = Array.from({ length: s.length }, (_, i) => i).sort((x, y) => (s[y] as number) - (s[x] as number)).slice(0, k);
  const U = svd.leftSingularVectors;
  const V = svd.rightSingularVectors;
  const u = new Float64Array(a.rows * k);
  const v = new Float64Array(a.cols * k);
  const sv = new Float64Array(k);
  order.forEach((src, j) => {
    sv[j] = s[src] as number;
    for (let i = 0; i < a.rows; i++) u[i * k + j] = U.get(i, src);
    for (let i = 0; i < a.cols; i++) v[i * k + j] = V.get(i, src);
  });
  return { u: { rows: a.rows, cols: k, data: u }, s: sv, v: { rows: a.cols, cols: k, data: v } };
}

/**
 * Top-r eigenpairs of a symmetric n x n matrix (eigenvalues descending).
 * Returns the eigenvectors as rows of an r x n matrix.
 */
export function topSymmetricEigen(a: Dense, r: number): { values: Float64Array; vectors: Dense } {
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
