import { inspect, inspectSchema, type InspectResult } from '../../pipeline/inspect.js';
import { writeInspectReport } from '../../pipeline/report/inspect.js';
import { formatInspect } from '../../pipeline/report/table.js';
import { defineCommand } from '../command.js';
import { cliEvents, outputSchema } from '../progress.js';

export const inspectCommand = defineCommand({
  name: 'inspect',
  describe: 'How much of the embeddings is language identity, before and after each method; the rank to remove; 2-D maps',
  schema: {
    ...inspectSchema,
    json: {
      ...outputSchema.json,
      description:
        'Print {"results": {<method>: {probeAccuracy, centroidAccuracy, betweenShare}}, "spectrum", "recommendedRank", "manifest"} on stdout',
    },
    quiet: outputSchema.quiet,
  },
  examples: [
    ['$0 inspect emb/', 'language identity before and after none, demean, lsar, abtt and whiten'],
    ['$0 inspect emb/ -p proj.json --methods none --report insp/', 'a saved projection, with an HTML report'],
    ['$0 inspect emb/mono --eval tatoeba --data ../shared/data/tatoeba --embeddings emb/tatoeba', 'recommend the rank that retrieves best'],
  ],
  async run(o, io) {
    const ui = cliEvents(io, { quiet: o.quiet === true, intervalMs: 2000 });
    const result = await inspect({ ...o, events: ui.events });
    ui.done();
    if (o.report !== undefined) {
      const paths = await writeInspectReport(o.report, result);
      if (!o.quiet) io.stderr.write(`wrote ${paths.join(', ')}\n`);
    }
    io.stdout.write(o.json ? JSON.stringify(jsonOf(result), null, 1) + '\n' : formatInspect(result));
  },
});

/** The --json shape: everything but the map coordinates (they are in the report). */
function jsonOf(r: InspectResult): Omit<InspectResult, 'maps'> {
  return Object.fromEntries(Object.entries(r).filter(([k]) => k !== 'maps')) as Omit<InspectResult, 'maps'>;
}
