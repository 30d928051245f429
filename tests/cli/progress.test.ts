/** Progress lines: rates count from a stage's first report, and none is shown before there is time to measure it. */
import { afterEach, describe, expect, it, vi } from 'vitest';
import { Progress } from '../../src/cli/progress.js';

describe('Progress.rate', () => {
  afterEach(() => {
    vi.useRealTimers();
  });

  it("a stage's first report shows no rate; later ones count from it (rows and time alike)", () => {
    vi.useFakeTimers();
    vi.setSystemTime(new Date('2026-12-01T00:00:00Z'));
    const p = new Progress({ write: () => true } as never, true);
    // the first report of a stage comes after work whose start it does not know: no rate
    expect(p.rate(4096, 9000, 'rows', 'knn')).toBe('4,096/9,000 rows');
    vi.advanceTimersByTime(2000);
    // 4,096 more rows in 2 s: 2,048 rows/s (not 8,192 / 2 s), 808 rows left
    expect(p.rate(8192, 9000, 'rows', 'knn')).toBe('8,192/9,000 rows, 2,048 rows/s, ETA 1 s');
    // a new stage restarts the clock
    expect(p.rate(10, 100, 'files', 'other')).toBe('10/100 files');
    vi.advanceTimersByTime(400);
    expect(p.rate(20, 100, 'files', 'other')).toBe('20/100 files');
    vi.advanceTimersByTime(600);
    expect(p.rate(30, 100, 'files', 'other')).toBe('30/100 files, 20 files/s, ETA 4 s');
  });
});
