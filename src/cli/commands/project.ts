import { createError } from '../../core/errors.js';
import { loadProjection } from '../../io/artifact.js';
import { isEmbeddingFile } from '../../io/embeddings.js';
import { projectFiles, projectStream, type ProjectSummary } from '../../pipeline/project.js';
import { defineCommand } from '../command.js';
import { columnArgs, withColumnOptions } from '../options.js';
import { Progress } from '../progress.js';
import { stat } from 'node:fs/promises';

export const projectCommand = defineCommand({
  command: 'project',
  describe: 'Apply a fitted projection to embeddings (.npy, .parquet or JSON Lines), streaming',
  builder: (y) =>
    withColumnOptions(y)
      .option('projection', {
        alias: 'p',
        type: 'string',
        demandOption: true,
        describe: 'projection.json from lsar fit (or its directory, or a .safetensors export)',
      })
      .option('in', {
        type: 'string',
        array: true,
        default: ['-'],
        describe:
          'Input: .npy, .parquet, .jsonl, or - for JSON Lines on stdin. Repeat it, or give a directory, to project many files in one process (then --out is a directory)',
      })
      .option('out', {
        type: 'string',
        default: '-',
        describe:
          'Output: .npy, .parquet, .jsonl, or - for JSON Lines on stdout; a directory for several inputs (files are written atomically)',
      })
      .option('lang', {
        alias: 'l',
        type: 'string',
        describe:
          "The input's language: required for lir and demean (with several inputs, taken from each file's name: de.npy), ignored by lsar and none",
      })
      .option('as', {
        type: 'string',
        describe:
          'Parquet output: the name of the projected column (default: replace the embedding column; a new name keeps the original beside it)',
      })
      .option('normalize', { type: 'boolean', default: false, describe: 'L2-normalise each output row' })
      .option('dtype', {
        choices: ['float32', 'float64'] as const,
        describe: 'Output dtype (default: float64 for float64 input, else float32)',
      })
      .option('json', {
        type: 'boolean',
        default: false,
        describe: 'Print a JSON summary on stdout (only when --out is a file or directory)',
      })
      .option('quiet', { alias: 'q', type: 'boolean', default: false, describe: 'No progress on stderr' })
      .example('$0 project -p proj.json --in de.npy --out de.lsar.npy', 'language-agnostic projection')
      .example(
        '$0 project -p proj.json --in part-0.parquet --out part-0.lsar.parquet --as embedding_lsar',
        'Parquet: other columns kept, new column added',
      )
      .example('$0 project -p proj.json --in shards/ --out projected/', 'every file of a directory, in one process')
      .example('cat q.jsonl | $0 project -p lir.json --lang de > q.lir.jsonl', 'JSON Lines pipeline step'),
  async run(a, io) {
    const inputs = a.in.map(String);
    const projection = await loadProjection(a.projection);
    const progress = new Progress(io.stderr, a.quiet);
    const common = {
      ...(a.lang !== undefined ? { lang: a.lang } : {}),
      ...columnArgs(a),
      ...(a.as !== undefined ? { as: a.as } : {}),
      normalize: a.normalize,
      ...(a.dtype !== undefined ? { dtype: a.dtype } : {}),
    };
    const many = inputs.length > 1 || (inputs[0] !== '-' && (await isDirectory(inputs[0] as string)));
    if (many) {
      if (inputs.includes('-')) throw createError('USAGE', '--in -: stdin cannot be combined with other inputs', { params: ['in'] });
      if (a.out === '-') throw createError('USAGE', '--out: several inputs need an output directory (--out dir/)', { params: ['out'] });
      if (isEmbeddingFile(a.out)) {
        throw createError('USAGE', `--out ${a.out}: several inputs need an output directory, not a file`, { params: ['out'] });
      }
      let label = '';
      const summaries: ProjectSummary[] = await projectFiles(projection, {
        ...common,
        inputs,
        outDir: a.out,
        onFile: (input, _o, k, n) => (label = `project ${k + 1}/${n} ${input}`),
        onProgress: (done, total) => progress.update(`${label}: ${progress.rate(done, total, 'rows')}`),
      });
      progress.done();
      const rows = summaries.reduce((s, x) => s + x.rows, 0);
      if (a.json) io.stdout.write(JSON.stringify({ method: projection.method, files: summaries.length, rows, outputs: summaries }) + '\n');
      else if (!a.quiet) io.stderr.write(`projected ${rows} rows in ${summaries.length} files (${projection.method}) -> ${a.out}\n`);
      return;
    }
    const summary = await projectStream(projection, {
      ...common,
      input: inputs[0] as string,
      output: a.out,
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

async function isDirectory(path: string): Promise<boolean> {
  try {
    return (await stat(path)).isDirectory();
  } catch {
    return false;
  }
}
