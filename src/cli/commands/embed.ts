import { createError } from '../../core/errors.js';
import { embedCorpora } from '../../pipeline/embed.js';
import { defineCommand } from '../command.js';
import { modelArgs, withModelOptions } from '../options.js';
import { Progress } from '../progress.js';

export const embedCommand = defineCommand({
  command: 'embed',
  describe: 'Embed per-language corpora (one sentence per line) with a transformers.js model',
  builder: (y) =>
    withModelOptions(y.group(['corpora', 'input', 'out', 'force', 'quiet', 'json'], 'Options:'))
      .option('corpora', { alias: 'c', type: 'string', describe: 'Directory of <lang>.txt files (one sentence per line)' })
      .option('input', { alias: 'i', type: 'string', array: true, describe: 'A corpus as <lang>=<file.txt>; repeatable' })
      .option('out', { alias: 'o', type: 'string', demandOption: true, describe: 'Output directory: <lang>.npy and manifest.json' })
      .option('force', { type: 'boolean', default: false, describe: 'Re-embed languages whose output is already current' })
      .option('quiet', { alias: 'q', type: 'boolean', default: false, describe: 'No progress on stderr' })
      .option('json', { type: 'boolean', default: false, describe: 'Print the manifest as JSON on stdout' })
      .example('$0 embed --corpora corpora --model Xenova/paraphrase-multilingual-MiniLM-L12-v2 --out emb/', 'embed the bundled corpora')
      .example('$0 embed -i de=de.txt --model ./models/mbert --layer 8 --offline --out emb/', 'a local model, layer 8'),
  async run(a, io) {
    const inputs = a.input ?? [];
    if (a.corpora === undefined && inputs.length === 0)
      throw createError('USAGE', 'lsar embed needs --corpora <dir> or --input <lang>=<file.txt>');
    const progress = new Progress(io.stderr, a.quiet);
    const manifest = await embedCorpora({
      ...modelArgs(a),
      ...(a.corpora !== undefined ? { corpora: a.corpora } : { inputs }),
      out: a.out,
      force: a.force,
      onProgress: (p) => progress.update(`embed ${p.lang}: ${progress.rate(p.done, p.total, 'sentences', p.lang)}`),
      onLanguage: (p) =>
        progress.update(
          `${p.lang}: ${p.skipped ? 'up to date, skipped' : `${p.rows} rows`}${p.truncated ? `, ${p.truncated} truncated` : ''}${p.padding !== undefined ? `, padding ${(100 * p.padding).toFixed(0)}%` : ''}`,
          true,
        ),
    });
    progress.done();
    if (manifest.model.note && !a.quiet) io.stderr.write(`lsar: warning: ${manifest.model.id}: ${manifest.model.note}\n`);
    if (a.json) io.stdout.write(JSON.stringify(manifest, null, 1) + '\n');
    else io.stdout.write(`embedded ${Object.keys(manifest.languages).length} languages with ${manifest.model.id} into ${a.out}\n`);
  },
});
