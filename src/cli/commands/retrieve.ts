import type { Argv } from 'yargs';
import { createError } from '../../core/errors.js';
import { formatResult } from '../../pipeline/format.js';
import { writeReport } from '../../pipeline/report.js';
import { retrieve, type Task } from '../../pipeline/retrieve.js';
import type { CliIO } from '../io.js';
import { Progress } from '../io.js';
import { hnswArgs, intOption, searchOptions, stringList } from '../options.js';
import { embedArgs, modelOptions } from './embed.js';

export const command = 'retrieve <task>';
export const describe = 'Evaluate cross-lingual retrieval (tatoeba, lareqa, pairs), methods side by side';

function intList(name: string, v: unknown): number[] | undefined {
  if (v === undefined) return undefined;
  return stringList(v)
    .flatMap((s) => s.split(','))
    .filter((s) => s !== '')
    .map((s) => intOption(name, s) as number);
}

export function builder(y: Argv): Argv {
  return searchOptions(
    modelOptions(
      y.group(
        [
          'data',
          'embeddings',
          'queries',
          'targets',
          'query-lang',
          'target-lang',
          'langs',
          'methods',
          'rank',
          'remove',
          'fit-embeddings',
          'projection',
          'direction',
          'xsim',
          'similarity',
          'recall-sample',
          'json',
          'report',
          'quiet',
          'corpora',
          'embed-dir',
        ],
        'Options:',
      ),
    ),
  )
    .option('corpora', { type: 'string', describe: 'With --model: embed this directory of <lang>.txt corpora and fit the methods on it' })
    .option('embed-dir', { type: 'string', describe: 'With --model: where embeddings are kept and reused (default .lsar-cache)' })
    .positional('task', {
      choices: ['tatoeba', 'lareqa', 'pairs'],
      describe: 'tatoeba: LASER Tatoeba v1, accuracy@1; lareqa: XQuAD-R, mAP and mAP@20; pairs: aligned embeddings, accuracy@1',
    })
    .option('data', {
      type: 'string',
      describe: 'tatoeba: directory of tatoeba.<xxx>-eng.* files; lareqa: directory of XQuAD-R <lang>.json',
    })
    .option('embeddings', {
      alias: 'e',
      type: 'string',
      describe:
        'Embeddings of the evaluation data: <lang>.npy + <lang>.en.npy (tatoeba, pairs), <lang>.questions.npy + <lang>.candidates.npy (lareqa)',
    })
    .option('queries', {
      type: 'string',
      describe: 'pairs: query embeddings (.npy), or texts (.txt) with --model; row i translates row i of --targets',
    })
    .option('targets', { type: 'string', describe: 'pairs: target embeddings (.npy), or texts (.txt) with --model' })
    .option('query-lang', { type: 'string', describe: 'pairs: language of --queries (needed by lir and demean)' })
    .option('target-lang', { type: 'string', describe: 'pairs: language of --targets (needed by lir and demean)' })
    .option('langs', {
      type: 'string',
      describe: 'Comma-separated languages to evaluate (default: tatoeba the 36 XTREME languages present; otherwise all)',
    })
    .option('methods', { type: 'string', default: 'none,lsar', describe: 'Comma-separated methods: none, demean, lir, lsar' })
    .option('rank', { alias: 'k', type: 'string', describe: 'lsar rank(s), comma-separated to sweep (default L-1)' })
    .option('remove', {
      alias: 'r',
      type: 'string',
      describe: 'Directions removed: lsar (default = rank) and lir (default 1); comma-separated to sweep',
    })
    .option('fit-embeddings', {
      type: 'string',
      describe: 'Directory of <lang>.npy monolingual embeddings to fit the methods on (never the evaluation data)',
    })
    .option('projection', {
      alias: 'p',
      type: 'string',
      array: true,
      describe: 'A saved projection (lsar fit --out) to evaluate as well; repeatable',
    })
    .option('direction', {
      type: 'string',
      choices: ['en-xx', 'xx-en', 'both'],
      default: 'en-xx',
      describe: 'tatoeba: English queries the foreign side (en-xx, the paper and XTREME), the reverse, or both',
    })
    .option('xsim', { type: 'boolean', default: false, describe: "tatoeba: also report LASER's xSIM error rate (ratio margin, k=4)" })
    .option('similarity', {
      type: 'string',
      choices: ['cosine', 'dot'],
      default: 'dot',
      describe: 'lareqa: score candidates by raw dot product (default, as the LSAR and LIR code) or by cosine',
    })
    .option('recall-sample', {
      type: 'string',
      describe: 'Queries per language on which HNSW recall is measured against exact search (default 200)',
    })
    .option('json', { type: 'boolean', default: false, describe: 'Print the results as JSON on stdout instead of a table' })
    .option('report', { type: 'string', describe: 'Write a Markdown report with SVG plots into this directory' })
    .option('quiet', { alias: 'q', type: 'boolean', default: false, describe: 'No progress on stderr' })
    .example(
      '$0 retrieve tatoeba --data ../shared/data/tatoeba --embeddings emb/tatoeba --fit-embeddings emb/mono --methods none,demean,lir,lsar',
      'Tatoeba, four methods',
    )
    .example('$0 retrieve pairs --queries de.npy --targets en.npy -p proj.json --exact', 'any aligned pairs, exact search')
    .example(
      '$0 retrieve tatoeba --data ../shared/data/tatoeba --model Xenova/LaBSE --corpora corpora --methods none,lsar',
      'embed everything with a model',
    );
}

export async function handler(argv: Record<string, unknown>, io: CliIO): Promise<void> {
  const progress = new Progress(io.stderr, argv.quiet === true, 2000);
  const str = (k: string) => (argv[k] === undefined ? undefined : String(argv[k]));
  const list = (k: string) =>
    str(k)
      ?.split(',')
      .map((s) => s.trim())
      .filter((s) => s !== '');
  const hnsw = hnswArgs(argv);
  const methods = list('methods') ?? [];
  const projections = stringList(argv.projection);
  if (methods.length === 0 && projections.length === 0) throw createError('USAGE', 'give --methods and/or --projection');
  const result = await retrieve({
    task: argv.task as Task,
    ...(str('data') ? { data: str('data') as string } : {}),
    ...(str('embeddings') ? { embeddings: str('embeddings') as string } : {}),
    ...(str('queries') ? { queries: str('queries') as string } : {}),
    ...(str('targets') ? { targets: str('targets') as string } : {}),
    ...(str('query-lang') ? { queryLang: str('query-lang') as string } : {}),
    ...(str('target-lang') ? { targetLang: str('target-lang') as string } : {}),
    ...(list('langs') ? { langs: list('langs') as string[] } : {}),
    methods,
    ...(intList('rank', argv.rank) ? { ranks: intList('rank', argv.rank) as number[] } : {}),
    ...(intList('remove', argv.remove) ? { removes: intList('remove', argv.remove) as number[] } : {}),
    ...(str('fit-embeddings') ? { fitEmbeddings: str('fit-embeddings') as string } : {}),
    projections,
    exact: argv.exact === true,
    hnsw,
    direction: argv.direction as 'en-xx' | 'xx-en' | 'both',
    xsim: argv.xsim === true,
    similarity: argv.similarity as 'cosine' | 'dot',
    ...(argv['recall-sample'] !== undefined ? { recallSample: intOption('recall-sample', argv['recall-sample']) as number } : {}),
    ...(str('index-out') ? { indexOut: str('index-out') as string } : {}),
    ...(str('index-in') ? { indexIn: str('index-in') as string } : {}),
    ...(argv.model !== undefined ? { embed: embedArgs(argv) } : {}),
    ...(str('corpora') ? { corpora: str('corpora') as string } : {}),
    ...(str('embed-dir') ? { embedDir: str('embed-dir') as string } : {}),
    onProgress: (m) => progress.update(m),
  });
  progress.done();
  if (argv.report !== undefined) {
    const path = await writeReport(String(argv.report), result);
    if (argv.quiet !== true) io.stderr.write(`wrote ${path}\n`);
  }
  io.stdout.write(argv.json === true ? JSON.stringify(result, null, 1) + '\n' : formatResult(result));
}
