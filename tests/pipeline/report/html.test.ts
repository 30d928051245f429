/**
 * The reports in a real headless browser (Debian's chromium via playwright-core): report.html
 * renders every figure offline with no console error and shows a tooltip on hover; every static
 * SVG keeps its text inside the picture and apart (bounding boxes measured by the browser).
 */
import { copyFile, mkdir, mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { inspect } from '../../../src/pipeline/inspect.js';
import { writeInspectReport } from '../../../src/pipeline/report/inspect.js';
import { writeReport } from '../../../src/pipeline/report/markdown.js';
import { retrieve } from '../../../src/pipeline/retrieve/index.js';
import { perLanguageFigure } from '../../../src/pipeline/report/figures.js';
import { writeFileAtomic } from '../../../src/io/atomic.js';
import { scatterPanelsSvg, spectrumSvg } from '../../../src/pipeline/report/svg.js';
import { GOLDEN, HAS_SHARED } from '../../helpers.js';
import { findChromium, openReport, type ReportPage } from '../../report-browser.js';

const CHROMIUM = findChromium();
const why = !HAS_SHARED
  ? ' (skipped: ../shared/golden/planted-small is missing)'
  : !CHROMIUM
    ? ' (skipped: no chromium on PATH; apt-get install chromium, or set CHROMIUM)'
    : '';
const suite = why ? describe.skip : describe;

suite(`reports in headless Chromium${why}`, () => {
  let dir: string;
  let inspectDir: string;
  let retrieveDir: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'lsar-report-'));
    inspectDir = join(dir, 'inspect');
    retrieveDir = join(dir, 'retrieve');
    const r = await inspect({ inputs: [join(GOLDEN, 'fit')], rank: [4], sample: 60, mapSample: 20 });
    await writeInspectReport(inspectDir, r);
    const pairs = join(dir, 'pairs');
    await mkdir(pairs);
    for (const l of ['de', 'fr', 'zh']) {
      await copyFile(join(GOLDEN, 'bitext', `${l}.npy`), join(pairs, `${l}.npy`));
      await copyFile(join(GOLDEN, 'bitext', `${l}.en.npy`), join(pairs, `${l}.en.npy`));
    }
    const rr = await retrieve({
      task: 'pairs',
      embeddings: pairs,
      fitEmbeddings: join(GOLDEN, 'fit'),
      methods: ['none', 'abtt', 'lsar'],
      rank: [1, 2, 4, 8],
      exact: true,
    });
    await writeReport(retrieveDir, rr);
    // a per-language chart of 33 languages: the horizontal layout
    const langs = Array.from({ length: 33 }, (_, i) => `l${String(i).padStart(2, '0')}`);
    const results = Object.fromEntries(
      ['none', 'lsar-32'].map((m, k) => [
        m,
        { mean: 0.5, perLanguage: Object.fromEntries(langs.map((l, i) => [l, ((i * 7 + k * 13) % 33) / 33])) },
      ]),
    );
    await writeFileAtomic(join(dir, 'many.svg'), perLanguageFigure('many', { metric: 'accuracy@1', results } as never, 'tatoeba').svg);
    // a spectrum of 32 values and maps of 33 languages in 6 panels
    const sv = Array.from({ length: 32 }, (_, i) => 10 / (i + 1));
    let acc = 0;
    const total = sv.reduce((a, v) => a + v * v, 0);
    await writeFileAtomic(
      join(dir, 'spectrum32.svg'),
      spectrumSvg(
        'spectrum',
        sv,
        sv.map((v) => (acc += (v * v) / total)),
        7,
        'recommended rank 7',
      ),
    );
    const panels = ['none', 'demean', 'lsar-32', 'abtt-8', 'whiten', 'lir-1'].map((name, p) => ({
      name,
      points: Array.from({ length: 330 }, (_, i) => [Math.sin(i * 1.7 + p), Math.cos(i * 0.9 - p), i % 33]),
    }));
    await writeFileAtomic(join(dir, 'maps33.svg'), scatterPanelsSvg('maps', panels, langs, 'PC 1', 'PC 2'));
  }, 120_000);
  afterAll(async () => rm(dir, { recursive: true, force: true }));

  for (const which of ['inspect', 'retrieve'] as const) {
    describe(`${which} report.html`, () => {
      let page: ReportPage;
      beforeAll(async () => {
        page = await openReport(join(which === 'inspect' ? inspectDir : retrieveDir, 'report.html'), CHROMIUM as string);
      }, 60_000);
      afterAll(async () => page?.close());

      it('renders every figure offline with no console error', async () => {
        const divs = await page.page.locator('div.figure').count();
        expect(divs).toBeGreaterThanOrEqual(which === 'inspect' ? 3 : 2);
        expect(page.figures).toBe(divs);
        expect(page.errors).toEqual([]);
        // every figure: an SVG with marks (bars, points or lines)
        const marks = await page.page.$$eval('div.figure', (els) =>
          els.map(
            (e) => e.querySelectorAll('svg g.mark-rect path, svg g.mark-symbol path, svg g.mark-line path, svg g.mark-rule line').length,
          ),
        );
        for (const m of marks) expect(m).toBeGreaterThan(0);
      });

      it('shows a tooltip with the mark values on hover', async () => {
        const first = which === 'inspect' ? '#fig-identity g.mark-rect path' : '#fig-per-language-0 g.mark-rect path';
        await page.page.locator(first).first().hover({ force: true });
        const tip = page.page.locator('#vg-tooltip-element');
        await tip.waitFor({ state: 'visible', timeout: 5000 });
        const text = await tip.innerText();
        expect(text).toMatch(/method/);
        expect(text).toMatch(/none/);
        if (which === 'inspect') {
          // a point of a map: its language
          await page.page.locator('#fig-maps g.mark-symbol path').first().hover({ force: true });
          await expect.poll(async () => tip.innerText(), { timeout: 5000 }).toMatch(/language\s*[a-z]{2}/);
        }
      });

      if (which === 'inspect')
        it('the maps zoom with the wheel (their axis ticks change)', async () => {
          const ticks = () => page.page.$$eval('#fig-maps g.role-axis-label text', (ts) => ts.map((t) => t.textContent).join(','));
          const before = await ticks();
          const box = await page.page.locator('#fig-maps g.mark-symbol').first().boundingBox();
          expect(box).not.toBeNull();
          await page.page.mouse.move((box?.x as number) + (box?.width as number) / 2, (box?.y as number) + (box?.height as number) / 2);
          await page.page.mouse.wheel(0, -400);
          await expect.poll(ticks, { timeout: 5000 }).not.toBe(before);
        });

      it('toggles a method from the legend (the other methods fade)', async () => {
        const fig = which === 'inspect' ? '#fig-identity' : '#fig-per-language-0';
        await page.page.locator(`${fig} g.role-legend-symbol path`).nth(1).click({ force: true });
        const opacities = await page.page.$$eval(`${fig} g.mark-rect path`, (ps) => ps.map((p) => p.getAttribute('opacity') ?? '1'));
        expect(opacities.some((o) => Number(o) < 0.5)).toBe(true);
        expect(opacities.some((o) => Number(o) === 1)).toBe(true);
      });
    });
  }

  it('static SVGs: every text inside the picture, no two texts overlapping, at most 640 px wide', async () => {
    const { chromium } = await import('playwright-core');
    const browser = await chromium.launch({ executablePath: CHROMIUM as string, args: ['--no-sandbox'] });
    try {
      const page = await browser.newPage();
      const files = [
        ...(await readdir(inspectDir)).filter((f) => f.endsWith('.svg')).map((f) => join(inspectDir, f)),
        ...(await readdir(retrieveDir)).filter((f) => f.endsWith('.svg')).map((f) => join(retrieveDir, f)),
        ...['many.svg', 'spectrum32.svg', 'maps33.svg'].map((f) => join(dir, f)),
      ];
      expect(files.length).toBeGreaterThanOrEqual(8);
      for (const f of files) {
        await page.goto(pathToFileURL(f).href);
        const r = await page.evaluate(() => {
          const svg = document.querySelector('svg') as SVGSVGElement;
          const box = svg.getBoundingClientRect();
          const texts = Array.from(svg.querySelectorAll('text')).map((t) => ({ s: t.textContent ?? '', b: t.getBoundingClientRect() }));
          const outside = texts
            .filter(
              (t) => t.b.left < box.left - 0.5 || t.b.right > box.right + 0.5 || t.b.top < box.top - 0.5 || t.b.bottom > box.bottom + 0.5,
            )
            .map((t) => t.s);
          const overlaps: string[] = [];
          for (let i = 0; i < texts.length; i++)
            for (let j = i + 1; j < texts.length; j++) {
              const a = (texts[i] as (typeof texts)[number]).b;
              const b = (texts[j] as (typeof texts)[number]).b;
              // 1 px of slack: glyph boxes include line spacing
              const x = Math.min(a.right, b.right) - Math.max(a.left, b.left);
              const y = Math.min(a.bottom, b.bottom) - Math.max(a.top, b.top);
              if (x > 1 && y > 1) overlaps.push(`"${texts[i]?.s}" / "${texts[j]?.s}"`);
            }
          return { width: box.width, height: box.height, outside, overlaps };
        });
        expect({ file: f, outside: r.outside, overlaps: r.overlaps }).toEqual({ file: f, outside: [], overlaps: [] });
        // at most 640 px wide, and an aspect ratio a page holds: not a long strip
        expect({ file: f, wide: r.width <= 640, strip: r.width / r.height >= 3 }).toEqual({ file: f, wide: true, strip: false });
      }
    } finally {
      await browser.close();
    }
  }, 60_000);
});
