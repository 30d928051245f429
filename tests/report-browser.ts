/** Headless Chromium (playwright-core) on a report.html: used by the report test and scripts/report-screenshot.ts. */
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { pathToFileURL } from 'node:url';

/** The Chromium executable: $CHROMIUM, or chromium / chromium-browser / google-chrome on PATH. */
export function findChromium(): string | undefined {
  if (process.env.CHROMIUM && existsSync(process.env.CHROMIUM)) return process.env.CHROMIUM;
  for (const name of ['chromium', 'chromium-browser', 'google-chrome']) {
    try {
      const p = execFileSync('sh', ['-c', `command -v ${name}`], { encoding: 'utf8' }).trim();
      if (p) return p;
    } catch {
      // not on PATH
    }
  }
  return undefined;
}

export interface ReportPage {
  /** Console errors and page errors seen so far. */
  errors: string[];
  /** Figures that vega-embed rendered. */
  figures: number;
  page: import('playwright-core').Page;
  screenshot(path: string): Promise<void>;
  close(): Promise<void>;
}

/** Open the report offline (every request but the file itself is refused), wait for its figures. */
export async function openReport(htmlPath: string, executablePath: string): Promise<ReportPage> {
  const { chromium } = await import('playwright-core');
  const browser = await chromium.launch({ executablePath, args: ['--no-sandbox', '--disable-gpu'] });
  const errors: string[] = [];
  try {
    const context = await browser.newContext({ viewport: { width: 1200, height: 900 } });
    const page = await context.newPage();
    page.on('console', (m) => {
      if (m.type() === 'error') errors.push(m.text());
    });
    page.on('pageerror', (e) => errors.push(String(e)));
    const url = pathToFileURL(htmlPath).href;
    await page.route('**/*', (route) => (route.request().url() === url ? route.continue() : route.abort()));
    page.on('requestfailed', (r) => {
      if (r.url() !== url) errors.push(`network request attempted: ${r.url()}`);
    });
    await page.goto(url);
    const figures = await page.evaluate(async () => {
      const w = window as unknown as { lsarRendered?: Promise<unknown[]> };
      if (!w.lsarRendered) throw new Error('no figures: window.lsarRendered is missing');
      return (await w.lsarRendered).length;
    });
    return {
      errors,
      figures,
      page,
      screenshot: async (path) => {
        await page.screenshot({ path, fullPage: true });
      },
      close: () => browser.close(),
    };
  } catch (e) {
    await browser.close();
    throw e;
  }
}
