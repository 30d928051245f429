import { describe, expect, it } from 'vitest';
import { SimdColumnSums, SimdProjector, simdAvailable } from '../../../src/core/wasm/simd.js';
import { compileKernels } from '../../../scripts/build-wasm.js';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { gaussian, ROOT } from '../../helpers.js';

/** Reference x - B^T B x in float64. */
function reference(x: Float32Array, rows: number, B: Float64Array, k: number, d: number): Float64Array {
  const out = Float64Array.from(x.subarray(0, rows * d));
  for (let r = 0; r < rows; r++) {
    const c = Array.from({ length: k }, (_, j) => {
      let s = 0;
      for (let i = 0; i < d; i++) s += (out[r * d + i] as number) * (B[j * d + i] as number);
      return s;
    });
    for (let j = 0; j < k; j++)
      for (let i = 0; i < d; i++) out[r * d + i] = (out[r * d + i] as number) - (c[j] as number) * (B[j * d + i] as number);
  }
  return out;
}

describe('WebAssembly SIMD kernels', () => {
  it('are available on this Node', () => {
    expect(simdAvailable()).toBe(true);
  });

  it('kernels.ts is the compiled kernels.wat', async () => {
    expect(readFileSync(join(ROOT, 'src/core/wasm/kernels.ts'), 'utf8')).toBe(await compileKernels());
  });

  // d = 12 exercises the 4-float tail of the 8-float loop; 11 rows the 1-row path after 4-row groups.
  for (const [d, k, rows] of [
    [12, 3, 11],
    [64, 8, 200],
    [768, 36, 9],
  ] as const) {
    it(`project ${rows} rows, d=${d}, k=${k}: matches float64 within 1e-5 relative`, () => {
      const g = gaussian(d + k);
      const B = Float64Array.from({ length: k * d }, () => g() / Math.sqrt(d));
      const x = Float32Array.from({ length: rows * d }, g);
      const want = reference(x, rows, B, k, d);
      const p = new SimdProjector(B, k, d, 5); // capacity 5: forces several passes
      const y = x.slice();
      p.applyInPlace(y, rows);
      let err = 0;
      let scale = 0;
      for (let i = 0; i < want.length; i++) {
        err = Math.max(err, Math.abs((y[i] as number) - (want[i] as number)));
        scale = Math.max(scale, Math.abs(want[i] as number));
      }
      expect(err / scale).toBeLessThan(1e-5);
    });
  }

  it('finds the first row holding NaN or Inf in its buffer', () => {
    const p = new SimdProjector(new Float64Array(8), 1, 8, 16);
    p.buffer.fill(1);
    expect(p.firstNonFiniteRow(16)).toBe(-1);
    p.buffer[5 * 8 + 7] = -Infinity;
    p.buffer[9 * 8] = NaN;
    expect(p.firstNonFiniteRow(16)).toBe(5);
    expect(p.firstNonFiniteRow(5)).toBe(-1);
  });

  it('column sums in float64 equal a JS sum exactly for float32 input', () => {
    const g = gaussian(5);
    const d = 20;
    const rows = 301;
    const x = Float32Array.from({ length: rows * d }, g);
    const s = new SimdColumnSums(d, 64).sum(x, rows);
    for (let i = 0; i < d; i++) {
      let ref = 0;
      for (let r = 0; r < rows; r++) ref += x[r * d + i] as number;
      expect(s[i]).toBe(ref);
    }
  });
});
