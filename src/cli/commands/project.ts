import type { Argv } from 'yargs';
import { loadProjection } from '../../io/artifact.js';
import { projectStream } from '../../pipeline/project.js';
import type { CliIO } from '../io.js';
import { Progress } from '../io.js';

export const command = 'project';
export const describe = 'Apply a fitted projection to embeddings (.npy or JSON Lines), streaming';

export function builder(y: Argv): Argv {
  return y
    .option('projection', { alias: 'p', type: 'string', demandOption: true, describe: 'projection.json from lsar fit (or its directory)' })
    .option('in', { type: 'string', default: '-', describe: 'Input: .npy, .jsonl, or - for JSON Lines on stdin' })
    .option('out', {
      type: 'string',
      default: '-',
      describe: 'Output: .npy, .jsonl, or - for JSON Lines on stdout (files are written atomically)',
    })
    .option('lang', { alias: 'l', type: 'string', describe: "The input's language: required for lir and demean, ignored by lsar and none" })
    .option('normalize', { type: 'boolean', default: false, describe: 'L2-normalise each output row' })
    .option('dtype', {
      type: 'string',
      choices: ['float32', 'float64'],
      describe: '.npy output dtype (default: float64 for float64 input, else float32)',
    })
    .option('json', { type: 'boolean', default: false, describe: 'Print a JSON summary on stdout (only when --out is a file)' })
    .option('quiet', { alias: 'q', type: 'boolean', default: false, describe: 'No progress on stderr' })
    .example('$0 project -p proj.json --in de.npy --out de.lsar.npy', 'language-agnostic projection')
    .example('cat q.jsonl | $0 project -p lir.json --lang de > q.lir.jsonl', 'JSON Lines pipeline step');
}

export async function handler(argv: Record<string, unknown>, io: CliIO): Promise<void> {
  const projection = await loadProjection(String(argv.projection));
  const progress = new Progress(io.stderr, argv.quiet === true);
  const summary = await projectStream(projection, {
    input: String(argv.in),
    output: String(argv.out),
    ...(argv.lang !== undefined ? { lang: String(argv.lang) } : {}),
    normalize: argv.normalize === true,
    ...(argv.dtype !== undefined ? { dtype: argv.dtype as 'float32' | 'float64' } : {}),
    stdin: io.stdin,
    stdout: io.stdout,
    onProgress: (done, total) => progress.update(`project: ${progress.rate(done, total, 'rows')}`),
  });
  progress.done();
  if (argv.out !== '-') {
    if (argv.json === true) io.stdout.write(JSON.stringify({ method: projection.method, ...summary }) + '\n');
    else if (argv.quiet !== true) io.stderr.write(`projected ${summary.rows} rows (${projection.method}) -> ${summary.output}\n`);
  }
}
