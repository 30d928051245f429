import { join } from 'node:path';
import { ensureParentDir } from '../../io/atomic.js';
import { createError } from '../../core/errors.js';
import { writeReport } from '../../pipeline/report/markdown.js';
import { formatResult } from '../../pipeline/report/table.js';
import { retrieve } from '../../pipeline/retrieve/index.js';
import { defineCommand } from '../command.js';
import { hnswArgs, intList, listOf, modelArgs, numberOption, withModelOptions, withSearchOptions } from '../options.js';
import { Progress } from '../progress.js';

const OWN = [
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
  'dims',
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
];

export const retrieveCommand = defineCommand({
  command: 'retrieve <task>',
  describe: 'Evaluate cross-lingual retrieval (tatoeba, lareqa, pairs), methods side by side',
  builder: (y) =>
    withSearchOptions(withModelOptions(y.group(OWN, 'Options:')))
      .positional('task', {
        choices: ['tatoeba', 'lareqa', 'pairs', 'mining'] as const,
        demandOption: true,
        describe:
          'tatoeba: LASER Tatoeba v1, accuracy@1; lareqa: XQuAD-R, mAP and mAP@20; pairs: aligned embeddings, accuracy@1; mining: BUCC-style bitext mining (built from Tatoeba, or BUCC files), F1',
      })
      .option('corpora', { type: 'string', describe: 'With --model: embed this directory of <lang>.txt corpora and fit the methods on it' })
      .option('embed-dir', { type: 'string', describe: 'With --model: the embedding cache (default .lsar-cache, or $LSAR_CACHE_DIR)' })
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
        describe: 'pairs: query embeddings (.npy, .parquet, .jsonl), or texts (.txt) with --model; row i translates row i of --targets',
      })
      .option('column', { type: 'string', describe: 'pairs: the embedding column of Parquet --queries and --targets (default embedding)' })
      .option('lang-column', {
        type: 'string',
        describe: "pairs: a column of Parquet --queries with each row's language: each language evaluated on its own rows",
      })
      .option('targets', { type: 'string', describe: 'pairs: target embeddings (.npy, .parquet, .jsonl), or texts (.txt) with --model' })
      .option('query-lang', { type: 'string', describe: 'pairs: language of --queries (needed by lir and demean)' })
      .option('target-lang', { type: 'string', describe: 'pairs: language of --targets (needed by lir and demean)' })
      .option('langs', {
        type: 'string',
        describe: 'Comma-separated languages to evaluate (default: tatoeba the 36 XTREME languages present; otherwise all)',
      })
      .option('methods', {
        type: 'string',
        default: 'none,lsar',
        describe: 'Comma-separated methods: none, demean, lir, lsar, abtt, whiten',
      })
      .option('rank', { type: 'string', describe: 'lsar rank(s), comma-separated to sweep (default L-1)' })
      .option('remove', {
        alias: 'r',
        type: 'string',
        describe: 'Directions removed: lsar (default = rank) and lir (default 1); comma-separated to sweep',
      })
      .option(
        'dims',
        numberOption('dims', { describe: 'whiten: keep the top k eigenvectors (default: every dimension that can be whitened)', min: 1 }),
      )
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
        choices: ['en-xx', 'xx-en', 'both'] as const,
        default: 'en-xx' as const,
        describe: 'tatoeba: English queries the foreign side (en-xx, the paper and XTREME), the reverse, or both',
      })
      .option('xsim', { type: 'boolean', default: false, describe: "tatoeba: also report LASER's xSIM error rate (ratio margin, k=4)" })
      .option('similarity', {
        choices: ['cosine', 'dot'] as const,
        default: 'dot' as const,
        describe: 'lareqa: score candidates by raw dot product (default, as the LSAR and LIR code) or by cosine',
      })
      .option(
        'recall-sample',
        numberOption('recall-sample', {
          describe: 'Queries per language on which HNSW recall is measured against exact search',
          min: 1,
          default: 200,
        }),
      )
      .option('json', { type: 'boolean', default: false, describe: 'Print the results as JSON on stdout instead of a table' })
      .option('report', { type: 'string', describe: 'Write a Markdown report with SVG plots into this directory' })
      .option('quiet', { alias: 'q', type: 'boolean', default: false, describe: 'No progress on stderr' })
      .example(
        '$0 retrieve tatoeba --data ../shared/data/tatoeba --embeddings emb/tatoeba --fit-embeddings emb/mono --methods none,demean,lir,lsar',
        'Tatoeba, four methods',
      )
      .example('$0 retrieve pairs --queries de.npy --targets en.npy -p proj.json --methods none --exact', 'any aligned pairs, exact search')
      .example(
        '$0 retrieve tatoeba --data ../shared/data/tatoeba --model Xenova/LaBSE --corpora corpora --methods none,lsar',
        'embed everything with a model',
      ),
  async run(a, io) {
    // a report directory that cannot be made fails before the work, not after it
    if (a.report !== undefined) await ensureParentDir(join(a.report, 'report.md'));
    const progress = new Progress(io.stderr, a.quiet, 2000);
    const methods = listOf(a.methods);
    const projections = a.projection ?? [];
    if (methods.length === 0 && projections.length === 0) throw createError('USAGE', 'give --methods and/or --projection');
    const ranks = intList('rank', a.rank);
    const removes = intList('remove', a.remove);
    const langs = a.langs !== undefined ? listOf(a.langs) : undefined;
    const result = await retrieve({
      task: a.task,
      ...(a.data !== undefined ? { data: a.data } : {}),
      ...(a.embeddings !== undefined ? { embeddings: a.embeddings } : {}),
      ...(a.queries !== undefined ? { queries: a.queries } : {}),
      ...(a.targets !== undefined ? { targets: a.targets } : {}),
      ...(a.queryLang !== undefined ? { queryLang: a.queryLang } : {}),
      ...(a.targetLang !== undefined ? { targetLang: a.targetLang } : {}),
      ...(a.column !== undefined ? { column: a.column } : {}),
      ...(a.langColumn !== undefined ? { langColumn: a.langColumn } : {}),
      ...(langs ? { langs } : {}),
      methods,
      ...(ranks ? { ranks } : {}),
      ...(removes ? { removes } : {}),
      ...(a.dims !== undefined ? { dims: a.dims } : {}),
      ...(a.fitEmbeddings !== undefined ? { fitEmbeddings: a.fitEmbeddings } : {}),
      projections,
      exact: a.exact,
      search: a.search,
      ...(a.recall !== undefined ? { recall: a.recall } : {}),
      hnsw: hnswArgs(a),
      direction: a.direction,
      xsim: a.xsim,
      similarity: a.similarity,
      recallSample: a.recallSample,
      ...(a.indexOut !== undefined ? { indexOut: a.indexOut } : {}),
      ...(a.indexIn !== undefined ? { indexIn: a.indexIn } : {}),
      ...(a.model !== undefined ? { embed: modelArgs(a) } : {}),
      ...(a.corpora !== undefined ? { corpora: a.corpora } : {}),
      ...(a.embedDir !== undefined ? { embedDir: a.embedDir } : {}),
      onProgress: (m) => progress.update(m),
    });
    progress.done();
    if (!a.quiet && result.skipped)
      for (const [l, why] of Object.entries(result.skipped)) io.stderr.write(`lsar: warning: ${l} not evaluated: ${why}\n`);
    if (!a.quiet) for (const w of result.warnings ?? []) io.stderr.write(`lsar: warning: ${w}\n`);
    if (a.report !== undefined) {
      const path = await writeReport(a.report, result);
      if (!a.quiet) io.stderr.write(`wrote ${path}\n`);
    }
    io.stdout.write(a.json ? JSON.stringify(result, null, 1) + '\n' : formatResult(result));
  },
});
