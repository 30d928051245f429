/** The parts every static SVG plot is drawn with: palettes, markers, legends, ticks, axis titles. */
/** Tableau 20, for many groups (languages); beyond 20, shapes tell the cycles apart. */
export const COLORS20 = [
  '#4e79a7',
  '#f28e2b',
  '#e15759',
  '#76b7b2',
  '#59a14f',
  '#edc948',
  '#b07aa1',
  '#ff9da7',
  '#9c755f',
  '#bab0ac',
  '#a0cbe8',
  '#ffbe7d',
  '#8cd17d',
  '#b6992d',
  '#499894',
  '#86bcb6',
  '#ff9d9a',
  '#79706e',
  '#d37295',
  '#d4a6c8',
];
export const SHAPES = ['circle', 'square', 'triangle-up', 'diamond'] as const;
/** Methods: the first ten (Tableau 10). */
export const COLORS = COLORS20.slice(0, 10);

/** An SVG marker of one of SHAPES centred at (x, y), radius r. */
export function marker(shape: (typeof SHAPES)[number], x: number, y: number, r: number, color: string, extra = ''): string {
  const f = (v: number) => v.toFixed(1);
  if (shape === 'circle') return `<circle cx="${f(x)}" cy="${f(y)}" r="${r}" fill="${color}"${extra}/>`;
  if (shape === 'square') return `<rect x="${f(x - r)}" y="${f(y - r)}" width="${2 * r}" height="${2 * r}" fill="${color}"${extra}/>`;
  if (shape === 'triangle-up')
    return `<path d="M${f(x)},${f(y - r * 1.2)}L${f(x + r * 1.1)},${f(y + r * 0.8)}L${f(x - r * 1.1)},${f(y + r * 0.8)}Z" fill="${color}"${extra}/>`;
  return `<path d="M${f(x)},${f(y - r * 1.3)}L${f(x + r * 1.1)},${f(y)}L${f(x)},${f(y + r * 1.3)}L${f(x - r * 1.1)},${f(y)}Z" fill="${color}"${extra}/>`;
}

/** Colour and shape of group i of many. */
export function groupStyle(i: number): { color: string; shape: (typeof SHAPES)[number] } {
  return {
    color: COLORS20[i % COLORS20.length] as string,
    shape: SHAPES[Math.floor(i / COLORS20.length) % SHAPES.length] as (typeof SHAPES)[number],
  };
}

const FONT = 11;
/** Width of a text of n characters at 11 px sans-serif (generous average). */
export const textW = (s: string) => s.length * 6.4;

export function esc(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
}

export function svgOpen(width: number, height: number, title: string): string[] {
  return [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="Helvetica, Arial, sans-serif" font-size="${FONT}">`,
    '<rect width="100%" height="100%" fill="white"/>',
    `<text x="8" y="18" font-size="13" font-weight="bold">${esc(title)}</text>`,
  ];
}

/** A legend as a column of swatches at (x, y); returns its height. */
export function legend(
  out: string[],
  x: number,
  y: number,
  items: { name: string; color: string; line?: boolean; dash?: boolean; shape?: (typeof SHAPES)[number] }[],
  heading?: string,
): number {
  let at = y;
  if (heading) {
    out.push(`<text x="${x}" y="${at + 9}" font-weight="bold">${esc(heading)}</text>`);
    at += 16;
  }
  for (const it of items) {
    if (it.line || it.dash)
      out.push(
        `<line x1="${x}" x2="${x + 14}" y1="${at + 5}" y2="${at + 5}" stroke="${it.color}" stroke-width="2"${it.dash ? ' stroke-dasharray="4,3"' : ''}/>`,
      );
    else if (it.shape) out.push(marker(it.shape, x + 5.5, at + 5.5, 4.5, it.color));
    else out.push(`<rect x="${x}" y="${at}" width="11" height="11" fill="${it.color}"/>`);
    out.push(`<text x="${x + 18}" y="${at + 9}">${esc(it.name)}</text>`);
    at += 15;
  }
  return at - y;
}

export function legendWidth(items: { name: string }[], heading?: string): number {
  return Math.max(heading ? textW(heading) : 0, ...items.map((i) => 18 + textW(i.name)));
}

/** Nice ticks from lo to hi (about n of them). */
export function niceTicks(lo: number, hi: number, n = 5): number[] {
  const span = hi - lo || Math.abs(hi) || 1;
  const raw = span / n;
  const mag = 10 ** Math.floor(Math.log10(raw));
  const step = ([1, 2, 2.5, 5, 10].find((m) => m * mag >= raw) ?? 10) * mag;
  const out: number[] = [];
  for (let v = Math.ceil(lo / step - 1e-9) * step; v <= hi + step * 1e-9; v += step) out.push(Math.abs(v) < step * 1e-9 ? 0 : v);
  return out;
}

export function fmt(v: number): string {
  const a = Math.abs(v);
  if (a !== 0 && (a < 0.01 || a >= 1e5)) return v.toExponential(1);
  return String(Number(v.toPrecision(4)));
}

export function referenceLine(
  out: string[],
  ref: { value: number; label: string },
  a: number,
  b: number,
  at: (v: number) => number,
  dir: 'h' | 'v',
): void {
  const p = at(ref.value);
  if (dir === 'h') {
    out.push(`<line x1="${a}" x2="${b}" y1="${p}" y2="${p}" stroke="#555" stroke-dasharray="4,3"/>`);
    out.push(`<text x="${b - 3}" y="${p - 4}" text-anchor="end" fill="#555">${esc(ref.label)}</text>`);
  } else {
    out.push(`<line x1="${p}" x2="${p}" y1="${a}" y2="${b}" stroke="#555" stroke-dasharray="4,3"/>`);
  }
}

export function axisTitleY(title: string, x: number, y: number): string {
  return `<text x="${x}" y="${y}" text-anchor="middle" transform="rotate(-90 ${x} ${y})">${esc(title)}</text>`;
}
