import { createError, opt } from '../../core/errors.js';
import { loadProjection } from '../../io/artifact.js';
import { exportModel } from '../../pipeline/export/model.js';
import { exportProjection } from '../../pipeline/export/projection.js';
import { defineCommand } from '../command.js';
import { madeLikeArgs, withMadeLikeOptions } from '../options.js';

export const exportCommand = defineCommand({
  command: 'export',
  describe: 'Put the projection where pipelines run: inside an encoder (ONNX, sentence_embedding output), or alone as ONNX or safetensors',
  builder: (y) =>
    withMadeLikeOptions(y, 'Which weights to rewrite: onnx/model.onnx, model_fp16.onnx or model_quantized.onnx')
      .option('projection', { alias: 'p', type: 'string', describe: 'Projection from lsar fit (JSON, its directory, or .safetensors)' })
      .option('model', {
        type: 'string',
        describe:
          'Encoder to export with the projection inside: Hub id or local directory (Hub export layout); without it, the projection alone',
      })
      .option('out', {
        alias: 'o',
        type: 'string',
        demandOption: true,
        describe: 'With --model: the model directory to write; alone: the .onnx or .safetensors file (written atomically)',
      })
      .option('format', {
        choices: ['onnx', 'safetensors'] as const,
        describe:
          'The projection alone: onnx (embeddings [n, d] -> projected [n, d]) or safetensors (basis, means, metadata); default from --out',
      })
      .option('lang', { alias: 'l', type: 'string', describe: 'The projection alone as ONNX, lir and demean: the language it applies to' })
      .option('normalize', { type: 'boolean', default: false, describe: 'L2-normalise the output rows (after the projection)' })
      .option('json', { type: 'boolean', default: false, describe: 'Print a JSON summary on stdout' })
      .option('quiet', { alias: 'q', type: 'boolean', default: false, describe: 'No messages on stderr' })
      .group(['model', 'layer', 'pooling', 'exclude-special', 'dtype', 'cache-dir', 'offline', 'revision'], 'Model export (--model):')
      .example('$0 export --model ./models/minilm -p proj.json --out ./models/minilm-lsar', 'the encoder with the projection inside')
      .example('$0 export -p proj.json --out proj.onnx --normalize', 'the projection alone, as an ONNX model')
      .example('$0 export -p proj.json --out proj.safetensors', 'the projection alone, as safetensors'),
  async run(a, io) {
    if (a.model !== undefined) {
      if (a.format === 'safetensors')
        throw createError(
          'USAGE',
          `${opt('format')} safetensors is for the projection alone; with ${opt('model')}, export writes an encoder directory (ONNX)`,
          { params: ['format', 'model'] },
        );
      if (a.lang !== undefined)
        throw createError(
          'USAGE',
          `${opt('lang')} is for the projection alone (lir and demean, given ${opt('model')}): an exported encoder cannot be told the language`,
          { params: ['lang', 'model'] },
        );
      const summary = await exportModel({
        model: a.model,
        ...madeLikeArgs(a),
        ...(a.projection !== undefined ? { projection: a.projection } : {}),
        out: a.out,
        normalize: a.normalize,
      });
      if (!a.quiet) for (const w of summary.warnings) io.stderr.write(`lsar: warning: ${w}\n`);
      if (a.json) io.stdout.write(JSON.stringify(summary) + '\n');
      else if (!a.quiet) {
        const e = summary.export;
        io.stderr.write(
          `exported ${summary.model} (${summary.onnxFile}, opset ${summary.opset}) -> ${summary.out}: sentence_embedding = ${e.pooling}${e.excludeSpecial ? ' (no special tokens)' : ''} of ${e.layer === null ? 'the last layer' : `layer ${e.layer}`}${e.normalizeInput ? ', normalised' : ''}${e.projection ? `, ${e.projection.method}` : ''}${e.normalize ? ', normalised' : ''}\n`,
        );
      }
      return;
    }
    if (a.projection === undefined)
      throw createError(
        'USAGE',
        `lsar export needs ${opt('projection')} (the ${opt('projection')} alone), or ${opt('model')} and ${opt('projection')} (the encoder with it inside)`,
        { params: ['projection', 'model'] },
      );
    const format = a.format ?? (/\.safetensors$/i.test(a.out) ? 'safetensors' : /\.onnx$/i.test(a.out) ? 'onnx' : undefined);
    if (!format)
      throw createError('USAGE', `${opt('out')} ${a.out}: name a .onnx or .safetensors file, or give ${opt('format')}`, {
        params: ['out', 'format'],
      });
    if (format === 'safetensors' && (a.normalize || a.lang !== undefined)) {
      throw createError(
        'USAGE',
        `${opt('normalize')} and ${opt('lang')} apply to the ONNX projection; safetensors holds the arrays (basis, means) as fitted`,
        {
          params: ['normalize', 'lang'],
        },
      );
    }
    const p = await loadProjection(a.projection);
    const out = await exportProjection(p, {
      format,
      out: a.out,
      ...(a.lang !== undefined ? { lang: a.lang } : {}),
      normalize: a.normalize,
    });
    if (a.json) io.stdout.write(JSON.stringify({ method: p.method, dim: p.dim, remove: p.remove, format, out }) + '\n');
    else if (!a.quiet) io.stderr.write(`exported the projection (${p.method}, ${p.dim}-d, ${p.remove} removed) as ${format} -> ${out}\n`);
  },
});
