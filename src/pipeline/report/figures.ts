/**
 * The figures of a report, each twice: a static SVG (report.md) and a Vega-Lite spec (report.html,
 * interactive: tooltips on hover, methods toggled from the legend, maps zoomed with the wheel
 * and dragged).
 */
import type { InspectResult } from '../inspect-result.js';
import type { MetricTable, RetrieveResult } from '../retrieve/result.js';
import { barRowHeight, barsSvg, COLORS, groupStyle, isMany, linesSvg, scatterPanelsSvg, spectrumSvg, type LineSeries } from './svg.js';

export interface Figure {
  /** File stem of the SVG and id of the HTML element. */
  id: string;
  title: string;
  svg: string;
  spec: Record<string, unknown>;
}

const SCHEMA = 'https://vega.github.io/schema/vega-lite/v6.json';
const PCT = { format: '.1%' };

/** A 420 x 260 layered chart; its first layer holds the legend toggle of methods. */
function layered(title: string, layers: Record<string, unknown>[]): Record<string, unknown> {
  const [first, ...rest] = layers;
  return { $schema: SCHEMA, title, width: 420, height: 260, layer: [{ params: toggle('method'), ...first }, ...rest] };
}

/** A legend-bound selection: clicking a method in the legend shows it alone (shift-click adds). */
function toggle(field: string): Record<string, unknown>[] {
  return [{ name: 'pick', select: { type: 'point', fields: [field] }, bind: 'legend' }];
}

function colorOf(field: string, domain: string[], title: string): Record<string, unknown> {
  return {
    field,
    type: 'nominal',
    title,
    scale: { domain, range: domain.map((_, i) => COLORS[i % COLORS.length]) },
    legend: { orient: 'right' },
  };
}

/** Per-language bars of one metric table: horizontal rows per language when there are many. */
export function perLanguageFigure(id: string, t: MetricTable, task: string): Figure {
  const methods = Object.keys(t.results);
  const langs = [...new Set(methods.flatMap((m) => Object.keys(t.results[m]?.perLanguage ?? {})))].sort();
  const categories = [...langs, 'mean'];
  const title = `${task}: ${t.metric} per language`;
  const values = methods.flatMap((m) =>
    categories.map((c) => ({ language: c, method: m, value: c === 'mean' ? t.results[m]?.mean : t.results[m]?.perLanguage[c] })),
  );
  const many = isMany(categories.length);
  const cat = { field: 'language', type: 'nominal', sort: categories, title: 'language', ...(many ? {} : { axis: { labelAngle: 0 } }) };
  const val = { field: 'value', type: 'quantitative', title: t.metric, axis: { format: '%' }, scale: { domain: [0, 1] } };
  return {
    id,
    title,
    svg: barsSvg({
      title,
      categories,
      series: methods.map((m) => ({ name: m, values: { ...t.results[m]?.perLanguage, mean: t.results[m]?.mean } })),
      categoryTitle: 'language',
      valueTitle: `${t.metric} (%)`,
      percent: true,
      emphasise: ['mean'],
      legendTitle: 'method',
    }),
    spec: {
      $schema: SCHEMA,
      title,
      data: { values: values.filter((v) => v.value !== undefined && Number.isFinite(v.value)) },
      params: toggle('method'),
      mark: 'bar',
      width: many ? 420 : Math.max(300, categories.length * methods.length * 12),
      // a step is per method bar by default (yOffset); `for: 'position'` makes it per language, as the SVG's rows
      height: many ? { step: barRowHeight(methods.length), for: 'position' } : 260,
      encoding: {
        ...(many
          ? { y: cat, yOffset: { field: 'method', sort: methods }, x: val }
          : { x: cat, xOffset: { field: 'method', sort: methods }, y: val }),
        color: colorOf('method', methods, 'method'),
        opacity: { condition: { param: 'pick', value: 1 }, value: 0.15 },
        tooltip: [
          { field: 'language', type: 'nominal' },
          { field: 'method', type: 'nominal' },
          { field: 'value', type: 'quantitative', title: t.metric, ...PCT },
        ],
      },
    },
  };
}

/** A main metric against the LSAR rank, other methods as dashed lines. */
export function rankSweepFigure(
  id: string,
  sweep: Record<string, number>,
  baselines: Record<string, number>,
  metric: string,
  best?: number,
): Figure {
  const title = `${metric}: mean against the LSAR rank`;
  const ranks = Object.keys(sweep)
    .map(Number)
    .sort((a, b) => a - b);
  const series: LineSeries[] = [
    { name: 'lsar', points: ranks.map((k) => [k, sweep[String(k)] as number]) },
    ...Object.entries(baselines).map(([name, v]) => ({ name, points: ranks.map((k) => [k, v] as [number, number]), constant: v })),
  ];
  const names = series.map((s) => s.name);
  const points = ranks.map((k) => ({ rank: k, method: 'lsar', value: sweep[String(k)] }));
  const lines = Object.entries(baselines).map(([method, value]) => ({ method, value }));
  return {
    id,
    title,
    svg: linesSvg({
      title,
      xTitle: 'LSAR rank K (directions removed)',
      yTitle: `mean ${metric} (%)`,
      series,
      percent: true,
      ...(best !== undefined ? { mark: { x: best, label: `best rank ${best}` } } : {}),
    }),
    spec: layered(title, [
      {
        data: { values: points },
        mark: { type: 'line', point: true },
        encoding: {
          x: { field: 'rank', type: 'quantitative', title: 'LSAR rank K (directions removed)', axis: { tickMinStep: 1 } },
          y: { field: 'value', type: 'quantitative', title: `mean ${metric}`, axis: { format: '%' }, scale: { zero: false } },
          color: colorOf('method', names, 'method'),
          opacity: { condition: { param: 'pick', value: 1 }, value: 0.15 },
          tooltip: [
            { field: 'method' },
            { field: 'rank', type: 'quantitative' },
            { field: 'value', type: 'quantitative', title: metric, ...PCT },
          ],
        },
      },
      {
        data: { values: lines },
        mark: { type: 'rule', strokeDash: [5, 4] },
        encoding: {
          y: { field: 'value', type: 'quantitative' },
          color: colorOf('method', names, 'method'),
          opacity: { condition: { param: 'pick', value: 1 }, value: 0.15 },
          tooltip: [{ field: 'method' }, { field: 'value', type: 'quantitative', title: metric, ...PCT }],
        },
      },
    ]),
  };
}

/** The figures of a retrieval run. */
export function retrieveFigures(r: RetrieveResult): Figure[] {
  const tables: MetricTable[] = [r, ...Object.values(r.also ?? {})];
  const figs = tables.map((t, i) => perLanguageFigure(`per-language-${i}`, t, r.task));
  if (r.rankSweep?.lsar) {
    const baselines = Object.fromEntries(
      Object.entries(r.results)
        .filter(([n]) => !/^lsar-\d+$/.test(n))
        .map(([n, v]) => [n, v.mean]),
    );
    const sweep = r.rankSweep.lsar;
    const best = Object.entries(sweep).reduce((b, e) => (e[1] > b[1] ? e : b));
    figs.push(rankSweepFigure('rank-sweep', sweep, baselines, r.metric, Number(best[0])));
  }
  return figs;
}

const MEASURES: [keyof InspectResult['results'][string], string][] = [
  ['probeAccuracy', 'probe accuracy'],
  ['centroidAccuracy', 'centroid accuracy'],
  ['betweenShare', 'between share'],
];

/** The figures of an inspection. */
/** Probe, centroid accuracy and between share per method, beside chance. */
function identityFigure(r: InspectResult): Figure {
  const methods = Object.keys(r.results);
  const title = 'Language identity before and after each method';
  const values = methods.flatMap((m) => MEASURES.map(([k, label]) => ({ method: m, measure: label, value: r.results[m]?.[k] })));
  return {
    id: 'identity',
    title,
    svg: barsSvg({
      title,
      categories: MEASURES.map(([, l]) => l),
      series: methods.map((m) => ({ name: m, values: Object.fromEntries(MEASURES.map(([k, l]) => [l, r.results[m]?.[k]])) })),
      categoryTitle: 'measure',
      valueTitle: 'value (%)',
      percent: true,
      reference: { value: r.chance, label: `chance ${(100 * r.chance).toFixed(1)}%` },
      legendTitle: 'method',
    }),
    spec: layered(title, [
      {
        data: { values },
        mark: 'bar',
        encoding: {
          x: { field: 'measure', type: 'nominal', sort: MEASURES.map(([, l]) => l), title: 'measure', axis: { labelAngle: 0 } },
          xOffset: { field: 'method', sort: methods },
          y: { field: 'value', type: 'quantitative', title: 'value', axis: { format: '%' }, scale: { domain: [0, 1] } },
          color: colorOf('method', methods, 'method'),
          opacity: { condition: { param: 'pick', value: 1 }, value: 0.15 },
          tooltip: [{ field: 'method' }, { field: 'measure' }, { field: 'value', type: 'quantitative', ...PCT }],
        },
      },
      {
        data: { values: [{ chance: r.chance }] },
        mark: { type: 'rule', strokeDash: [4, 3], color: '#555' },
        encoding: { y: { field: 'chance', type: 'quantitative' }, tooltip: [{ field: 'chance', title: 'chance accuracy', ...PCT }] },
      },
    ]),
  };
}

/** Singular values of the centred language means, cumulative share, the recommended rank. */
function spectrumFigure(r: InspectResult): Figure {
  const s = r.spectrum;
  const rank = r.recommendedRank.rank;
  const st = 'Spectrum of the centred language means';
  const spec = s.singularValues.map((v, i) => ({ rank: i + 1, singular_value: v, cumulativeShare: s.cumulativeShare[i] }));
  return {
    id: 'spectrum',
    title: st,
    svg: spectrumSvg(st, s.singularValues, s.cumulativeShare, rank, `recommended rank ${rank}`),
    spec: {
      $schema: SCHEMA,
      title: st,
      width: Math.min(440, Math.max(240, s.singularValues.length * 14)),
      height: 240,
      data: { values: spec },
      encoding: { x: { field: 'rank', type: 'ordinal', title: 'rank K', axis: { labelAngle: 0 } } },
      layer: [
        {
          mark: { type: 'bar', color: COLORS[0] },
          encoding: {
            y: { field: 'singular_value', type: 'quantitative', title: 'singular value' },
            tooltip: [{ field: 'rank' }, { field: 'singular_value', format: '.4g' }, { field: 'cumulativeShare', ...PCT }],
          },
        },
        {
          mark: { type: 'line', point: true, color: COLORS[1] },
          encoding: {
            y: {
              field: 'cumulativeShare',
              type: 'quantitative',
              title: 'cumulative share',
              axis: { format: '%' },
              scale: { domain: [0, 1] },
            },
            tooltip: [{ field: 'rank' }, { field: 'cumulativeShare', ...PCT }],
          },
        },
        {
          data: { values: [{ rank }] },
          mark: { type: 'rule', strokeDash: [4, 3], color: '#555' },
          encoding: { x: { field: 'rank', type: 'ordinal' }, tooltip: [{ field: 'rank', title: 'recommended rank' }] },
        },
      ],
      resolve: { scale: { y: 'independent' } },
    },
  };
}

/** Each method's sample on its own top two principal components. */
function mapsFigure(r: InspectResult): Figure {
  const methods = Object.keys(r.results);
  const langs = r.languages.map((l) => l.lang);
  const mt = 'Sentences on their top two principal components, per method';
  const panels = methods.map((m) => ({ name: m, points: r.maps[m]?.points ?? [] }));
  return {
    id: 'maps',
    title: mt,
    svg: scatterPanelsSvg(mt, panels, langs, 'PC 1', 'PC 2'),
    spec: {
      $schema: SCHEMA,
      title: mt,
      columns: Math.min(3, panels.length),
      concat: panels.map((p, i) => ({
        title: p.name,
        width: 220,
        height: 220,
        data: { values: p.points.map(([x, y, g]) => ({ pc1: x, pc2: y, language: langs[g as number], method: p.name })) },
        params: [{ name: `zoom${i}`, select: 'interval', bind: 'scales' }],
        mark: { type: 'point', filled: true, size: 18, opacity: 0.75 },
        encoding: {
          x: { field: 'pc1', type: 'quantitative', title: 'PC 1' },
          y: { field: 'pc2', type: 'quantitative', title: 'PC 2' },
          color: {
            field: 'language',
            type: 'nominal',
            title: 'language',
            scale: { domain: langs, range: langs.map((_, i) => groupStyle(i).color) },
          },
          shape: {
            field: 'language',
            type: 'nominal',
            title: 'language',
            scale: { domain: langs, range: langs.map((_, i) => groupStyle(i).shape) },
          },
          tooltip: [{ field: 'language' }, { field: 'method' }, { field: 'pc1', format: '.3f' }, { field: 'pc2', format: '.3f' }],
        },
      })),
    },
  };
}

export function inspectFigures(r: InspectResult): Figure[] {
  const figs: Figure[] = [identityFigure(r), spectrumFigure(r)];
  const rr = r.recommendedRank;
  if (rr.sweep && r.evaluation) {
    const baselines: Record<string, number> = {};
    figs.push(rankSweepFigure('rank-sweep', rr.sweep, baselines, rr.metric ?? 'metric', rr.rank));
  }
  figs.push(mapsFigure(r));
  return figs;
}
