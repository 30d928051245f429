import { createError } from '../../core/errors.js';
import { EMBEDDING_EXTS, filesWithLanguageColumn, listLanguageFiles, parseLanguageAssignment } from '../../io/inputs.js';
import { writeStats } from '../../pipeline/stats.js';
import { defineCommand } from '../command.js';
import { columnArgs, withColumnOptions } from '../options.js';
import { Progress } from '../progress.js';

export const statsCommand = defineCommand({
  command: 'stats [dir]',
  describe: 'Per-language row counts and sums of one shard of the data, to fit over shards with lsar fit --stats',
  builder: (y) =>
    withColumnOptions(y)
      .positional('dir', {
        type: 'string',
        describe: 'Directory of <lang>.npy or <lang>.parquet files (this shard); with --lang-column, a Parquet file or a directory of them',
      })
      .option('input', {
        alias: 'i',
        type: 'string',
        array: true,
        describe: 'A language file as <lang>=<file.npy>; repeatable (instead of dir)',
      })
      .option('gram', { type: 'boolean', default: false, describe: 'Also X^T X per language (d x d): needed to fit lir' })
      .option('out', { alias: 'o', type: 'string', demandOption: true, describe: 'Output: shard.stats.json (written atomically)' })
      .option('quiet', { alias: 'q', type: 'boolean', default: false, describe: 'No progress on stderr' })
      .example('$0 stats shard-03/ --out stats/shard-03.json', 'one shard of a job array')
      .example('$0 fit --stats stats/*.json --out proj.json', 'then fit on all shards'),
  async run(a, io) {
    const inputs = a.input ?? [];
    if ((a.dir === undefined) === (inputs.length === 0))
      throw createError('USAGE', 'lsar stats needs a directory of <lang>.npy files or --input <lang>=<file> (one of them)');
    const progress = new Progress(io.stderr, a.quiet);
    const files =
      a.langColumn !== undefined
        ? a.dir !== undefined
          ? await filesWithLanguageColumn(a.dir)
          : inputs.map((path) => ({ lang: '', path }))
        : a.dir !== undefined
          ? await listLanguageFiles(a.dir, EMBEDDING_EXTS)
          : inputs.map(parseLanguageAssignment);
    const stats = await writeStats(files, a.out, {
      gram: a.gram,
      ...columnArgs(a),
      onProgress: (lang) => progress.update(`stats ${lang}`, true),
    });
    progress.done();
    if (!a.quiet)
      io.stderr.write(
        `${stats.languages.length} languages, ${stats.languages.reduce((n, l) => n + l.rows, 0)} rows, dim ${stats.dim} -> ${a.out}\n`,
      );
  },
});
