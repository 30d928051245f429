import { join } from 'node:path';
import { shardName } from '../../core/shard.js';
import { embedCorpora, embedSchema } from '../../pipeline/embed.js';
import { defineCommand } from '../command.js';
import { cliEvents, outputSchema } from '../progress.js';

export const embedCommand = defineCommand({
  name: 'embed',
  describe: 'Embed per-language corpora (one sentence per line) with a transformers.js model',
  schema: {
    ...embedSchema,
    json: { ...outputSchema.json, description: 'Print the manifest as JSON on stdout' },
    quiet: outputSchema.quiet,
  },
  examples: [
    ['$0 embed --corpora corpora --model Xenova/paraphrase-multilingual-MiniLM-L12-v2 --out emb/', 'embed the bundled corpora'],
    ['$0 embed -i de=de.txt --model ./models/mbert --layer 8 --offline --out emb/', 'a local model, layer 8'],
  ],
  async run(o, io) {
    const ui = cliEvents(io, { quiet: o.quiet === true });
    const manifest = await embedCorpora({ ...o, events: ui.events });
    ui.done();
    const n = Object.keys(manifest.languages).length;
    if (o.json) io.stdout.write(JSON.stringify(manifest, null, 1) + '\n');
    else
      io.stdout.write(
        `embedded ${n} language${n === 1 ? '' : 's'} with ${manifest.model.id} into ${manifest.shard ? join(o.out, shardName(manifest.shard)) : o.out}\n`,
      );
  },
});
