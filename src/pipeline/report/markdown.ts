/** `--report <dir>`: report.md with the tables and the SVG plots of a retrieval run. */
import { join } from 'node:path';
import { writeFileAtomic } from '../../io/atomic.js';
import type { MetricTable, RetrieveResult } from '../retrieve/index.js';
import { barChartSvg, esc, rankChartSvg } from './svg.js';
import { formatTable } from './table.js';

/** Write report.md and its SVGs into `dir`; returns the report's path. */
export async function writeReport(dir: string, r: RetrieveResult): Promise<string> {
  const md: string[] = [`# lsar retrieve ${r.task}`, ''];
  md.push(
    `lsar ${String(r.manifest.lsarVersion)}, ${String(r.manifest.created)}. Search: ${r.search === 'hnsw' ? 'HNSW (approximate)' : 'exact'}.`,
    '',
  );
  if (r.recall)
    md.push(
      `HNSW recall against exact search on ${r.recall.queries} sampled queries: recall@1 ${r.recall.at1.toFixed(4)}, recall@10 ${r.recall.at10.toFixed(4)}.`,
      '',
    );
  const tables: [string, MetricTable][] = [['main', r], ...Object.entries(r.also ?? {})];
  for (const [i, [key, t]] of tables.entries()) {
    const file = `per-language-${i}.svg`;
    await writeFileAtomic(join(dir, file), barChartSvg(t, `${r.task}: ${t.metric}`));
    md.push(
      `## ${t.metric}${key === 'main' ? '' : ''}`,
      '',
      '```',
      formatTable(t),
      '```',
      '',
      `![${esc(t.metric)} per language](${file})`,
      '',
    );
  }
  if (r.rankSweep) {
    await writeFileAtomic(join(dir, 'rank-sweep.svg'), rankChartSvg(r, `${r.task}: ${r.metric}, mean against LSAR rank`));
    md.push('## Rank sweep', '', '![mean against LSAR rank](rank-sweep.svg)', '');
  }
  md.push('## Manifest', '', '```json', JSON.stringify(r.manifest, null, 1), '```', '');
  const path = join(dir, 'report.md');
  await writeFileAtomic(path, md.join('\n'));
  return path;
}
