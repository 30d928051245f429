import { project, projectSchema } from '../../pipeline/project/index.js';
import { defineCommand } from '../command.js';
import { cliEvents, outputSchema } from '../progress.js';

export const projectCommand = defineCommand({
  name: 'project',
  describe: 'Apply a fitted projection to embeddings (.npy, .parquet or JSON Lines), streaming',
  schema: {
    ...projectSchema,
    json: { ...outputSchema.json, description: 'Print a JSON summary on stdout (only when --out is a file or directory)' },
    quiet: outputSchema.quiet,
  },
  examples: [
    ['$0 project -p proj.json --in de.npy --out de.lsar.npy', 'language-agnostic projection'],
    [
      '$0 project -p proj.json --in part-0.parquet --out part-0.lsar.parquet --as embedding_lsar',
      'Parquet: other columns kept, new column added',
    ],
    ['$0 project -p proj.json --in shards/ --out projected/', 'every file of a directory, in one process'],
    ['cat q.jsonl | $0 project -p lir.json --lang de > q.lir.jsonl', 'JSON Lines pipeline step'],
  ],
  async run(o, io) {
    const ui = cliEvents(io, { quiet: o.quiet === true });
    const r = await project({ ...o, projection: o.projection, stdin: io.stdin, stdout: io.stdout, events: ui.events });
    ui.done();
    const rows = r.outputs.reduce((s, x) => s + x.rows, 0);
    const out = o.out ?? '-';
    if (out === '-') return;
    if (o.json) {
      const summary = r.many
        ? { method: r.method, files: r.outputs.length, rows, outputs: r.outputs }
        : { method: r.method, ...r.outputs[0] };
      io.stdout.write(JSON.stringify(summary) + '\n');
    } else if (!o.quiet) {
      io.stderr.write(
        r.many
          ? `projected ${rows} rows in ${r.outputs.length} files (${r.method}) -> ${out}\n`
          : `projected ${rows} rows (${r.method}) -> ${r.outputs[0]?.output}\n`,
      );
    }
  },
});
