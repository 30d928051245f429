import { loadProjection } from '../../io/artifact.js';
import { projectStream } from '../../pipeline/project.js';
import { defineCommand } from '../command.js';
import { Progress } from '../progress.js';

export const projectCommand = defineCommand({
  command: 'project',
  describe: 'Apply a fitted projection to embeddings (.npy or JSON Lines), streaming',
  builder: (y) =>
    y
      .option('projection', {
        alias: 'p',
        type: 'string',
        demandOption: true,
        describe: 'projection.json from lsar fit (or its directory)',
      })
      .option('in', { type: 'string', default: '-', describe: 'Input: .npy, .jsonl, or - for JSON Lines on stdin' })
      .option('out', {
        type: 'string',
        default: '-',
        describe: 'Output: .npy, .jsonl, or - for JSON Lines on stdout (files are written atomically)',
      })
      .option('lang', {
        alias: 'l',
        type: 'string',
        describe: "The input's language: required for lir and demean, ignored by lsar and none",
      })
      .option('normalize', { type: 'boolean', default: false, describe: 'L2-normalise each output row' })
      .option('dtype', {
        choices: ['float32', 'float64'] as const,
        describe: '.npy output dtype (default: float64 for float64 input, else float32)',
      })
      .option('json', { type: 'boolean', default: false, describe: 'Print a JSON summary on stdout (only when --out is a file)' })
      .option('quiet', { alias: 'q', type: 'boolean', default: false, describe: 'No progress on stderr' })
      .example('$0 project -p proj.json --in de.npy --out de.lsar.npy', 'language-agnostic projection')
      .example('cat q.jsonl | $0 project -p lir.json --lang de > q.lir.jsonl', 'JSON Lines pipeline step'),
  async run(a, io) {
    const projection = await loadProjection(a.projection);
    const progress = new Progress(io.stderr, a.quiet);
    const summary = await projectStream(projection, {
      input: a.in,
      output: a.out,
      ...(a.lang !== undefined ? { lang: a.lang } : {}),
      normalize: a.normalize,
      ...(a.dtype !== undefined ? { dtype: a.dtype } : {}),
      stdin: io.stdin,
      stdout: io.stdout,
      onProgress: (done, total) => progress.update(`project: ${progress.rate(done, total, 'rows')}`),
    });
    progress.done();
    if (a.out !== '-') {
      if (a.json) io.stdout.write(JSON.stringify({ method: projection.method, ...summary }) + '\n');
      else if (!a.quiet) io.stderr.write(`projected ${summary.rows} rows (${projection.method}) -> ${summary.output}\n`);
    }
  },
});
