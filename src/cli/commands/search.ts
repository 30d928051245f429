import type { Argv } from 'yargs';
import { loadProjection } from '../../io/artifact.js';
import { searchNeighbors } from '../../pipeline/search.js';
import type { CliIO } from '../io.js';
import { hnswArgs, intOption, searchOptions } from '../options.js';
import { embedArgs, modelOptions } from './embed.js';

export const command = 'search';
export const describe = 'Top-k neighbours (with cosine scores) of query vectors or texts among embeddings, projection applied';

export function builder(y: Argv): Argv {
  return searchOptions(
    modelOptions(y.group(['index', 'queries', 'projection', 'lang', 'query-lang', 'k', 'labels', 'json', 'embed-dir'], 'Options:')),
  )
    .option('embed-dir', { type: 'string', describe: 'With --model: where embedded queries are kept (default .lsar-cache)' })
    .option('index', { alias: 'x', type: 'string', demandOption: true, describe: 'Embeddings to search (.npy)' })
    .option('queries', {
      type: 'string',
      default: '-',
      describe: 'Query vectors (.npy, .jsonl, or - for JSON Lines on stdin), or query texts (.txt, one per line) with --model',
    })
    .option('projection', { alias: 'p', type: 'string', describe: 'Apply this projection (lsar fit --out) to both sides' })
    .option('lang', { alias: 'l', type: 'string', describe: 'Language of the indexed embeddings (lir, demean)' })
    .option('query-lang', { type: 'string', describe: 'Language of the queries (lir, demean; default --lang)' })
    .option('k', { type: 'string', default: '10', describe: 'Neighbours per query' })
    .option('labels', { type: 'string', describe: 'Text file with one label per indexed row, shown with each neighbour' })
    .option('json', {
      type: 'boolean',
      default: false,
      describe: 'JSON Lines output: {"query", "neighbors": [{"index", "score", "label"?}]}',
    })
    .example('$0 search -x docs.npy -p proj.json --labels docs.txt --queries q.npy -k 5', 'top 5 documents per query')
    .example(
      '$0 search -x emb/de.npy --labels corpora/de.txt --queries questions.txt --model <model the index was embedded with>',
      'text queries',
    );
}

export async function handler(argv: Record<string, unknown>, io: CliIO): Promise<void> {
  const str = (k: string) => (argv[k] === undefined ? undefined : String(argv[k]));
  const res = await searchNeighbors({
    index: String(argv.index),
    queries: String(argv.queries),
    stdin: io.stdin,
    ...(str('projection') ? { projection: await loadProjection(str('projection') as string) } : {}),
    ...(str('lang') ? { lang: str('lang') as string } : {}),
    ...(str('query-lang') ? { queryLang: str('query-lang') as string } : {}),
    k: intOption('k', argv.k) as number,
    exact: argv.exact === true,
    hnsw: hnswArgs(argv),
    ...(str('index-in') ? { indexIn: str('index-in') as string } : {}),
    ...(str('index-out') ? { indexOut: str('index-out') as string } : {}),
    ...(str('labels') ? { labels: str('labels') as string } : {}),
    ...(argv.model !== undefined ? { embed: embedArgs(argv) } : {}),
    ...(str('embed-dir') ? { embedDir: str('embed-dir') as string } : {}),
  });
  let out = '';
  for (const r of res.results) {
    if (argv.json === true) out += JSON.stringify(r) + '\n';
    else {
      out += `query ${r.query}${res.search === 'hnsw' ? ' (HNSW, approximate)' : ''}\n`;
      for (const n of r.neighbors)
        out += `  ${String(n.index).padStart(6)}  ${n.score.toFixed(4)}${n.label !== undefined ? `  ${n.label}` : ''}\n`;
    }
  }
  io.stdout.write(out);
}
