/** Text tables of retrieval results. */
import type { MetricTable, RetrieveResult } from '../retrieve/index.js';

function pct(x: number | undefined): string {
  return x === undefined || Number.isNaN(x) ? '-' : (100 * x).toFixed(1);
}

/** One table: a row per language and the mean, a column per method. */
export function formatTable(t: MetricTable): string {
  const methods = Object.keys(t.results);
  const langs = [...new Set(methods.flatMap((m) => Object.keys(t.results[m]?.per_language ?? {})))].sort();
  const head = ['lang', ...methods];
  const rows = langs.map((l) => [l, ...methods.map((m) => pct(t.results[m]?.per_language[l]))]);
  rows.push(['mean', ...methods.map((m) => pct(t.results[m]?.mean))]);
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] as string).length)));
  const line = (cells: string[]) =>
    cells.map((c, i) => (i === 0 ? c.padEnd(widths[i] as number) : c.padStart(widths[i] as number))).join('  ');
  return [
    `${t.metric}, x100, ${t.search === 'hnsw' ? 'HNSW (approximate)' : 'exact search'}`,
    line(head),
    line(widths.map((w) => '-'.repeat(w))),
    ...rows.map(line),
  ].join('\n');
}

export function formatResult(r: RetrieveResult): string {
  const parts = [`task ${r.task}`, formatTable(r)];
  for (const t of Object.values(r.also ?? {})) parts.push(formatTable(t));
  if (r.skipped)
    parts.push(
      `skipped: ${Object.entries(r.skipped)
        .map(([l, why]) => `${l} (${why})`)
        .join(', ')}`,
    );
  if (r.recall) {
    parts.push(
      `HNSW recall against exact search on ${r.recall.queries} sampled queries: recall@1 ${r.recall.at1.toFixed(4)}, recall@10 ${r.recall.at10.toFixed(4)}`,
    );
  }
  return parts.join('\n\n') + '\n';
}
