/** Text tables of retrieval and inspection results. */
import type { InspectResult } from '../inspect-result.js';
import type { MetricTable, RetrieveResult } from '../retrieve/result.js';

function pct(x: number | undefined): string {
  return x === undefined || Number.isNaN(x) ? '-' : (100 * x).toFixed(1);
}

/** One table: a row per language and the mean, a column per method. */
export function formatTable(t: MetricTable): string {
  const methods = Object.keys(t.results);
  const langs = [...new Set(methods.flatMap((m) => Object.keys(t.results[m]?.perLanguage ?? {})))].sort();
  const head = ['lang', ...methods];
  const rows = langs.map((l) => [l, ...methods.map((m) => pct(t.results[m]?.perLanguage[l]))]);
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

/** A share as a percentage with one decimal. */
export const percent = (v: number) => `${(100 * v).toFixed(1)}%`;

/** Inspection: a row per method (probe and centroid accuracy, between share, output dimension). */
export function formatInspectTable(r: InspectResult): string {
  const names = Object.keys(r.results);
  const w = Math.max(8, ...names.map((n) => n.length));
  return [
    `${'method'.padEnd(w)}  probe acc  centroid acc  between share  dim`,
    `${'-'.repeat(w)}  ---------  ------------  -------------  ---`,
    ...names.map((n) => {
      const m = r.results[n] as InspectResult['results'][string];
      return `${n.padEnd(w)}  ${percent(m.probeAccuracy).padStart(9)}  ${percent(m.centroidAccuracy).padStart(12)}  ${percent(m.betweenShare).padStart(13)}  ${String(m.dim).padStart(3)}`;
    }),
  ].join('\n');
}

/** What lsar inspect prints: the table, the spectrum and the recommended rank. */
export function formatInspect(r: InspectResult): string {
  return [
    `language identity of ${r.languages.length} languages (${r.languages.reduce((a, l) => a + l.sampled, 0)} sampled rows; chance ${percent(r.chance)})`,
    '',
    formatInspectTable(r),
    '',
    `spectrum of the centred language means (cumulative share): ${r.spectrum.singularValues
      .slice(0, 12)
      .map((s, i) => `${s.toPrecision(3)} (${percent(r.spectrum.cumulativeShare[i] as number)})`)
      .join(', ')}${r.spectrum.singularValues.length > 12 ? ', ...' : ''}`,
    `recommended rank: ${r.recommendedRank.rank}: ${r.recommendedRank.rule}`,
    '',
  ].join('\n');
}
