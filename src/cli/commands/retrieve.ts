import { retrieve, retrieveSchema } from '../../pipeline/retrieve/index.js';
import { formatResult } from '../../pipeline/report/table.js';
import { defineCommand } from '../command.js';
import { cliEvents, outputSchema } from '../progress.js';

export const retrieveCommand = defineCommand({
  name: 'retrieve',
  describe: 'Evaluate cross-lingual retrieval (tatoeba, lareqa, pairs, mining), methods side by side',
  schema: {
    ...retrieveSchema,
    json: { ...outputSchema.json, description: 'Print the results as JSON on stdout instead of a table' },
    quiet: outputSchema.quiet,
  },
  examples: [
    [
      '$0 retrieve tatoeba --data ../shared/data/tatoeba --embeddings emb/tatoeba --fit-embeddings emb/mono --methods none,demean,lir,lsar',
      'Tatoeba, four methods',
    ],
    ['$0 retrieve pairs --queries de.npy --targets en.npy -p proj.json --methods none --exact', 'any aligned pairs, exact search'],
    [
      '$0 retrieve tatoeba --data ../shared/data/tatoeba --model Xenova/LaBSE --corpora corpora --methods none,lsar',
      'embed everything with a model',
    ],
  ],
  async run(o, io) {
    const ui = cliEvents(io, { quiet: o.quiet === true, intervalMs: 2000 });
    const result = await retrieve({ ...o, events: ui.events });
    ui.done();
    if (result.reportPath !== undefined && !o.quiet) io.stderr.write(`wrote ${result.reportPath}\n`);
    io.stdout.write(o.json ? JSON.stringify(result, null, 1) + '\n' : formatResult(result));
  },
});
