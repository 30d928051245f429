/**
 * Inspect: lsar's language-ID probe (5-fold multinomial logistic regression, L2, C = 1) against
 * scikit-learn's LogisticRegression on the same rows and folds (bench/probe_ref.py), on 33
 * languages x 200 rows x 384 dimensions (language means 0.35 apart per coordinate, anisotropic
 * noise), raw and after LSAR (fitted on other rows of the same languages): time and accuracy.
 */
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { probeAccuracy, stratifiedFolds, type Labelled } from '../src/core/probe.js';
import { fitFromArrays } from '../src/pipeline/fit.js';
import { apply } from '../src/core/apply.js';
import { mulberry32 } from '../src/core/random.js';
import { writeNpy } from '../src/io/npy.js';
import { DIR, median, python, pythonHas, ratio, REPS, ROOT, SCALE } from './lib.js';
import type { Row } from './search.js';

export async function benchInspect(rows: Row[]): Promise<void> {
  const haveRef = pythonHas('numpy', 'sklearn');
  if (!haveRef) console.log('  reference skipped: /usr/bin/python3 with numpy and sklearn not found (apt-get install python3-sklearn)');
  const L = 33;
  const per = Math.max(20, Math.round(200 * SCALE));
  const d = 384;
  const u = mulberry32(5);
  const g = () => Math.sqrt(-2 * Math.log(u() + 1e-12)) * Math.cos(2 * Math.PI * u());
  const scale = Float64Array.from({ length: d }, (_, i) => 1 / Math.sqrt(1 + i / 8));
  // per language: rows to probe, and as many others (the same distribution) to fit LSAR on
  const data: Record<string, Float32Array> = {};
  const fitData: Record<string, Float32Array> = {};
  for (let l = 0; l < L; l++) {
    const mean = Float64Array.from({ length: d }, (_, i) => 0.35 * g() * (scale[i] as number));
    const draw = () => Float32Array.from({ length: per * d }, (_, k) => (mean[k % d] as number) + (scale[k % d] as number) * g());
    data[`l${l}`] = draw();
    fitData[`l${l}`] = draw();
  }
  const n = L * per;
  const labels = Int32Array.from({ length: n }, (_, i) => Math.floor(i / per));
  const folds = stratifiedFolds(labels, L, 5, 0);
  const lsar = fitFromArrays(fitData, d, { method: 'lsar' });
  for (const [name, project] of [
    ['raw', (x: Float32Array) => x],
    ['after lsar-32', (x: Float32Array) => apply(lsar, x)],
  ] as const) {
    const x = new Float64Array(n * d);
    Object.values(data).forEach((v, l) => x.set(project(v), l * per * d));
    const set: Labelled = { x, rows: n, dim: d, labels, classes: L };
    const times: number[] = [];
    let acc = 0;
    for (let i = 0; i < REPS; i++) {
      const t = performance.now();
      acc = probeAccuracy(set, folds).accuracy;
      times.push((performance.now() - t) / 1000);
    }
    let ref: { seconds: number; accuracy: number } | undefined;
    if (haveRef) {
      const dir = join(DIR, `probe-${name.replace(/\W+/g, '-')}`);
      await mkdir(dir, { recursive: true });
      await writeNpy(join(dir, 'x.npy'), Float32Array.from(x), n, d);
      await writeNpy(join(dir, 'labels.npy'), Float64Array.from(labels), n, 1);
      await writeNpy(join(dir, 'folds.npy'), Float64Array.from(folds), n, 1);
      const rs: number[] = [];
      let ra = 0;
      for (let i = 0; i < REPS; i++) {
        const r = python([join(ROOT, 'bench', 'probe_ref.py'), dir]);
        rs.push(r.seconds as number);
        ra = r.accuracy as number;
      }
      ref = { seconds: median(rs), accuracy: ra };
    }
    console.log(
      `  probe ${name}, ${L} x ${per} x ${d}, 5 folds: lsar ${median(times).toFixed(2)} s, accuracy ${acc.toFixed(4)}${ref ? `; scikit-learn ${ref.seconds.toFixed(2)} s, accuracy ${ref.accuracy.toFixed(4)}   ratio ${ratio(median(times), ref.seconds)}, accuracy difference ${(100 * Math.abs(acc - ref.accuracy)).toFixed(2)} points` : ''}`,
    );
    rows.push({
      stage: `inspect probe ${name} ${L} x ${per} x ${d}`,
      lsar: median(times),
      ...(ref ? { reference: ref.seconds } : {}),
      unit: 's',
    });
  }
}
