import type { Argv } from 'yargs';
import { createError } from '../../core/errors.js';
import { fitToArtifact } from '../../pipeline/fit-artifact.js';
import type { CliIO } from '../io.js';
import { Progress } from '../io.js';
import { intOption, stringList } from '../options.js';
import { embedArgs, modelOptions } from './embed.js';

export const command = 'fit [dir]';
export const describe = 'Estimate the language subspace (or a baseline) from per-language embeddings';

export function builder(y: Argv): Argv {
  return modelOptions(y.group(['input', 'method', 'rank', 'remove', 'out', 'json', 'quiet', 'corpora', 'embed-dir'], 'Options:'))
    .option('corpora', {
      alias: 'c',
      type: 'string',
      describe: 'Embed this directory of <lang>.txt corpora with --model first, then fit (embeddings are kept and reused)',
    })
    .option('embed-dir', { type: 'string', describe: 'With --corpora: where the embeddings go (default: <out dir>/embeddings)' })
    .positional('dir', { type: 'string', describe: 'Directory of <lang>.npy files (language = file stem, ISO 639-1 or 639-3)' })
    .option('input', {
      alias: 'i',
      type: 'string',
      array: true,
      describe: 'A language file as <lang>=<file.npy>; repeat for each language (instead of dir)',
    })
    .option('method', {
      alias: 'm',
      type: 'string',
      default: 'lsar',
      describe: 'lsar (language-agnostic), lir or demean (need the language when applied), none (identity)',
    })
    .option('rank', { alias: 'k', type: 'string', describe: 'lsar: rank K of the language subspace, 1..L-1 (default L-1)' })
    .option('remove', {
      alias: 'r',
      type: 'string',
      describe: 'lsar: directions removed, 1..K (default K); lir: directions removed per language (default 1)',
    })
    .option('out', {
      alias: 'o',
      type: 'string',
      demandOption: true,
      describe: 'Output: projection.json (with .npy sidecars) or a directory',
    })
    .option('json', { type: 'boolean', default: false, describe: 'Print a JSON summary on stdout' })
    .option('quiet', { alias: 'q', type: 'boolean', default: false, describe: 'No progress on stderr' })
    .example('$0 fit emb/ --out proj.json', 'LSAR with rank L-1 from emb/<lang>.npy')
    .example('$0 fit -i en=en.npy -i de=de.npy -i fr=fr.npy --rank 1 --out proj.json', 'explicit files')
    .example('$0 fit emb/ --method lir --remove 2 --out lir/', 'LIR baseline, artifact in lir/')
    .example(
      '$0 fit --corpora corpora --model Xenova/paraphrase-multilingual-MiniLM-L12-v2 --out out/projection.json',
      'embed the bundled corpora, then fit',
    );
}

export async function handler(argv: Record<string, unknown>, io: CliIO): Promise<void> {
  const dir = argv.dir as string | undefined;
  const inputs = stringList(argv.input);
  const corpora = argv.corpora as string | undefined;
  if (dir === undefined && inputs.length === 0 && corpora === undefined) {
    throw createError(
      'USAGE',
      'lsar fit needs a directory of <lang>.npy files, --input <lang>=<file>, or --corpora <dir> with --model (see lsar fit --help)',
    );
  }
  if ([dir !== undefined, inputs.length > 0, corpora !== undefined].filter(Boolean).length > 1)
    throw createError('USAGE', 'give one of: a directory, --input files, --corpora');
  const progress = new Progress(io.stderr, argv.quiet === true);
  const result = await fitToArtifact({
    ...(corpora !== undefined
      ? {
          corpora,
          embed: {
            ...embedArgs(argv),
            ...(argv['embed-dir'] !== undefined ? { out: String(argv['embed-dir']) } : {}),
            onProgress: (p: { lang: string; done: number; total: number }) =>
              progress.update(`embed ${p.lang}: ${progress.rate(p.done, p.total, 'sentences', `embed ${p.lang}`)}`),
          },
        }
      : dir !== undefined
        ? { dir }
        : { inputs }),
    method: String(argv.method),
    rank: intOption('rank', argv.rank),
    remove: intOption('remove', argv.remove),
    out: String(argv.out),
    onProgress: (p) => progress.update(`fit ${p.lang}: ${progress.rate(p.rowsDone, p.rowsTotal, 'rows', p.lang)}`),
  });
  progress.done();
  const { projection: p } = result;
  if (argv.json === true) {
    io.stdout.write(JSON.stringify(result.summary, null, 1) + '\n');
  } else {
    const langs = p.languages.map((l) => `${l.lang}(${l.rows})`).join(' ');
    const params = p.method === 'lsar' ? `, rank ${p.rank}, remove ${p.remove}` : p.method === 'lir' ? `, remove ${p.remove}` : '';
    io.stdout.write(`fitted ${p.method}${params} on ${p.languages.length} languages, dim ${p.dim}: ${langs}\nwrote ${result.path}\n`);
  }
}
