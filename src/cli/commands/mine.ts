import { createError, opt } from '../../core/errors.js';
import { mine, mineSchema } from '../../pipeline/mine/index.js';
import { defineCommand } from '../command.js';
import { cliEvents, outputSchema } from '../progress.js';

export const mineCommand = defineCommand({
  name: 'mine',
  describe: "Mine parallel sentences from two monolingual collections by margin scoring (LASER's mine_bitexts), projection applied",
  schema: {
    ...mineSchema,
    json: { ...outputSchema.json, description: 'Print a JSON summary on stdout (pairs, score quantiles, search used, time)' },
    quiet: outputSchema.quiet,
  },
  examples: [
    ['$0 mine --src de.npy --trg en.npy --src-text de.txt --trg-text en.txt -p proj.json --out pairs.tsv', 'mine with texts in the output'],
    ['$0 mine --src de.txt --trg en.txt --model Xenova/LaBSE --unify --out pairs.tsv', 'embed the texts first'],
    ['$0 mine --src de.npy --trg en.npy --shard 2/8 --out knn/', 'task 2 of 8 (default: from SLURM_ARRAY_TASK_ID)'],
    ['$0 mine --from-neighbours knn/ --src-text de.txt --trg-text en.txt --out pairs.tsv', 'after all tasks: the pairs'],
  ],
  async run(o, io) {
    if (o.json && o.out === '-')
      throw createError('USAGE', `${opt('json')} needs ${opt('out')} <file>: standard output holds the pairs`, { param: 'json' });
    const ui = cliEvents(io, { quiet: o.quiet === true, intervalMs: 2000 });
    const { summary } = await mine({ ...o, stdout: io.stdout, events: ui.events });
    ui.done();
    if (o.json) io.stdout.write(JSON.stringify(summary, null, 1) + '\n');
    else if (!o.quiet && summary.shard) {
      const t = summary.shard;
      io.stderr.write(
        `mine shard ${t.index}/${t.count}: neighbours of source rows ${t.sourceRows.join('-')} and target rows ${t.targetRows.join('-')} written to ${o.out}; when every task is done: lsar mine --from-neighbours ${o.out} --out pairs.tsv\n`,
      );
    } else if (!o.quiet) {
      const s = summary.search.forward;
      const search = `${s.kind}${s.recall ? ` (approximate, recall@10 ${s.recall.at10.toFixed(3)})` : ''}`;
      io.stderr.write(
        `mined ${summary.pairs} pairs from ${summary.sources} x ${summary.targets} (${summary.margin}, ${summary.retrieval}, k ${summary.k}) in ${summary.seconds.toFixed(1)} s; search ${search}${o.out !== '-' ? `; wrote ${o.out}` : ''}\n`,
      );
    }
  },
});
