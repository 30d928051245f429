/** Top-k selection: the one implementation behind exact search, HNSW results and ranking metrics. */

/** Top-k results of a batch of queries. */
export interface TopK {
  k: number;
  /** nq x k target indices, best first (-1 where there are fewer than k targets). */
  indices: Int32Array;
  /** nq x k scores (higher is better), -Infinity where there is no target. */
  scores: Float64Array;
}

export function emptyTopK(queries: number, k: number): TopK {
  return { k, indices: new Int32Array(queries * k).fill(-1), scores: new Float64Array(queries * k).fill(-Infinity) };
}

/**
 * Indices of the `k` highest of `n` scores (`score(j)` for j in 0..n-1), best first; ties go to
 * the lower index. Writes into `out` (length >= k) and returns how many were found (min(k, n)).
 */
export function selectTopK(n: number, score: (j: number) => number, k: number, out: Int32Array, outScores?: Float64Array): number {
  let m = 0;
  const best = outScores ?? new Float64Array(k);
  for (let j = 0; j < n; j++) {
    const s = score(j);
    if (m === k && !(s > (best[k - 1] as number))) continue;
    let p = m < k ? m++ : k - 1;
    while (p > 0 && (best[p - 1] as number) < s) {
      best[p] = best[p - 1] as number;
      out[p] = out[p - 1] as number;
      p--;
    }
    best[p] = s;
    out[p] = j;
  }
  return m;
}

/** Indices of the k highest values of a score row, best first, ties to the lower index. */
export function topIndices(row: ArrayLike<number>, k: number): number[] {
  const out = new Int32Array(Math.min(k, row.length));
  selectTopK(row.length, (j) => row[j] as number, out.length, out);
  return Array.from(out);
}

/**
 * Merge top-k lists of the same queries (e.g. the shards of an index, each with its own
 * rows), best first, ties to the lower index; -1 / -Infinity pad where fewer than k.
 * Candidates need not be sorted within a part.
 */
export function mergeTopK(parts: { indices: Int32Array; scores: Float64Array; k: number }[], queries: number, k: number): TopK {
  const out = emptyTopK(queries, k);
  const idx: number[] = [];
  const sc: number[] = [];
  const order: number[] = [];
  for (let q = 0; q < queries; q++) {
    idx.length = 0;
    sc.length = 0;
    for (const p of parts) {
      for (let j = 0; j < p.k; j++) {
        const i = p.indices[q * p.k + j] as number;
        if (i < 0) continue;
        idx.push(i);
        sc.push(p.scores[q * p.k + j] as number);
      }
    }
    order.length = 0;
    for (let c = 0; c < idx.length; c++) order.push(c);
    order.sort((a, b) => (sc[b] as number) - (sc[a] as number) || (idx[a] as number) - (idx[b] as number));
    for (let j = 0; j < Math.min(k, order.length); j++) {
      out.indices[q * k + j] = idx[order[j] as number] as number;
      out.scores[q * k + j] = sc[order[j] as number] as number;
    }
  }
  return out;
}
