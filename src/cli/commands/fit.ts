import { createError } from '../../core/errors.js';
import { parseMethod } from '../../core/projection.js';
import { fitToArtifact } from '../../pipeline/fit-artifact.js';
import { defineCommand } from '../command.js';
import { columnArgs, modelArgs, numberOption, withColumnOptions, withModelOptions } from '../options.js';
import { Progress } from '../progress.js';

export const fitCommand = defineCommand({
  command: 'fit [dir]',
  describe: 'Estimate the language subspace (or a baseline) from per-language embeddings',
  builder: (y) =>
    withColumnOptions(
      withModelOptions(
        y.group(['input', 'stats', 'method', 'rank', 'remove', 'dims', 'out', 'json', 'quiet', 'corpora', 'embed-dir'], 'Options:'),
      ),
    )
      .positional('dir', {
        type: 'string',
        describe:
          'Directory of <lang>.npy or <lang>.parquet files (language = file stem, ISO 639-1 or 639-3); with --lang-column, a Parquet file or a directory of them',
      })
      .option('corpora', {
        alias: 'c',
        type: 'string',
        describe: 'Embed this directory of <lang>.txt corpora with --model first, then fit (embeddings are kept and reused)',
      })
      .option('embed-dir', {
        type: 'string',
        describe: 'With --corpora: the embedding cache (default .lsar-cache, or $LSAR_CACHE_DIR); embeddings go in <dir>/corpora',
      })
      .option('stats', {
        type: 'string',
        array: true,
        describe: 'Shard statistics (lsar stats) to merge and fit on, instead of the data: the same projection as fitting all rows at once',
      })
      .option('input', {
        alias: 'i',
        type: 'string',
        array: true,
        describe:
          'A language file as <lang>=<file.npy|.parquet>; repeat for each language (instead of dir); with --lang-column, just files',
      })
      .option('method', {
        alias: 'm',
        type: 'string',
        default: 'lsar',
        coerce: parseMethod,
        describe:
          'lsar (language-agnostic), abtt (all-but-the-top: pooled mean and top principal components removed), whiten (BERT-whitening: pooled mean removed, covariance made the identity), lir or demean (need the language when applied), none (identity)',
      })
      .option('rank', numberOption('rank', { describe: 'lsar: rank K of the language subspace, 1..L-1 (default L-1)' }))
      .option(
        'remove',
        numberOption('remove', {
          alias: 'r',
          describe:
            'lsar: directions removed, 1..K (default K); lir: directions removed per language (default 1); abtt: principal components removed (default d/100)',
        }),
      )
      .option(
        'dims',
        numberOption('dims', { describe: 'whiten: keep the top k eigenvectors, so outputs have k dimensions, 1..d (default d)' }),
      )
      .option('out', {
        alias: 'o',
        type: 'string',
        demandOption: true,
        describe: 'Output: projection.json (with .npy sidecars) or a directory',
      })
      .option('json', { type: 'boolean', default: false, describe: 'Print a JSON summary on stdout' })
      .option('quiet', { alias: 'q', type: 'boolean', default: false, describe: 'No progress on stderr' })
      .example('$0 fit emb/ --out proj.json', 'LSAR with rank L-1 from emb/<lang>.npy')
      .example('$0 fit -i en=en.npy -i de=de.npy -i fr=fr.npy --rank 1 --out proj.json', 'explicit files')
      .example('$0 fit emb/ --method lir --remove 2 --out lir/', 'LIR baseline, artifact in lir/')
      .example('$0 fit train.parquet --lang-column lang --out proj.json', 'one Parquet file holding every language')
      .example(
        '$0 fit --corpora corpora --model Xenova/paraphrase-multilingual-MiniLM-L12-v2 --out out/projection.json',
        'embed the bundled corpora, then fit',
      ),
  async run(a, io) {
    const inputs = a.input ?? [];
    const stats = a.stats ?? [];
    if (a.dir === undefined && inputs.length === 0 && a.corpora === undefined && stats.length === 0) {
      throw createError(
        'USAGE',
        'lsar fit needs a directory of <lang>.npy files, --input <lang>=<file>, --corpora <dir> with --model, or --stats <shard.stats.json...> (see lsar fit --help)',
      );
    }
    if ([a.dir !== undefined, inputs.length > 0, a.corpora !== undefined, stats.length > 0].filter(Boolean).length > 1) {
      throw createError('USAGE', 'give one of: a directory, --input files, --corpora, --stats');
    }
    const progress = new Progress(io.stderr, a.quiet);
    const result = await fitToArtifact({
      ...(a.corpora !== undefined
        ? {
            corpora: a.corpora,
            embed: modelArgs(a),
            ...(a.embedDir !== undefined ? { embedDir: a.embedDir } : {}),
            onEmbedProgress: (p) => progress.update(`embed ${p.lang}: ${progress.rate(p.done, p.total, 'sentences', p.lang)}`),
            onEmbedLanguage: (p) => progress.update(`embed ${p.lang}: ${p.skipped ? 'up to date, skipped' : `${p.rows} rows`}`, true),
          }
        : a.dir !== undefined
          ? { dir: a.dir }
          : stats.length > 0
            ? { stats }
            : { inputs }),
      method: a.method,
      rank: a.rank,
      remove: a.remove,
      dims: a.dims,
      out: a.out,
      ...columnArgs(a),
      onProgress: (p) => progress.update(`fit ${p.lang}: ${progress.rate(p.rowsDone, p.rowsTotal, 'rows', p.lang)}`),
    });
    progress.done();
    if (!a.quiet) for (const w of result.summary.warnings) io.stderr.write(`lsar: warning: ${w}\n`);
    const { projection: p } = result;
    if (a.json) {
      io.stdout.write(JSON.stringify(result.summary, null, 1) + '\n');
    } else {
      const langs = p.languages.map((l) => `${l.lang}(${l.rows})`).join(' ');
      const params =
        p.method === 'lsar'
          ? `, rank ${p.rank}, remove ${p.remove}`
          : p.method === 'lir' || p.method === 'abtt'
            ? `, remove ${p.remove}`
            : p.method === 'whiten'
              ? `, dims ${p.dims}`
              : '';
      io.stdout.write(`fitted ${p.method}${params} on ${p.languages.length} languages, dim ${p.dim}: ${langs}\n`);
      if (result.summary.embeddings) io.stdout.write(`embeddings kept in ${result.summary.embeddings}\n`);
      io.stdout.write(`wrote ${result.path}\n`);
    }
  },
});
