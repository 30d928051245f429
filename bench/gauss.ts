import { mulberry32 } from '../src/core/random.js';

/** Standard normal samples (Box-Muller) from a seeded mulberry32. */
export function gaussianFrom(seed: number): () => number {
  const u = mulberry32(seed);
  return () => Math.sqrt(-2 * Math.log(u() || 1e-12)) * Math.cos(2 * Math.PI * u());
}
