/** `lsar inspect --report <dir>`: report.md with tables and SVG plots, and the interactive report.html. */
import { join } from 'node:path';
import type { InspectResult } from '../inspect-result.js';
import { inspectFigures, type Figure } from './figures.js';
import type { HtmlSection } from './html.js';
import { writeReportFiles } from './markdown.js';
import { formatInspectTable, percent } from './table.js';

/** Write the report; returns the paths of report.md and report.html. */
export async function writeInspectReport(dir: string, r: InspectResult): Promise<string[]> {
  const figs = new Map(inspectFigures(r).map((f) => [f.id, f]));
  const table = formatInspectTable(r);
  const probe = r.manifest.probe as { C: number; folds: number };
  const rr = r.recommendedRank;
  const sections: HtmlSection[] = [
    {
      heading: 'Language identity',
      text: [
        `${r.languages.length} languages, ${r.languages.reduce((a, l) => a + l.sampled, 0)} sampled rows (chance accuracy ${percent(r.chance)}). Probe: multinomial logistic regression, L2 (C = ${probe.C}), ${probe.folds}-fold stratified cross-validation. Nearest centroid: the closest language mean of the other folds. Between share: the share of the total variance that lies between the language means.`,
      ],
      table,
      figures: [figs.get('identity') as Figure],
    },
    {
      heading: 'Rank',
      text: [
        `Recommended rank: ${rr.rank}. Rule: ${rr.rule}.`,
        `Singular values of the centred language means: ${r.spectrum.singularValues.map((s) => s.toPrecision(3)).join(', ')}.`,
      ],
      figures: [figs.get('spectrum') as Figure, ...(figs.has('rank-sweep') ? [figs.get('rank-sweep') as Figure] : [])],
    },
    {
      heading: 'Maps',
      text: ["Each method's outputs of a sample of sentences on their own top two principal components, coloured by language."],
      figures: [figs.get('maps') as Figure],
    },
  ];
  const md = await writeReportFiles(dir, 'lsar inspect', sections, r.manifest);
  return [md, join(dir, 'report.html')];
}
