/** `--report <dir>` of lsar retrieve: report.md with the tables and SVG plots, and the interactive report.html. */
import { join } from 'node:path';
import { discard, makeOutputDir, writeFileAtomic } from '../../io/atomic.js';
import type { MetricTable, RetrieveResult } from '../retrieve/result.js';
import { retrieveFigures, type Figure } from './figures.js';
import { renderHtml, type HtmlSection } from './html.js';
import { esc } from './svg.js';
import { formatTable } from './table.js';

/** Write report.md, its SVGs and report.html into `dir`; returns the report's path. */
export async function writeReport(dir: string, r: RetrieveResult): Promise<string> {
  const figs = retrieveFigures(r);
  const intro = [
    `lsar ${String(r.manifest.lsarVersion)}, ${String(r.manifest.created)}. Search: ${r.search === 'hnsw' ? 'HNSW (approximate)' : 'exact'}.`,
  ];
  if (r.recall)
    intro.push(
      `HNSW recall against exact search on ${r.recall.queries} sampled queries: recall@1 ${r.recall.at1.toFixed(4)}, recall@10 ${r.recall.at10.toFixed(4)}.`,
    );
  const tables: MetricTable[] = [r, ...Object.values(r.also ?? {})];
  const sections: HtmlSection[] = tables.map((t, i) => ({
    heading: t.metric,
    ...(i === 0 ? { text: intro } : {}),
    table: formatTable(t),
    figures: [figs[i] as Figure],
  }));
  const sweep = figs.find((f) => f.id === 'rank-sweep');
  if (sweep) sections.push({ heading: 'Rank sweep', figures: [sweep] });
  return writeReportFiles(dir, `lsar retrieve ${r.task}`, sections, r.manifest);
}

/** report.md (the sections with the SVGs as images), the SVG files and report.html; returns report.md's path. */
export async function writeReportFiles(
  dir: string,
  title: string,
  sections: HtmlSection[],
  manifest: Record<string, unknown>,
): Promise<string> {
  // everything is rendered before the first file is written; a failed write removes what this
  // call wrote (and the directory, if it made it)
  const files = new Map<string, string>();
  const md: string[] = [`# ${title}`, ''];
  for (const s of sections) {
    md.push(`## ${s.heading}`, '');
    for (const p of s.text ?? []) md.push(p, '');
    if (s.table) md.push('```', s.table, '```', '');
    for (const f of s.figures ?? []) {
      files.set(`${f.id}.svg`, f.svg);
      md.push(`![${esc(f.title)}](${f.id}.svg)`, '');
    }
  }
  const all = [...sections, { heading: 'Manifest', table: JSON.stringify(manifest, null, 1), collapsed: true }];
  md.push('## Manifest', '', '```json', JSON.stringify(manifest, null, 1), '```', '');
  md.push('An interactive version of this report: [report.html](report.html).', '');
  files.set('report.html', await renderHtml(title, all));
  files.set('report.md', md.join('\n'));
  const undo = await makeOutputDir(dir);
  const written: string[] = [];
  try {
    for (const [name, text] of files) {
      await writeFileAtomic(join(dir, name), text);
      written.push(join(dir, name));
    }
  } catch (e) {
    for (const w of written) await discard(w);
    await undo();
    throw e;
  }
  return join(dir, 'report.md');
}
