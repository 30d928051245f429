/**
 * Open a report.html in headless Chromium (Debian's chromium, driven by playwright-core), wait for
 * every figure to render, and write report.png beside it; print console errors and exit 1 on any.
 *
 *   npm run report:screenshot -- <report dir>     (default: the report of `lsar inspect` on planted-small, made first)
 *
 * CHROMIUM=/path/to/chrome overrides the browser (default: chromium, chromium-browser or google-chrome on PATH).
 */
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { findChromium, openReport } from '../tests/report-browser.js';

const root = resolve(import.meta.dirname, '..');
let dir = process.argv[2];
if (!dir) {
  dir = join(root, '.scratch', 'report');
  const fit = join(root, '..', 'shared', 'golden', 'planted-small', 'fit');
  if (!existsSync(fit)) {
    console.error(`no report directory given and ${fit} is missing: give a directory holding report.html`);
    process.exit(2);
  }
  execFileSync(process.execPath, [join(root, 'bin', 'lsar.js'), 'inspect', fit, '--rank', '4', '--report', dir, '-q'], {
    stdio: 'inherit',
  });
}
const chromium = findChromium();
if (!chromium) {
  console.error('no Chromium found: apt-get install chromium (or set CHROMIUM=/path/to/chrome)');
  process.exit(2);
}
const page = await openReport(join(dir, 'report.html'), chromium);
try {
  const png = join(dir, 'report.png');
  await page.screenshot(png);
  console.log(`${page.figures} figures rendered; wrote ${png}`);
  if (page.errors.length) {
    for (const e of page.errors) console.error(`console error: ${e}`);
    process.exitCode = 1;
  }
} finally {
  await page.close();
}
