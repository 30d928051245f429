/**
 * Static SVG plots for report.md: grouped bars (horizontal, wrapped into columns, when there are
 * many categories), lines against a rank, the spectrum, and scatter panels. Every axis has a
 * title, legends sit beside the marks, labels are kept apart, and widths stay within a page
 * (<= 640 px; a paper column at 2x).
 */
import { axisTitleY, COLORS, esc, fmt, groupStyle, legend, legendWidth, niceTicks, referenceLine, svgOpen, textW } from './svg-parts.js';

export { COLORS, COLORS20, esc, groupStyle, niceTicks, SHAPES } from './svg-parts.js';

export interface BarSeries {
  name: string;
  values: Record<string, number | undefined>;
}

/** Bar charts of more categories than 12 are drawn horizontally (SVG and HTML alike). */
export const isMany = (categories: number) => categories > 12;

export interface BarsSpec {
  title: string;
  categories: string[];
  series: BarSeries[];
  /** Title of the category axis (e.g. "language"). */
  categoryTitle: string;
  /** Title of the value axis (e.g. "accuracy@1 (%)"). */
  valueTitle: string;
  /** Values are shares in [0, 1] shown as percentages. */
  percent?: boolean;
  /** A reference value drawn as a dashed line (e.g. chance), with its label. */
  reference?: { value: number; label: string };
  /** Categories in bold (e.g. "mean"). */
  emphasise?: string[];
  legendTitle?: string;
}

/**
 * Grouped bars. Up to 12 categories: vertical bars with horizontal labels; more: horizontal bars,
 * one row per category, wrapped into up to 3 columns of at most 40 rows.
 */
export function barsSvg(spec: BarsSpec): string {
  return isMany(spec.categories.length) ? horizontalBars(spec) : verticalBars(spec);
}

function valueRange(spec: BarsSpec): [number, number] {
  if (spec.percent) return [0, 1];
  const vals = spec.series.flatMap((s) => Object.values(s.values).filter((v): v is number => v !== undefined && Number.isFinite(v)));
  const hi = Math.max(0, ...vals, spec.reference?.value ?? 0);
  const lo = Math.min(0, ...vals);
  const t = niceTicks(lo, hi);
  return [Math.min(lo, t[0] as number), Math.max(hi, t.at(-1) as number)];
}

function verticalBars(spec: BarsSpec): string {
  const { categories: cats, series } = spec;
  const items = series.map((s, i) => ({ name: s.name, color: COLORS[i % COLORS.length] as string }));
  const lw = legendWidth(items, spec.legendTitle);
  const left = 56;
  const top = 34;
  const plotH = 220;
  const labelW = Math.max(...cats.map(textW));
  const groupW = Math.max(labelW + 8, series.length * 9 + 10, 28);
  const plotW = Math.min(640 - left - lw - 30, Math.max(160, cats.length * groupW));
  const gw = plotW / cats.length;
  const barW = Math.max(2, Math.min(14, (gw - 6) / series.length));
  // labels that do not fit the group width are rotated
  const rotate = labelW > gw - 2;
  const bottom = rotate ? Math.min(90, labelW * 0.72 + 12) : 18;
  const width = Math.ceil(left + plotW + 16 + lw + 8);
  const height = Math.ceil(top + plotH + bottom + 22);
  const [lo, hi] = valueRange(spec);
  const y = (v: number) => top + plotH - ((Math.max(lo, Math.min(hi, v)) - lo) / (hi - lo || 1)) * plotH;
  const out = svgOpen(width, height, spec.title);
  for (const t of spec.percent ? [0, 0.2, 0.4, 0.6, 0.8, 1] : niceTicks(lo, hi)) {
    out.push(`<line x1="${left}" x2="${left + plotW}" y1="${y(t)}" y2="${y(t)}" stroke="#e5e5e5"/>`);
    out.push(`<text x="${left - 5}" y="${y(t) + 4}" text-anchor="end">${spec.percent ? (100 * t).toFixed(0) : fmt(t)}</text>`);
  }
  cats.forEach((c, ci) => {
    const x0 = left + ci * gw + (gw - barW * series.length) / 2;
    series.forEach((s, si) => {
      const v = s.values[c];
      if (v === undefined || !Number.isFinite(v)) return;
      const y0 = y(Math.max(0, lo));
      out.push(
        `<rect x="${(x0 + si * barW).toFixed(1)}" y="${Math.min(y(v), y0).toFixed(1)}" width="${(barW - 1).toFixed(1)}" height="${Math.abs(y0 - y(v)).toFixed(1)}" fill="${items[si]?.color}"><title>${esc(`${s.name}, ${c}: ${spec.percent ? (100 * v).toFixed(1) + '%' : fmt(v)}`)}</title></rect>`,
      );
    });
    const cx = left + ci * gw + gw / 2;
    const bold = spec.emphasise?.includes(c) ? ' font-weight="bold"' : '';
    out.push(
      rotate
        ? `<text x="${cx}" y="${top + plotH + 12}" text-anchor="end" transform="rotate(-40 ${cx} ${top + plotH + 12})"${bold}>${esc(c)}</text>`
        : `<text x="${cx}" y="${top + plotH + 14}" text-anchor="middle"${bold}>${esc(c)}</text>`,
    );
  });
  if (spec.reference) referenceLine(out, spec.reference, left, left + plotW, y, 'h');
  out.push(`<line x1="${left}" x2="${left}" y1="${top}" y2="${top + plotH}" stroke="#333"/>`);
  out.push(`<line x1="${left}" x2="${left + plotW}" y1="${y(Math.max(0, lo))}" y2="${y(Math.max(0, lo))}" stroke="#333"/>`);
  out.push(axisTitleY(spec.valueTitle, 14, top + plotH / 2));
  out.push(`<text x="${left + plotW / 2}" y="${height - 6}" text-anchor="middle">${esc(spec.categoryTitle)}</text>`);
  legend(out, left + plotW + 16, top, items, spec.legendTitle);
  out.push('</svg>');
  return out.join('\n') + '\n';
}

/** Horizontal bars: each bar's thickness, and the height of a category's row of bars (the SVG and the Vega-Lite spec share them). */
function barHeight(series: number): number {
  return Math.max(3, Math.min(6, 14 / series));
}
export function barRowHeight(series: number): number {
  return Math.max(12, barHeight(series) * series + 4);
}

function horizontalBars(spec: BarsSpec): string {
  const { categories: cats, series } = spec;
  const items = series.map((s, i) => ({ name: s.name, color: COLORS[i % COLORS.length] as string }));
  const lw = legendWidth(items, spec.legendTitle);
  const columns = Math.min(3, Math.ceil(cats.length / 40));
  const perCol = Math.ceil(cats.length / columns);
  const barH = barHeight(series.length);
  const rowH = barRowHeight(series.length);
  const labelW = Math.max(...cats.map(textW)) + 6;
  const top = 46;
  const colPlotW = Math.max(110, Math.floor((640 - 16 - lw - 16 - columns * (labelW + 14)) / columns));
  const colW = labelW + colPlotW + 14;
  const plotH = perCol * rowH;
  const width = Math.ceil(8 + columns * colW + 12 + lw + 8);
  const height = Math.ceil(top + plotH + 46);
  const [lo, hi] = valueRange(spec);
  const out = svgOpen(width, height, spec.title);
  for (let col = 0; col < columns; col++) {
    const left = 8 + col * colW + labelW;
    const x = (v: number) => left + ((Math.max(lo, Math.min(hi, v)) - lo) / (hi - lo || 1)) * colPlotW;
    const ticks = spec.percent ? [0, 0.25, 0.5, 0.75, 1] : niceTicks(lo, hi, 4);
    for (const t of ticks) {
      out.push(`<line x1="${x(t)}" x2="${x(t)}" y1="${top}" y2="${top + plotH}" stroke="#e5e5e5"/>`);
      out.push(`<text x="${x(t)}" y="${top + plotH + 13}" text-anchor="middle">${spec.percent ? (100 * t).toFixed(0) : fmt(t)}</text>`);
    }
    cats.slice(col * perCol, (col + 1) * perCol).forEach((c, ri) => {
      const y0 = top + ri * rowH + (rowH - barH * series.length) / 2;
      series.forEach((s, si) => {
        const v = s.values[c];
        if (v === undefined || !Number.isFinite(v)) return;
        out.push(
          `<rect x="${x(Math.min(0, v)).toFixed(1)}" y="${(y0 + si * barH).toFixed(1)}" width="${Math.abs(x(v) - x(0)).toFixed(1)}" height="${(barH - 0.5).toFixed(1)}" fill="${items[si]?.color}"><title>${esc(`${s.name}, ${c}: ${spec.percent ? (100 * v).toFixed(1) + '%' : fmt(v)}`)}</title></rect>`,
        );
      });
      const bold = spec.emphasise?.includes(c) ? ' font-weight="bold"' : '';
      out.push(`<text x="${left - 5}" y="${top + ri * rowH + rowH / 2 + 4}" text-anchor="end"${bold}>${esc(c)}</text>`);
    });
    if (spec.reference) referenceLine(out, spec.reference, top, top + plotH, x, 'v');
    out.push(`<line x1="${x(0)}" x2="${x(0)}" y1="${top}" y2="${top + plotH}" stroke="#333"/>`);
    if (columns === 1)
      out.push(`<text x="${left + colPlotW / 2}" y="${top + plotH + 30}" text-anchor="middle">${esc(spec.valueTitle)}</text>`);
    if (col === 0) out.push(`<text x="8" y="${top - 6}" font-style="italic">${esc(spec.categoryTitle)}</text>`);
  }
  // several columns: one value title under all of them
  if (columns > 1)
    out.push(`<text x="${(8 + columns * colW) / 2}" y="${top + plotH + 30}" text-anchor="middle">${esc(spec.valueTitle)}</text>`);
  legend(out, 8 + columns * colW + 12, top, items, spec.legendTitle);
  out.push('</svg>');
  return out.join('\n') + '\n';
}

export interface LineSeries {
  name: string;
  points: [number, number][];
  /** A constant drawn as a dashed horizontal line instead (a baseline). */
  constant?: number;
}

export interface LinesSpec {
  title: string;
  xTitle: string;
  yTitle: string;
  series: LineSeries[];
  percent?: boolean;
  /** An x to mark with a vertical line (e.g. the best rank), with its label. */
  mark?: { x: number; label: string };
}

/** Lines against an integer x (rank); constant series as dashed lines; the legend beside the plot. */
export function linesSvg(spec: LinesSpec): string {
  const items = spec.series.map((s, i) => ({
    name: s.name,
    color: COLORS[i % COLORS.length] as string,
    line: true,
    dash: s.constant !== undefined,
  }));
  const lw = legendWidth(items);
  const left = 58;
  const top = 44;
  const plotW = Math.min(400, 640 - left - 16 - lw - 8);
  const plotH = 230;
  const width = Math.ceil(left + plotW + 16 + lw + 8);
  const height = top + plotH + 52;
  const xs = spec.series.flatMap((s) => s.points.map((p) => p[0]));
  const ys = spec.series.flatMap((s) => (s.constant !== undefined ? [s.constant] : s.points.map((p) => p[1])));
  const x0 = Math.min(...xs);
  const x1 = Math.max(...xs);
  // half a step of padding on both sides: no point sits on an axis
  const pad = x1 > x0 ? Math.max(0.5, (x1 - x0) * 0.04) : 1;
  // 6% padding: no line lies on an axis
  const ypad = (Math.max(...ys) - Math.min(...ys) || Math.abs(Math.max(...ys)) || 1) * 0.06;
  const ylo = Math.min(...ys) - ypad;
  const yhi = Math.max(...ys) + ypad;
  const yt = niceTicks(ylo, yhi, 5).filter((t) => t >= ylo && t <= yhi);
  const x = (v: number) => left + ((v - (x0 - pad)) / (x1 - x0 + 2 * pad)) * plotW;
  const y = (v: number) => top + plotH - ((v - ylo) / (yhi - ylo || 1)) * plotH;
  const out = svgOpen(width, height, spec.title);
  for (const t of yt) {
    out.push(`<line x1="${left}" x2="${left + plotW}" y1="${y(t)}" y2="${y(t)}" stroke="#e5e5e5"/>`);
    out.push(
      `<text x="${left - 5}" y="${y(t) + 4}" text-anchor="end">${spec.percent ? (100 * t).toFixed(Math.abs(yhi - ylo) < 0.05 ? 1 : 0) : fmt(t)}</text>`,
    );
  }
  const xticks =
    x1 - x0 <= 12 ? Array.from({ length: x1 - x0 + 1 }, (_, i) => x0 + i) : niceTicks(x0, x1, 6).filter((t) => Number.isInteger(t));
  for (const t of xticks) out.push(`<text x="${x(t)}" y="${top + plotH + 15}" text-anchor="middle">${t}</text>`);
  if (spec.mark) {
    out.push(`<line x1="${x(spec.mark.x)}" x2="${x(spec.mark.x)}" y1="${top}" y2="${top + plotH}" stroke="#999" stroke-dasharray="2,3"/>`);
    const half = textW(spec.mark.label) / 2;
    const lx = Math.max(left + half, Math.min(left + plotW - half, x(spec.mark.x)));
    out.push(`<text x="${lx}" y="${top - 5}" text-anchor="middle" fill="#555">${esc(spec.mark.label)}</text>`);
  }
  spec.series.forEach((s, i) => {
    const color = items[i]?.color as string;
    if (s.constant !== undefined) {
      out.push(
        `<line x1="${left}" x2="${left + plotW}" y1="${y(s.constant)}" y2="${y(s.constant)}" stroke="${color}" stroke-width="1.5" stroke-dasharray="5,4"/>`,
      );
      return;
    }
    out.push(
      `<polyline points="${s.points.map((p) => `${x(p[0]).toFixed(1)},${y(p[1]).toFixed(1)}`).join(' ')}" fill="none" stroke="${color}" stroke-width="2"/>`,
    );
    for (const [px, py] of s.points)
      out.push(
        `<circle cx="${x(px).toFixed(1)}" cy="${y(py).toFixed(1)}" r="3" fill="${color}"><title>${esc(`${s.name} ${px}: ${spec.percent ? (100 * py).toFixed(1) + '%' : fmt(py)}`)}</title></circle>`,
      );
  });
  out.push(`<line x1="${left}" x2="${left}" y1="${top}" y2="${top + plotH}" stroke="#333"/>`);
  out.push(`<line x1="${left}" x2="${left + plotW}" y1="${top + plotH}" y2="${top + plotH}" stroke="#333"/>`);
  out.push(axisTitleY(spec.yTitle, 14, top + plotH / 2));
  out.push(`<text x="${left + plotW / 2}" y="${top + plotH + 36}" text-anchor="middle">${esc(spec.xTitle)}</text>`);
  legend(out, left + plotW + 16, top, items);
  out.push('</svg>');
  return out.join('\n') + '\n';
}

/** Singular values as bars (left axis) and their cumulative share as a line (right axis, %), the chosen rank marked. */
export function spectrumSvg(title: string, singular: number[], cumulative: number[], rank: number, rankLabel: string): string {
  const left = 58;
  const right = 46;
  const top = 44;
  const plotH = 220;
  const K = singular.length;
  const items = [
    { name: 'singular value', color: COLORS[0] as string },
    { name: 'cumulative share', color: COLORS[1] as string },
  ];
  const lw = legendWidth(items);
  const plotW = Math.min(640 - left - right - lw - 8, Math.max(200, K * 14));
  const width = Math.ceil(left + plotW + right + lw + 8);
  const height = top + plotH + 52;
  const yt = niceTicks(0, Math.max(...singular, 1e-12), 5);
  const yhi = Math.max(yt.at(-1) as number, ...singular);
  const bw = plotW / K;
  const x = (k: number) => left + (k - 0.5) * bw; // k = 1..K, bar centre
  const y = (v: number) => top + plotH - (v / (yhi || 1)) * plotH;
  const y2 = (v: number) => top + plotH - v * plotH;
  const out = svgOpen(width, height, title);
  for (const t of yt) {
    out.push(`<line x1="${left}" x2="${left + plotW}" y1="${y(t)}" y2="${y(t)}" stroke="#e5e5e5"/>`);
    out.push(`<text x="${left - 5}" y="${y(t) + 4}" text-anchor="end">${fmt(t)}</text>`);
  }
  for (const t of [0, 0.25, 0.5, 0.75, 1]) out.push(`<text x="${left + plotW + 5}" y="${y2(t) + 4}">${(100 * t).toFixed(0)}</text>`);
  singular.forEach((s, i) => {
    out.push(
      `<rect x="${(x(i + 1) - bw * 0.38).toFixed(1)}" y="${y(s).toFixed(1)}" width="${(bw * 0.76).toFixed(1)}" height="${(top + plotH - y(s)).toFixed(1)}" fill="${COLORS[0]}"><title>rank ${i + 1}: singular value ${fmt(s)}, cumulative ${(100 * (cumulative[i] as number)).toFixed(1)}%</title></rect>`,
    );
  });
  out.push(
    `<polyline points="${cumulative.map((c, i) => `${x(i + 1).toFixed(1)},${y2(c).toFixed(1)}`).join(' ')}" fill="none" stroke="${COLORS[1]}" stroke-width="2"/>`,
  );
  for (const [i, c] of cumulative.entries())
    out.push(`<circle cx="${x(i + 1).toFixed(1)}" cy="${y2(c).toFixed(1)}" r="2.5" fill="${COLORS[1]}"/>`);
  const xticks = K <= 16 ? Array.from({ length: K }, (_, i) => i + 1) : niceTicks(1, K, 8).filter((t) => t >= 1 && Number.isInteger(t));
  for (const t of xticks) out.push(`<text x="${x(t)}" y="${top + plotH + 15}" text-anchor="middle">${t}</text>`);
  const mx = x(rank) + bw / 2;
  out.push(`<line x1="${mx}" x2="${mx}" y1="${top}" y2="${top + plotH}" stroke="#555" stroke-dasharray="4,3"/>`);
  // the label above the plot, centred on the marker but kept within the plot's width
  const half = textW(rankLabel) / 2;
  const lx = Math.max(left + half, Math.min(left + plotW - half, mx));
  out.push(`<text x="${lx}" y="${top - 5}" text-anchor="middle" fill="#333">${esc(rankLabel)}</text>`);
  out.push(`<line x1="${left}" x2="${left}" y1="${top}" y2="${top + plotH}" stroke="#333"/>`);
  out.push(`<line x1="${left + plotW}" x2="${left + plotW}" y1="${top}" y2="${top + plotH}" stroke="#333"/>`);
  out.push(`<line x1="${left}" x2="${left + plotW}" y1="${top + plotH}" y2="${top + plotH}" stroke="#333"/>`);
  out.push(axisTitleY('singular value', 14, top + plotH / 2));
  out.push(axisTitleY('cumulative share (%)', left + plotW + 36, top + plotH / 2));
  out.push(
    `<text x="${left + plotW / 2}" y="${top + plotH + 36}" text-anchor="middle">rank K (direction of the centred language means)</text>`,
  );
  legend(out, left + plotW + right, top, items);
  out.push('</svg>');
  return out.join('\n') + '\n';
}

export interface ScatterPanel {
  name: string;
  /** [x, y, group index] */
  points: number[][];
}

/** One scatter panel per method (2-3 per row), coloured by group; the legend of groups beside them. */
export function scatterPanelsSvg(title: string, panels: ScatterPanel[], groups: string[], xTitle: string, yTitle: string): string {
  const items = groups.map((g, i) => ({ name: g, ...groupStyle(i) }));
  // legend columns of at most 20 rows
  const legendCols = Math.ceil(groups.length / 20);
  const legendRows = Math.ceil(groups.length / legendCols);
  const colW = legendWidth(items, 'language') + 10;
  const lw = legendCols * colW;
  const perRow = Math.min(panels.length, lw > 200 ? 2 : 3);
  const size = Math.floor(Math.min(200, (640 - lw - 30 - perRow * 34) / perRow));
  const cell = size + 34;
  const rows = Math.ceil(panels.length / perRow);
  const top = 34;
  const width = Math.ceil(16 + perRow * cell + 12 + lw);
  const height = Math.ceil(Math.max(top + rows * (size + 48) + 20, top + 16 + 16 + legendRows * 15 + 10));
  const out = svgOpen(width, height, title);
  panels.forEach((p, i) => {
    const ox = 30 + (i % perRow) * cell;
    const oy = top + 16 + Math.floor(i / perRow) * (size + 48);
    const xs = p.points.map((q) => q[0] as number);
    const ys = p.points.map((q) => q[1] as number);
    const [xl, xh, yl, yh] = [Math.min(...xs), Math.max(...xs), Math.min(...ys), Math.max(...ys)];
    const sx = (v: number) => ox + 4 + ((v - xl) / (xh - xl || 1)) * (size - 8);
    const sy = (v: number) => oy + size - 4 - ((v - yl) / (yh - yl || 1)) * (size - 8);
    out.push(`<text x="${ox + size / 2}" y="${oy - 5}" text-anchor="middle" font-weight="bold">${esc(p.name)}</text>`);
    out.push(`<rect x="${ox}" y="${oy}" width="${size}" height="${size}" fill="none" stroke="#999"/>`);
    for (const [a, b, g] of p.points)
      out.push(
        `<circle cx="${sx(a as number).toFixed(1)}" cy="${sy(b as number).toFixed(1)}" r="1.8" fill="${items[g as number]?.color}" fill-opacity="0.75"/>`,
      );
    out.push(`<text x="${ox + size / 2}" y="${oy + size + 14}" text-anchor="middle">${esc(xTitle)}</text>`);
    out.push(axisTitleY(yTitle, ox - 8, oy + size / 2));
  });
  const lx = 16 + perRow * cell + 12;
  for (let c = 0; c < legendCols; c++)
    legend(out, lx + c * colW, top + 16, items.slice(c * legendRows, (c + 1) * legendRows), c === 0 ? 'language' : ' ');
  out.push('</svg>');
  return out.join('\n') + '\n';
}
