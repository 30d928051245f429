import { fitSchema, fitToArtifact } from '../../pipeline/fit.js';
import { defineCommand } from '../command.js';
import { cliEvents, outputSchema } from '../progress.js';

export const fitCommand = defineCommand({
  name: 'fit',
  describe: 'Estimate the language subspace (or a baseline) from per-language embeddings',
  schema: { ...fitSchema, ...outputSchema },
  examples: [
    ['$0 fit emb/ --out proj.json', 'LSAR with rank L-1 from emb/<lang>.npy'],
    ['$0 fit -i en=en.npy -i de=de.npy -i fr=fr.npy --rank 1 --out proj.json', 'explicit files'],
    ['$0 fit emb/ --method lir --remove 2 --out lir/', 'LIR baseline, artifact in lir/'],
    ['$0 fit train.parquet --lang-column lang --out proj.json', 'one Parquet file holding every language'],
    [
      '$0 fit --corpora corpora --model Xenova/paraphrase-multilingual-MiniLM-L12-v2 --out out/projection.json',
      'embed the bundled corpora, then fit',
    ],
  ],
  async run(o, io) {
    const ui = cliEvents(io, { quiet: o.quiet === true });
    const { projection: p, path, summary } = await fitToArtifact({ ...o, events: ui.events });
    ui.done();
    if (o.json) {
      io.stdout.write(JSON.stringify(summary, null, 1) + '\n');
      return;
    }
    const params =
      p.method === 'lsar'
        ? `, rank ${p.rank}, remove ${p.remove}`
        : p.method === 'lir' || p.method === 'abtt'
          ? `, remove ${p.remove}`
          : p.method === 'whiten'
            ? `, dims ${p.dims}`
            : '';
    const langs = p.languages.map((l) => `${l.lang}(${l.rows})`).join(' ');
    io.stdout.write(`fitted ${p.method}${params} on ${p.languages.length} languages, dim ${p.dim}: ${langs}\n`);
    if (summary.embeddings) io.stdout.write(`embeddings kept in ${summary.embeddings}\n`);
    io.stdout.write(`wrote ${path}\n`);
  },
});
