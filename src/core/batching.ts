/** How a window of sequences becomes forward passes: length-sorted batches, optionally under a token budget. */

export interface BatchPlan {
  /** Indices into the window, each batch in ascending length. */
  batches: number[][];
  /** Real tokens, and the positions the padded batches compute (padding = 1 - tokens / positions). */
  tokens: number;
  positions: number;
}

/**
 * Sort by length (ties by index) and cut into batches of at most `batchSize`; with `maxTokens`,
 * a batch also stops before its padded size (sequences x longest) would exceed it, so long
 * sequences go in smaller batches and short ones fill theirs (a sequence longer than the budget
 * goes alone).
 */
export function planBatches(lengths: readonly number[], batchSize: number, maxTokens?: number): BatchPlan {
  const order = lengths.map((_, i) => i).sort((a, b) => (lengths[a] as number) - (lengths[b] as number) || a - b);
  const batches: number[][] = [];
  let tokens = 0;
  let positions = 0;
  let cur: number[] = [];
  const flush = () => {
    if (cur.length === 0) return;
    positions += cur.length * (lengths[cur[cur.length - 1] as number] as number);
    batches.push(cur);
    cur = [];
  };
  for (const i of order) {
    const len = lengths[i] as number;
    if (cur.length >= batchSize || (maxTokens !== undefined && cur.length > 0 && (cur.length + 1) * len > maxTokens)) flush();
    cur.push(i);
    tokens += len;
  }
  flush();
  return { batches, tokens, positions };
}
