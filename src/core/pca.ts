/** 2-D maps of rows: their coordinates on their own top two principal components. */
import { topSymmetricEigen } from './linalg.js';
import { MomentAccumulator } from './moments.js';
import { pooledCovariance } from './fit.js';

/** The rows' coordinates (n x 2) on the top two principal components of the rows themselves. */
export function pca2(x: Float64Array, rows: number, d: number): Float64Array {
  const acc = new MomentAccumulator(d, { secondMoment: true });
  acc.add(x, rows);
  const mu = acc.mean();
  const cov = pooledCovariance([{ lang: '', rows, mean: mu, secondMoment: acc.secondMoment() }], 'population');
  acc.dispose();
  const k = Math.min(2, d);
  const { vectors } = topSymmetricEigen(cov, k);
  const out = new Float64Array(rows * 2);
  for (let i = 0; i < rows; i++) {
    for (let p = 0; p < k; p++) {
      let s = 0;
      for (let j = 0; j < d; j++) s += ((x[i * d + j] as number) - (mu[j] as number)) * (vectors.data[p * d + j] as number);
      out[i * 2 + p] = s;
    }
  }
  return out;
}
