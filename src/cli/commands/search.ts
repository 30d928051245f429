import { loadProjection } from '../../io/artifact.js';
import { searchNeighbors } from '../../pipeline/search.js';
import { defineCommand } from '../command.js';
import { hnswArgs, modelArgs, numberOption, withColumnOption, withModelOptions, withSearchOptions } from '../options.js';

export const searchCommand = defineCommand({
  command: 'search',
  describe: 'Top-k neighbours (with cosine scores) of query vectors or texts among embeddings, projection applied',
  builder: (y) =>
    withSearchOptions(
      withColumnOption(
        withModelOptions(
          y.group(
            ['index', 'queries', 'projection', 'lang', 'query-lang', 'k', 'labels', 'json', 'quiet', 'embed-dir', 'column'],
            'Options:',
          ),
        ),
      ),
    )
      .option('embed-dir', {
        type: 'string',
        describe: 'With --model: the embedding cache for embedded queries (default .lsar-cache, or $LSAR_CACHE_DIR)',
      })
      .option('index', { alias: 'x', type: 'string', demandOption: true, describe: 'Embeddings to search (.npy, .parquet or .jsonl)' })
      .option('queries', {
        type: 'string',
        default: '-',
        describe: 'Query vectors (.npy, .parquet, .jsonl, or - for JSON Lines on stdin), or query texts (.txt, one per line) with --model',
      })
      .option('projection', { alias: 'p', type: 'string', describe: 'Apply this projection (lsar fit --out) to both sides' })
      .option('lang', { alias: 'l', type: 'string', describe: 'Language of the indexed embeddings (lir, demean)' })
      .option('query-lang', { type: 'string', describe: 'Language of the queries (lir, demean; default --lang)' })
      .option('k', numberOption('k', { describe: 'Neighbours per query', min: 1, max: 1_000_000, default: 10 }))
      .option('labels', { type: 'string', describe: 'Text file with one label per indexed row, shown with each neighbour' })
      .option('json', {
        type: 'boolean',
        default: false,
        describe: 'JSON Lines output: {"query", "neighbors": [{"index", "score", "label"?}]}',
      })
      .option('quiet', { alias: 'q', type: 'boolean', default: false, describe: 'No summary line (HNSW: ef and recall) on stderr' })
      .example('$0 search -x docs.npy -p proj.json --labels docs.txt --queries q.npy -k 5', 'top 5 documents per query')
      .example(
        '$0 search -x emb/de.npy --labels corpora/de.txt --queries questions.txt --model <model the index was embedded with>',
        'text queries',
      ),
  async run(a, io) {
    const res = await searchNeighbors({
      index: a.index,
      queries: a.queries,
      stdin: io.stdin,
      ...(a.projection !== undefined ? { projection: await loadProjection(a.projection) } : {}),
      ...(a.lang !== undefined ? { lang: a.lang } : {}),
      ...(a.queryLang !== undefined ? { queryLang: a.queryLang } : {}),
      ...(a.column !== undefined ? { column: a.column } : {}),
      k: a.k ?? 10,
      exact: a.exact,
      search: a.search,
      ...(a.recall !== undefined ? { recall: a.recall } : {}),
      hnsw: hnswArgs(a),
      ...(a.indexIn !== undefined ? { indexIn: a.indexIn } : {}),
      ...(a.indexOut !== undefined ? { indexOut: a.indexOut } : {}),
      ...(a.labels !== undefined ? { labels: a.labels } : {}),
      ...(a.model !== undefined ? { embed: modelArgs(a) } : {}),
      ...(a.embedDir !== undefined ? { embedDir: a.embedDir } : {}),
    });
    if (!a.quiet && res.search === 'hnsw') {
      const recall = res.recall
        ? `, ef ${res.ef}, recall@1 ${res.recall.at1.toFixed(3)} and recall@10 ${res.recall.at10.toFixed(3)} against exact search on ${res.recall.queries} sampled queries`
        : '';
      io.stderr.write(`search: ${res.search === 'hnsw' ? 'HNSW (approximate)' : 'exact'} (${res.reason})${recall}\n`);
    }
    let out = '';
    for (const r of res.results) {
      if (a.json) out += JSON.stringify(r) + '\n';
      else {
        out += `query ${r.query}${res.search === 'hnsw' ? ' (HNSW, approximate)' : ''}\n`;
        for (const n of r.neighbors)
          out += `  ${String(n.index).padStart(6)}  ${n.score.toFixed(4)}${n.label !== undefined ? `  ${n.label}` : ''}\n`;
      }
    }
    io.stdout.write(out);
  },
});
