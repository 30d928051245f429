import { searchNeighbors, searchVerbSchema } from '../../pipeline/search/index.js';
import { defineCommand } from '../command.js';
import { cliEvents, outputSchema } from '../progress.js';

export const searchCommand = defineCommand({
  name: 'search',
  describe: 'Top-k neighbours (with cosine scores) of query vectors or texts among embeddings, projection applied',
  schema: {
    ...searchVerbSchema,
    json: {
      ...outputSchema.json,
      description:
        'JSON Lines output: {"query", "neighbors": [{"index", "score", "label"?, "source"? (vector store: the row\'s file; index is its row there)}]}',
    },
    quiet: { ...outputSchema.quiet, description: 'No summary line (HNSW: ef and recall) on stderr' },
  },
  examples: [
    ['$0 search -x postgresql://localhost/db --table docs -p proj.json --queries q.npy', 'in a pgvector table that lsar project wrote'],
    ['$0 search -x docs.npy -p proj.json --labels docs.txt --queries q.npy -k 5', 'top 5 documents per query'],
    ['$0 search -x emb/de.npy --labels corpora/de.txt --queries questions.txt --model <model the index was embedded with>', 'text queries'],
  ],
  async run(o, io) {
    const ui = cliEvents(io, { quiet: o.quiet === true });
    const res = await searchNeighbors({ ...o, stdin: io.stdin, events: ui.events });
    ui.done();
    if (!o.quiet && res.search === 'hnsw') {
      const r = res.recall;
      const recall = r
        ? `, ef ${res.ef}, recall@1 ${r.at1.toFixed(3)} and recall@10 ${r.at10.toFixed(3)} against exact search on ${r.queries} sampled queries`
        : '';
      io.stderr.write(`search: HNSW (approximate) (${res.reason})${recall}\n`);
    }
    let out = '';
    for (const r of res.results) {
      if (o.json) out += JSON.stringify(r) + '\n';
      else {
        out += `query ${r.query}${res.search === 'hnsw' ? ' (HNSW, approximate)' : ''}\n`;
        for (const n of r.neighbors)
          out += `  ${(n.source !== undefined ? `${n.source}:${n.index}` : String(n.index)).padStart(6)}  ${n.score.toFixed(4)}${n.label !== undefined ? `  ${n.label}` : ''}\n`;
      }
    }
    io.stdout.write(out);
  },
});
