import { join } from 'node:path';
import { ensureParentDir } from '../../io/atomic.js';
import { createError } from '../../core/errors.js';
import { DEFAULT_INSPECT_METHODS, inspect, type InspectResult } from '../../pipeline/inspect.js';
import { writeInspectReport } from '../../pipeline/report/inspect.js';
import { formatInspect } from '../../pipeline/report/table.js';
import { defineCommand } from '../command.js';
import { intList, listOf, numberOption } from '../options.js';
import { Progress } from '../progress.js';

export const inspectCommand = defineCommand({
  command: 'inspect [inputs..]',
  describe: 'How much of the embeddings is language identity, before and after each method; the rank to remove; 2-D maps',
  builder: (y) =>
    y
      .group(
        [
          'projection',
          'methods',
          'rank',
          'dims',
          'sample',
          'map-sample',
          'folds',
          'probe-c',
          'seed',
          'threshold',
          'report',
          'json',
          'quiet',
        ],
        'Options:',
      )
      .group(['eval', 'data', 'embeddings', 'queries', 'targets', 'langs'], 'Rank from a retrieval sweep:')
      .positional('inputs', {
        type: 'string',
        array: true,
        describe:
          'Per-language monolingual embeddings: a directory of <lang>.npy (.parquet, .jsonl) files, or the files (<lang>.npy or <lang>=<file>); the fit data or a held-out part of it',
      })
      .option('projection', {
        alias: 'p',
        type: 'string',
        array: true,
        describe: 'A saved projection (lsar fit --out) to inspect as well; repeatable',
      })
      .option('methods', {
        type: 'string',
        default: DEFAULT_INSPECT_METHODS.join(','),
        describe: 'Comma-separated methods fitted on the inputs: none, demean, lir, lsar, abtt, whiten',
      })
      .option('rank', {
        type: 'string',
        describe: 'lsar rank(s), comma-separated (default L-1); with --eval, the ranks swept (default 1..L-1)',
      })
      .option(
        'sample',
        numberOption('sample', {
          describe: 'Rows per language (seeded sample) for the probe, centroids and variance share',
          min: 2,
          default: 200,
        }),
      )
      .option('map-sample', numberOption('map-sample', { describe: 'Rows per language on the 2-D maps', min: 1, default: 60 }))
      .option('folds', numberOption('folds', { describe: 'Cross-validation folds of the probe (stratified)', min: 2, max: 50, default: 5 }))
      .option(
        'probe-c',
        numberOption('probe-c', {
          describe: "Inverse L2 strength of the probe, as scikit-learn's C",
          integer: false,
          min: 1e-12,
          default: 1,
        }),
      )
      .option('seed', numberOption('seed', { describe: 'Seed of the samples and folds', min: 0, default: 0 }))
      .option(
        'dims',
        numberOption('dims', { describe: 'whiten: keep the top k eigenvectors (default: every dimension that can be whitened)', min: 1 }),
      )
      .option(
        'threshold',
        numberOption('threshold', {
          describe: 'Share of between-language variance the recommended rank keeps',
          integer: false,
          min: 0,
          max: 1,
          default: 0.9,
        }),
      )
      .option('eval', {
        choices: ['tatoeba', 'lareqa', 'pairs'] as const,
        describe: 'Sweep the lsar rank with lsar retrieve <task> on these data: the recommendation is then the best rank',
      })
      .option('data', { type: 'string', describe: '--eval tatoeba/lareqa: the data directory (as lsar retrieve --data)' })
      .option('embeddings', { alias: 'e', type: 'string', describe: '--eval: evaluation embeddings (as lsar retrieve --embeddings)' })
      .option('queries', { type: 'string', describe: '--eval pairs: query embeddings' })
      .option('targets', { type: 'string', describe: '--eval pairs: target embeddings' })
      .option('langs', { type: 'string', describe: '--eval: comma-separated languages to evaluate' })
      .option('report', {
        type: 'string',
        describe: 'Write report.md (with SVG plots) and a self-contained interactive report.html into this directory',
      })
      .option('json', {
        type: 'boolean',
        default: false,
        describe:
          'Print {"results": {<method>: {probe_accuracy, centroid_accuracy, between_share}}, "spectrum", "recommended_rank", "manifest"} on stdout',
      })
      .option('quiet', { alias: 'q', type: 'boolean', default: false, describe: 'No progress on stderr' })
      .example('$0 inspect emb/', 'language identity before and after none, demean, lsar, abtt and whiten')
      .example('$0 inspect emb/ -p proj.json --methods none --report insp/', 'a saved projection, with an HTML report')
      .example(
        '$0 inspect emb/mono --eval tatoeba --data ../shared/data/tatoeba --embeddings emb/tatoeba',
        'recommend the rank that retrieves best',
      ),
  async run(a, io) {
    const inputs = a.inputs ?? [];
    if (inputs.length === 0)
      throw createError('USAGE', 'lsar inspect needs a directory of <lang>.npy files or the files (see lsar inspect --help)');
    const evalArgs = ['data', 'embeddings', 'queries', 'targets', 'langs'] as const;
    if (a.eval === undefined) {
      const given = evalArgs.filter((k) => a[k] !== undefined);
      if (given.length) throw createError('USAGE', `--${given[0]} applies only with --eval <task>`);
    }
    // a report directory that cannot be made fails before the work, not after it
    if (a.report !== undefined) await ensureParentDir(join(a.report, 'report.md'));
    const progress = new Progress(io.stderr, a.quiet, 2000);
    const ranks = intList('rank', a.rank, { min: 1 });
    const result = await inspect({
      inputs,
      methods: listOf(a.methods),
      ...(ranks ? { ranks } : {}),
      ...(a.projection?.length ? { projections: a.projection } : {}),
      sample: a.sample ?? 200,
      mapSample: a.mapSample ?? 60,
      folds: a.folds ?? 5,
      probeC: a.probeC ?? 1,
      seed: a.seed ?? 0,
      threshold: a.threshold ?? 0.9,
      ...(a.dims !== undefined ? { dims: a.dims } : {}),
      ...(a.eval !== undefined
        ? {
            evaluate: {
              task: a.eval,
              ...(a.data !== undefined ? { data: a.data } : {}),
              ...(a.embeddings !== undefined ? { embeddings: a.embeddings } : {}),
              ...(a.queries !== undefined ? { queries: a.queries } : {}),
              ...(a.targets !== undefined ? { targets: a.targets } : {}),
              ...(a.langs !== undefined ? { langs: listOf(a.langs) } : {}),
            },
          }
        : {}),
      onProgress: (m) => progress.update(m),
    });
    progress.done();
    if (!a.quiet) for (const w of result.warnings) io.stderr.write(`lsar: warning: ${w}\n`);
    if (a.report !== undefined) {
      const paths = await writeInspectReport(a.report, result);
      if (!a.quiet) io.stderr.write(`wrote ${paths.join(', ')}\n`);
    }
    io.stdout.write(a.json ? JSON.stringify(jsonOf(result), null, 1) + '\n' : formatInspect(result));
  },
});

/** The --json shape: everything but the map coordinates (they are in the report). */
function jsonOf(r: InspectResult): Omit<InspectResult, 'maps'> {
  return Object.fromEntries(Object.entries(r).filter(([k]) => k !== 'maps')) as Omit<InspectResult, 'maps'>;
}
