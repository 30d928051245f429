import type { Argv } from 'yargs';
import { createError } from '../../core/errors.js';
import { embedCorpora } from '../../pipeline/embed.js';
import { DEFAULT_MODEL } from '../../adapters/transformers.js';
import type { CliIO } from '../io.js';
import { Progress } from '../io.js';
import { intOption, stringList } from '../options.js';

export const command = 'embed';
export const describe = 'Embed per-language corpora (one sentence per line) with a transformers.js model';

/** Options shared by `embed` and `fit --corpora`. */
export function modelOptions(y: Argv): Argv {
  return y
    .option('model', {
      type: 'string',
      describe: `Hub id or a local model directory (config.json, tokenizer.json, onnx/model.onnx); embed and fit --corpora default to ${DEFAULT_MODEL}`,
    })
    .option('cache-dir', {
      type: 'string',
      describe: 'Where Hub downloads are cached (default $HF_HOME/transformers.js or ~/.cache/huggingface/transformers.js)',
    })
    .option('offline', { type: 'boolean', default: false, describe: 'Never download: use the cache or a local directory only' })
    .option('revision', { type: 'string', describe: 'Hub revision (branch, tag or commit)' })
    .option('dtype', {
      type: 'string',
      choices: ['fp32', 'fp16', 'q8'],
      default: 'fp32',
      describe: 'Model weights to load, where the model has them (onnx/model.onnx, model_fp16.onnx, model_quantized.onnx)',
    })
    .option('pooling', {
      type: 'string',
      choices: ['mean', 'cls'],
      default: 'mean',
      describe: 'mean: attention-mask-aware mean of token states (special tokens included, as in the paper); cls: the first token',
    })
    .option('exclude-special', { type: 'boolean', default: false, describe: 'mean pooling without special tokens ([CLS], [SEP])' })
    .option('layer', {
      type: 'string',
      describe: 'Pool hidden_states.<N> instead of the last layer (needs an export with per-layer outputs; the paper uses 8 for mBERT)',
    })
    .option('normalize', { type: 'boolean', default: false, describe: 'L2-normalise each sentence vector' })
    .option('max-length', {
      type: 'string',
      describe: "Truncate to this many tokens (default: the model's maximum); truncations are counted",
    })
    .option('batch-size', { type: 'string', default: '32', describe: 'Sentences per forward pass' })
    .group(
      [
        'model',
        'cache-dir',
        'offline',
        'revision',
        'dtype',
        'pooling',
        'exclude-special',
        'layer',
        'normalize',
        'max-length',
        'batch-size',
      ],
      'Model and embedding:',
    );
}

export function embedArgs(argv: Record<string, unknown>) {
  const str = (k: string) => (argv[k] === undefined ? undefined : String(argv[k]));
  return {
    model: str('model') ?? DEFAULT_MODEL,
    ...(str('cache-dir') ? { cacheDir: str('cache-dir') as string } : {}),
    offline: argv.offline === true,
    ...(str('revision') ? { revision: str('revision') as string } : {}),
    dtype: argv.dtype as 'fp32' | 'fp16' | 'q8',
    pooling: argv.pooling as 'mean' | 'cls',
    excludeSpecial: argv['exclude-special'] === true,
    ...(argv.layer !== undefined ? { layer: intOption('layer', argv.layer) as number } : {}),
    normalize: argv.normalize === true,
    ...(argv['max-length'] !== undefined ? { maxLength: intOption('max-length', argv['max-length']) as number } : {}),
    batchSize: intOption('batch-size', argv['batch-size']) as number,
  };
}

export function builder(y: Argv): Argv {
  return modelOptions(y.group(['corpora', 'input', 'out', 'force', 'quiet', 'json'], 'Options:'))
    .option('corpora', { alias: 'c', type: 'string', describe: 'Directory of <lang>.txt files (one sentence per line)' })
    .option('input', { alias: 'i', type: 'string', array: true, describe: 'A corpus as <lang>=<file.txt>; repeatable' })
    .option('out', { alias: 'o', type: 'string', demandOption: true, describe: 'Output directory: <lang>.npy and manifest.json' })
    .option('force', { type: 'boolean', default: false, describe: 'Re-embed languages whose output is already current' })
    .option('quiet', { alias: 'q', type: 'boolean', default: false, describe: 'No progress on stderr' })
    .option('json', { type: 'boolean', default: false, describe: 'Print the manifest as JSON on stdout' })
    .example('$0 embed --corpora corpora --model Xenova/paraphrase-multilingual-MiniLM-L12-v2 --out emb/', 'embed the bundled corpora')
    .example('$0 embed -i de=de.txt --model ./models/mbert --layer 8 --offline --out emb/', 'a local model, layer 8');
}

export async function handler(argv: Record<string, unknown>, io: CliIO): Promise<void> {
  const inputs = stringList(argv.input);
  if (argv.corpora === undefined && inputs.length === 0)
    throw createError('USAGE', 'lsar embed needs --corpora <dir> or --input <lang>=<file.txt>');
  const progress = new Progress(io.stderr, argv.quiet === true);
  const manifest = await embedCorpora({
    ...embedArgs(argv),
    ...(argv.corpora !== undefined ? { corpora: String(argv.corpora) } : { inputs }),
    out: String(argv.out),
    force: argv.force === true,
    onProgress: (p) => progress.update(`embed ${p.lang}: ${progress.rate(p.done, p.total, 'sentences', p.lang)}`),
    onLanguage: (p) =>
      progress.update(
        `${p.lang}: ${p.skipped ? 'up to date, skipped' : `${p.rows} rows`}${p.truncated ? `, ${p.truncated} truncated` : ''}`,
        true,
      ),
  });
  progress.done();
  if (argv.json === true) io.stdout.write(JSON.stringify(manifest, null, 1) + '\n');
  else io.stdout.write(`embedded ${Object.keys(manifest.languages).length} languages with ${manifest.model.id} into ${String(argv.out)}\n`);
}
