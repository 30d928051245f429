/**
 * The per-language figure: the interactive chart (Vega-Lite, laid out by Vega itself here, no
 * browser) and the static SVG share one layout, so 34 languages do not make a page-long chart.
 */
import { describe, expect, it } from 'vitest';
import { compile } from 'vega-lite';
import { parse, View } from 'vega';
import { perLanguageFigure } from '../../../src/pipeline/report/figures.js';
import { barRowHeight } from '../../../src/pipeline/report/svg.js';

function table(langs: number, methods: string[]) {
  const results: Record<string, { mean: number; perLanguage: Record<string, number> }> = {};
  methods.forEach((m, i) => {
    const perLanguage: Record<string, number> = {};
    for (let l = 0; l < langs; l++) perLanguage[`l${String(l).padStart(2, '0')}`] = ((l * 7 + i * 3) % 10) / 10;
    results[m] = { mean: 0.5, perLanguage };
  });
  return { metric: 'accuracy@1', results } as never;
}

async function vegaHeight(spec: object): Promise<number> {
  const view = new View(parse(compile(spec as never).spec), { renderer: 'none' });
  await view.runAsync();
  const h = view.height();
  view.finalize();
  return h;
}

describe('per-language figure layout', () => {
  for (const methods of [
    ['none', 'lsar'],
    ['none', 'lsar-4', 'lsar-8', 'lir-1', 'demean', 'abtt-1', 'whiten'],
  ]) {
    it(`34 languages x ${methods.length} methods: the chart's plot is as tall as the SVG's rows (within one row), not a bar per step`, async () => {
      const f = perLanguageFigure('p', table(34, methods), 'tatoeba');
      const rows = 35; // 34 languages and the mean
      const plot = await vegaHeight(f.spec as object);
      // the SVG: one row of barRowHeight px per category (one column below 40 categories)
      expect(Math.abs(plot - rows * barRowHeight(methods.length))).toBeLessThanOrEqual(barRowHeight(methods.length));
      const svgHeight = Number(/<svg[^>]* height="(\d+)"/.exec(f.svg)?.[1]);
      // tolerance: the SVG adds its title, axis and margins (at most 100 px) around the same rows
      expect(svgHeight - plot).toBeGreaterThan(0);
      expect(svgHeight - plot).toBeLessThanOrEqual(100);
      expect(plot).toBeLessThan(1500);
    });
  }
});
