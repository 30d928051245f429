/** Static SVG plots of a retrieval run (per-language bars, mean against rank). */
import type { MetricTable, RetrieveResult } from '../retrieve/index.js';

const COLORS = ['#4e79a7', '#f28e2b', '#e15759', '#76b7b2', '#59a14f', '#edc948', '#b07aa1', '#ff9da7', '#9c755f', '#bab0ac'];

export function esc(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
}

/** Grouped bars: one group per language (and the mean), one bar per method, values in [0, 1]. */
export function barChartSvg(t: MetricTable, title: string): string {
  const methods = Object.keys(t.results);
  const langs = [...new Set(methods.flatMap((m) => Object.keys(t.results[m]?.per_language ?? {})))].sort();
  const groups = [...langs, 'mean'];
  const barW = 10;
  const groupW = Math.max(24, methods.length * barW + 8);
  const left = 50;
  const top = 40;
  const plotH = 260;
  const width = left + groups.length * groupW + 20 + 130;
  const height = top + plotH + 60;
  const y = (v: number) => top + plotH - Math.max(0, Math.min(1, v)) * plotH;
  const out: string[] = [];
  out.push(
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="sans-serif" font-size="11">`,
  );
  out.push(`<rect width="100%" height="100%" fill="white"/>`);
  out.push(`<text x="${left}" y="20" font-size="14" font-weight="bold">${esc(title)}</text>`);
  for (let g = 0; g <= 10; g += 2) {
    const v = g / 10;
    out.push(`<line x1="${left}" x2="${left + groups.length * groupW}" y1="${y(v)}" y2="${y(v)}" stroke="#ddd"/>`);
    out.push(`<text x="${left - 6}" y="${y(v) + 4}" text-anchor="end">${(v * 100).toFixed(0)}</text>`);
  }
  groups.forEach((lang, gi) => {
    const x0 = left + gi * groupW + 4;
    methods.forEach((m, mi) => {
      const v = lang === 'mean' ? t.results[m]?.mean : t.results[m]?.per_language[lang];
      if (v === undefined || Number.isNaN(v)) return;
      out.push(
        `<rect x="${x0 + mi * barW}" y="${y(v)}" width="${barW - 1}" height="${top + plotH - y(v)}" fill="${COLORS[mi % COLORS.length]}"><title>${esc(`${m} ${lang}: ${(100 * v).toFixed(1)}`)}</title></rect>`,
      );
    });
    const cx = x0 + (methods.length * barW) / 2;
    out.push(
      `<text x="${cx}" y="${top + plotH + 14}" text-anchor="end" transform="rotate(-45 ${cx} ${top + plotH + 14})"${lang === 'mean' ? ' font-weight="bold"' : ''}>${esc(lang)}</text>`,
    );
  });
  out.push(`<line x1="${left}" x2="${left}" y1="${top}" y2="${top + plotH}" stroke="#333"/>`);
  out.push(`<line x1="${left}" x2="${left + groups.length * groupW}" y1="${top + plotH}" y2="${top + plotH}" stroke="#333"/>`);
  const lx = left + groups.length * groupW + 20;
  methods.forEach((m, mi) => {
    out.push(`<rect x="${lx}" y="${top + mi * 18}" width="12" height="12" fill="${COLORS[mi % COLORS.length]}"/>`);
    out.push(`<text x="${lx + 18}" y="${top + mi * 18 + 10}">${esc(m)}</text>`);
  });
  out.push('</svg>');
  return out.join('\n') + '\n';
}

/** The main metric's mean against the LSAR rank, with the other methods as horizontal lines. */
export function rankChartSvg(r: RetrieveResult, title: string): string {
  const sweep = r.rankSweep?.lsar ?? {};
  const ranks = Object.keys(sweep)
    .map(Number)
    .sort((a, b) => a - b);
  const names = Object.keys(r.results);
  const color = (name: string) => COLORS[Math.max(0, names.indexOf(name)) % COLORS.length] as string;
  const lsarColor = color(names.find((n) => /^lsar-\d+$/.test(n)) ?? 'lsar');
  const others = Object.entries(r.results).filter(([name]) => !/^lsar-\d+$/.test(name));
  const values = [...ranks.map((k) => sweep[String(k)] as number), ...others.map(([, v]) => v.mean)];
  // Nice y range: multiples of a step of 1, 2, 5 or 10 points.
  const step = [0.01, 0.02, 0.05, 0.1].find((st) => (Math.max(...values) - Math.min(...values)) / st <= 8) ?? 0.2;
  const lo = Math.max(0, Math.floor(Math.min(...values) / step - 0.5) * step);
  const hi = Math.min(1, Math.ceil(Math.max(...values) / step + 0.5) * step);
  const left = 55;
  const top = 40;
  const plotW = 420;
  const plotH = 260;
  const width = left + plotW + 150;
  const height = top + plotH + 50;
  const xr = (k: number) =>
    left +
    (ranks.length === 1 ? plotW / 2 : ((k - (ranks[0] as number)) / ((ranks[ranks.length - 1] as number) - (ranks[0] as number))) * plotW);
  const y = (v: number) => top + plotH - ((v - lo) / (hi - lo || 1)) * plotH;
  const out: string[] = [];
  out.push(
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="sans-serif" font-size="11">`,
  );
  out.push(`<rect width="100%" height="100%" fill="white"/>`);
  out.push(`<text x="${left}" y="20" font-size="14" font-weight="bold">${esc(title)}</text>`);
  for (let v = lo; v <= hi + 1e-9; v += step) {
    out.push(`<line x1="${left}" x2="${left + plotW}" y1="${y(v)}" y2="${y(v)}" stroke="#ddd"/>`);
    out.push(`<text x="${left - 6}" y="${y(v) + 4}" text-anchor="end">${(100 * v).toFixed(0)}</text>`);
  }
  for (const k of ranks) out.push(`<text x="${xr(k)}" y="${top + plotH + 16}" text-anchor="middle">${k}</text>`);
  out.push(`<text x="${left + plotW / 2}" y="${top + plotH + 36}" text-anchor="middle">LSAR rank (directions removed)</text>`);
  // Baselines as dashed lines, labels pushed apart so they never overlap.
  const labels = others.map(([name, v]) => ({ name, v: v.mean, ly: y(v.mean) + 4 })).sort((a, b) => a.ly - b.ly);
  for (let i = 1; i < labels.length; i++) {
    const prev = labels[i - 1] as { ly: number };
    const cur = labels[i] as { ly: number };
    if (cur.ly - prev.ly < 13) cur.ly = prev.ly + 13;
  }
  for (const l of labels) {
    out.push(`<line x1="${left}" x2="${left + plotW}" y1="${y(l.v)}" y2="${y(l.v)}" stroke="${color(l.name)}" stroke-dasharray="5,4"/>`);
    out.push(`<text x="${left + plotW + 8}" y="${l.ly}" fill="${color(l.name)}">${esc(l.name)} ${(100 * l.v).toFixed(1)}</text>`);
  }
  const pts = ranks.map((k) => `${xr(k)},${y(sweep[String(k)] as number)}`).join(' ');
  out.push(`<polyline points="${pts}" fill="none" stroke="${lsarColor}" stroke-width="2"/>`);
  for (const k of ranks) {
    const v = sweep[String(k)] as number;
    out.push(`<circle cx="${xr(k)}" cy="${y(v)}" r="3.5" fill="${lsarColor}"><title>lsar-${k}: ${(100 * v).toFixed(1)}</title></circle>`);
    out.push(`<text x="${xr(k)}" y="${y(v) - 8}" text-anchor="middle" fill="${lsarColor}">${(100 * v).toFixed(1)}</text>`);
  }
  out.push(`<text x="${left + plotW + 8}" y="${top + plotH - 4}" fill="${lsarColor}">lsar (solid)</text>`);
  out.push(`<line x1="${left}" x2="${left}" y1="${top}" y2="${top + plotH}" stroke="#333"/>`);
  out.push(`<line x1="${left}" x2="${left + plotW}" y1="${top + plotH}" y2="${top + plotH}" stroke="#333"/>`);
  out.push('</svg>');
  return out.join('\n') + '\n';
}
