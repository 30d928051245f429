import { stats, statsSchema } from '../../pipeline/stats.js';
import { defineCommand } from '../command.js';
import { cliEvents, outputSchema } from '../progress.js';

export const statsCommand = defineCommand({
  name: 'stats',
  describe: 'Per-language row counts and sums of one shard of the data, to fit over shards with lsar fit --stats',
  schema: { ...statsSchema, quiet: outputSchema.quiet },
  examples: [
    ['$0 stats shard-03/ --out stats/shard-03.json', 'one shard of a job array'],
    ['$0 fit --stats stats/*.json --out proj.json', 'then fit on all shards'],
  ],
  async run(o, io) {
    const ui = cliEvents(io, { quiet: o.quiet === true });
    const s = await stats({ ...o, events: ui.events });
    ui.done();
    const rows = s.languages.reduce((n, l) => n + l.rows, 0);
    if (o.quiet !== true) io.stderr.write(`${s.languages.length} languages, ${rows} rows, dim ${s.dim} -> ${String(o.out)}\n`);
  },
});
