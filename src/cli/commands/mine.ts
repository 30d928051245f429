import { createError } from '../../core/errors.js';
import { MARGINS, RETRIEVALS } from '../../core/margin.js';
import { loadProjection } from '../../io/artifact.js';
import { mine } from '../../pipeline/mine.js';
import { defineCommand } from '../command.js';
import { hnswArgs, modelArgs, numberOption, withColumnOption, withModelOptions, withSearchOptions } from '../options.js';
import { Progress } from '../progress.js';

const OWN = [
  'src',
  'trg',
  'src-text',
  'trg-text',
  'projection',
  'src-lang',
  'trg-lang',
  'margin',
  'retrieval',
  'k',
  'threshold',
  'unify',
  'out',
  'json',
  'quiet',
  'embed-dir',
  'column',
];

export const mineCommand = defineCommand({
  command: 'mine',
  describe: "Mine parallel sentences from two monolingual collections by margin scoring (LASER's mine_bitexts), projection applied",
  builder: (y) =>
    withSearchOptions(withColumnOption(withModelOptions(y.group(OWN, 'Options:'))))
      .option('src', {
        type: 'string',
        demandOption: true,
        describe: 'Source side: embeddings (.npy, .jsonl) or texts (.txt, embedded with --model)',
      })
      .option('trg', {
        type: 'string',
        demandOption: true,
        describe: 'Target side: embeddings (.npy, .jsonl) or texts (.txt, embedded with --model)',
      })
      .option('src-text', {
        type: 'string',
        describe: 'Source texts (one per non-empty line, as the embeddings) to write beside each pair',
      })
      .option('trg-text', { type: 'string', describe: 'Target texts (one per non-empty line) to write beside each pair' })
      .option('projection', { alias: 'p', type: 'string', describe: 'Apply this projection (lsar fit --out) to both sides' })
      .option('src-lang', { type: 'string', describe: 'Source language (lir and demean projections)' })
      .option('trg-lang', { type: 'string', describe: 'Target language (lir and demean projections)' })
      .option('margin', {
        choices: MARGINS,
        default: 'ratio' as const,
        describe: "ratio a/b (LASER default), distance a-b, or absolute a, with a = cosine, b = mean of both rows' k-NN similarities",
      })
      .option('retrieval', {
        choices: RETRIEVALS,
        default: 'max' as const,
        describe: 'max: pooled best pairs of both directions, each row used once (LASER default); fwd; bwd; intersect',
      })
      .option('k', numberOption('k', { describe: "Neighbourhood size (capped at each side's size)", min: 1, max: 100_000, default: 4 }))
      .option(
        'threshold',
        numberOption('threshold', {
          describe: 'Keep pairs scoring above this (default for max: 1.0 with ratio, 0 otherwise; other modes keep all unless given)',
          integer: false,
        }),
      )
      .option('unify', {
        type: 'boolean',
        default: false,
        describe: "Deduplicate each side's texts first, as LASER --unify (pairs then name the first row of each text)",
      })
      .option('out', {
        alias: 'o',
        type: 'string',
        demandOption: true,
        describe: 'Output TSV (score, src row, trg row[, src text, trg text]), or - for stdout; written atomically',
      })
      .option('embed-dir', { type: 'string', describe: 'With --model: the embedding cache (default .lsar-cache, or $LSAR_CACHE_DIR)' })
      .option('json', {
        type: 'boolean',
        default: false,
        describe: 'Print a JSON summary on stdout (pairs, score quantiles, search used, time)',
      })
      .option('quiet', { alias: 'q', type: 'boolean', default: false, describe: 'No progress on stderr' })
      .example(
        '$0 mine --src de.npy --trg en.npy --src-text de.txt --trg-text en.txt -p proj.json --out pairs.tsv',
        'mine with texts in the output',
      )
      .example('$0 mine --src de.txt --trg en.txt --model Xenova/LaBSE --unify --out pairs.tsv', 'embed the texts first'),
  async run(a, io) {
    if (a.json && a.out === '-') throw createError('USAGE', '--json needs --out <file>: standard output holds the pairs');
    const progress = new Progress(io.stderr, a.quiet, 2000);
    const { summary } = await mine({
      src: a.src,
      trg: a.trg,
      ...(a.srcText !== undefined ? { srcText: a.srcText } : {}),
      ...(a.trgText !== undefined ? { trgText: a.trgText } : {}),
      ...(a.projection !== undefined ? { projection: await loadProjection(a.projection) } : {}),
      ...(a.srcLang !== undefined ? { srcLang: a.srcLang } : {}),
      ...(a.trgLang !== undefined ? { trgLang: a.trgLang } : {}),
      ...(a.column !== undefined ? { column: a.column } : {}),
      margin: a.margin,
      retrieval: a.retrieval,
      k: a.k ?? 4,
      ...(a.threshold !== undefined ? { threshold: a.threshold } : {}),
      unify: a.unify,
      search: a.exact ? 'exact' : a.search,
      ...(a.recall !== undefined ? { recall: a.recall } : {}),
      hnsw: hnswArgs(a),
      out: a.out,
      stdout: io.stdout,
      ...(a.model !== undefined ? { embed: modelArgs(a) } : {}),
      ...(a.embedDir !== undefined ? { embedDir: a.embedDir } : {}),
      onProgress: (m) => progress.update(`mine: ${m}`, true),
    });
    progress.done();
    if (a.json) io.stdout.write(JSON.stringify(summary, null, 1) + '\n');
    else if (!a.quiet) {
      const s = summary.search.forward;
      io.stderr.write(
        `mined ${summary.pairs} pairs from ${summary.sources} x ${summary.targets} (${summary.margin}, ${summary.retrieval}, k ${summary.k}) in ${summary.seconds.toFixed(1)} s; search ${s.kind}${s.recall ? ` (approximate, recall@10 ${s.recall.at10.toFixed(3)})` : ''}${a.out !== '-' ? `; wrote ${a.out}` : ''}\n`,
      );
    }
  },
});
