/**
 * report.html: one self-contained file (no network: Vega, Vega-Lite and vega-embed are inlined
 * from their npm packages' browser builds), with the tables and the interactive figures.
 */
import { readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { createError } from '../../core/errors.js';
import type { Figure } from './figures.js';
import { esc } from './svg.js';

export interface HtmlSection {
  heading: string;
  /** Paragraphs of plain text. */
  text?: string[];
  /** A preformatted table. */
  table?: string;
  /** Show the table folded (e.g. a long manifest). */
  collapsed?: boolean;
  figures?: Figure[];
}

const require = createRequire(import.meta.url);

/** The browser build of a package, next to the module its main entry resolves to. */
async function browserBuild(pkg: string, file: string): Promise<string> {
  try {
    return await readFile(join(dirname(require.resolve(pkg)), file), 'utf8');
  } catch {
    throw createError('DEPENDENCY', `the HTML report needs the package ${pkg} (${file}): npm install ${pkg}`);
  }
}

let scripts: Promise<string[]> | undefined;

function libraries(): Promise<string[]> {
  scripts ??= Promise.all([
    browserBuild('vega', 'vega.min.js'),
    browserBuild('vega-lite', 'vega-lite.min.js'),
    browserBuild('vega-embed', 'vega-embed.min.js'),
  ]);
  return scripts;
}

/** Inline script text can hold anything but a closing script tag. */
const inline = (js: string) => js.replace(/<\/(script)/gi, '<\\/$1');

const STYLE = `
body { font-family: Helvetica, Arial, sans-serif; margin: 24px auto; max-width: 1100px; padding: 0 16px; color: #222; }
h1 { font-size: 22px; } h2 { font-size: 17px; margin-top: 28px; border-bottom: 1px solid #ddd; padding-bottom: 4px; }
pre { background: #f6f6f6; padding: 10px; overflow-x: auto; font-size: 12px; }
.figure { margin: 12px 0 20px; } .hint { color: #666; font-size: 12px; }
#vg-tooltip-element { font-size: 12px; }
`;

export async function renderHtml(title: string, sections: HtmlSection[]): Promise<string> {
  const [vega, vegaLite, vegaEmbed] = await libraries();
  const specs: Record<string, unknown> = {};
  const body: string[] = [`<h1>${esc(title)}</h1>`];
  const maps = sections.some((s) => s.figures?.some((f) => f.id === 'maps'));
  body.push(
    `<p class="hint">Hover a mark for its values; click a legend entry to show that method alone (shift-click for more, double-click to reset)${maps ? '; scroll to zoom and drag to pan the maps' : ''}.</p>`,
  );
  for (const s of sections) {
    body.push(`<h2>${esc(s.heading)}</h2>`);
    for (const p of s.text ?? []) body.push(`<p>${esc(p)}</p>`);
    if (s.table && s.collapsed) body.push(`<details><summary>show</summary><pre>${esc(s.table)}</pre></details>`);
    else if (s.table) body.push(`<pre>${esc(s.table)}</pre>`);
    for (const f of s.figures ?? []) {
      body.push(`<div class="figure" id="fig-${esc(f.id)}" data-title="${esc(f.title)}"></div>`);
      specs[`fig-${f.id}`] = f.spec;
    }
  }
  const boot = `
const specs = JSON.parse(document.getElementById('lsar-specs').textContent);
window.lsarRendered = Promise.all(Object.entries(specs).map(([id, spec]) =>
  vegaEmbed('#' + id, spec, { renderer: 'svg', actions: false, tooltip: { theme: 'light' } })
    .then((r) => { document.getElementById(id).dataset.rendered = 'true'; return r; })
    .catch((e) => { console.error('figure ' + id + ': ' + e); throw e; })));
`;
  return [
    '<!DOCTYPE html>',
    '<html lang="en"><head><meta charset="utf-8">',
    `<title>${esc(title)}</title>`,
    `<style>${STYLE}</style>`,
    `<script>${inline(vega as string)}</script>`,
    `<script>${inline(vegaLite as string)}</script>`,
    `<script>${inline(vegaEmbed as string)}</script>`,
    '</head><body>',
    ...body,
    `<script type="application/json" id="lsar-specs">${JSON.stringify(specs).replace(/</g, '\\u003c')}</script>`,
    `<script>${boot}</script>`,
    '</body></html>',
    '',
  ].join('\n');
}
