/**
 * Projection on worker threads: one WebAssembly SIMD kernel per core, blocks handed over
 * by transfer (no copies between threads), results written in order by the caller.
 * Used by projectStream for little-endian float32 .npy input.
 */
import { availableParallelism } from 'node:os';
import { Worker } from 'node:worker_threads';
import { kernelModule } from '../core/wasm/simd.js';

// Plain JavaScript evaluated in each worker (works from src/ and dist/ alike).
const WORKER_SOURCE = `
const { parentPort } = require('node:worker_threads');
let ex, d, k, bPtr, xPtr, coefPtr, cap, wbuf, offset, normalize;
parentPort.on('message', (m) => {
  if (m.init) {
    ({ d, k, offset, normalize } = m);
    const inst = new WebAssembly.Instance(m.module, {});
    ex = inst.exports;
    cap = 1024;
    coefPtr = 0;
    bPtr = Math.ceil(16 * Math.max(1, k) / 16) * 16;
    xPtr = Math.ceil((bPtr + 4 * k * d) / 16) * 16;
    const need = Math.ceil((xPtr + 4 * cap * d) / 65536) - ex.memory.buffer.byteLength / 65536;
    if (need > 0) ex.memory.grow(need);
    new Float32Array(ex.memory.buffer, bPtr, k * d).set(m.basis);
    wbuf = new Float32Array(ex.memory.buffer, xPtr, cap * d);
    return;
  }
  const x = new Float32Array(m.buf, 0, m.rows * d);
  let bad = -1;
  for (let s = 0; s < m.rows && bad < 0; s += cap) {
    const n = Math.min(cap, m.rows - s);
    wbuf.set(x.subarray(s * d, (s + n) * d));
    const at = ex.nonfinite(xPtr, n * d * 4);
    if (at >= 0) { bad = s + Math.floor(at / (d * 4)); break; }
    if (offset) for (let r = 0; r < n; r++) for (let i = 0; i < d; i++) wbuf[r * d + i] -= offset[i];
    let r = 0;
    for (; r + 4 <= n; r += 4) ex.proj4(bPtr, k, d, xPtr + r * d * 4, coefPtr);
    for (; r < n; r++) ex.proj1(bPtr, k, d, xPtr + r * d * 4, coefPtr);
    if (normalize) for (let r = 0; r < n; r++) {
      let s2 = 0;
      for (let i = 0; i < d; i++) s2 += wbuf[r * d + i] * wbuf[r * d + i];
      const inv = s2 > 0 ? 1 / Math.sqrt(s2) : 1;
      for (let i = 0; i < d; i++) wbuf[r * d + i] *= inv;
    }
    x.set(wbuf.subarray(0, n * d), s * d);
  }
  parentPort.postMessage({ id: m.id, buf: m.buf, bad }, [m.buf]);
});
`;

export interface PoolOptions {
  basis: Float64Array;
  k: number;
  dim: number;
  offset?: Float64Array | undefined;
  normalize: boolean;
  workers?: number;
}

interface Job {
  resolve: (r: { buf: ArrayBuffer; bad: number }) => void;
  reject: (e: Error) => void;
}

/** A pool of projection workers. `run` resolves with the projected buffer (transferred back). */
export class ProjectionPool {
  private workers: Worker[] = [];
  private jobs = new Map<number, Job>();
  private next = 0;
  private failed: Error | undefined;

  constructor(options: PoolOptions) {
    const module = kernelModule();
    if (!module) throw new Error('WebAssembly SIMD is not available');
    const n = options.workers ?? Math.max(1, availableParallelism());
    const basis = Float32Array.from(options.basis.subarray(0, options.k * options.dim));
    const offset = options.offset ? Float32Array.from(options.offset) : undefined;
    for (let i = 0; i < n; i++) {
      const w = new Worker(WORKER_SOURCE, { eval: true });
      w.on('message', (m: { id: number; buf: ArrayBuffer; bad: number }) => {
        const job = this.jobs.get(m.id);
        this.jobs.delete(m.id);
        job?.resolve(m);
      });
      w.on('error', (e) => {
        this.failed = e;
        for (const j of this.jobs.values()) j.reject(e);
        this.jobs.clear();
      });
      w.postMessage({ init: true, module, basis, k: options.k, d: options.dim, offset, normalize: options.normalize });
      this.workers.push(w);
    }
  }

  get size(): number {
    return this.workers.length;
  }

  /** Project `rows` float32 rows held in `buf` (transferred to a worker and back). */
  run(buf: ArrayBuffer, rows: number): Promise<{ buf: ArrayBuffer; bad: number }> {
    if (this.failed) return Promise.reject(this.failed);
    const id = this.next++;
    const w = this.workers[id % this.workers.length] as Worker;
    return new Promise((resolve, reject) => {
      this.jobs.set(id, { resolve, reject });
      w.postMessage({ id, buf, rows }, [buf]);
    });
  }

  async close(): Promise<void> {
    await Promise.all(this.workers.map((w) => w.terminate()));
  }
}
